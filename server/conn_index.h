/* conn_index.h — which open connections belong to a user or a device, so that
 * an event reaches its recipients without walking every connection (and,
 * keyed by a hash of the address, which connections from one address are
 * not logged in). Keys are 16-byte ids; values are opaque connection
 * pointers (deliver.c's peers). */
#ifndef LSN_CONN_INDEX_H
#define LSN_CONN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "ident.h"

struct conn_index;

struct conn_index *conn_index_new(void);
void conn_index_free(struct conn_index *ix);
/* 0, or -1 when out of memory (the connection is then not indexed). */
int conn_index_add(struct conn_index *ix, const uint8_t id[LSN_ID_BYTES], void *conn);
void conn_index_remove(struct conn_index *ix, const uint8_t id[LSN_ID_BYTES], void *conn);
/* The connections of id, *n of them; valid until the next add or remove. */
void *const *conn_index_get(const struct conn_index *ix, const uint8_t id[LSN_ID_BYTES], size_t *n);

#endif
