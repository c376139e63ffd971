-- 013_bounds.sql — what the bounds on queues and tables need
-- (docs/OPERATIONS.md, "Bounds"): who recently sent a to-device entry to
-- whom (a reply to it is allowed without a shared channel), and the indexes
-- that keep the per-user counts and the retention sweeps cheap.

-- The last time sender_user queued a to-device entry for recipient_user.
-- Rows older than todevice_reply_window are deleted by the timer scan.
CREATE TABLE to_device_contacts (
    sender_user     BLOB NOT NULL,
    recipient_user  BLOB NOT NULL,
    last_at         INTEGER NOT NULL,
    PRIMARY KEY (sender_user, recipient_user)
) STRICT, WITHOUT ROWID;
CREATE INDEX to_device_contacts_by_age ON to_device_contacts(last_at);

CREATE INDEX to_device_by_sender ON to_device(recipient_device, sender_user);
CREATE INDEX attachments_by_uploader ON attachments(uploader);
CREATE INDEX attachments_unfinished ON attachments(complete, created_at);
CREATE INDEX cases_by_opener ON cases(opened_by, status);
CREATE INDEX idempotency_by_age ON idempotency(created_at);
CREATE INDEX notifications_by_age ON notifications(created_at);
