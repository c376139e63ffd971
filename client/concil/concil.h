/* concil.h — medication reconciliation (conciliation des traitements
 * médicamenteux), the pure core: the episode and its rules, the CSV and
 * command-line entry of medication lines, the comparison of the BMO with the
 * prescription, the de-identified copy for a quality circle with its
 * aggregates, and the de-identified counts for the server (op
 * conciliation_counts). No function here does I/O, takes a lock or reads the
 * clock: times are given (ms since the epoch, UTC).
 *
 * docs/CONCILIATION.md documents every format and rule used here: the episode
 * document, the CSV columns and vocabularies, the comparison rules, what the
 * circle copy keeps; docs/PROTOCOL.md, "Medication reconciliation", the counts.
 *
 *   concil_vocab.c    code lists, text folding, word vocabularies, dates
 *   concil_fields.c   the fields of a medication line and their checks
 *   concil_episode.c  the episode, its JSON document, the one document decoder
 *   concil_rules.c    who may change what, and when; applying a change
 *   concil_csv.c      CSV import, one-line "key=value" entry
 *   concil_compare.c  BMO × prescription → proposed discrepancies
 *   concil_share.c    circle copy, aggregates and their CSV, server counts
 *   concil_deid.c     generalisation of the circle copy (k-anonymity)
 *   concil_notice.c   the discharge notice's treatments as medication lines
 */
#ifndef LIAISON_CONCIL_H
#define LIAISON_CONCIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "ident.h"

#define CONCIL_VERSION        1
#define CONCIL_DOC_TYPE       "conciliation"       /* the episode document */
#define CONCIL_CIRCLE_TYPE    "conciliation_case"  /* the circle copy */

/* Limits (docs/CONCILIATION.md, "Limits"). */
#define CONCIL_LINES_MAX      500   /* medication lines per list (also per CSV file) */
#define CONCIL_DISC_MAX       4000  /* discrepancies per episode (the comparison makes at most 3500) */
#define CONCIL_SOURCES_MAX    64
#define CONCIL_CSV_LINE_MAX   1024  /* bytes per CSV line, without its end of line */
#define CONCIL_CSV_BYTES_MAX  ((size_t)(CONCIL_LINES_MAX + 1) * (CONCIL_CSV_LINE_MAX + 2))
#define CONCIL_ENTRY_MAX      1024  /* bytes of one command-line entry */
#define CONCIL_ERRORS_MAX     20    /* problems kept by one CSV import */
#define CONCIL_DOSE_MAX       100000 /* a dose is in (0, 100000] with at most 3 decimals */

#define CONCIL_INN_MAX        100
#define CONCIL_ATC_LEN        7
#define CONCIL_STRENGTH_MAX   32
#define CONCIL_WORD_MAX       32    /* form, route, unit, frequency (canonical spellings) */
#define CONCIL_LINE_NOTE_MAX  200
#define CONCIL_NOTE_MAX       1000  /* episode, source and discrepancy notes */
#define CONCIL_NAME_MAX       128
#define CONCIL_PROFESSION_MAX 24
#define CONCIL_INS_MAX        24
#define CONCIL_PATHWAY_MAX    32
#define CONCIL_MSG_MAX        256

/* ---- vocabularies -------------------------------------------------------
 * Fixed codes (the names written in JSON and sent to the server), each with a
 * French label for people. Every enum starts at 0 in the order below. */

enum concil_transition {
	CONCIL_ADMISSION, CONCIL_TRANSFER, CONCIL_DISCHARGE, CONCIL_COMMUNITY_POST_DISCHARGE,
	CONCIL_TRANSITION__COUNT
};
enum concil_status {
	CONCIL_DRAFT, CONCIL_BMO_DONE, CONCIL_COMPARED, CONCIL_AWAITING_PRESCRIBER, CONCIL_CLOSED,
	CONCIL_STATUS__COUNT
};
enum concil_source_type {
	CONCIL_SRC_PATIENT_INTERVIEW, CONCIL_SRC_CAREGIVER, CONCIL_SRC_MEDICATIONS_BROUGHT,
	CONCIL_SRC_GP_PRESCRIPTION, CONCIL_SRC_SPECIALIST_PRESCRIPTION, CONCIL_SRC_GP_CONTACT,
	CONCIL_SRC_COMMUNITY_PHARMACIST, CONCIL_SRC_DOSSIER_PHARMACEUTIQUE, CONCIL_SRC_DMP,
	CONCIL_SRC_DISCHARGE_LETTER, CONCIL_SRC_HOME_NURSE, CONCIL_SRC_NURSING_HOME_RECORD,
	CONCIL_SRC_REIMBURSEMENT_HISTORY, CONCIL_SRC_OTHER,
	CONCIL_SOURCE__COUNT
};
enum concil_list { CONCIL_BMO, CONCIL_ORDER, CONCIL_LIST__COUNT };
enum concil_dtype {
	CONCIL_OMISSION, CONCIL_ADDITION, CONCIL_DOSE_CHANGE, CONCIL_FREQUENCY_CHANGE,
	CONCIL_ROUTE_CHANGE, CONCIL_FORM_CHANGE, CONCIL_SUBSTITUTION, CONCIL_DUPLICATION,
	CONCIL_INCOMPLETE, CONCIL_OTHER,
	CONCIL_DTYPE__COUNT
};
enum concil_intent {
	CONCIL_INTENTIONAL_DOCUMENTED, CONCIL_INTENTIONAL_UNDOCUMENTED, CONCIL_UNINTENTIONAL,
	CONCIL_UNDETERMINED,
	CONCIL_INTENT__COUNT
};
/* CONCIL_SEV_NONE: not an unintentional discrepancy (JSON null). */
enum concil_severity {
	CONCIL_SEV_NONE, CONCIL_MINOR, CONCIL_SIGNIFICANT, CONCIL_MAJOR, CONCIL_CRITICAL,
	CONCIL_SEVERITY__COUNT
};
enum concil_resolution {
	CONCIL_PENDING, CONCIL_PRESCRIPTION_CORRECTED, CONCIL_DOCUMENTED_AS_INTENTIONAL,
	CONCIL_MAINTAINED_WITH_JUSTIFICATION,
	CONCIL_RESOLUTION__COUNT
};
/* Who may do what (concil_check): from the actor's profession code. */
enum concil_role { CONCIL_ROLE_NONE, CONCIL_ROLE_PHARMACIST, CONCIL_ROLE_PRESCRIBER,
		   CONCIL_ROLE__COUNT };

enum concil_vocab {
	CONCIL_V_TRANSITION, CONCIL_V_STATUS, CONCIL_V_SOURCE, CONCIL_V_LIST, CONCIL_V_TYPE,
	CONCIL_V_INTENT, CONCIL_V_SEVERITY, CONCIL_V_RESOLUTION, CONCIL_V_ROLE,
	CONCIL_V__COUNT
};
/* Code of value v in vocabulary voc ("dose_change"); NULL out of range (and
 * for CONCIL_SEV_NONE / CONCIL_ROLE_NONE, which are JSON null). */
const char *concil_code(enum concil_vocab voc, int v);
/* French label ("Modification de dose"); NULL out of range. */
const char *concil_label(enum concil_vocab voc, int v);
/* Exact code → value; -1 when unknown (and for NULL). */
int concil_parse(enum concil_vocab voc, const char *code);
/* Number of values (including the NONE values). */
int concil_count(enum concil_vocab voc);

/* pharmacist, hospital_pharmacist → PHARMACIST; gp, cardiologist,
 * psychiatrist, hospital_doctor → PRESCRIBER; anything else (NULL too) → NONE. */
enum concil_role concil_role_of(const char *profession);

/* ---- medication lines ---------------------------------------------------
 * The fields as the CSV columns name them (docs/CONCILIATION.md, "CSV"). */

enum concil_field {
	CONCIL_F_INN, CONCIL_F_ATC, CONCIL_F_STRENGTH, CONCIL_F_FORM, CONCIL_F_ROUTE,
	CONCIL_F_DOSE, CONCIL_F_UNIT, CONCIL_F_FREQUENCY, CONCIL_F_AS_NEEDED,
	CONCIL_F_SELF_MEDICATION, CONCIL_F_NOTE,
	CONCIL_FIELD__COUNT
};
/* Column name ("self_medication"); NULL out of range. */
const char *concil_field_name(enum concil_field f);
/* Column name (case-insensitive, surrounding blanks ignored) → field; -1. */
int concil_field_parse(const char *name, size_t len);

struct concil_line {
	int id;                                  /* >= 1, unique in the episode (both lists) */
	enum concil_list list;
	char inn[CONCIL_INN_MAX + 1];            /* "furosémide", as typed (checked) */
	char atc[CONCIL_ATC_LEN + 1];            /* "C03CA01"; a prefix or "" only on self-medication */
	char strength[CONCIL_STRENGTH_MAX + 1];  /* "40 mg", "49 mg/51 mg"; "" unknown */
	char form[CONCIL_WORD_MAX + 1];          /* canonical, "" unknown */
	char route[CONCIL_WORD_MAX + 1];         /* canonical, "" unknown */
	int64_t dose_milli;                      /* dose × 1000; 0 = not given */
	char unit[CONCIL_WORD_MAX + 1];          /* canonical, "" unknown */
	char frequency[CONCIL_WORD_MAX + 1];     /* canonical, "" unknown */
	bool as_needed;
	bool self_medication;
	char note[CONCIL_LINE_NOTE_MAX + 1];     /* free text, never shared */
};

/* Set one field of ln from text (len bytes, need not be NUL-terminated;
 * surrounding blanks ignored), normalising synonyms to the canonical
 * spelling. An empty text clears an optional field. false with why (a
 * sentence naming the value and what is expected) on a bad value. The ATC
 * rule that depends on self_medication is checked by concil_line_check. */
bool concil_field_set(struct concil_line *ln, enum concil_field f, const char *text, size_t len,
		      char *why, size_t why_len);
/* Whole-line rules: an INN; a full ATC code unless self_medication (then a
 * documented prefix or ""); false with why (naming the column). */
bool concil_line_check(const struct concil_line *ln, char *why, size_t why_len);
/* The dose as text ("0.5", "40"); "" when not given. Returns out (16 bytes). */
char *concil_dose_format(int64_t dose_milli, char out[16]);
/* Canonical spelling of a vocabulary word, or NULL if unknown: synonyms,
 * case and accents are folded (docs/CONCILIATION.md, "Vocabularies"). */
const char *concil_unit_canon(const char *text);
const char *concil_form_canon(const char *text);
const char *concil_route_canon(const char *text);
const char *concil_frequency_canon(const char *text);
/* ATC shape: 'C' / "C03" / "C03C" / "C03CA" / "C03CA01" (upper case).
 * Returns the level 1–5 (length 1, 3, 4, 5, 7), 0 if not an ATC code. */
int concil_atc_level(const char *atc);
/* INN comparison key: lower case, accents folded, only [a-z0-9/+] kept
 * ("Furosémide" → "furosemide", "sacubitril / valsartan" →
 * "sacubitril/valsartan"). Returns out. */
char *concil_inn_key(const char *inn, char *out, size_t len);

/* A growing array of lines of one list. */
struct concil_lines {
	struct concil_line *v;
	size_t n, cap;
};
/* Append a copy of ln; false when full (CONCIL_LINES_MAX) or out of memory. */
bool concil_lines_push(struct concil_lines *ls, const struct concil_line *ln);
void concil_lines_free(struct concil_lines *ls);

/* ---- CSV import and one-line entry (concil_csv.c) -------------------------- */

/* One problem of an import: the physical line (1 = the header; 0 = the file
 * as a whole), the column (CSV name, "" if none) and what is wrong. */
struct concil_csv_problem {
	size_t line;
	char column[24];
	char msg[CONCIL_MSG_MAX];
};
struct concil_csv_report {
	struct concil_csv_problem p[CONCIL_ERRORS_MAX];
	size_t n;          /* kept: the first CONCIL_ERRORS_MAX */
	size_t total;      /* found */
};
/* Parse the CSV text (len bytes) into lines of list (ids 0: the episode
 * numbers them when they are added). Everything or nothing: on any problem
 * *out is left empty, rep lists the problems and st says
 * "line 3, column atc: …" for the first one. rep may be NULL. */
enum lsn_err concil_csv_parse(const char *text, size_t len, enum concil_list list,
			      struct concil_lines *out, struct concil_csv_report *rep,
			      struct lsn_status *st);
/* One line typed on the command line as key=value words separated by blanks;
 * a value with blanks is quoted with "…" (a doubled "" inside is a quote):
 *   inn=furosémide atc=C03CA01 strength="40 mg" form=comprimé route=orale
 *   dose=1 unit=comprimé frequency="matin et soir"
 * Keys are the CSV column names. At most CONCIL_ENTRY_MAX bytes; never reads
 * past len, never allocates. */
enum lsn_err concil_entry_parse(const char *text, size_t len, enum concil_list list,
				struct concil_line *out, struct lsn_status *st);
/* The same with one key=value per argument (argv as the shell split it). */
enum lsn_err concil_entry_parse_argv(int argc, char *const *argv, enum concil_list list,
				     struct concil_line *out, struct lsn_status *st);

/* ---- from the discharge notice (concil_notice.c) ---------------------------- */

/* One remark about a treatment of the notice: skipped (no line made: no
 * INN, no full ATC code), or a field that could not be read and was left
 * empty. field is the notice's field ("atc", "dose", "frequency", "route"). */
struct concil_notice_remark {
	size_t index;              /* discharge_treatments[index] */
	bool skipped;
	char field[24];
	char msg[CONCIL_MSG_MAX];
};
struct concil_notice_report {
	struct concil_notice_remark r[CONCIL_ERRORS_MAX];
	size_t n;                  /* kept: the first CONCIL_ERRORS_MAX */
	size_t total;              /* found */
	size_t skipped;            /* treatments not made into a line */
};
/* The "discharge_treatments" of a discharge notice (the notice object, or
 * the content of a discharge_notice message) appended to *out as lines of
 * list (ids 0): drug → inn, atc → atc, dose "40 mg" → dose 40 + unit mg,
 * frequency and route through the vocabularies, duration → the line's note
 * ("durée : 3 mois"). A treatment without a full ATC code is skipped; a
 * dose, frequency or route that the vocabularies do not read is left empty
 * (the comparison then reports the line incomplete); each is a remark in
 * rep. docs/CONCILIATION.md, "From the discharge notice". */
enum lsn_err concil_notice_lines(json_t *notice, enum concil_list list, struct concil_lines *out,
				 struct concil_notice_report *rep, struct lsn_status *st);

/* ---- the episode ---------------------------------------------------------- */

struct concil_person {                       /* a professional named in the episode */
	char user[LSN_ID_HEX + 1];               /* user id, "" if not set */
	char name[CONCIL_NAME_MAX + 1];
	char profession[CONCIL_PROFESSION_MAX + 1];
};

struct concil_patient {                      /* all "" when not written here */
	char name[CONCIL_NAME_MAX + 1];
	char birth_date[11];                     /* YYYY-MM-DD */
	char ins[CONCIL_INS_MAX + 1];
};

struct concil_source {
	enum concil_source_type type;
	int64_t at;                              /* when it was consulted, 0 unknown */
	char note[CONCIL_NOTE_MAX + 1];
};

struct concil_disc {
	int id;                                  /* >= 1, unique in the episode */
	enum concil_dtype type;
	bool manual;                             /* added by a person, not by the comparison */
	int bmo, order, other;                   /* line ids, 0 = none; other: the earlier
						    order line of a duplication */
	enum concil_intent intent;
	enum concil_severity severity;           /* SEV_NONE unless UNINTENTIONAL */
	enum concil_resolution proposal;         /* PENDING: none proposed */
	enum concil_role proposed_by;
	int64_t proposed_at;
	enum concil_resolution resolution;       /* final; PENDING until a prescriber decides */
	enum concil_role decided_by;
	int64_t detected_at, decided_at;         /* ms; 0 unknown / not yet */
	char note[CONCIL_NOTE_MAX + 1];
};

struct concil_discs {
	struct concil_disc *v;
	size_t n, cap;
};
bool concil_discs_push(struct concil_discs *ds, const struct concil_disc *d);
void concil_discs_free(struct concil_discs *ds);

struct concil_episode {
	char episode[LSN_ID_HEX + 1];            /* 32 lowercase hex, chosen by the client */
	char case_id[LSN_ID_HEX + 1];            /* "" when not tied to a case */
	char pathway[CONCIL_PATHWAY_MAX + 1];    /* pathway code of the case, "" none */
	enum concil_transition transition;
	enum concil_status status;
	struct concil_patient patient;
	struct concil_person pharmacist, prescriber;
	int64_t started_at, bmo_done_at, compared_at, closed_at;  /* ms, 0 = not yet */
	struct concil_source *sources;
	size_t n_sources;
	struct concil_lines bmo, order;
	struct concil_discs discs;
	char note[CONCIL_NOTE_MAX + 1];
	int next_id;                             /* next line or discrepancy id */
};

/* A new draft episode (all else empty). episode_hex: 32 lowercase hex. */
enum lsn_err concil_episode_init(struct concil_episode *ep, const char *episode_hex,
				 enum concil_transition transition, int64_t now,
				 struct lsn_status *st);
void concil_episode_free(struct concil_episode *ep);
/* Deep copy; false when out of memory (dst is then empty). */
bool concil_episode_copy(struct concil_episode *dst, const struct concil_episode *src);

/* Find by id (NULL when unknown). */
const struct concil_line *concil_line_find(const struct concil_episode *ep, int id);
struct concil_disc *concil_disc_find(struct concil_episode *ep, int id);
/* Number of distinct source types among the sources. */
int concil_source_types(const struct concil_episode *ep);

/* The episode document, docs/CONCILIATION.md "Episode document":
 * {"type":"conciliation","version":1,"episode":…,…}. NULL on allocation failure. */
json_t *concil_episode_encode(const struct concil_episode *ep);
/* Check and read a document (as decrypted from the thread: unknown fields are
 * ignored, everything else is checked like a typed entry, ids and references
 * too). On error ep is left empty and st names the field. */
enum lsn_err concil_episode_decode(json_t *doc, struct concil_episode *ep, struct lsn_status *st);

/* ---- changes and who may make them ------------------------------------------ */

enum concil_change_kind {
	CONCIL_CH_STATUS,       /* status: move the episode (not to COMPARED: see concil_apply_compare) */
	CONCIL_CH_SOURCE_ADD,   /* source */
	CONCIL_CH_LINE_ADD,     /* line (its list; id assigned) */
	CONCIL_CH_LINE_REMOVE,  /* id */
	CONCIL_CH_DISC_ADD,     /* disc_type, bmo/order line ids in line_ids, note: a manual discrepancy */
	CONCIL_CH_INTENT,       /* id, intent, severity */
	CONCIL_CH_PROPOSE,      /* id, resolution, note (optional) */
	CONCIL_CH_DECIDE,       /* id, resolution, note (the justification, needed for
				   maintained_with_justification) */
	CONCIL_CH__COUNT
};

struct concil_change {
	enum concil_change_kind kind;
	enum concil_status status;
	struct concil_source source;
	struct concil_line line;
	enum concil_dtype disc_type;
	int line_ids[2];                         /* DISC_ADD: BMO line, order line (0 = none) */
	int id;                                  /* a line or a discrepancy */
	enum concil_intent intent;
	enum concil_severity severity;
	enum concil_resolution resolution;
	const char *note;                        /* NULL = none */
};

/* Would this change be allowed to an actor of this profession (a code of
 * ident.h, e.g. "pharmacist")? LSN_OK, or an error with a sentence for the
 * user: LSN_ERR_FORBIDDEN (the role may not: "only a prescriber sets a final
 * resolution; as a pharmacist, propose it"), LSN_ERR_CONFLICT (not in this
 * status, already decided, fewer than 3 source types…), LSN_ERR_NOT_FOUND
 * (no such line or discrepancy), LSN_ERR_BAD_REQUEST (a bad value). The
 * rules are the table of docs/CONCILIATION.md, "Who changes what". */
enum lsn_err concil_check(const struct concil_episode *ep, const struct concil_change *ch,
			  const char *profession, struct lsn_status *st);
/* concil_check, then make the change at time now. */
enum lsn_err concil_apply(struct concil_episode *ep, const struct concil_change *ch,
			  const char *profession, int64_t now, struct lsn_status *st);

/* ---- comparison (concil_compare.c) ------------------------------------------ */

/* The discrepancies the rules of docs/CONCILIATION.md, "Comparison" find
 * between ep->bmo and ep->order, in a deterministic order, with ids 0, intent
 * undetermined, resolution pending, detected_at 0. Replaces *out's content.
 * false only when out of memory. */
bool concil_compare(const struct concil_episode *ep, struct concil_discs *out);
/* Compare and merge into the episode at time now (pharmacist or prescriber,
 * status bmo_done, compared or awaiting_prescriber): a computed discrepancy
 * found again keeps its id, review and notes; one no longer found is dropped;
 * manual ones stay; new ones get ids. BMO_DONE becomes COMPARED. */
enum lsn_err concil_apply_compare(struct concil_episode *ep, const char *profession, int64_t now,
				  struct lsn_status *st);

/* ---- sharing (concil_share.c) --------------------------------------------------- */

/* "YYYY-MM" of a time in ms (UTC); "" when ms <= 0. Returns out. */
char *concil_month(int64_t ms, char out[8]);

/* The de-identified circle copy, docs/CONCILIATION.md "Circle copy": built
 * field by field from a whitelist — drugs, discrepancy types, intents,
 * severities, resolutions and roles, pathway, transition, distinct source
 * types, months. No patient, no notes, no professional names or user ids, no
 * case or episode id, no day. NULL on allocation failure. */
json_t *concil_circle_encode(const struct concil_episode *ep);
/* Read a circle copy into ep (dates are the first day of their month;
 * identity and notes empty). Refuses a document with any field outside the
 * whitelist, so nothing identifying is aggregated or passed on unnoticed. */
enum lsn_err concil_circle_decode(json_t *doc, struct concil_episode *ep, struct lsn_status *st);

/* ---- generalisation of the circle copy (concil_deid.c) ------------------------
 * docs/CONCILIATION.md, "Generalisation": k-anonymity among the copies the
 * circle holds. */
#define CONCIL_K_DEFAULT 5
#define CONCIL_K_MAX     1000

enum concil_period { CONCIL_PERIOD_MONTH, CONCIL_PERIOD_QUARTER, CONCIL_PERIOD_YEAR };
/* "YYYY-MM", "YYYY-Qn" or "YYYY" (1900–2999) → its first ms (UTC) and kind
 * (kind may be NULL); false otherwise. */
bool concil_period_parse(const char *s, int64_t *ms, enum concil_period *kind);
/* "YYYY-Qn" of a time in ms (UTC); "" when ms <= 0. Returns out. */
char *concil_quarter(int64_t ms, char out[8]);

/* What became of one medication line. */
struct concil_gen_line {
	enum concil_list list;
	int id;
	char inn[CONCIL_INN_MAX + 1];            /* the episode's (shown locally, never shared) */
	char atc[CONCIL_ATC_LEN + 1];            /* the episode's code */
	char shared[CONCIL_ATC_LEN + 1];         /* the copy's: atc, a class, or "" (no code) */
	int support_atc;                         /* reconciliations of the group holding atc */
	int support;                             /* … holding shared (0 when "") */
	bool pair;                               /* moved up by a pair held by fewer than k */
	char pair_with[CONCIL_ATC_LEN + 1];      /* the other code of that pair */
};
struct concil_deid {
	int k;
	size_t held;                             /* the circle's copies given (other episodes) */
	size_t group_quarter;                    /* copies with this pathway, transition and
						    quarter, this one included */
	size_t group;                            /* the group used (quarter, else year) */
	bool to_year;                            /* the quarter's group was below k */
	char month[8];                           /* "2025-11": what the period replaces */
	char period[8];                          /* "2025-Q4" or "2025" */
	struct concil_gen_line *lines;           /* every line, BMO then order */
	size_t n_lines;
};
/* The generalised circle copy of ep for a circle that already holds the
 * decoded-valid copies held[0..n_held) (of other episodes: leave out an
 * older copy of this one). The group is the copies with ep's pathway,
 * transition and quarter (else year), ep included; below k:
 * LSN_ERR_CONFLICT, st says why, *copy NULL. Otherwise *copy is
 * concil_circle_encode(ep) with the period instead of the months, no
 * compared/closed, and each drug at the most specific ATC level that at
 * least k of the group hold, one level further up while a pair of the
 * copy's codes is held together by fewer than k; a line not shared as its
 * substance has no INN, strength, dose or unit. r says what was done
 * (concil_deid_free it). k in 1..CONCIL_K_MAX. */
enum lsn_err concil_circle_deid(const struct concil_episode *ep, json_t *const *held, size_t n_held,
				int k, json_t **copy, struct concil_deid *r, struct lsn_status *st);
void concil_deid_free(struct concil_deid *r);

/* Aggregates over circle copies. */
struct concil_atc_count {
	char cls[CONCIL_ATC_LEN + 1];            /* "C03" or "C03CA"; "?" when the line has no such level */
	int64_t n;
};
struct concil_agg {
	int64_t cases, discrepancies, resolved;
	int64_t by_type[CONCIL_DTYPE__COUNT];
	int64_t by_intent[CONCIL_INTENT__COUNT];
	int64_t by_severity[CONCIL_SEVERITY__COUNT];  /* [SEV_NONE]: not unintentional */
	struct concil_atc_count *atc3, *atc5;    /* sorted by class */
	size_t n_atc3, n_atc5, cap_atc3, cap_atc5;
};
void concil_agg_init(struct concil_agg *a);
/* Add one episode (normally read with concil_circle_decode). Each
 * discrepancy counts once in each table; its ATC class is that of its BMO
 * line, else of its order line. false when out of memory. */
bool concil_agg_add(struct concil_agg *a, const struct concil_episode *ep);
/* Share resolved, 0 when there is no discrepancy. */
double concil_agg_resolved_share(const struct concil_agg *a);
json_t *concil_agg_json(const struct concil_agg *a);
/* CSV "dimension,key,count,share" (docs/CONCILIATION.md, "Aggregates"),
 * LF line ends; malloc'd, NULL on allocation failure. */
char *concil_agg_csv(const struct concil_agg *a);
void concil_agg_free(struct concil_agg *a);

/* The body of op conciliation_counts (docs/PROTOCOL.md): exactly case,
 * episode, transition, status, source_types, lines_bmo, lines_order, by_type,
 * by_intent, unintentional, resolved, resolution_ms, started_at,
 * compared_at, closed_at (id, op and idem are the connection's). Numbers and
 * fixed vocabulary only. NULL on allocation failure or without a case id. */
json_t *concil_counts(const struct concil_episode *ep);

#endif
