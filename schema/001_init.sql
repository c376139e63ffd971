-- 001_init.sql — identity: organisations, users, devices and their keys,
-- one-time invites, idempotency records. Applied by liaisond at start-up
-- inside one transaction; PRAGMA user_version holds the applied number.
-- Nothing clinical is ever stored on the server.

CREATE TABLE orgs (
    id          BLOB PRIMARY KEY CHECK (length(id) = 16),
    name        TEXT NOT NULL,
    finess      TEXT NOT NULL UNIQUE CHECK (length(finess) = 9),
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id          BLOB PRIMARY KEY CHECK (length(id) = 16),
    rpps        TEXT UNIQUE CHECK (rpps IS NULL OR length(rpps) = 11),
    name        TEXT NOT NULL,
    profession  TEXT NOT NULL,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    roles       INTEGER NOT NULL,
    ik          BLOB NOT NULL CHECK (length(ik) = 32),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    user_id       BLOB NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    dk            BLOB NOT NULL UNIQUE CHECK (length(dk) = 32),
    dk_ts         INTEGER NOT NULL,
    dk_sig        BLOB NOT NULL CHECK (length(dk_sig) = 64),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX devices_by_user ON devices(user_id);

-- Agreement keys (X25519) rotate; a device's current one is its latest.
CREATE TABLE agreement_keys (
    device_id   BLOB NOT NULL REFERENCES devices(id),
    ak_id       BLOB NOT NULL CHECK (length(ak_id) = 16),
    ak          BLOB NOT NULL CHECK (length(ak) = 32),
    ak_ts       INTEGER NOT NULL,
    ak_sig      BLOB NOT NULL CHECK (length(ak_sig) = 64),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (device_id, ak_id)
) STRICT;

-- Only the hash of an invite code is kept.
CREATE TABLE invites (
    hash        BLOB PRIMARY KEY CHECK (length(hash) = 32),
    rpps        TEXT,
    name        TEXT NOT NULL,
    profession  TEXT NOT NULL,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    roles       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     BLOB
) STRICT;

-- A retried write returns the stored reply of its first attempt.
CREATE TABLE idempotency (
    scope       TEXT NOT NULL,
    idem        TEXT NOT NULL,
    op          TEXT NOT NULL,
    reply       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, idem)
) STRICT, WITHOUT ROWID;
