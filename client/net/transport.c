/* transport.c — the conn_* calls of the core, through the transport's
 * operations (transport.h). */
#include <stddef.h>

#include "transport.h"

const struct conn_hello *
conn_hello(const struct conn *c)
{
	return c->ops->hello(c);
}

bool
conn_take_challenge(struct conn *c, uint8_t out[LSN_CHALLENGE_BYTES])
{
	return c->ops->take_challenge(c, out);
}

enum lsn_err
conn_request(struct conn *c, const char *op, json_t *body, json_t **reply,
	     struct lsn_status *st)
{
	return c->ops->request(c, op, body, reply, st);
}

bool
conn_alive(const struct conn *c)
{
	return c != NULL && c->ops->alive(c);
}

json_t *
conn_next_event(struct conn *c)
{
	return c->ops->next_event(c);
}

bool
conn_wait_event(struct conn *c, int timeout_ms)
{
	return c->ops->wait_event(c, timeout_ms);
}

void
conn_interrupt(struct conn *c)
{
	if (c)
		c->ops->interrupt(c);
}

uint64_t
conn_events_dropped(const struct conn *c)
{
	return c->ops->events_dropped(c);
}

void
conn_close(struct conn *c)
{
	if (c)
		c->ops->close(c);
}
