/* clock.h — the one clock of the program. Time is UTC milliseconds since the
 * epoch. Tests may move it forward (server: only outside production mode). */
#ifndef LSN_CLOCK_H
#define LSN_CLOCK_H

#include <stdint.h>

int64_t lsn_clock_now_ms(void);
/* Shift the clock by offset_ms from now on (testing aid). */
void lsn_clock_advance_ms(int64_t offset_ms);
int64_t lsn_clock_offset_ms(void);

#endif
