-- 012_pathways_v2.sql — version 2 of heart_failure and anxiety_depression,
-- checked step by step against their sources (docs/PATHWAYS.md cites one per
-- step, or says [design]). Version 1 stays as it was for the cases opened on
-- it; new cases use version 2.
--
-- Two schedule columns make conditional and event-dated steps data:
--   flag         may now list several flags separated by '|': the row applies
--                when the case has any of them (one flag reads as before);
--   unless_flag  '|'-separated flags: the row does not apply when the case
--                has any of them (a flag that removes a step);
--   anchor       a case event (e.g. 'remission'): the row's days count from
--                the day the event was recorded on the case instead of J0;
--                until it is, the occurrence has no deadline.
-- A case's events (metadata: a code and a day) are in case_events.

ALTER TABLE pathway_schedule ADD COLUMN unless_flag TEXT;
ALTER TABLE pathway_schedule ADD COLUMN anchor TEXT;

CREATE TABLE case_events (
    case_id      BLOB NOT NULL REFERENCES cases(id),
    event        TEXT NOT NULL,              -- an anchor of the case's template
    day          INTEGER NOT NULL,           -- UTC ms of local midnight of the event's day
    recorded_by  BLOB NOT NULL REFERENCES users(id),
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (case_id, event)
) STRICT, WITHOUT ROWID;

-- ---------------------------------------------------------------------------
-- heart_failure, version 2. Assurance Maladie, PRADO insuffisance cardiaque
-- (built on the HAS guide du parcours de soins insuffisance cardiaque):
-- GP within 7 days, cardiologist within 2 months, a weekly nurse session for
-- two months for every patient, then one every two weeks for four more months
-- in NYHA III-IV (15 sessions in all). No J2 nurse visit: no source plans it.

INSERT INTO pathway_templates(code, version, label_fr, j0_label, sources, flags) VALUES
 ('heart_failure', 2, 'Insuffisance cardiaque après hospitalisation', 'jour de sortie',
  'Assurance Maladie, PRADO insuffisance cardiaque; HAS, Guide du parcours de soins insuffisance cardiaque (2014); HAS, Conciliation des traitements médicamenteux (2018); CSP art. R1112-1-2',
  'nyha_3_4,early_cardiology');

INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory)
 SELECT template, 2, step, position, label_fr, roles, mandatory FROM pathway_steps
  WHERE template = 'heart_failure' AND version = 1 AND step <> 'nurse_first_visit';
INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory) VALUES
 ('heart_failure', 2, 'early_cardiology_check', 11, 'Consultation cardiologique précoce', 'cardiologist', 0);

INSERT INTO pathway_schedule(template, version, step, flag, replaces_base, first_day, every_days, last_day) VALUES
 ('heart_failure', 2, 'discharge_letter', NULL, 0, 0, NULL, NULL),
 ('heart_failure', 2, 'discharge_reconciliation', NULL, 0, 0, NULL, NULL),
 ('heart_failure', 2, 'pharmacist_review', NULL, 0, 7, NULL, NULL),
 ('heart_failure', 2, 'gp_consultation', NULL, 0, 7, NULL, NULL),
 -- weekly for two months (J7..J56, 8 sessions); NYHA III-IV: every two
 -- weeks for four more months (J70..J154, 7 sessions): 15 in all
 ('heart_failure', 2, 'nurse_followup', NULL, 0, 7, 7, 56),
 ('heart_failure', 2, 'nurse_followup', 'nyha_3_4', 0, 70, 14, 154),
 ('heart_failure', 2, 'biology_check', NULL, 0, 14, NULL, NULL),
 ('heart_failure', 2, 'early_cardiology_check', 'early_cardiology', 0, 15, NULL, NULL),
 ('heart_failure', 2, 'cardiology_consultation', NULL, 0, 60, NULL, NULL),
 ('heart_failure', 2, 'etp_referral', NULL, 0, 60, NULL, NULL),
 -- at the end of the follow-up: two months, six in NYHA III-IV
 ('heart_failure', 2, 'pathway_review', NULL, 0, 60, NULL, NULL),
 ('heart_failure', 2, 'pathway_review', 'nyha_3_4', 1, 180, NULL, NULL);

INSERT INTO pathway_step_actions(template, version, step, action)
 SELECT template, 2, step, action FROM pathway_step_actions
  WHERE template = 'heart_failure' AND version = 1;

-- ---------------------------------------------------------------------------
-- anxiety_depression, version 2. HAS, Épisode dépressif caractérisé de
-- l'adulte : prise en charge en soins de premier recours (2017); Assurance
-- Maladie, Mon soutien psy. A psychiatric opinion only when indicated; a
-- high suicide risk is a same-day assessment; Mon soutien psy (light to
-- moderate distress) is not proposed with a high risk or a severe episode;
-- the continuation review counts from the remission.

INSERT INTO pathway_templates(code, version, label_fr, j0_label, sources, flags) VALUES
 ('anxiety_depression', 2, 'Troubles anxio-dépressifs en soins de premier recours',
  'repérage positif ou diagnostic',
  'HAS, Épisode dépressif caractérisé de l''adulte : prise en charge en soins de premier recours (2017); Assurance Maladie, Mon soutien psy',
  'high_suicide_risk,severe_episode,treatment_failure,diagnostic_doubt');

INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory)
 SELECT template, 2, step, position,
        CASE step WHEN 'psychiatry_referral'
                  THEN 'Avis psychiatrique (épisode sévère, échec du traitement, doute diagnostique, risque suicidaire)'
                  ELSE label_fr END,
        roles, mandatory FROM pathway_steps
  WHERE template = 'anxiety_depression' AND version = 1;
INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory) VALUES
 ('anxiety_depression', 2, 'urgent_assessment', 11,
  'Évaluation spécialisée ou aux urgences le jour même (risque suicidaire élevé)', 'gp|psychiatrist', 1);

INSERT INTO pathway_schedule(template, version, step, flag, replaces_base, first_day, every_days, last_day,
                             unless_flag, anchor) VALUES
 ('anxiety_depression', 2, 'screening', NULL, 0, 0, NULL, NULL, NULL, NULL),
 ('anxiety_depression', 2, 'diagnosis_severity', NULL, 0, 0, NULL, NULL, NULL, NULL),
 ('anxiety_depression', 2, 'suicide_risk_assessment', NULL, 0, 0, NULL, NULL, NULL, NULL),
 -- Mon soutien psy: not with a high suicide risk nor a severe episode
 ('anxiety_depression', 2, 'psychologist_referral', NULL, 0, 0, NULL, NULL, 'high_suicide_risk|severe_episode', NULL),
 ('anxiety_depression', 2, 'psychologist_first_session', NULL, 0, 14, NULL, NULL, 'high_suicide_risk|severe_episode', NULL),
 ('anxiety_depression', 2, 'treatment_followup', NULL, 0, 7, 7, 28, NULL, NULL),
 ('anxiety_depression', 2, 'treatment_followup', NULL, 0, 42, 14, 84, NULL, NULL),
 ('anxiety_depression', 2, 'treatment_followup', NULL, 0, 114, 30, 174, NULL, NULL),
 ('anxiety_depression', 2, 'response_review', NULL, 0, 28, NULL, NULL, NULL, NULL),
 ('anxiety_depression', 2, 'response_review', NULL, 0, 56, NULL, NULL, NULL, NULL),
 -- only when indicated: J30 for a severe episode, a failed first treatment or
 -- a diagnostic doubt; J0 with a high suicide risk (and then only J0)
 ('anxiety_depression', 2, 'psychiatry_referral', 'severe_episode|treatment_failure|diagnostic_doubt', 0, 30, NULL, NULL, 'high_suicide_risk', NULL),
 ('anxiety_depression', 2, 'psychiatry_referral', 'high_suicide_risk', 0, 0, NULL, NULL, NULL, NULL),
 ('anxiety_depression', 2, 'psychologist_end_report', NULL, 0, NULL, NULL, NULL, 'high_suicide_risk|severe_episode', NULL),
 -- six months after the remission, once it is recorded (no deadline before)
 ('anxiety_depression', 2, 'continuation_review', NULL, 0, 180, NULL, NULL, NULL, 'remission'),
 ('anxiety_depression', 2, 'urgent_assessment', 'high_suicide_risk', 0, 0, NULL, NULL, NULL, NULL);

INSERT INTO pathway_step_actions(template, version, step, action)
 SELECT template, 2, step, action FROM pathway_step_actions
  WHERE template = 'anxiety_depression' AND version = 1;

-- ---------------------------------------------------------------------------
-- Alert kinds, their routes and thresholds (011): version 2 gets version 1's,
-- among them suicide_risk (PHQ-9 item 9), routed to the GP, the psychiatrist
-- and the CPTS coordinator.
INSERT INTO pathway_alert_routes(template, version, kind, roles, position, label_fr)
 SELECT template, 2, kind, roles, position, label_fr FROM pathway_alert_routes
  WHERE template IN ('heart_failure', 'anxiety_depression') AND version = 1;
INSERT INTO pathway_thresholds(template, version, position, measure, rule, amount, days, alert_kind)
 SELECT template, 2, position, measure, rule, amount, days, alert_kind FROM pathway_thresholds
  WHERE template IN ('heart_failure', 'anxiety_depression') AND version = 1;

UPDATE pathway_templates SET current = 0
 WHERE code IN ('heart_failure', 'anxiety_depression') AND version = 1;
