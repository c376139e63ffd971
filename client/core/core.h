/* core.h — the top of the client core: what a command that works on
 * end-to-end threads opens first and closes last. Below it, bottom up:
 * session (profile, connection, login) < e2e (the context) < peers,
 * mlog_verify (the channel view) < keyshare_send, key_backup < sync <
 * thread_* < channel_ops, attach_io, concil_thread, notice. Nothing below
 * includes this file, so the layers import each other one way only. The
 * core never prints: errors come back in a struct lsn_status, what it
 * noticed and went past in e->warnings, for the caller to show. */
#ifndef LIAISON_CORE_H
#define LIAISON_CORE_H

#include "e2e.h"

/* e2e_open, the peer cache, the agreement key rotated when due, then the
 * to-device queue taken (keys and key requests that arrived meanwhile,
 * whatever the command): a failure there is a warning, not an error.
 * Offline (o->offline_ok and the server unreachable: e->s.offline), only
 * the profile and the local store are open. */
enum lsn_err core_open(const struct login_config *o, struct e2e *e, struct lsn_status *st);
/* Free the peer cache, close the session. */
void core_close(struct e2e *e);

#endif
