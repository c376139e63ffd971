/* fanout.c — one encoded event, one deferred push per target user. */
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "wire.h"

struct fan {
	struct handler_ctx *hc;
	const char *frame;
	size_t len;
	const uint8_t *extra;
	bool extra_done;
	int failed;
};

static void
push_user(struct fan *f, const uint8_t user[LSN_ID_BYTES])
{
	char *copy = malloc(f->len + 1);
	if (copy == NULL) {
		f->failed = 1;
		return;
	}
	memcpy(copy, f->frame, f->len + 1);
	if (effects_event(f->hc->effects, EFFECT_EVENT_USER, user, copy, f->len) != 0)
		f->failed = 1;
	if (f->extra && memcmp(user, f->extra, LSN_ID_BYTES) == 0)
		f->extra_done = true;
}

static void
member_cb(const struct store_member *m, void *arg)
{
	push_user(arg, m->user);
}

static void
id_cb(const uint8_t id[LSN_ID_BYTES], void *arg)
{
	push_user(arg, id);
}

static enum lsn_err
encode(struct handler_ctx *hc, const char *ev, json_t *body, struct fan *f, char **frame)
{
	memset(f, 0, sizeof *f);
	f->hc = hc;
	*frame = body ? wire_encode_event(ev, body, &f->len) : NULL;
	if (*frame == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	f->frame = *frame;
	return LSN_OK;
}

enum lsn_err
fanout_channel(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES], const char *ev,
	       json_t *body, const uint8_t *extra_user)
{
	struct fan f;
	char *frame;
	enum lsn_err err = encode(hc, ev, body, &f, &frame);
	if (err != LSN_OK)
		return err;
	f.extra = extra_user;
	err = store_member_list(hc->srv->store, channel, true, member_cb, &f);
	if (err == LSN_OK && extra_user && !f.extra_done)
		push_user(&f, extra_user);
	free(frame);
	if (err != LSN_OK || f.failed)
		return lsn_fail(&hc->st, err != LSN_OK ? err : LSN_ERR_INTERNAL, NULL);
	return LSN_OK;
}

enum lsn_err
fanout_comembers(struct handler_ctx *hc, const uint8_t user[LSN_ID_BYTES], const char *ev,
		 json_t *body)
{
	struct fan f;
	char *frame;
	enum lsn_err err = encode(hc, ev, body, &f, &frame);
	if (err != LSN_OK)
		return err;
	f.extra = user;
	err = store_comembers(hc->srv->store, user, id_cb, &f);
	if (err == LSN_OK && !f.extra_done)
		push_user(&f, user);
	free(frame);
	if (err != LSN_OK || f.failed)
		return lsn_fail(&hc->st, err != LSN_OK ? err : LSN_ERR_INTERNAL, NULL);
	return LSN_OK;
}

enum lsn_err
fanout_device(struct handler_ctx *hc, const uint8_t device[LSN_ID_BYTES], const char *ev,
	      json_t *body)
{
	size_t len = 0;
	char *frame = body ? wire_encode_event(ev, body, &len) : NULL;
	if (frame == NULL || effects_event(hc->effects, EFFECT_EVENT_DEVICE, device, frame, len) != 0)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	return LSN_OK;
}
