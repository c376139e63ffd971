/* hist.c — log-linear histogram, see hist.h. */
#include "hist.h"

static unsigned
bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
	unsigned shift = msb - 6u;
	unsigned idx = HIST_SUB + shift * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static uint64_t
bucket_upper(unsigned idx)
{
	if (idx < HIST_SUB)
		return idx;
	unsigned shift = (idx - HIST_SUB) / HIST_SUB;
	uint64_t sub = (idx - HIST_SUB) % HIST_SUB;
	return ((HIST_SUB + sub + 1) << shift) - 1;
}

void
hist_add(struct hist *h, uint64_t us)
{
	h->b[bucket_of(us)]++;
	h->count++;
	h->sum += us;
	if (us > h->max)
		h->max = us;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t v = bucket_upper(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

void
hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
}
