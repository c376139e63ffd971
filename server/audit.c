/* audit.c — the audit chain: canonical encoding, BLAKE2b-256 chain hash,
 * appending in the caller's transaction, and verification of the whole
 * chain against the head recorded beside it. docs/AUDIT.md is the
 * byte-exact description; tests/unit/test_audit.c holds a fixed vector. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "handlers.h"
#include "log.h"
#include "session.h"

static const uint8_t audit_magic[8] = {'L', 'S', 'N', 'A', 'U', 'D', '0', '1'};

/* ---- encoding ----------------------------------------------------------- */

struct enc {
	uint8_t *out;
	size_t len;
	bool ok;
};

static void
put_bytes(struct enc *w, const void *p, size_t n)
{
	if (!w->ok || w->len + n > AUDIT_ENCODED_MAX) {
		w->ok = false;
		return;
	}
	memcpy(w->out + w->len, p, n);
	w->len += n;
}

static void
put_u64(struct enc *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)(v & 0xff);
	put_bytes(w, b, sizeof b);
}

/* One length byte, then the bytes; the text must be shorter than cap. */
static void
put_text(struct enc *w, const char *text, size_t cap)
{
	size_t n = strnlen(text, cap);
	if (n >= cap || n > 255) {
		w->ok = false;
		return;
	}
	uint8_t len = (uint8_t)n;
	put_bytes(w, &len, 1);
	put_bytes(w, text, n);
}

static void
put_id(struct enc *w, bool present, const uint8_t id[LSN_ID_BYTES])
{
	uint8_t flag = present ? 1 : 0;
	put_bytes(w, &flag, 1);
	if (present)
		put_bytes(w, id, LSN_ID_BYTES);
}

size_t
audit_encode(const struct store_audit *e, uint8_t out[AUDIT_ENCODED_MAX])
{
	struct enc w = {.out = out, .ok = true};
	put_bytes(&w, audit_magic, sizeof audit_magic);
	put_u64(&w, (uint64_t)e->seq);
	put_u64(&w, (uint64_t)e->at);
	put_text(&w, e->action, sizeof e->action);
	put_text(&w, e->outcome, sizeof e->outcome);
	put_text(&w, e->origin, sizeof e->origin);
	put_id(&w, e->has_actor_user, e->actor_user);
	put_id(&w, e->has_actor_device, e->actor_device);
	put_id(&w, e->has_target_user, e->target_user);
	put_id(&w, e->has_target_device, e->target_device);
	put_id(&w, e->has_channel, e->channel);
	put_id(&w, e->has_case, e->case_id);
	put_text(&w, e->peer, sizeof e->peer);
	put_text(&w, e->detail, sizeof e->detail);
	return w.ok ? w.len : 0;
}

void
audit_chain_hash(const uint8_t prev[AUDIT_HASH_BYTES], const uint8_t *bytes, size_t len,
		 uint8_t out[AUDIT_HASH_BYTES])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, AUDIT_HASH_BYTES);
	crypto_generichash_update(&h, prev, AUDIT_HASH_BYTES);
	crypto_generichash_update(&h, bytes, len);
	crypto_generichash_final(&h, out, AUDIT_HASH_BYTES);
}

/* ---- appending ---------------------------------------------------------- */

enum lsn_err
audit_append(struct store *s, struct store_audit *e)
{
	uint8_t bytes[AUDIT_ENCODED_MAX];
	int64_t head = 0;
	enum lsn_err err = store_audit_head(s, &head, e->prev_hash);
	if (err != LSN_OK) {
		log_error("audit: cannot read the chain head (%s)", lsn_err_code(err));
		return LSN_ERR_STORAGE;
	}
	e->seq = head + 1;
	size_t len = audit_encode(e, bytes);
	if (len == 0) {
		log_error("audit: entry \"%s\" has a field over its limit", e->action);
		return LSN_ERR_INTERNAL;
	}
	audit_chain_hash(e->prev_hash, bytes, len, e->hash);
	err = store_audit_insert(s, e);
	if (err != LSN_OK) {
		log_error("audit: cannot append entry %lld (%s)", (long long)e->seq, lsn_err_code(err));
		return LSN_ERR_STORAGE;
	}
	return LSN_OK;
}

static void
set_id(bool *has, uint8_t dst[LSN_ID_BYTES], const uint8_t *src)
{
	*has = src != NULL;
	if (src)
		memcpy(dst, src, LSN_ID_BYTES);
}

static void
fill_ids(struct store_audit *e, const struct audit_ids *ids)
{
	if (ids == NULL)
		return;
	if (ids->actor_user)
		set_id(&e->has_actor_user, e->actor_user, ids->actor_user);
	if (ids->actor_device)
		set_id(&e->has_actor_device, e->actor_device, ids->actor_device);
	set_id(&e->has_target_user, e->target_user, ids->target_user);
	set_id(&e->has_target_device, e->target_device, ids->target_device);
	set_id(&e->has_channel, e->channel, ids->channel);
	set_id(&e->has_case, e->case_id, ids->case_id);
	if (ids->detail)
		snprintf(e->detail, sizeof e->detail, "%s", ids->detail);
}

enum lsn_err
audit_request(struct handler_ctx *hc, const char *action, const struct audit_ids *ids)
{
	struct store_audit e = {.at = hc->now};
	snprintf(e.action, sizeof e.action, "%s", action);
	snprintf(e.outcome, sizeof e.outcome, "ok");
	snprintf(e.origin, sizeof e.origin, "net");
	snprintf(e.peer, sizeof e.peer, "%s", hc->sess->peer);
	if (hc->sess->logged_in) {
		set_id(&e.has_actor_user, e.actor_user, hc->sess->user);
		set_id(&e.has_actor_device, e.actor_device, hc->sess->device);
	}
	fill_ids(&e, ids);
	enum lsn_err err = audit_append(hc->srv->store, &e);
	if (err != LSN_OK)
		return lsn_fail(&hc->st, LSN_ERR_STORAGE, "the audit trail could not be written; "
				"nothing was changed, retry later");
	return LSN_OK;
}

/* The id in field name of a request, if it is one. */
static const uint8_t *
claimed_id(json_t *req, const char *name, uint8_t out[LSN_ID_BYTES])
{
	const char *text = json_string_value(json_object_get(req, name));
	return text && lsn_id_from_hex(text, out) ? out : NULL;
}

void
audit_login_failed(struct store *s, const struct session *sess, json_t *req, enum lsn_err reason,
		   int64_t now)
{
	uint8_t user[LSN_ID_BYTES], device[LSN_ID_BYTES];
	struct store_audit e = {.at = now};
	snprintf(e.action, sizeof e.action, "login_failed");
	snprintf(e.outcome, sizeof e.outcome, "%s", lsn_err_code(reason));
	snprintf(e.origin, sizeof e.origin, "net");
	snprintf(e.peer, sizeof e.peer, "%s", sess->peer);
	if (req) {
		set_id(&e.has_actor_user, e.actor_user, claimed_id(req, "user", user));
		set_id(&e.has_actor_device, e.actor_device, claimed_id(req, "device", device));
	}
	if (audit_append(s, &e) != LSN_OK)
		log_error("audit: a refused login from %s could not be recorded", sess->peer);
}

enum lsn_err
audit_admin(struct store *s, const char *action, const struct audit_ids *ids, int64_t now)
{
	struct store_audit e = {.at = now};
	snprintf(e.action, sizeof e.action, "%s", action);
	snprintf(e.outcome, sizeof e.outcome, "ok");
	snprintf(e.origin, sizeof e.origin, "admin");
	fill_ids(&e, ids);
	return audit_append(s, &e);
}

/* ---- verification ------------------------------------------------------- */

enum problem_kind { PROB_MALFORMED, PROB_MISSING, PROB_LINK, PROB_CONTENT };

struct verify_walk {
	struct audit_report *r;
	int64_t expect;                /* the seq the next entry must have */
	int64_t last_seq;
	uint8_t prev[AUDIT_HASH_BYTES];
	struct {
		enum problem_kind kind;
		int64_t seq, other;
		uint8_t want[AUDIT_HASH_BYTES];
		int64_t follows;           /* the entry whose hash the link names, 0 = none */
		struct store_audit entry;  /* PROB_CONTENT: the entry as read */
	} p[AUDIT_PROBLEMS_MAX];
	int np;
};

static void
problem(struct verify_walk *w, enum problem_kind kind, int64_t seq, int64_t other,
	const uint8_t *want, const struct store_audit *e)
{
	if (w->r->first_bad == 0)
		w->r->first_bad = seq;
	w->r->problems++;
	if (w->np >= AUDIT_PROBLEMS_MAX)
		return;
	w->p[w->np].kind = kind;
	w->p[w->np].seq = seq;
	w->p[w->np].other = other;
	w->p[w->np].follows = 0;
	if (want)
		memcpy(w->p[w->np].want, want, AUDIT_HASH_BYTES);
	if (e)
		w->p[w->np].entry = *e;
	w->np++;
}

static void
verify_one(const struct store_audit *e, void *arg)
{
	struct verify_walk *w = arg;
	uint8_t bytes[AUDIT_ENCODED_MAX], hash[AUDIT_HASH_BYTES];
	w->r->entries++;
	if (e->malformed) {
		problem(w, PROB_MALFORMED, e->seq, 0, NULL, NULL);
	} else {
		if (e->seq != w->expect)
			problem(w, PROB_MISSING, w->expect, e->seq, NULL, NULL);
		else if (sodium_memcmp(e->prev_hash, w->prev, AUDIT_HASH_BYTES) != 0)
			problem(w, PROB_LINK, e->seq, 0, e->prev_hash, NULL);
		size_t len = audit_encode(e, bytes);
		if (len == 0)
			problem(w, PROB_MALFORMED, e->seq, 0, NULL, NULL);
		else {
			audit_chain_hash(e->prev_hash, bytes, len, hash);
			if (sodium_memcmp(hash, e->hash, AUDIT_HASH_BYTES) != 0)
				problem(w, PROB_CONTENT, e->seq, 0, NULL, e);
		}
	}
	/* go on from this entry, so that one problem is reported once */
	memcpy(w->prev, e->hash, AUDIT_HASH_BYTES);
	w->expect = e->seq + 1;
	w->last_seq = e->seq;
}

/* Second pass: which entry does a broken link actually name? */
static void
find_linked(const struct store_audit *e, void *arg)
{
	struct verify_walk *w = arg;
	for (int i = 0; i < w->np; i++)
		if (w->p[i].kind == PROB_LINK && w->p[i].follows == 0 &&
		    sodium_memcmp(w->p[i].want, e->hash, AUDIT_HASH_BYTES) == 0)
			w->p[i].follows = e->seq;
}

/* A moved entry: its content hashes right under another number (the one it
 * was written with), so only its place changed. Candidates: one after the
 * entry its link names, and the numbers of the other entries in trouble. */
static bool
renumbered(struct verify_walk *w, int i)
{
	uint8_t bytes[AUDIT_ENCODED_MAX], hash[AUDIT_HASH_BYTES];
	bool moved = false;
	int64_t cand[AUDIT_PROBLEMS_MAX + 1];
	int nc = 0;
	for (int j = 0; j < w->np; j++) {
		if (w->p[j].kind == PROB_LINK && w->p[j].seq == w->p[i].seq && w->p[j].follows) {
			moved = true;
			cand[nc++] = w->p[j].follows + 1;
		}
	}
	if (!moved)
		return false;
	for (int j = 0; j < w->np && nc < AUDIT_PROBLEMS_MAX + 1; j++)
		if (w->p[j].seq != w->p[i].seq)
			cand[nc++] = w->p[j].seq;
	for (int c = 0; c < nc; c++) {
		struct store_audit e = w->p[i].entry;
		e.seq = cand[c];
		size_t len = audit_encode(&e, bytes);
		if (len == 0)
			continue;
		audit_chain_hash(e.prev_hash, bytes, len, hash);
		if (sodium_memcmp(hash, e.hash, AUDIT_HASH_BYTES) == 0)
			return true;
	}
	return false;
}

static void
describe(struct verify_walk *w)
{
	struct audit_report *r = w->r;
	int n = 0;
	for (int i = 0; i < w->np; i++) {
		if (w->p[i].kind == PROB_CONTENT && renumbered(w, i)) {
			r->problems--;   /* already reported as out of order */
			continue;
		}
		char *out = r->problem[n++];
		size_t cap = sizeof r->problem[0];
		int64_t seq = w->p[i].seq;
		switch (w->p[i].kind) {
		case PROB_MALFORMED:
			snprintf(out, cap, "entry %lld: a column has the wrong type or size (altered)",
				 (long long)seq);
			break;
		case PROB_MISSING:
			if (w->p[i].other == seq + 1)
				snprintf(out, cap, "entry %lld is missing (removed): the chain jumps to %lld",
					 (long long)seq, (long long)w->p[i].other);
			else
				snprintf(out, cap, "entries %lld to %lld are missing (removed): the chain "
					 "jumps to %lld", (long long)seq, (long long)w->p[i].other - 1,
					 (long long)w->p[i].other);
			break;
		case PROB_LINK:
			if (w->p[i].follows && w->p[i].follows != seq - 1)
				snprintf(out, cap, "entry %lld is out of order: it was written after entry "
					 "%lld, not %lld (reordered)", (long long)seq,
					 (long long)w->p[i].follows, (long long)seq - 1);
			else
				snprintf(out, cap, "entry %lld does not follow entry %lld: entry %lld was "
					 "changed or replaced", (long long)seq, (long long)seq - 1,
					 (long long)seq - 1);
			break;
		case PROB_CONTENT:
			snprintf(out, cap, "entry %lld was changed: its content does not match its hash",
				 (long long)seq);
			break;
		}
	}
}

enum lsn_err
audit_verify(struct store *s, struct audit_report *r)
{
	struct verify_walk w = {.r = r, .expect = 1};
	memset(r, 0, sizeof *r);
	/* the head and the entries from one snapshot: the server may be appending */
	enum lsn_err err = store_audit_snapshot_begin(s);
	if (err == LSN_OK)
		err = store_audit_head(s, &r->head_seq, r->head_hash);
	if (err == LSN_OK)
		err = store_audit_list(s, NULL, verify_one, &w);
	bool links = false;
	for (int i = 0; i < w.np; i++)
		links |= w.p[i].kind == PROB_LINK;
	if (err == LSN_OK && links)
		err = store_audit_list(s, NULL, find_linked, &w);
	store_audit_snapshot_end(s);
	if (err != LSN_OK)
		return err;
	describe(&w);
	/* the end of the chain must be what the head recorded */
	if (r->head_seq != w.last_seq || sodium_memcmp(r->head_hash, w.prev, AUDIT_HASH_BYTES) != 0) {
		char *out = r->problems < AUDIT_PROBLEMS_MAX ? r->problem[r->problems] : NULL;
		if (r->first_bad == 0)
			r->first_bad = w.last_seq < r->head_seq ? w.last_seq + 1 : w.last_seq;
		if (out && r->head_seq > w.last_seq)
			snprintf(out, sizeof r->problem[0], "entries %lld to %lld are missing (removed "
				 "from the end): the head records %lld entries", (long long)w.last_seq + 1,
				 (long long)r->head_seq, (long long)r->head_seq);
		else if (out)
			snprintf(out, sizeof r->problem[0], "the last entry (%lld) is not the one the "
				 "head records (entry %lld): the end of the chain was changed",
				 (long long)w.last_seq, (long long)r->head_seq);
		r->problems++;
	}
	return r->problems ? LSN_ERR_CONFLICT : LSN_OK;
}
