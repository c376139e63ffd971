-- 002_directory.sql — directory search: a folded search key per user
-- (lowercase, accents removed by liaisond on write) and indexes for the
-- filters. Existing rows get lower(name) until their next update.

ALTER TABLE users ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
UPDATE users SET search_key = lower(name);
CREATE INDEX users_by_profession ON users(profession);
CREATE INDEX users_by_org ON users(org_id);
