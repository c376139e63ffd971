/* effects.c — the list of deferred effects of a request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effects.h"

void
effects_init(struct effects *fx)
{
	fx->head = NULL;
	fx->tail = &fx->head;
}

void
effects_free(struct effects *fx)
{
	struct effect *e = fx->head;
	while (e) {
		struct effect *next = e->next;
		free(e->frame);
		free(e);
		e = next;
	}
	effects_init(fx);
}

void
effects_move(struct effects *dst, struct effects *src)
{
	if (src->head == NULL)
		return;
	*dst->tail = src->head;
	dst->tail = src->tail;
	effects_init(src);
}

static struct effect *
effects_add(struct effects *fx, enum effect_kind kind, const uint8_t target[LSN_ID_BYTES])
{
	struct effect *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->kind = kind;
	memcpy(e->target, target, LSN_ID_BYTES);
	*fx->tail = e;
	fx->tail = &e->next;
	return e;
}

int
effects_close_device(struct effects *fx, const uint8_t device[LSN_ID_BYTES], int code,
		     const char *reason)
{
	struct effect *e = effects_add(fx, EFFECT_CLOSE_DEVICE, device);
	if (e == NULL)
		return -1;
	e->close_code = code;
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	return 0;
}

int
effects_event(struct effects *fx, enum effect_kind kind, const uint8_t target[LSN_ID_BYTES],
	      char *frame, size_t len)
{
	struct effect *e = effects_add(fx, kind, target);
	if (e == NULL) {
		free(frame);
		return -1;
	}
	e->frame = frame;
	e->frame_len = len;
	return 0;
}
