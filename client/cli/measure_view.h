/* measure_view.h — a case's structured measurements as this device reads
 * them from the decrypted thread (client/core/measure.h): loading the
 * series, the trend `case show` prints (a sparkline, the last values with
 * their dates) and the table of values --json gives. */
#ifndef LIAISON_MEASURE_VIEW_H
#define LIAISON_MEASURE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "care_case.h"
#include "e2e.h"
#include "measure.h"

/* One measurement message of the case thread. */
struct measure_entry {
	int64_t seq, ts;
	uint8_t sender[LSN_ID_BYTES];
	struct measurement m;
};

struct measure_series {
	struct measure_entry *v;
	size_t n;
	struct measure_point *pts;      /* every value of every entry */
	size_t np;
};

/* The valid measurement messages of the case (naming it) in the local
 * cache, oldest first; invalid ones are skipped. Free with
 * measure_series_free, also after a failure. */
enum lsn_err measure_series_load(struct e2e *e, const struct case_ctx *cc,
				 struct measure_series *s, struct lsn_status *st);
/* Add an entry (one this device has just posted, if not cached yet). */
bool measure_series_add(struct measure_series *s, int64_t seq, const struct measurement *m);
void measure_series_free(struct measure_series *s);

/* Is the terminal's character set UTF-8 (LC_ALL, LC_CTYPE, LANG)? */
bool measure_utf8(void);

/* {"weight":[{"at":"YYYY-MM-DD","value":82.5,"seq":9}, …], …}: each
 * measure's values, oldest first. */
json_t *measure_series_json(const struct measure_series *s);
/* "Measurements:" then one line per measure: name and unit, a sparkline,
 * the last values with their dates. Nothing when there is none. */
void measure_series_print(FILE *f, const struct measure_series *s);

#endif
