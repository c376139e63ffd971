/* outq.h — a connection's bounded output queue of frames, filled by
 * deliver.c and written out by net.c. Each frame keeps `headroom` spare
 * bytes before its payload (libwebsockets needs LWS_PRE) and its type:
 * JSON text, or binary. Frames leave in the order they were pushed.
 * Not locked: with several service threads the owner (deliver.c, net.c)
 * holds the connection's network-thread lock around every call. */
#ifndef LSN_OUTQ_H
#define LSN_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

struct outq_frame {
	struct outq_frame *next;
	size_t len;                  /* payload bytes */
	bool binary;                 /* a binary WebSocket frame (PROTOCOL.md "Binary chunk
				      * frames"); never coalesced into a JSON batch */
	unsigned char data[];        /* headroom, then payload */
};

struct outq {
	struct outq_frame *head;
	struct outq_frame *tail;
	size_t bytes;                /* payload bytes queued */
	unsigned frames;
	size_t headroom;
	size_t max_bytes;
	unsigned max_frames;
	size_t soft_bytes;           /* set by the owner (0: none): a frame taken out that */
	bool went_below;             /* leaves bytes at or under it sets went_below */
};

void outq_init(struct outq *q, size_t headroom, size_t max_bytes, unsigned max_frames);
/* Copy payload in. false (and nothing queued) when that would pass a limit
 * or memory is short: the caller treats the peer as a slow consumer. */
bool outq_push(struct outq *q, const char *payload, size_t len);
/* The same for a binary frame. */
bool outq_push_binary(struct outq *q, const void *payload, size_t len);
struct outq_frame *outq_peek(struct outq *q);
void outq_pop(struct outq *q);
/* Unlink the head frame and hand it over (the caller frees it with free());
 * NULL when empty. Its payload is at f->data + headroom. */
struct outq_frame *outq_take(struct outq *q);
void outq_clear(struct outq *q);
static inline unsigned char *outq_payload(const struct outq *q, struct outq_frame *f)
{
	return f->data + q->headroom;
}

#endif
