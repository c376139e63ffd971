-- 003_threads.sql — end-to-end encrypted threads: channels and their signed
-- membership log, members (derived from the log), message envelopes
-- (ciphertext only), receipts, the to-device queue of key shares,
-- attachments (ciphertext chunks) and key backup blobs. The server holds no
-- channel name, topic or plaintext of any kind.

CREATE TABLE channels (
    id          BLOB PRIMARY KEY CHECK (length(id) = 16),
    kind        TEXT NOT NULL,
    history     TEXT NOT NULL,
    creator     BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    log_seq     INTEGER NOT NULL,             -- seq of the last log entry
    log_hash    BLOB NOT NULL CHECK (length(log_hash) = 32),
    last_seq    INTEGER NOT NULL DEFAULT 0    -- seq of the last message
) STRICT;

-- The signed log, entry by entry, as the clients signed it.
CREATE TABLE channel_log (
    channel_id  BLOB NOT NULL REFERENCES channels(id),
    seq         INTEGER NOT NULL,
    entry       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq)
) STRICT, WITHOUT ROWID;

-- Who may read and post, as the log establishes it. left_msg_seq is NULL for
-- a current member, else the last message seq they may still fetch.
CREATE TABLE channel_members (
    channel_id      BLOB NOT NULL REFERENCES channels(id),
    user_id         BLOB NOT NULL REFERENCES users(id),
    role            TEXT NOT NULL,
    since_log_seq   INTEGER NOT NULL,
    left_msg_seq    INTEGER,
    PRIMARY KEY (channel_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX channel_members_by_user ON channel_members(user_id);

CREATE TABLE messages (
    channel_id     BLOB NOT NULL REFERENCES channels(id),
    seq            INTEGER NOT NULL,
    sender_user    BLOB NOT NULL,
    sender_device  BLOB NOT NULL,
    ts             INTEGER NOT NULL,
    envelope       BLOB NOT NULL,
    PRIMARY KEY (channel_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE receipts (
    channel_id  BLOB NOT NULL REFERENCES channels(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    delivered   INTEGER NOT NULL DEFAULT 0,
    read        INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) STRICT, WITHOUT ROWID;

-- Durable to-device queue: an entry leaves only when its recipient acks it.
CREATE TABLE to_device (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_device  BLOB NOT NULL REFERENCES devices(id),
    sender_user       BLOB NOT NULL,
    sender_device     BLOB NOT NULL,
    ts                INTEGER NOT NULL,
    body              BLOB NOT NULL
) STRICT;
CREATE INDEX to_device_by_recipient ON to_device(recipient_device, id);

CREATE TABLE attachments (
    id          BLOB PRIMARY KEY CHECK (length(id) = 16),
    channel_id  BLOB NOT NULL REFERENCES channels(id),
    uploader    BLOB NOT NULL,
    size        INTEGER NOT NULL,
    chunks      INTEGER NOT NULL,
    hash        BLOB,
    complete    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE attachment_chunks (
    attachment_id  BLOB NOT NULL REFERENCES attachments(id),
    idx            INTEGER NOT NULL,
    data           BLOB NOT NULL,
    PRIMARY KEY (attachment_id, idx)
) STRICT, WITHOUT ROWID;

-- Key backup: blobs sealed by the client under keys the server never sees.
CREATE TABLE backup_identity (
    user_id     BLOB PRIMARY KEY REFERENCES users(id),
    blob        BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE backup_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BLOB NOT NULL REFERENCES users(id),
    channel_id   BLOB NOT NULL,
    session_id   BLOB NOT NULL,
    first_index  INTEGER NOT NULL,
    data         BLOB NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (user_id, channel_id, session_id)
) STRICT;

-- An invite may enrol a further device of an existing user.
ALTER TABLE invites ADD COLUMN user_id BLOB;
