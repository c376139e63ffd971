/* fanout.h — turn one event into deferred pushes to every online device of
 * the users concerned (held by commit.c, applied by deliver.c after commit). */
#ifndef LSN_FANOUT_H
#define LSN_FANOUT_H

#include <jansson.h>

#include "handlers.h"

/* To every current member of channel, and to extra_user (may be NULL) if
 * they are not one. body is stolen. */
enum lsn_err fanout_channel(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES],
			    const char *ev, json_t *body, const uint8_t *extra_user);
/* To every user sharing a channel with user (user included). body is stolen. */
enum lsn_err fanout_comembers(struct handler_ctx *hc, const uint8_t user[LSN_ID_BYTES],
			      const char *ev, json_t *body);
/* To the devices logged in as one device. body is stolen. */
enum lsn_err fanout_device(struct handler_ctx *hc, const uint8_t device[LSN_ID_BYTES],
			   const char *ev, json_t *body);

/* handle_channel.c: members and former members may read a channel. */
enum lsn_err handler_channel_access(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES],
				    struct store_member *me);

#endif
