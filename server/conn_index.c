/* conn_index.c — a chained hash table from 16-byte ids to small arrays of
 * connection pointers. Ids are random, so their first bytes hash well. */
#include <stdlib.h>
#include <string.h>

#include "conn_index.h"

struct entry {
	struct entry *next;
	uint8_t id[LSN_ID_BYTES];
	void **conns;
	size_t n, cap;
};

struct conn_index {
	struct entry **buckets;
	size_t nbuckets;        /* a power of two */
	size_t entries;
};

static size_t
slot(const struct conn_index *ix, const uint8_t id[LSN_ID_BYTES])
{
	uint64_t h;
	memcpy(&h, id, sizeof h);
	return (size_t)(h * 0x9e3779b97f4a7c15ULL >> 32) & (ix->nbuckets - 1);
}

struct conn_index *
conn_index_new(void)
{
	struct conn_index *ix = calloc(1, sizeof *ix);
	if (ix == NULL)
		return NULL;
	ix->nbuckets = 1024;
	ix->buckets = calloc(ix->nbuckets, sizeof *ix->buckets);
	if (ix->buckets == NULL) {
		free(ix);
		return NULL;
	}
	return ix;
}

void
conn_index_free(struct conn_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nbuckets; i++) {
		struct entry *e = ix->buckets[i];
		while (e) {
			struct entry *next = e->next;
			free(e->conns);
			free(e);
			e = next;
		}
	}
	free(ix->buckets);
	free(ix);
}

static struct entry *
find(const struct conn_index *ix, const uint8_t id[LSN_ID_BYTES])
{
	for (struct entry *e = ix->buckets[slot(ix, id)]; e; e = e->next)
		if (memcmp(e->id, id, LSN_ID_BYTES) == 0)
			return e;
	return NULL;
}

/* Double the buckets when chains grow long; a failure just keeps them. */
static void
grow(struct conn_index *ix)
{
	size_t n = ix->nbuckets * 2;
	struct entry **b = calloc(n, sizeof *b);
	if (b == NULL)
		return;
	struct entry **old = ix->buckets;
	size_t oldn = ix->nbuckets;
	ix->buckets = b;
	ix->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct entry *e = old[i];
		while (e) {
			struct entry *next = e->next;
			size_t s = slot(ix, e->id);
			e->next = b[s];
			b[s] = e;
			e = next;
		}
	}
	free(old);
}

int
conn_index_add(struct conn_index *ix, const uint8_t id[LSN_ID_BYTES], void *conn)
{
	struct entry *e = find(ix, id);
	if (e == NULL) {
		if (ix->entries >= ix->nbuckets)
			grow(ix);
		e = calloc(1, sizeof *e);
		if (e == NULL)
			return -1;
		memcpy(e->id, id, LSN_ID_BYTES);
		size_t s = slot(ix, id);
		e->next = ix->buckets[s];
		ix->buckets[s] = e;
		ix->entries++;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 2;
		void **p = realloc(e->conns, cap * sizeof *p);
		if (p == NULL)
			return -1;
		e->conns = p;
		e->cap = cap;
	}
	e->conns[e->n++] = conn;
	return 0;
}

void
conn_index_remove(struct conn_index *ix, const uint8_t id[LSN_ID_BYTES], void *conn)
{
	size_t s = slot(ix, id);
	for (struct entry **pe = &ix->buckets[s]; *pe; pe = &(*pe)->next) {
		struct entry *e = *pe;
		if (memcmp(e->id, id, LSN_ID_BYTES) != 0)
			continue;
		for (size_t i = 0; i < e->n; i++)
			if (e->conns[i] == conn) {
				e->conns[i] = e->conns[--e->n];
				break;
			}
		if (e->n == 0) {
			*pe = e->next;
			free(e->conns);
			free(e);
			ix->entries--;
		}
		return;
	}
}

void *const *
conn_index_get(const struct conn_index *ix, const uint8_t id[LSN_ID_BYTES], size_t *n)
{
	struct entry *e = find(ix, id);
	*n = e ? e->n : 0;
	return e ? e->conns : NULL;
}
