-- 004_pathways.sql — care pathways as data: templates (versioned), their
-- steps and schedules; cases, step instances, discharge notices and their
-- acknowledgements, escalations and notifications. Clinical content never
-- enters these tables: a case carries an opaque patient reference, pathway
-- and step codes, dates and who did what.
--
-- Adding a pathway is data only: a later migration inserts rows into
-- pathway_templates, pathway_steps and pathway_schedule (docs/PATHWAYS.md).

CREATE TABLE pathway_templates (
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    label_fr    TEXT NOT NULL,
    j0_label    TEXT NOT NULL,           -- what day J0 is
    sources     TEXT NOT NULL,
    flags       TEXT NOT NULL DEFAULT '', -- case flags this template understands, comma list
    current     INTEGER NOT NULL DEFAULT 1, -- new cases use the current version
    PRIMARY KEY (code, version)
) STRICT;

-- roles: '|'-separated professions (gp, nurse, ...) or the user roles
-- 'discharge' and 'coordinator'; the first case member holding one is assigned.
CREATE TABLE pathway_steps (
    template    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    step        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    label_fr    TEXT NOT NULL,
    roles       TEXT NOT NULL,
    mandatory   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (template, version, step),
    UNIQUE (template, version, position),
    FOREIGN KEY (template, version) REFERENCES pathway_templates(code, version)
) STRICT;

-- When a step falls due, in days after J0. A row with every_days NULL is one
-- occurrence on first_day; otherwise occurrences every every_days from
-- first_day to last_day inclusive. first_day NULL: one occurrence without a
-- due date ("when received"). flag: the row applies only to cases with that
-- flag; replaces_base = 1: and then the step's unflagged rows are dropped.
CREATE TABLE pathway_schedule (
    template       TEXT NOT NULL,
    version        INTEGER NOT NULL,
    step           TEXT NOT NULL,
    flag           TEXT,
    replaces_base  INTEGER NOT NULL DEFAULT 0,
    first_day      INTEGER,
    every_days     INTEGER,
    last_day       INTEGER,
    FOREIGN KEY (template, version, step) REFERENCES pathway_steps(template, version, step)
) STRICT;

CREATE TABLE cases (
    id                BLOB PRIMARY KEY CHECK (length(id) = 16),
    patient_ref       TEXT NOT NULL UNIQUE,      -- opaque, random; identity lives in the thread
    pathway           TEXT NOT NULL,
    template_version  INTEGER NOT NULL,
    channel_id        BLOB NOT NULL UNIQUE REFERENCES channels(id),
    j0                INTEGER NOT NULL,           -- UTC ms of 00:00 on the trigger day
    flags             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,              -- open | closed
    close_reason      TEXT,
    opened_by         BLOB NOT NULL REFERENCES users(id),
    opened_at         INTEGER NOT NULL,
    closed_at         INTEGER,
    FOREIGN KEY (pathway, template_version) REFERENCES pathway_templates(code, version)
) STRICT;
CREATE INDEX cases_by_pathway ON cases(pathway, opened_at);

CREATE TABLE case_steps (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       BLOB NOT NULL REFERENCES cases(id),
    step          TEXT NOT NULL,
    occurrence    INTEGER NOT NULL,
    roles         TEXT NOT NULL,
    due_at        INTEGER,                     -- UTC ms; NULL = no deadline
    status        TEXT NOT NULL,               -- pending | done | skipped
    assignee      BLOB,
    done_by       BLOB,
    done_at       INTEGER,
    skip_reason   TEXT,
    note_seq      INTEGER,                     -- message in the case thread
    notified_soon INTEGER,                     -- when "due soon" was pushed
    notified_late INTEGER,                     -- when "overdue" was pushed
    updated_at    INTEGER NOT NULL,
    UNIQUE (case_id, step, occurrence)
) STRICT;
CREATE INDEX case_steps_due ON case_steps(status, due_at);
CREATE INDEX case_steps_assignee ON case_steps(assignee);

-- The discharge notice of a case (one per case) and who acknowledged it.
CREATE TABLE case_notices (
    case_id       BLOB PRIMARY KEY REFERENCES cases(id),
    message_seq   INTEGER NOT NULL,
    posted_by     BLOB NOT NULL,
    posted_at     INTEGER NOT NULL,
    escalated_at  INTEGER
) STRICT;

CREATE TABLE case_acks (
    case_id   BLOB NOT NULL REFERENCES cases(id),
    user_id   BLOB NOT NULL REFERENCES users(id),
    acked_at  INTEGER NOT NULL,
    PRIMARY KEY (case_id, user_id)
) STRICT, WITHOUT ROWID;

-- What a user must see (at once if online, at next login otherwise).
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BLOB NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,      -- step_due_soon | step_overdue | notice_escalated | alert
    case_id     BLOB NOT NULL,
    step_id     INTEGER,
    created_at  INTEGER NOT NULL,
    seen_at     INTEGER
) STRICT;
CREATE INDEX notifications_by_user ON notifications(user_id, seen_at, id);

-- ---------------------------------------------------------------------------
-- Templates, version 1. Sources: Assurance Maladie PRADO insuffisance
-- cardiaque; HAS "Épisode dépressif caractérisé de l'adulte en soins de
-- premier recours" (2017); ameli "Mon soutien psy"; Code de la santé publique
-- art. R1112-1-2 (lettre de liaison). Values marked [design] in PATHWAYS.md
-- are defaults, editable by a later migration.

INSERT INTO pathway_templates(code, version, label_fr, j0_label, sources, flags) VALUES
 ('heart_failure', 1, 'Insuffisance cardiaque après hospitalisation', 'jour de sortie',
  'Assurance Maladie, PRADO insuffisance cardiaque', 'nyha_3_4'),
 ('anxiety_depression', 1, 'Troubles anxio-dépressifs en soins de premier recours',
  'repérage positif ou diagnostic',
  'HAS, Épisode dépressif caractérisé de l''adulte en soins de premier recours (2017); ameli, Mon soutien psy',
  'high_suicide_risk'),
 ('hospital_discharge', 1, 'Sortie d''hospitalisation', 'jour de sortie',
  'Code de la santé publique, art. R1112-1-2 (lettre de liaison)', '');

INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory) VALUES
 ('heart_failure', 1, 'discharge_letter', 1, 'Lettre de liaison envoyée au médecin traitant', 'hospital_doctor', 1),
 ('heart_failure', 1, 'discharge_reconciliation', 2, 'Conciliation médicamenteuse de sortie', 'hospital_pharmacist', 0),
 ('heart_failure', 1, 'nurse_first_visit', 3, 'Première visite infirmière à domicile', 'nurse', 0),
 ('heart_failure', 1, 'pharmacist_review', 4, 'Dispensation et conciliation en officine', 'pharmacist', 0),
 ('heart_failure', 1, 'gp_consultation', 5, 'Consultation du médecin traitant', 'gp', 1),
 ('heart_failure', 1, 'nurse_followup', 6, 'Suivi infirmier (poids, signes d''alerte, éducation)', 'nurse', 0),
 ('heart_failure', 1, 'biology_check', 7, 'Kaliémie / créatinine après introduction ou titration', 'gp|cardiologist', 0),
 ('heart_failure', 1, 'cardiology_consultation', 8, 'Consultation cardiologue', 'cardiologist', 1),
 ('heart_failure', 1, 'etp_referral', 9, 'Orientation éducation thérapeutique', 'gp|cardiologist', 0),
 ('heart_failure', 1, 'pathway_review', 10, 'Bilan de fin de parcours', 'coordinator', 0),

 ('anxiety_depression', 1, 'screening', 1, 'Repérage (PHQ-9, GAD-7 ou HAD)', 'gp|pharmacist|nurse', 0),
 ('anxiety_depression', 1, 'diagnosis_severity', 2, 'Diagnostic et intensité', 'gp', 1),
 ('anxiety_depression', 1, 'suicide_risk_assessment', 3, 'Évaluation du risque suicidaire', 'gp', 1),
 ('anxiety_depression', 1, 'psychologist_referral', 4, 'Orientation psychologue (Mon soutien psy)', 'gp', 0),
 ('anxiety_depression', 1, 'psychologist_first_session', 5, 'Séance d''évaluation', 'psychologist', 0),
 ('anxiety_depression', 1, 'treatment_followup', 6, 'Suivi (hebdomadaire le 1er mois, puis toutes les 2 semaines, puis mensuel)', 'gp', 0),
 ('anxiety_depression', 1, 'response_review', 7, 'Réévaluation (PHQ-9)', 'gp', 0),
 ('anxiety_depression', 1, 'psychiatry_referral', 8, 'Avis psychiatrique (sévère, échec de 2 lignes, doute diagnostique)', 'gp|psychologist', 0),
 ('anxiety_depression', 1, 'psychologist_end_report', 9, 'Compte rendu de fin de prise en charge', 'psychologist', 0),
 ('anxiety_depression', 1, 'continuation_review', 10, 'Consolidation ≥ 6 mois après rémission', 'gp', 0),

 ('hospital_discharge', 1, 'discharge_notice', 1, 'Avis de sortie aux professionnels de ville, accusé de réception', 'discharge', 1),
 ('hospital_discharge', 1, 'discharge_letter', 2, 'Lettre de liaison', 'hospital_doctor', 1),
 ('hospital_discharge', 1, 'discharge_reconciliation', 3, 'Conciliation de sortie', 'hospital_pharmacist', 0),
 ('hospital_discharge', 1, 'dispensing_reconciliation', 4, 'Dispensation et conciliation en officine', 'pharmacist', 0),
 ('hospital_discharge', 1, 'nurse_first_visit', 5, 'Premier passage infirmier', 'nurse', 0),
 ('hospital_discharge', 1, 'coordinator_call', 6, 'Appel de suivi', 'coordinator', 0),
 ('hospital_discharge', 1, 'gp_consultation', 7, 'Consultation du médecin traitant', 'gp', 1),
 ('hospital_discharge', 1, 'pending_results', 8, 'Résultats en attente transmis', 'hospital_doctor|discharge', 0),
 ('hospital_discharge', 1, 'readmission_check', 9, 'Contrôle de réhospitalisation', 'coordinator', 0);

INSERT INTO pathway_schedule(template, version, step, flag, replaces_base, first_day, every_days, last_day) VALUES
 ('heart_failure', 1, 'discharge_letter', NULL, 0, 0, NULL, NULL),
 ('heart_failure', 1, 'discharge_reconciliation', NULL, 0, 0, NULL, NULL),
 ('heart_failure', 1, 'nurse_first_visit', NULL, 0, 2, NULL, NULL),
 ('heart_failure', 1, 'pharmacist_review', NULL, 0, 7, NULL, NULL),
 ('heart_failure', 1, 'gp_consultation', NULL, 0, 7, NULL, NULL),
 -- weekly to J60; every two weeks on to J180 when NYHA III-IV
 ('heart_failure', 1, 'nurse_followup', NULL, 0, 7, 7, 60),
 ('heart_failure', 1, 'nurse_followup', 'nyha_3_4', 0, 70, 14, 180),
 ('heart_failure', 1, 'biology_check', NULL, 0, 14, NULL, NULL),
 ('heart_failure', 1, 'cardiology_consultation', NULL, 0, 60, NULL, NULL),
 ('heart_failure', 1, 'etp_referral', NULL, 0, 60, NULL, NULL),
 ('heart_failure', 1, 'pathway_review', NULL, 0, 60, NULL, NULL),
 ('heart_failure', 1, 'pathway_review', 'nyha_3_4', 1, 180, NULL, NULL),

 ('anxiety_depression', 1, 'screening', NULL, 0, 0, NULL, NULL),
 ('anxiety_depression', 1, 'diagnosis_severity', NULL, 0, 0, NULL, NULL),
 ('anxiety_depression', 1, 'suicide_risk_assessment', NULL, 0, 0, NULL, NULL),
 ('anxiety_depression', 1, 'psychologist_referral', NULL, 0, 0, NULL, NULL),
 ('anxiety_depression', 1, 'psychologist_first_session', NULL, 0, 14, NULL, NULL),
 -- weekly the first month, then every two weeks to J84, then monthly to J180 [design]
 ('anxiety_depression', 1, 'treatment_followup', NULL, 0, 7, 7, 28),
 ('anxiety_depression', 1, 'treatment_followup', NULL, 0, 42, 14, 84),
 ('anxiety_depression', 1, 'treatment_followup', NULL, 0, 114, 30, 174),
 ('anxiety_depression', 1, 'response_review', NULL, 0, 28, NULL, NULL),
 ('anxiety_depression', 1, 'response_review', NULL, 0, 56, NULL, NULL),
 ('anxiety_depression', 1, 'psychiatry_referral', NULL, 0, 30, NULL, NULL),
 ('anxiety_depression', 1, 'psychiatry_referral', 'high_suicide_risk', 1, 0, NULL, NULL),
 ('anxiety_depression', 1, 'psychologist_end_report', NULL, 0, NULL, NULL, NULL),
 ('anxiety_depression', 1, 'continuation_review', NULL, 0, 180, NULL, NULL),

 ('hospital_discharge', 1, 'discharge_notice', NULL, 0, 0, NULL, NULL),
 ('hospital_discharge', 1, 'discharge_letter', NULL, 0, 0, NULL, NULL),
 ('hospital_discharge', 1, 'discharge_reconciliation', NULL, 0, 0, NULL, NULL),
 ('hospital_discharge', 1, 'dispensing_reconciliation', NULL, 0, 2, NULL, NULL),
 ('hospital_discharge', 1, 'nurse_first_visit', NULL, 0, 2, NULL, NULL),
 ('hospital_discharge', 1, 'coordinator_call', NULL, 0, 2, NULL, NULL),
 ('hospital_discharge', 1, 'gp_consultation', NULL, 0, 7, NULL, NULL),
 ('hospital_discharge', 1, 'pending_results', NULL, 0, NULL, NULL, NULL),
 ('hospital_discharge', 1, 'readmission_check', NULL, 0, 30, NULL, NULL);
