/* store_cols.c — the shared row layouts of store_cols.h. */
#include "store_cols.h"

const struct store_col store_id_cols[1] = {COL_BLOB(0, struct store_id_row, id)};

const struct store_col store_notice_cols[STORE_NOTICE_NCOLS] = {
	COL_BLOB(0, struct store_notice, case_id),
	COL_I64(1, struct store_notice, message_seq),
	COL_BLOB(2, struct store_notice, posted_by),
	COL_I64(3, struct store_notice, posted_at),
	COL_I64(4, struct store_notice, escalated_at),
};
