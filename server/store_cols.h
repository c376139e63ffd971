/* store_cols.h — row layouts (column tables of the row helper, store_row.h)
 * that more than one store file reads, each defined once in store_cols.c so
 * that a field added to a struct is read the same way everywhere. Only
 * store_*.c include it. */
#ifndef LSN_STORE_COLS_H
#define LSN_STORE_COLS_H

#include <stdint.h>

#include "ident.h"
#include "store.h"
#include "store_row.h"

/* One id column. */
struct store_id_row {
	uint8_t id[LSN_ID_BYTES];
};
extern const struct store_col store_id_cols[1];

/* A discharge notice (struct store_notice, store.h). */
#define STORE_NOTICE_NCOLS 5
extern const struct store_col store_notice_cols[STORE_NOTICE_NCOLS];

#endif
