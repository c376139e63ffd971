/* result.h — what one request produced, handed from dispatch to commit to
 * deliver: the reply frame, the effects (events, closes) to apply once the
 * batch is durable, and whether to close the connection after the reply.
 * A data type only: no functions, so every layer may include it without a
 * cycle (dispatch_result_free is in dispatch.c, the result's producer). */
#ifndef LSN_RESULT_H
#define LSN_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "effects.h"
#include "err.h"

struct dispatch_result {
	int64_t id;              /* request id, -1 when unknown */
	char *reply;             /* malloc'd JSON text (or a binary chunk frame, below);
				  * NULL only when out of memory */
	size_t reply_len;
	bool reply_binary;       /* reply is a binary chunk frame (PROTOCOL.md) */
	enum lsn_err err;        /* LSN_OK or the error sent */
	bool in_batch;           /* ran inside the open batch: hold until commit */
	bool close_after;        /* close this connection after the reply */
	int close_code;
	char close_reason[96];
	struct effects effects;
};

#endif
