/* deliver.c — effects → connection index → output queue (deliver.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "conn_index.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"

static struct {
	const struct config *cfg;
	struct deliver_hooks hooks;
	struct client *clients;
	unsigned count;
	uint64_t next_id;
	struct conn_index *by_user, *by_device;
	struct conn_index *unauth_by_addr;   /* not logged in, not closing, by address */
} dl;

static int64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
q_lock(struct client *p)
{
	if (p->qlock)
		pthread_mutex_lock(p->qlock);
}

static void
q_unlock(struct client *p)
{
	if (p->qlock)
		pthread_mutex_unlock(p->qlock);
}

int
deliver_init(const struct config *cfg, const struct deliver_hooks *hooks)
{
	memset(&dl, 0, sizeof dl);
	dl.cfg = cfg;
	dl.hooks = *hooks;
	dl.by_user = conn_index_new();
	dl.by_device = conn_index_new();
	dl.unauth_by_addr = conn_index_new();
	if (dl.by_user == NULL || dl.by_device == NULL || dl.unauth_by_addr == NULL) {
		deliver_fini();
		return -1;
	}
	return 0;
}

void
deliver_fini(void)
{
	conn_index_free(dl.by_user);
	conn_index_free(dl.by_device);
	conn_index_free(dl.unauth_by_addr);
	dl.by_user = dl.by_device = dl.unauth_by_addr = NULL;
}

/* The address index follows p's state: listed while it is open, not
 * logged in and not closing. */
static void
unauth_sync(struct client *p, bool open)
{
	bool want = open && !p->sess.logged_in && !p->closing;
	if (want == p->unauth_indexed)
		return;
	if (want) {
		/* out of memory: the connection escapes the cap, nothing else */
		p->unauth_indexed = conn_index_add(dl.unauth_by_addr, p->addr_key, p) == 0;
	} else {
		conn_index_remove(dl.unauth_by_addr, p->addr_key, p);
		p->unauth_indexed = false;
	}
}

static void
addr_key(const char *peer, uint8_t key[LSN_ID_BYTES])
{
	crypto_generichash(key, LSN_ID_BYTES, (const unsigned char *)peer, strlen(peer), NULL, 0);
}

void
deliver_client_add(struct client *p, size_t headroom)
{
	p->sess.conn_id = ++dl.next_id;
	outq_init(&p->q, headroom, dl.cfg->outq_max_bytes, dl.cfg->outq_max_frames);
	p->q.soft_bytes = dl.cfg->outq_soft_bytes;
	p->prev = NULL;
	p->next = dl.clients;
	if (dl.clients)
		dl.clients->prev = p;
	dl.clients = p;
	dl.count++;
	addr_key(p->sess.peer, p->addr_key);
	unauth_sync(p, true);
	metrics_conn_open();
}

void
deliver_client_remove(struct client *p)
{
	p->sess.logged_in = false;
	deliver_reindex(p);
	unauth_sync(p, false);
	if (p->prev)
		p->prev->next = p->next;
	else
		dl.clients = p->next;
	if (p->next)
		p->next->prev = p->prev;
	dl.count--;
	metrics_conn_close();
	q_lock(p);
	outq_clear(&p->q);
	q_unlock(p);
	sodium_memzero(&p->sess, sizeof p->sess);
}

unsigned
deliver_client_count(void)
{
	return dl.count;
}

/* ---- connection caps (docs/OPERATIONS.md, "Bounds") ----------------------- */

unsigned
deliver_user_conn_count(const uint8_t user[LSN_ID_BYTES])
{
	size_t n = 0;
	conn_index_get(dl.by_user, user, &n);
	return (unsigned)n;
}

unsigned
deliver_unauth_count(const char *peer)
{
	uint8_t key[LSN_ID_BYTES];
	addr_key(peer, key);
	size_t n = 0;
	void *const *list = conn_index_get(dl.unauth_by_addr, key, &n);
	unsigned same = 0;
	for (size_t i = 0; i < n; i++)     /* a hash collision is not the same address */
		if (strcmp(((const struct client *)list[i])->sess.peer, peer) == 0)
			same++;
	return same;
}

void
deliver_close(struct client *p, int code, const char *reason, bool drop_queue)
{
	if (p->closing)
		return;
	p->closing = true;
	unauth_sync(p, true);
	p->close_code = code;
	snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
	if (drop_queue) {
		q_lock(p);
		outq_clear(&p->q);
		q_unlock(p);
	}
	/* a peer that never reads must not hold the socket forever */
	dl.hooks.closing(p);
	dl.hooks.want_write(p);
}

static void
slow_consumer(struct client *p, bool soft, size_t bytes, unsigned frames)
{
	metrics_outq_drop(soft);
	if (soft) {
		log_warn("conn %llu: output queue above %zu bytes for %u s (%zu bytes, %u frames); "
			 "disconnecting", (unsigned long long)p->sess.conn_id, dl.cfg->outq_soft_bytes,
			 dl.cfg->outq_soft_grace_s, bytes, frames);
		deliver_close(p, DELIVER_CLOSE_SLOW_CONSUMER,
			      "slow consumer: output queue stayed above its soft limit, reconnect and resync",
			      true);
	} else {
		log_warn("conn %llu: output queue full (%zu bytes, %u frames); disconnecting",
			 (unsigned long long)p->sess.conn_id, bytes, frames);
		deliver_close(p, DELIVER_CLOSE_SLOW_CONSUMER,
			      "slow consumer: output queue full, reconnect and resync", true);
	}
}

/* The soft limit: a queue may pass outq_soft_bytes for a burst, but one that
 * stays above it for outq_soft_grace_s belongs to a peer that is not reading
 * fast enough; it is dropped before it reaches the hard limit. Checked when
 * a frame is queued, when one is written and by the periodic sweep. */
static void
soft_limit_check(struct client *p, int64_t now)
{
	if (p->closing)
		return;
	q_lock(p);
	size_t bytes = p->q.bytes;
	unsigned frames = p->q.frames;
	bool went_below = p->q.went_below;   /* a write brought it down since the last look */
	p->q.went_below = false;
	q_unlock(p);
	if (went_below)
		p->soft_since_us = 0;
	if (bytes <= dl.cfg->outq_soft_bytes) {
		p->soft_since_us = 0;
		return;
	}
	if (p->soft_since_us == 0)
		p->soft_since_us = now;
	else if (now - p->soft_since_us >= (int64_t)dl.cfg->outq_soft_grace_s * 1000000)
		slow_consumer(p, true, bytes, frames);
}

static void
send_frame(struct client *p, const char *frame, size_t len, bool binary)
{
	if (p->closing || frame == NULL)
		return;
	q_lock(p);
	bool ok = binary ? outq_push_binary(&p->q, frame, len) : outq_push(&p->q, frame, len);
	size_t bytes = p->q.bytes;
	unsigned frames = p->q.frames;
	q_unlock(p);
	if (!ok) {
		slow_consumer(p, false, bytes, frames);
		return;
	}
	if (bytes > dl.cfg->outq_soft_bytes)
		soft_limit_check(p, mono_us());
	/* No lws_rx_flow_control() to slow a peer that does not read: in lws
	 * 4.1 it can spin the service loop at 100% CPU on buffered rx
	 * (warmcat/libwebsockets#2360). The queue limits above are the
	 * policy instead: such a peer is dropped with 4008 and resyncs. */
	if (!p->closing)
		dl.hooks.want_write(p);
}

void
deliver_send(struct client *p, const char *frame, size_t len)
{
	send_frame(p, frame, len, false);
}

void
deliver_send_binary(struct client *p, const void *frame, size_t len)
{
	send_frame(p, frame, len, true);
}

/* One service thread only: with several, soft_limit_check sees the
 * queue's went_below instead (set when a write brings it down). */
void
deliver_written(struct client *p)
{
	if (p->soft_since_us && p->q.bytes <= dl.cfg->outq_soft_bytes)
		p->soft_since_us = 0;
}

void
deliver_reindex(struct client *p)
{
	unauth_sync(p, true);
	if (p->indexed == p->sess.logged_in)
		return;
	if (p->sess.logged_in) {
		/* out of memory: the connection just misses live events; it resyncs */
		if (conn_index_add(dl.by_user, p->sess.user, p) == 0 &&
		    conn_index_add(dl.by_device, p->sess.device, p) != 0)
			conn_index_remove(dl.by_user, p->sess.user, p);
		else
			p->indexed = true;
	} else {
		conn_index_remove(dl.by_user, p->sess.user, p);
		conn_index_remove(dl.by_device, p->sess.device, p);
		p->indexed = false;
	}
}

static void
apply_effect(const struct effect *e)
{
	size_t n = 0;
	const struct conn_index *ix = e->kind == EFFECT_EVENT_USER ? dl.by_user : dl.by_device;
	void *const *list = conn_index_get(ix, e->target, &n);
	if (e->kind != EFFECT_CLOSE_DEVICE) {
		for (size_t i = 0; i < n; i++)
			deliver_send(list[i], e->frame, e->frame_len);
		return;
	}
	/* closing changes the index: take the connections off it one by one */
	while ((list = conn_index_get(ix, e->target, &n)) != NULL && n > 0) {
		struct client *p = list[0];
		p->sess.logged_in = false;
		deliver_reindex(p);
		deliver_close(p, e->close_code, e->reason, false);
	}
}

void
deliver_effects(struct effects *fx)
{
	for (struct effect *e = fx->head; e; e = e->next)
		apply_effect(e);
}

void
deliver_result(struct client *p, struct dispatch_result *res)
{
	send_frame(p, res->reply, res->reply_len, res->reply_binary);
	deliver_effects(&res->effects);
	if (res->close_after)
		deliver_close(p, res->close_code, res->close_reason, false);
}

bool
deliver_close_device(const uint8_t device[LSN_ID_BYTES], int code, const char *reason)
{
	size_t n = 0;
	if (conn_index_get(dl.by_device, device, &n) == NULL || n == 0)
		return false;
	struct effect e = {.kind = EFFECT_CLOSE_DEVICE, .close_code = code};
	memcpy(e.target, device, LSN_ID_BYTES);
	snprintf(e.reason, sizeof e.reason, "%s", reason);
	apply_effect(&e);
	return true;
}

bool
deliver_mute_device(const uint8_t device[LSN_ID_BYTES], int code, const char *reason)
{
	size_t n = 0;
	void *const *list;
	bool any = false;
	/* muting changes the index: take the connections off it one by one */
	while ((list = conn_index_get(dl.by_device, device, &n)) != NULL && n > 0) {
		struct client *p = list[0];
		p->sess.logged_in = false;
		deliver_reindex(p);
		if (!p->closing) {
			p->close_at_sweep = true;
			p->close_code = code;
			snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
		}
		any = true;
	}
	return any;
}

void
deliver_sweep(void)
{
	int64_t now = mono_us();
	for (struct client *p = dl.clients; p; p = p->next) {
		if (p->close_at_sweep) {
			char reason[sizeof p->close_reason]; /* deliver_close writes p's own */
			memcpy(reason, p->close_reason, sizeof reason);
			p->close_at_sweep = false;
			deliver_close(p, p->close_code, reason, false);
		}
		if (p->soft_since_us)
			soft_limit_check(p, now);
	}
}

void
deliver_close_all(int code, const char *reason)
{
	for (struct client *p = dl.clients; p; p = p->next)
		deliver_close(p, code, reason, false);
}
