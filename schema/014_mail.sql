-- 014_mail.sql — "something is waiting for you in Liaison" by e-mail
-- (docs/OPERATIONS.md, "Mail"): each professional's address and choice,
-- what was already announced, and the outbox of mails to send. A mail
-- carries no clinical content: only that something waits, and a link.

-- One row per user who has an address (set by the administrator:
-- liaisond user email) or who made a choice (op mail_set).
CREATE TABLE mail_settings (
    user_id       BLOB PRIMARY KEY REFERENCES users(id),
    address       TEXT,                      -- NULL: no address, no mail
    enabled       INTEGER NOT NULL DEFAULT 1, -- the user's choice (mail_set)
    mailed_upto   INTEGER NOT NULL DEFAULT 0, -- items created up to this time were announced
    last_sent_at  INTEGER,                   -- when the last mail left (or may have left)
    updated_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per mail (a batch: everything waiting for one person). state:
-- pending (to send at next_attempt_at), sending (handed to the SMTP relay;
-- committed before the relay is contacted), sent, interrupted (the server
-- stopped while it was sending: never sent again), dropped (the person
-- turned mail off, lost the address, or has nothing waiting any more).
CREATE TABLE mail_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          BLOB NOT NULL REFERENCES users(id),
    created_at       INTEGER NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    last_error       TEXT,                   -- e.g. "auth refused (535)": never an address
    done_at          INTEGER
) STRICT;
CREATE INDEX mail_outbox_by_state ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_by_user ON mail_outbox(user_id, state);

-- The address an invite gives the new user (liaisond invite --email),
-- copied into mail_settings when the invite is used.
ALTER TABLE invites ADD COLUMN email TEXT;

-- The due-mail scan looks up each person's unacknowledged notices.
CREATE INDEX case_notice_recipients_by_user ON case_notice_recipients(user_id);
