/* sync.h — the to-device queue in (CRYPTO.md §3, §5): fetch key-share
 * envelopes, open each (sender device chain verified, with the AK it names
 * among the last 3 this device keeps, share_id not seen before; one sealed to
 * an erased AK is reported as such), act on it — keep a room key (lowest
 * index wins, consistency checked), answer a key request from a current
 * verified member, note a withheld key — commit, then acknowledge so the
 * server deletes them. */
#ifndef LIAISON_SYNC_H
#define LIAISON_SYNC_H

#include <stddef.h>

#include <jansson.h>

#include "e2e.h"
#include "warn.h"

struct sync_stats {
	size_t entries;      /* envelopes processed */
	size_t keys;         /* room keys kept (new or at a lower index) */
	size_t answered;     /* key requests answered */
	size_t refused;      /* key requests refused */
	size_t withheld;     /* withheld notices */
	size_t rejected;     /* envelopes that failed a check or were replays */
	size_t warned;       /* of those, failed a check: one warning for them all */
	char first_warning[LSN_WARN_LEN];  /* the first: "sender: why" */
};

/* Fetch everything queued for this device, process, commit, acknowledge. */
enum lsn_err sync_to_device(struct e2e *e, struct sync_stats *ss, struct lsn_status *st);

/* One pushed {"ev":"to_device",...} event: process, commit, acknowledge. */
enum lsn_err sync_to_device_event(struct e2e *e, json_t *ev, struct sync_stats *ss,
				  struct lsn_status *st);

#endif
