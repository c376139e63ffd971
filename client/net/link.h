/* link.h — one WebSocket connection to liaisond, used synchronously: open
 * (TLS verified, subprotocol liaison.v1, wait for hello), then request/reply
 * one at a time over the libwebsockets event loop. Events the server pushes
 * meanwhile are kept in a bounded queue. Only this module calls lws. What
 * it opens is a transport (transport.h): the core uses nothing else. */
#ifndef LIAISON_LINK_H
#define LIAISON_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "sigs.h"
#include "transport.h"

#define LINK_RX_MAX     (4u << 20) /* largest server message we reassemble */
#define LINK_EVENTS_MAX 256        /* buffered events; the oldest are dropped */

/* Which certificate authority to trust. Exactly one of file or pem, or
 * neither for the system trust store. label names it in error messages. */
struct link_ca {
	const char *file;
	const char *pem;
	char label[320];
};

/* Connect to url (wss://HOST:PORT), wait for the hello event and check the
 * protocol version. timeout_ms bounds the connection and every request.
 * On failure st->msg says what went wrong and what to do next. */
enum lsn_err link_open(const char *url, const struct link_ca *ca, int timeout_ms,
		       struct link **out, struct lsn_status *st);

#endif
