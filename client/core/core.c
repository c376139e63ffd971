/* core.c — open and close the end-to-end context whole (core.h). */
#include <string.h>

#include "ak_rotate.h"
#include "core.h"
#include "peers.h"
#include "sync.h"

enum lsn_err
core_open(const struct login_config *o, struct e2e *e, struct lsn_status *st)
{
	enum lsn_err err = e2e_open(o, e, st);
	if (err != LSN_OK)
		return err;
	e->peers = peers_new();
	if (e->peers == NULL) {
		e2e_close(e);
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	}
	if (e->s.offline) /* the local store only: nothing to rotate or fetch */
		return LSN_OK;
	/* a new agreement key every 7 days (CRYPTO.md §1); shares already queued
	 * for the previous one still open below */
	ak_rotate_if_due(e->p, e->s.link, &e->warnings);
	/* keys and key requests that arrived meanwhile, whatever the command */
	struct lsn_status sst = {0};
	struct sync_stats ss;
	if (sync_to_device(e, &ss, &sst) != LSN_OK)
		lsn_warn(&e->warnings, "could not process incoming keys (%s); continuing", sst.msg);
	return LSN_OK;
}

void
core_close(struct e2e *e)
{
	peers_free(e->peers);
	e->peers = NULL;
	e2e_close(e);
}
