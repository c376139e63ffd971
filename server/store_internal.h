/* store_internal.h — what the SQLite store's files share: the handle and
 * its prepared-statement cache. Statements are run through the row helper
 * (store_row.h). Only store_*.c include it; nothing outside the store
 * speaks SQL. */
#ifndef LSN_STORE_INTERNAL_H
#define LSN_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

/* Statement slots: store_sqlite.c 0..63, store_thread.c 64..127,
 * store_queue.c 128..191, store_case.c 192..255, store_report.c 256..319,
 * store_audit.c 320..351, unit tests of store_row.c 352..359, store_bounds.c
 * 360..399, store_mail.c 400..431. */
#define STORE_STMT_SLOTS 432
#define STORE_SLOT_TEST  352

struct store_ckpt;

struct store {
	sqlite3 *db;
	struct store_ckpt *ckpt;      /* the checkpoint thread, if started */
	sqlite3_stmt *stmt[STORE_STMT_SLOTS];
	bool in_batch;
	bool in_req;
};

#endif
