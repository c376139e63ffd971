/* transport.c — the conn_* calls of the core, through the transport's
 * operations (transport.h). */
#include <stddef.h>

#include "transport.h"

const struct link_hello *
link_hello(const struct link *c)
{
	return c->ops->hello(c);
}

bool
link_take_challenge(struct link *c, uint8_t out[LSN_CHALLENGE_BYTES])
{
	return c->ops->take_challenge(c, out);
}

enum lsn_err
link_request(struct link *c, const char *op, json_t *body, json_t **reply,
	     struct lsn_status *st)
{
	return c->ops->request(c, op, body, reply, st);
}

bool
link_alive(const struct link *c)
{
	return c != NULL && c->ops->alive(c);
}

json_t *
link_next_event(struct link *c)
{
	return c->ops->next_event(c);
}

bool
link_wait_event(struct link *c, int timeout_ms)
{
	return c->ops->wait_event(c, timeout_ms);
}

void
link_interrupt(struct link *c)
{
	if (c)
		c->ops->interrupt(c);
}

uint64_t
link_events_dropped(const struct link *c)
{
	return c->ops->events_dropped(c);
}

void
link_close(struct link *c)
{
	if (c)
		c->ops->close(c);
}
