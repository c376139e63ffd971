/* outq.c — bounded FIFO of outgoing frames. */
#include <stdlib.h>
#include <string.h>

#include "outq.h"

void
outq_init(struct outq *q, size_t headroom, size_t max_bytes, unsigned max_frames)
{
	memset(q, 0, sizeof *q);
	q->headroom = headroom;
	q->max_bytes = max_bytes;
	q->max_frames = max_frames;
}

static bool
push(struct outq *q, const void *payload, size_t len, bool binary)
{
	if (q->frames >= q->max_frames || len > q->max_bytes - q->bytes ||
	    q->bytes > q->max_bytes)
		return false;
	struct outq_frame *f = malloc(sizeof *f + q->headroom + len);
	if (f == NULL)
		return false;
	f->next = NULL;
	f->len = len;
	f->binary = binary;
	memcpy(f->data + q->headroom, payload, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->bytes += len;
	q->frames++;
	return true;
}

bool
outq_push(struct outq *q, const char *payload, size_t len)
{
	return push(q, payload, len, false);
}

bool
outq_push_binary(struct outq *q, const void *payload, size_t len)
{
	return push(q, payload, len, true);
}

struct outq_frame *
outq_peek(struct outq *q)
{
	return q->head;
}

struct outq_frame *
outq_take(struct outq *q)
{
	struct outq_frame *f = q->head;
	if (f == NULL)
		return NULL;
	q->head = f->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= f->len;
	q->frames--;
	if (q->bytes <= q->soft_bytes)
		q->went_below = true;
	f->next = NULL;
	return f;
}

void
outq_pop(struct outq *q)
{
	free(outq_take(q));
}

void
outq_clear(struct outq *q)
{
	while (q->head)
		outq_pop(q);
}
