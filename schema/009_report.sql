-- 009_report.sql — the management review's data (docs/PATHWAYS.md,
-- "Indicators"): quality-circle sessions counted without their content, and
-- each CPTS's quantified targets.

-- One meeting of a quality circle (a channel of kind circle): the day and who
-- attended, as user ids of circle members. It counts for one CPTS: the
-- recorder's organisation when it is a CPTS, else that of the first current
-- member of the circle (joining order) whose organisation is one. The theme, the cases discussed and
-- the consensus stay in the circle's encrypted channel.
CREATE TABLE circle_sessions (
    id           INTEGER PRIMARY KEY,
    channel_id   BLOB NOT NULL REFERENCES channels(id),
    cpts_id      BLOB REFERENCES orgs(id),             -- NULL: no CPTS (territory only)
    day          INTEGER NOT NULL,                     -- local midnight, ms
    day_text     TEXT NOT NULL CHECK (length(day_text) = 10),
    participants INTEGER NOT NULL CHECK (participants >= 1),
    recorded_by  BLOB NOT NULL REFERENCES users(id),
    recorded_at  INTEGER NOT NULL,
    UNIQUE (channel_id, day)
);
CREATE INDEX circle_sessions_by_day ON circle_sessions(day);

CREATE TABLE circle_session_attendees (
    session_id INTEGER NOT NULL REFERENCES circle_sessions(id),
    user_id    BLOB NOT NULL REFERENCES users(id),
    PRIMARY KEY (session_id, user_id)
) WITHOUT ROWID;

-- A CPTS's quantified target for one indicator of the report: at least
-- (ge) or at most (le) value_milli / 1000, in the indicator's unit.
CREATE TABLE report_targets (
    cpts_id     BLOB NOT NULL REFERENCES orgs(id),
    indicator   TEXT NOT NULL CHECK (length(indicator) BETWEEN 1 AND 7),
    value_milli INTEGER NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('ge', 'le')),
    set_by      BLOB REFERENCES users(id),             -- NULL: the administrator
    set_at      INTEGER NOT NULL,
    PRIMARY KEY (cpts_id, indicator)
) WITHOUT ROWID;
