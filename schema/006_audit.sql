-- 006_audit.sql — the audit trail: append-only, hash-chained entries for
-- security-relevant actions (docs/AUDIT.md gives the canonical encoding
-- and the chain hash byte by byte). An entry holds opaque ids, an action,
-- an outcome, a time, the peer address and at most a step key, a state or
-- a report period: never anything clinical.

CREATE TABLE audit (
    seq            INTEGER PRIMARY KEY,   -- 1, 2, 3 ... without gaps
    at             INTEGER NOT NULL,      -- ms since the epoch (UTC)
    action         TEXT NOT NULL,         -- login, login_failed, enrol, device_revoke, ...
    outcome        TEXT NOT NULL,         -- ok, or the error code of a refusal
    origin         TEXT NOT NULL,         -- net (a client request) | admin (liaisond command)
    actor_user     BLOB,                  -- who acted (a failed login: the user claimed)
    actor_device   BLOB,
    target_user    BLOB,                  -- whom the action was about
    target_device  BLOB,
    channel_id     BLOB,
    case_id        BLOB,
    peer           TEXT NOT NULL,         -- remote address, '' for admin commands
    detail         TEXT NOT NULL,         -- step key and state, report period, ''
    prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_actor ON audit(actor_user);
CREATE INDEX audit_target ON audit(target_user);
CREATE INDEX audit_case ON audit(case_id);

-- The last entry's sequence number and hash, kept by the trigger below in
-- the same statement as the insert: "audit verify" compares the chain's
-- end with it, so removing the newest entries is noticed too.
CREATE TABLE audit_head (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    seq   INTEGER NOT NULL,
    hash  BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
INSERT INTO audit_head(one, seq, hash) VALUES (1, 0, zeroblob(32));

-- Append-only: an entry must extend the chain, and nothing is changed or
-- removed through SQL that respects the triggers (someone who drops them
-- is caught by "liaisond audit verify").
CREATE TRIGGER audit_extends_chain BEFORE INSERT ON audit
WHEN NEW.seq IS NOT (SELECT seq + 1 FROM audit_head WHERE one = 1)
  OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE one = 1)
BEGIN
    SELECT RAISE(ABORT, 'audit: an entry must extend the chain');
END;
CREATE TRIGGER audit_advance_head AFTER INSERT ON audit
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE one = 1;
END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit: the trail is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit: the trail is append-only');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit: the chain head cannot be removed');
END;
