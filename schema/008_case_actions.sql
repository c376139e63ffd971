-- 008_case_actions.sql — actions that fulfil steps, the fixed recipients of
-- a discharge notice, and alerts (one per message).
--
-- An action is something the server sees a client do: post the discharge
-- notice (notice_posted), attach the lettre de liaison to it
-- (letter_attached), close the discharge medication reconciliation
-- (reconciliation_closed). Which steps an action fulfils is template data,
-- like the schedule: a new pathway (or version) lists its own rows here and
-- gets the same behaviour without a change of code (docs/PATHWAYS.md,
-- "Actions that fulfil steps"). The action codes are the server's fixed
-- vocabulary.

CREATE TABLE pathway_step_actions (
    template  TEXT NOT NULL,
    version   INTEGER NOT NULL,
    step      TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('notice_posted', 'letter_attached',
                                              'reconciliation_closed')),
    PRIMARY KEY (template, version, step, action),
    FOREIGN KEY (template, version, step) REFERENCES pathway_steps(template, version, step)
) STRICT, WITHOUT ROWID;

-- Every template version that has these steps (today: hospital_discharge and
-- heart_failure, version 1; heart_failure has no discharge_notice step).
INSERT INTO pathway_step_actions(template, version, step, action)
SELECT template, version, step,
       CASE step WHEN 'discharge_notice' THEN 'notice_posted'
                 WHEN 'discharge_letter' THEN 'letter_attached'
                 ELSE 'reconciliation_closed' END
FROM pathway_steps
WHERE step IN ('discharge_notice', 'discharge_letter', 'discharge_reconciliation');

-- The action that completed a step; NULL when a person completed it
-- (step_complete) or it is not done.
ALTER TABLE case_steps ADD COLUMN done_via TEXT;

-- Whether the discharge notice carried the lettre de liaison.
ALTER TABLE case_notices ADD COLUMN with_letter INTEGER NOT NULL DEFAULT 0;

-- Who must acknowledge a discharge notice, fixed when it is posted. Members
-- who join the thread later may acknowledge; they are never "missing".
CREATE TABLE case_notice_recipients (
    case_id  BLOB NOT NULL REFERENCES cases(id),
    user_id  BLOB NOT NULL REFERENCES users(id),
    PRIMARY KEY (case_id, user_id)
) STRICT, WITHOUT ROWID;

-- Notices posted before this migration: the current members (other than
-- the poster) who had joined the thread when the notice was posted.
INSERT INTO case_notice_recipients(case_id, user_id)
SELECT n.case_id, m.user_id
FROM case_notices n
JOIN cases c ON c.id = n.case_id
JOIN channel_members m ON m.channel_id = c.channel_id AND m.left_msg_seq IS NULL
JOIN channel_log l ON l.channel_id = m.channel_id AND l.seq = m.since_log_seq
WHERE m.user_id != n.posted_by AND l.created_at <= n.posted_at;

-- One alert per message of a case thread.
CREATE TABLE case_alerts (
    case_id      BLOB NOT NULL REFERENCES cases(id),
    message_seq  INTEGER NOT NULL,
    alerted_by   BLOB NOT NULL REFERENCES users(id),
    alerted_at   INTEGER NOT NULL,
    PRIMARY KEY (case_id, message_seq)
) STRICT, WITHOUT ROWID;

-- Open cases whose notice was posted, or whose discharge reconciliation was
-- closed, before this migration: the steps those actions complete become
-- done as they would have been (who, when, which action). Closed cases are
-- left as they are. Whether a letter came with a notice is not known here
-- (it is inside the encrypted message), so letter steps are left alone.
UPDATE case_steps SET status = 'done', done_via = 'notice_posted',
    done_by = (SELECT n.posted_by FROM case_notices n WHERE n.case_id = case_steps.case_id),
    done_at = (SELECT n.posted_at FROM case_notices n WHERE n.case_id = case_steps.case_id),
    updated_at = (SELECT n.posted_at FROM case_notices n WHERE n.case_id = case_steps.case_id)
WHERE status = 'pending'
  AND EXISTS (SELECT 1 FROM case_notices n JOIN cases c ON c.id = n.case_id
              JOIN pathway_step_actions a ON a.template = c.pathway AND a.version = c.template_version
              WHERE n.case_id = case_steps.case_id AND c.status = 'open'
                AND a.action = 'notice_posted' AND a.step = case_steps.step)
  AND occurrence = (SELECT min(t.occurrence) FROM case_steps t WHERE t.case_id = case_steps.case_id
                    AND t.step = case_steps.step AND t.status = 'pending');

UPDATE case_steps SET status = 'done', done_via = 'reconciliation_closed',
    done_by = (SELECT k.reported_by FROM conciliation_counts k
               WHERE k.case_id = case_steps.case_id AND k.transition = 'discharge'
                 AND k.status = 'closed' ORDER BY k.updated_at LIMIT 1),
    done_at = (SELECT coalesce(k.closed_at, k.updated_at) FROM conciliation_counts k
               WHERE k.case_id = case_steps.case_id AND k.transition = 'discharge'
                 AND k.status = 'closed' ORDER BY k.updated_at LIMIT 1),
    updated_at = (SELECT k.updated_at FROM conciliation_counts k
                  WHERE k.case_id = case_steps.case_id AND k.transition = 'discharge'
                    AND k.status = 'closed' ORDER BY k.updated_at LIMIT 1)
WHERE status = 'pending'
  AND EXISTS (SELECT 1 FROM conciliation_counts k JOIN cases c ON c.id = k.case_id
              JOIN pathway_step_actions a ON a.template = c.pathway AND a.version = c.template_version
              WHERE k.case_id = case_steps.case_id AND c.status = 'open'
                AND k.transition = 'discharge' AND k.status = 'closed'
                AND a.action = 'reconciliation_closed' AND a.step = case_steps.step)
  AND occurrence = (SELECT min(t.occurrence) FROM case_steps t WHERE t.case_id = case_steps.case_id
                    AND t.step = case_steps.step AND t.status = 'pending');
