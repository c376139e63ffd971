/* measure.h — structured measurements of a case (docs/PATHWAYS.md,
 * "Measurements and alerts"), pure code: parsing and checking what the
 * user typed, the encrypted message's JSON both ways, the template's
 * thresholds (op "pathways") and their evaluation over the case's series,
 * and a sparkline of a series. Values are kept in thousandths of their unit
 * (milli) so that thresholds compare exactly (+2.000 kg, not 1.9999…).
 *
 * The message, one per entry (client/README.md, "measure"):
 *   {"type":"measurement","version":1,"case":HEX,"kind":"weight|nyha|bp|
 *    potassium|creatinine|phq9","at":"YYYY-MM-DD","values":{MEASURE:NUMBER,…},
 *    "items":[9 × 0–3] (phq9 only)}
 * MEASURE is one of: weight (kg), nyha (1–4), systolic, diastolic (mmHg),
 * heart_rate (/min), potassium (mmol/L), creatinine (µmol/L), phq9_item9,
 * phq9_total. */
#ifndef LIAISON_MEASURE_H
#define LIAISON_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MEASURE_NAME_MAX 24     /* a measure or an alert kind, with its NUL */
#define MEASURE_VALUES_MAX 3
#define MEASURE_TYPE "measurement"

struct measure_value {
	char name[MEASURE_NAME_MAX];
	int64_t milli;
};

/* One entry: what `liaison measure` posts. */
struct measurement {
	char kind[16];                      /* weight | nyha | bp | potassium | creatinine | phq9 */
	int64_t day;                        /* days since 1970-01-01 */
	struct measure_value v[MEASURE_VALUES_MAX];
	size_t n;
	int items[9];                       /* phq9: the nine answers */
};

/* "weight, nyha, bp, potassium, creatinine, phq9" with what each takes. */
extern const char measure_kinds_help[];

/* kind and its words (args) on day into out; false with why (a sentence
 * naming the value and its range) on anything out of range or malformed. */
bool measure_parse(const char *kind, const char *const *args, size_t nargs, int64_t day,
		   struct measurement *out, char *why, size_t why_len);

/* A decimal number: digits with at most 3 decimals after '.' or ','. */
bool measure_decimal(const char *text, int64_t *milli);

/* The message content (new reference). */
json_t *measure_encode(const struct measurement *m, const char *case_hex);
/* A message content back, every check of measure_parse made again (a
 * hostile or broken sender); false when it is not a valid measurement. */
bool measure_decode(json_t *content, struct measurement *out);

/* "82.5", "3", "4.25": milli as the shortest decimal text. */
void measure_format(int64_t milli, char *out, size_t len);
/* The unit of a measure ("kg", "mmol/L", …; "" for scores). */
const char *measure_unit(const char *measure);

/* ---- thresholds ---------------------------------------------------------- */

enum measure_rule {
	MEASURE_ABOVE,      /* value > amount */
	MEASURE_AT_LEAST,   /* value >= amount */
	MEASURE_BELOW,      /* value < amount */
	MEASURE_RISE,       /* value - an earlier value at most `days` days before >= amount */
};

struct measure_threshold {
	char measure[MEASURE_NAME_MAX];
	enum measure_rule rule;
	int64_t amount_milli;
	int64_t days;                       /* MEASURE_RISE */
	char kind[MEASURE_NAME_MAX];        /* the alert kind it raises */
};

/* A THRESHOLD object of op "pathways"; false when malformed or unknown. */
bool measure_threshold_from_json(json_t *obj, struct measure_threshold *out);

/* One value of a series: a measure of an entry (message seq) on a day. */
struct measure_point {
	char measure[MEASURE_NAME_MAX];
	int64_t day, seq, milli;
};

/* Does point p (one of pts) cross t? Earlier means an earlier day, or the
 * same day and a lower seq; for a rise, an earlier point of the same
 * measure whose day is at most t->days before p's. */
bool measure_crosses(const struct measure_threshold *t, const struct measure_point *pts, size_t n,
		     const struct measure_point *p);

/* The alert kinds the entry `seq` raises: for each threshold in order, when
 * a point of that entry crosses it; each kind once, at most max. */
size_t measure_evaluate(const struct measure_threshold *t, size_t nt, const struct measure_point *pts,
			size_t np, int64_t seq, char (*kinds)[MEASURE_NAME_MAX], size_t max);

/* A sparkline of values (oldest first): one character per value, ▁ to █ from
 * the lowest to the highest (all the same: ▄), or with ascii "_.-=#"
 * from low to high. Writes at most len bytes with the NUL. */
void measure_sparkline(const int64_t *values, size_t n, bool ascii, char *out, size_t len);

#endif
