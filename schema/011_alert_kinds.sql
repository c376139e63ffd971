-- 011_alert_kinds.sql — alert kinds and measurement thresholds as template
-- data. Each template version names the alert kinds it knows and who each
-- notifies; the thresholds are evaluated by the client over measurements it
-- decrypts locally, and only the kind of a crossed threshold reaches the
-- server (op "alert"), never a value (docs/PATHWAYS.md, "Measurements and
-- alerts"). A CPTS overrides a route or a threshold with rows of a later
-- migration.

-- roles: '|'-separated professions among the current members of the case
-- thread (gp, cardiologist, psychiatrist, ...), and 'coordinator': the
-- coordinators of the case's CPTS (the territory coordinators for a case
-- without one), members of the thread or not.
CREATE TABLE pathway_alert_routes (
    template  TEXT NOT NULL,
    version   INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 23
                                   AND kind NOT GLOB '*[^a-z0-9_]*'),
    roles     TEXT NOT NULL,
    position  INTEGER NOT NULL,              -- the most urgent kind first
    label_fr  TEXT NOT NULL,
    PRIMARY KEY (template, version, kind),
    UNIQUE (template, version, position),
    FOREIGN KEY (template, version) REFERENCES pathway_templates(code, version)
) STRICT, WITHOUT ROWID;

-- A threshold over one measure of the case (the measure vocabulary is the
-- client's, client/core/measure.h):
--   above     the new value > amount
--   at_least  the new value >= amount
--   below     the new value < amount
--   rise      the new value minus an earlier value taken at most `days` days
--             before it >= amount
CREATE TABLE pathway_thresholds (
    template    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    measure     TEXT NOT NULL CHECK (measure IN ('weight', 'nyha', 'systolic', 'diastolic',
                    'heart_rate', 'potassium', 'creatinine', 'phq9_item9', 'phq9_total')),
    rule        TEXT NOT NULL CHECK (rule IN ('above', 'at_least', 'below', 'rise')),
    amount      REAL NOT NULL,
    days        INTEGER CHECK ((rule = 'rise') = (days IS NOT NULL) AND (days IS NULL OR days > 0)),
    alert_kind  TEXT NOT NULL,
    PRIMARY KEY (template, version, position),
    FOREIGN KEY (template, version, alert_kind) REFERENCES pathway_alert_routes(template, version, kind)
) STRICT, WITHOUT ROWID;

-- Which kind an alert was (one alert per message, 008). Alerts raised
-- before this migration were the free-text kind.
ALTER TABLE case_alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'clinical';

-- Every template version knows 'clinical' (the free-text "liaison alert"),
-- routed as before: the GP and cardiologist members of the thread.
INSERT INTO pathway_alert_routes(template, version, kind, roles, position, label_fr)
SELECT code, version, 'clinical', 'gp|cardiologist', 100, 'Alerte clinique'
FROM pathway_templates;

INSERT INTO pathway_alert_routes(template, version, kind, roles, position, label_fr) VALUES
 ('heart_failure', 1, 'hyperkalaemia', 'gp|cardiologist', 1, 'Kaliémie élevée'),
 ('heart_failure', 1, 'renal_function', 'gp|cardiologist', 2, 'Créatinine élevée'),
 ('heart_failure', 1, 'weight_gain', 'gp|cardiologist', 3, 'Prise de poids rapide'),
 ('heart_failure', 1, 'hypokalaemia', 'gp|cardiologist', 4, 'Kaliémie basse'),
 ('anxiety_depression', 1, 'suicide_risk', 'gp|psychiatrist|coordinator', 1, 'Idées suicidaires (PHQ-9 item 9)'),
 ('anxiety_depression', 1, 'severe_depression', 'gp|psychiatrist', 2, 'Épisode sévère (PHQ-9 ≥ 20)');

INSERT INTO pathway_thresholds(template, version, position, measure, rule, amount, days, alert_kind) VALUES
 -- ESC 2021 heart failure guidelines: MRA / ACE-I titration, K+ > 5.5 mmol/L
 ('heart_failure', 1, 1, 'potassium', 'above', 5.5, NULL, 'hyperkalaemia'),
 -- ESC 2021: creatinine up to 266 µmol/L (3.0 mg/dL) acceptable
 ('heart_failure', 1, 2, 'creatinine', 'above', 266, NULL, 'renal_function'),
 -- PRADO / HAS patient education: + 2 kg within 3 days
 ('heart_failure', 1, 3, 'weight', 'rise', 2.0, 3, 'weight_gain'),
 -- [design] lower limit of the usual reference range
 ('heart_failure', 1, 4, 'potassium', 'below', 3.5, NULL, 'hypokalaemia'),
 -- PHQ-9 item 9 (thoughts of death or self-harm) above 0; total >= 20: severe
 ('anxiety_depression', 1, 1, 'phq9_item9', 'at_least', 1, NULL, 'suicide_risk'),
 ('anxiety_depression', 1, 2, 'phq9_total', 'at_least', 20, NULL, 'severe_depression');
