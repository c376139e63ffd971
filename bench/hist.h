/* hist.h — a log-linear latency histogram (64 sub-buckets per power of two,
 * so a reported percentile is within 1.6 % of the recorded value). Values are
 * microseconds; the maximum is kept exactly. */
#ifndef LSN_BENCH_HIST_H
#define LSN_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB     64
#define HIST_BUCKETS (HIST_SUB + 58 * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t sum;
	uint64_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t us);
/* The value at quantile q (0..1): the upper edge of its bucket, capped at max. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Add every value of from to into (merging the workers of --procs). */
void hist_merge(struct hist *into, const struct hist *from);

#endif
