/* effects.h — what a handled request asks for besides its reply: push
 * events, close connections. Handlers (through fanout.c) append them;
 * commit.c holds them until the batch commits; deliver.c applies them. */
#ifndef LSN_EFFECTS_H
#define LSN_EFFECTS_H

#include <stddef.h>
#include <stdint.h>

#include "ident.h"

enum effect_kind {
	EFFECT_CLOSE_DEVICE,   /* close every connection logged in as device */
	EFFECT_EVENT_DEVICE,   /* push frame to every connection of device */
	EFFECT_EVENT_USER,     /* push frame to every connection of user */
};

struct effect {
	struct effect *next;
	enum effect_kind kind;
	uint8_t target[LSN_ID_BYTES];
	int close_code;
	char reason[96];
	char *frame;           /* events: malloc'd JSON text */
	size_t frame_len;
};

struct effects {
	struct effect *head;
	struct effect **tail;
};

void effects_init(struct effects *fx);
void effects_free(struct effects *fx);
/* Append src's effects to dst, leaving src empty. */
void effects_move(struct effects *dst, struct effects *src);
int effects_close_device(struct effects *fx, const uint8_t device[LSN_ID_BYTES], int code,
			 const char *reason);
/* Takes ownership of frame. */
int effects_event(struct effects *fx, enum effect_kind kind, const uint8_t target[LSN_ID_BYTES],
		  char *frame, size_t len);

#endif
