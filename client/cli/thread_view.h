/* thread_view.h — how a thread is shown (read, watch): a header with the
 * channel's state, each message with time, sender name and profession, its
 * text or the exact reason it cannot be read, who shared the history, and
 * receipts ("read by ..."). Text from others is printed with control
 * characters neutralised. */
#ifndef LIAISON_THREAD_VIEW_H
#define LIAISON_THREAD_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "e2e.h"
#include "mlog_verify.h"
#include "local.h"

struct receipt {
	uint8_t user[LSN_ID_BYTES];
	int64_t delivered;
	int64_t read;
};

struct receipts {
	size_t n;
	struct receipt *list;
};

/* op receipts for channel (empty when the server refuses, e.g. a former member). */
enum lsn_err receipts_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
			   struct receipts *rc, struct lsn_status *st);
void receipts_free(struct receipts *rc);
/* Apply a {"ev":"receipt","user","kind","seq"} event. */
void receipts_update(struct receipts *rc, json_t *ev);

void view_print_header(struct e2e *e, const struct chan_view *v);
void view_print_message(struct e2e *e, const struct local_msg *m, const struct receipts *rc);
json_t *view_message_json(struct e2e *e, const struct local_msg *m, const struct receipts *rc);
json_t *view_header_json(struct e2e *e, const struct chan_view *v);

#endif
