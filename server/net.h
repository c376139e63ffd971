/* net.h — run the WebSocket/HTTPS server until SIGINT or SIGTERM. */
#ifndef LSN_NET_H
#define LSN_NET_H

#include "config.h"
#include "err.h"
#include "store.h"

/* Serve until a stop signal; then commit what is in flight, close every
 * connection with a reason and return LSN_OK. */
enum lsn_err net_run(const struct config *cfg, struct store *store, struct lsn_status *st);

#endif
