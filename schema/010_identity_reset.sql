-- 010_identity_reset.sql — an invite that enrols a new identity key for an
-- existing account (liaisond user reset: a lost only device, no key backup).
-- Only for device invites (user_id set); 0 for every other invite.

ALTER TABLE invites ADD COLUMN new_identity INTEGER NOT NULL DEFAULT 0
    CHECK (new_identity IN (0, 1));
