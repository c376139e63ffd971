/* e2e.c — the shared context of the end-to-end commands: open/close,
 * idempotent writes with one reconnection, USER/CHANNEL arguments, names. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "e2e.h"
#include "local.h"
#include "wire.h"

const char *
e2e_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

enum lsn_err
e2e_open(const struct login_config *o, struct e2e *e, struct lsn_status *st)
{
	memset(e, 0, sizeof *e);
	e->opts = *o;
	enum lsn_err err = login_open(o, &e->s, st);
	if (err != LSN_OK)
		return err;
	e->p = e->s.profile;
	e->strict = local_setting(e->p, "strict", 0) != 0;
	lsn_id_to_hex(e->p->user, e->me_hex);
	e2e_remember_user(e, json_object_get(e->s.login, "user"));
	return LSN_OK;
}

void
e2e_close(struct e2e *e)
{
	login_end(&e->s);
	memset(e, 0, sizeof *e);
}

void
e2e_idem(char out[33])
{
	uint8_t raw[16];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, 33, raw, sizeof raw);
}

enum lsn_err
e2e_reconnect(struct e2e *e, struct lsn_status *st)
{
	struct link_ca ca;
	link_close(e->s.link);
	e->s.link = NULL;
	enum lsn_err err = login_choose_ca(e->opts.ca_file, e->p->ca_pem, &ca, st);
	if (err == LSN_OK)
		err = link_open(e->p->server_url, &ca, e->opts.timeout_ms, &e->s.link, st);
	if (err == LSN_OK)
		err = login_sign(e->p, e->s.link, NULL, st);
	return err;
}

/* The request failed locally (not a server error) and the link is gone. */
static bool
link_lost(struct e2e *e, enum lsn_err err)
{
	return err == LSN_ERR_INTERNAL && !link_alive(e->s.link);
}

bool
e2e_retry(struct e2e *e, enum lsn_err err, const struct lsn_status *st, struct e2e_retry *r)
{
	if (err == LSN_ERR_RATE_LIMITED) {
		uint32_t ms = st ? st->retry_after_ms : 0;
		if (ms == 0 || ms > E2E_RATE_WAIT_MAX_MS - r->waited_ms)
			return false;
		r->waited_ms += ms;
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);          /* a signal cuts it short: the retry is early */
		return true;
	}
	if (r->reconnected || !link_lost(e, err))
		return false;
	r->reconnected = true;
	struct lsn_status st2 = {0};
	return e2e_reconnect(e, &st2) == LSN_OK;
}

static enum lsn_err
request_retry(struct e2e *e, const char *op, json_t *body, json_t **reply,
	      struct lsn_status *st)
{
	struct e2e_retry r = {0};
	for (;;) {
		json_t *again = body ? json_deep_copy(body) : NULL;
		bool copied = body == NULL || again != NULL;
		enum lsn_err err = link_request(e->s.link, op, body, reply, st);  /* steals body */
		body = again;
		if (err == LSN_OK || !copied || !e2e_retry(e, err, st, &r)) {
			json_decref(body);
			return err;
		}
	}
}

enum lsn_err
e2e_write(struct e2e *e, const char *op, json_t *body, json_t **reply, struct lsn_status *st)
{
	char idem[33];
	e2e_idem(idem);
	if (body == NULL || json_object_set_new(body, "idem", json_string(idem)) != 0) {
		json_decref(body);
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	}
	return request_retry(e, op, body, reply, st);
}

enum lsn_err
e2e_read(struct e2e *e, const char *op, json_t *body, json_t **reply, struct lsn_status *st)
{
	return request_retry(e, op, body, reply, st);
}

/* ---- names ---------------------------------------------------------------- */

void
e2e_remember_user(struct e2e *e, json_t *user)
{
	uint8_t id[LSN_ID_BYTES];
	const char *hex = e2e_str(user, "id");
	struct lsn_status st;
	if (hex && lsn_id_from_hex(hex, id))
		local_person_put(e->p, id, e2e_str(user, "name"),
				 e2e_str(user, "profession"), e2e_str(user, "rpps"), &st);
}

void
e2e_person(struct e2e *e, const uint8_t user[LSN_ID_BYTES], char *out, size_t len)
{
	char name[160], prof[64], hex[LSN_ID_HEX + 1];
	if (local_person_get(e->p, user, name, sizeof name, prof, sizeof prof) && name[0]) {
		const struct lsn_profession *pr = lsn_profession_find(prof);
		if (pr || prof[0])
			snprintf(out, len, "%s (%s)", name, pr ? pr->label_fr : prof);
		else
			snprintf(out, len, "%s", name);
		return;
	}
	lsn_id_to_hex(user, hex);
	snprintf(out, len, "user %.8s", hex);
}

/* ---- USER ------------------------------------------------------------------- */

/* The one user of the directory result that matches text exactly (name or
 * RPPS), if any. */
static json_t *
exact_match(json_t *users, const char *text)
{
	json_t *found = NULL, *u;
	size_t i, n = 0;
	json_array_foreach(users, i, u) {
		const char *name = e2e_str(u, "name"), *rpps = e2e_str(u, "rpps");
		if ((name && strcasecmp(name, text) == 0) || (rpps && strcmp(rpps, text) == 0)) {
			found = u;
			n++;
		}
	}
	return n == 1 ? found : NULL;
}

enum lsn_err
e2e_find_user(struct e2e *e, const char *text, uint8_t user[LSN_ID_BYTES],
	      struct e2e_pick *pick, struct lsn_status *st)
{
	memset(pick, 0, sizeof *pick);
	if (lsn_id_from_hex(text, user))
		return LSN_OK;
	json_t *reply = NULL;
	json_t *body = json_pack("{s:s, s:i}", "q", text, "limit", 20);
	enum lsn_err err = e2e_read(e, "directory_search", body, &reply, st);
	if (err != LSN_OK)
		return err;
	json_t *users = json_object_get(reply, "users");
	json_t *match = json_array_size(users) == 1 ? json_array_get(users, 0)
						    : exact_match(users, text);
	if (match) {
		e2e_remember_user(e, match);
		if (!lsn_id_from_hex(e2e_str(match, "id"), user))
			err = lsn_fail(st, LSN_ERR_BAD_JSON,
				       "the directory returned a malformed user id; retry");
	} else if (json_array_size(users) == 0) {
		pick->usage = true;
		err = lsn_fail(st, LSN_ERR_NOT_FOUND, "no one in the directory matches \"%s\"; "
			       "search with liaison directory search", text);
	} else {
		pick->usage = true;
		pick->candidates = json_incref(users);
		err = lsn_fail(st, LSN_ERR_BAD_REQUEST, "\"%s\" matches %zu people; give the "
			       "user id or a more precise name or RPPS:", text,
			       json_array_size(users));
	}
	json_decref(reply);
	return err;
}

/* ---- CHANNEL ------------------------------------------------------------------ */

static bool
hex_prefix(const char *text)
{
	size_t len = strlen(text);
	if (len < 4 || len > LSN_ID_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}

enum lsn_err
e2e_find_channel(struct e2e *e, const char *text, uint8_t channel[LSN_ID_BYTES],
		 struct e2e_pick *pick, struct lsn_status *st)
{
	memset(pick, 0, sizeof *pick);
	if (lsn_id_from_hex(text, channel))
		return LSN_OK;
	if (!hex_prefix(text)) {
		pick->usage = true;
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "\"%s\" is not a channel id (32 hex "
				"characters, or the first 4 or more); see liaison channel list",
				text);
	}
	json_t *reply = NULL;
	enum lsn_err err = e2e_read(e, "channels", NULL, &reply, st);
	if (err != LSN_OK)
		return err;
	size_t i, n = 0;
	json_t *c;
	const char *found = NULL;
	json_array_foreach(json_object_get(reply, "channels"), i, c) {
		const char *id = e2e_str(c, "channel");
		if (id && strncmp(id, text, strlen(text)) == 0) {
			found = id;
			n++;
		}
	}
	if (n == 1 && lsn_id_from_hex(found, channel)) {
		err = LSN_OK;
	} else if (n == 0) {
		pick->usage = true;
		err = lsn_fail(st, LSN_ERR_NOT_FOUND, "none of your channels starts with \"%s\"; "
			       "see liaison channel list", text);
	} else {
		pick->usage = true;
		err = lsn_fail(st, LSN_ERR_BAD_REQUEST, "\"%s\" starts %zu of your channels; give "
			       "more characters (see liaison channel list)", text, n);
	}
	json_decref(reply);
	return err;
}
