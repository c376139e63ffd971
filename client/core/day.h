/* day.h — calendar days as the care pathways count them: UTC days,
 * "YYYY-MM-DD" on the wire (docs/PROTOCOL.md, "Care pathways"), J0 at
 * 00:00 UTC, a step due at the last millisecond of its day. */
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

/* Today (UTC) in days since 1970-01-01, by this computer's clock. */
int64_t day_today(void);

/* The pathway day of a deadline: J+n for a step due at the end of day n
 * after j0 (both in ms as the server sends them). */
int64_t day_offset(int64_t j0_ms, int64_t due_at_ms);

#endif
