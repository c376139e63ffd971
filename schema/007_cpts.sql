-- 007_cpts.sql — a case belongs to one CPTS (communauté professionnelle
-- territoriale de santé): its coordinators are the ones who see and work the
-- case. Also the history of step changes that are not plain status moves
-- (rescheduling), shown in the case timeline.
--
-- Existing cases are given a CPTS: the opener's organisation when it is a
-- CPTS, else the organisation of the first current member of the case
-- channel (in joining order) whose organisation is a CPTS, else none (such a
-- case is seen by territory coordinators only; docs/PATHWAYS.md).

ALTER TABLE cases ADD COLUMN cpts_id BLOB REFERENCES orgs(id);

UPDATE cases SET cpts_id = coalesce(
    (SELECT u.org_id FROM users u JOIN orgs o ON o.id = u.org_id
      WHERE u.id = cases.opened_by AND o.kind = 'cpts'),
    (SELECT u.org_id FROM channel_members m
       JOIN users u ON u.id = m.user_id
       JOIN orgs o ON o.id = u.org_id
      WHERE m.channel_id = cases.channel_id AND m.left_msg_seq IS NULL AND o.kind = 'cpts'
      ORDER BY m.since_log_seq, m.user_id LIMIT 1));

CREATE INDEX cases_by_cpts ON cases(cpts_id, status);

-- Notifications not yet seen that their user may no longer see are withdrawn
-- (marked seen): those of closed cases, and those a coordinator received
-- about a case of another CPTS (she is neither in its thread, nor holds the
-- step, nor coordinates the case's CPTS).
UPDATE notifications SET seen_at = created_at
 WHERE seen_at IS NULL
   AND (EXISTS (SELECT 1 FROM cases c WHERE c.id = notifications.case_id AND c.status != 'open')
        OR (NOT EXISTS (SELECT 1 FROM cases c JOIN channel_members m ON m.channel_id = c.channel_id
                         WHERE c.id = notifications.case_id AND m.user_id = notifications.user_id
                           AND m.left_msg_seq IS NULL)
            AND NOT EXISTS (SELECT 1 FROM case_steps s WHERE s.id = notifications.step_id
                             AND s.assignee = notifications.user_id)
            AND NOT EXISTS (SELECT 1 FROM cases c JOIN users u ON u.id = notifications.user_id
                             WHERE c.id = notifications.case_id AND c.cpts_id = u.org_id)));

-- Step history beyond the step's current state: who moved a due date, when,
-- why (a reason code; details in an encrypted note of the case thread).
CREATE TABLE case_step_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     BLOB NOT NULL REFERENCES cases(id),
    step_id     INTEGER NOT NULL REFERENCES case_steps(id),
    action      TEXT NOT NULL,            -- rescheduled
    by_user     BLOB NOT NULL REFERENCES users(id),
    at          INTEGER NOT NULL,         -- UTC ms
    reason      TEXT,                     -- a reason code (docs/PATHWAYS.md)
    old_due     INTEGER,                  -- UTC ms, NULL = no deadline
    new_due     INTEGER,
    note_seq    INTEGER                   -- message in the case thread
) STRICT;
CREATE INDEX case_step_events_by_case ON case_step_events(case_id, id);
