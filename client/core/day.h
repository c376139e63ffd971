/* day.h — calendar days as the care pathways count them: days of the
 * server's CPTS time zone, "YYYY-MM-DD" on the wire (docs/PROTOCOL.md,
 * "Care pathways"), J0 at local midnight, a step due at the last
 * millisecond of its local day. The client does not need that zone: a local
 * midnight is within 14 h of the UTC midnight of the same date. */
#ifndef LIAISON_DAY_H
#define LIAISON_DAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAY_MS (86400LL * 1000)
#define DAY_TEXT 11 /* "YYYY-MM-DD" and its NUL */

/* Strict "YYYY-MM-DD" of a real calendar date (years 1900–2999) into days
 * since 1970-01-01; false on anything else. */
bool day_parse(const char *text, int64_t *days);

/* The UTC date of a time in ms, "YYYY-MM-DD"; "-" when ms <= 0. Returns out. */
char *day_format_ms(int64_t ms, char out[DAY_TEXT]);
/* Days since 1970-01-01 as "YYYY-MM-DD". Returns out. */
char *day_format(int64_t days, char out[DAY_TEXT]);

/* Today in days since 1970-01-01: the date on this computer's clock in its
 * time zone (TZ), the user's day, which is the CPTS's for a user in it. */
int64_t day_today(void);

/* The date of a day the server sends by its start (j0) or by its last
 * millisecond (due_at), as days since 1970-01-01, and as "YYYY-MM-DD"
 * ("-" when ms <= 0). */
int64_t day_of_start(int64_t start_ms);
int64_t day_of_due(int64_t due_at_ms);
char *day_format_start(int64_t start_ms, char out[DAY_TEXT]);
char *day_format_due(int64_t due_at_ms, char out[DAY_TEXT]);

/* The pathway day of a deadline: J+n for a step due at the end of day n
 * after j0 (both in ms as the server sends them), whatever the length of
 * the days between (23 or 25 h at daylight-saving changes). */
int64_t day_offset(int64_t j0_ms, int64_t due_at_ms);

#endif
