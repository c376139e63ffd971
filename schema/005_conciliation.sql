-- 005_conciliation.sql — de-identified counts of medication reconciliation
-- (and the message of an alert notification)
-- episodes (conciliation des traitements médicamenteux). The episode itself
-- (drugs, doses, sources, discrepancies, notes) is an encrypted document in
-- the case thread; the server receives only these numbers, for indicator 6.
-- No drug name, no free text, no patient identity is ever stored here.

CREATE TABLE conciliation_counts (
    case_id           BLOB NOT NULL REFERENCES cases(id),
    episode           BLOB NOT NULL CHECK (length(episode) = 16),
    transition        TEXT NOT NULL,   -- admission | transfer | discharge | community_post_discharge
    status            TEXT NOT NULL,   -- draft | bmo_done | compared | awaiting_prescriber | closed
    source_types      INTEGER NOT NULL,
    lines_bmo         INTEGER NOT NULL,
    lines_order       INTEGER NOT NULL,
    discrepancies     INTEGER NOT NULL,
    by_type           TEXT NOT NULL,   -- JSON object: discrepancy type -> count
    by_intent         TEXT NOT NULL,   -- JSON object: intent -> count
    unintentional     INTEGER NOT NULL,
    resolved          INTEGER NOT NULL,
    resolution_ms     TEXT NOT NULL,   -- JSON array of times to resolution (ms), one per resolved discrepancy
    started_at        INTEGER NOT NULL,
    compared_at       INTEGER,          -- BMO compared with the prescription
    closed_at         INTEGER,
    reported_by       BLOB NOT NULL REFERENCES users(id),
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (case_id, episode)
) STRICT, WITHOUT ROWID;

-- An alert notification names the thread message it is about.
ALTER TABLE notifications ADD COLUMN message_seq INTEGER;
