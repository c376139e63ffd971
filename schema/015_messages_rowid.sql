-- 015_messages_rowid.sql — message envelopes stored in arrival order
-- (docs/PERFORMANCE.md, "Messages in arrival order"). Keyed by (channel_id,
-- seq) in a WITHOUT ROWID table, each new envelope (about 600 bytes, six to
-- a page) went into the middle of a full page, next to its channel's last
-- one, and split it: 3.8 pages written to the WAL per message, however many
-- messages a commit held. Appended by rowid, the envelopes share the last
-- page, and only the small index entry lands in the middle of the tree.
-- The envelopes already stored are copied in channel order.
--
-- channels.last_seq goes: it was rewritten by every message (one more page
-- per message, the channel's), and is the channel's highest message seq,
-- which the index gives in one seek.

CREATE TABLE messages_by_arrival (
    id             INTEGER PRIMARY KEY,
    channel_id     BLOB NOT NULL REFERENCES channels(id),
    seq            INTEGER NOT NULL,
    sender_user    BLOB NOT NULL,
    sender_device  BLOB NOT NULL,
    ts             INTEGER NOT NULL,
    envelope       BLOB NOT NULL
) STRICT;

INSERT INTO messages_by_arrival(channel_id, seq, sender_user, sender_device, ts, envelope)
    SELECT channel_id, seq, sender_user, sender_device, ts, envelope
    FROM messages ORDER BY channel_id, seq;

DROP TABLE messages;
ALTER TABLE messages_by_arrival RENAME TO messages;

-- one message per (channel, seq): the key the protocol names them by
CREATE UNIQUE INDEX messages_by_channel ON messages(channel_id, seq);

ALTER TABLE channels DROP COLUMN last_seq;
