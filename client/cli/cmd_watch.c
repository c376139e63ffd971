/* cmd_watch.c — "liaison watch": stay connected and show what happens until
 * Ctrl-C: new messages decrypted and printed (and receipted), read receipts,
 * membership changes (the log re-verified), key shares and key requests
 * processed, device-list changes answered by sharing our current sessions
 * with new devices (CRYPTO.md §5). A message event is decrypted from the
 * event alone (thread_deliver); `messages` is asked only at start, for a
 * channel just joined, on a gap in seq, and after the link or the event
 * queue is lost (reconnect and resync). --json prints one JSON object per
 * line. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_view.h"
#include "command.h"
#include "clock.h"
#include "keyshare_send.h"
#include "mlog_verify.h"
#include "output.h"
#include "peers.h"
#include "sync.h"
#include "thread.h"
#include "thread_gaps.h"
#include "thread_view.h"
#include "tr.h"
#include "wire.h"

#define WATCH_TICK_MS      500
#define WATCH_RETRY_MS     2000
#define WATCH_MAX_CHANNELS 512

static volatile sig_atomic_t stop_requested;
static struct link *watched_conn;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	link_interrupt(watched_conn);
}

struct watched {
	uint8_t channel[LSN_ID_BYTES];
	struct chan_view v;
	int64_t waiting_since;   /* a message waits for its key since (ms), 0: none */
	/* printed up to here: this process's own position, not the profile's
	 * last_seq, which another liaison process (read, send) may move */
	int64_t shown;
	bool shown_set;
};

struct watch {
	struct e2e *e;
	struct watched *ch;
	size_t n;
	uint64_t dropped;
};

/* ---- output ------------------------------------------------------------------------ */

static void
emit_json(json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	if (text)
		puts(text);
	free(text);
	json_decref(obj);
	fflush(stdout);
}

static void
channel_label(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], char *out, size_t len)
{
	char hex[LSN_ID_HEX + 1], topic[THREAD_TOPIC_MAX];
	lsn_id_to_hex(channel, hex);
	local_channel_topic(e->p, channel, topic, sizeof topic);
	snprintf(out, len, "%.8s%s%s", hex, topic[0] ? " " : "", topic);
}

static void
say(struct watch *w, const uint8_t channel[LSN_ID_BYTES], const char *what, json_t *obj)
{
	if (out_json_mode()) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(channel, hex);
		json_object_set_new(obj, "event", json_string(what));
		json_object_set_new(obj, "channel", json_string(hex));
		emit_json(obj);
		return;
	}
	json_decref(obj);
}

struct print_new {
	struct watch *w;
	struct watched *c;
	const struct receipts *rc;
	int64_t max_seq;         /* the newest message printed */
	int64_t gap_prev;        /* missing seqs are reported after this one (-1: not) */
	int64_t last_seq;        /* fetched up to here */
};

/* Seqs the server answered without, between the last message and m. */
static void
print_gap(struct print_new *pn, const struct local_msg *m)
{
	int64_t from, to;
	bool gap = thread_gap_between(pn->gap_prev, m->seq, pn->last_seq, &from, &to);
	if (pn->gap_prev >= 0 && m->seq > pn->gap_prev)
		pn->gap_prev = m->seq;
	if (!gap) {
		return;
	} else if (out_json_mode()) {
		say(pn->w, m->channel, "missing", view_gap_json(from, to));
	} else {
		char label[THREAD_TOPIC_MAX + 16];
		channel_label(pn->w->e, m->channel, label, sizeof label);
		printf("[");
		out_text(stdout, label);
		printf("] ");
		view_print_gap(from, to);
	}
}

static bool
print_new_message(void *arg, struct local_msg *m)
{
	struct print_new *pn = arg;
	print_gap(pn, m);
	if (m->seq > pn->max_seq)
		pn->max_seq = m->seq;
	if (out_json_mode()) {
		say(pn->w, m->channel, "message", view_message_json(pn->w->e, m, pn->rc));
		return true;
	}
	char label[THREAD_TOPIC_MAX + 16];
	channel_label(pn->w->e, m->channel, label, sizeof label);
	printf("[");
	out_text(stdout, label);
	printf("] ");
	view_print_message(pn->w->e, m, pn->rc);
	fflush(stdout);
	return true;
}

/* ---- channels ------------------------------------------------------------------------ */

static struct watched *
find_channel(struct watch *w, const uint8_t channel[LSN_ID_BYTES])
{
	for (size_t i = 0; i < w->n; i++)
		if (memcmp(w->ch[i].channel, channel, LSN_ID_BYTES) == 0)
			return &w->ch[i];
	return NULL;
}

#define WATCH_PENDING_MAX 1000

/* Messages that were waiting for a key and now read: print them. */
static void
print_now_readable(struct watch *w, struct watched *c, const int64_t *seqs, size_t n)
{
	struct receipts rc = {0};
	struct print_new pn = {w, c, &rc, 0, -1, 0};
	for (size_t i = 0; i < n; i++) {
		struct local_msg m;
		bool found = false;
		struct lsn_status st;
		if (local_msg_get(w->e->p, c->channel, seqs[i], &m, &found, &st) == LSN_OK && found &&
		    strcmp(m.status, "ok") == 0)
			print_new_message(&pn, &m);
		local_msg_clear(&m);
	}
}

/* Receipts only as far as every message was received and decrypted
 * (thread_gaps.h): a missing or unreadable one stops them. */
static enum lsn_err
send_receipts(struct watch *w, struct watched *c, struct lsn_status *st)
{
	static const char *const kinds[] = {"delivered", "read"};
	int64_t marks[2] = {0, 0};
	enum lsn_err err = thread_receipt_marks_load(w->e->p, c->channel, &marks[0], &marks[1],
						     st);
	for (size_t i = 0; i < 2 && err == LSN_OK; i++) {
		json_t *reply = NULL;
		if (marks[i] <= 0)
			continue;
		err = e2e_read(w->e, "receipt", json_pack("{s:o, s:s, s:I}", "channel",
							   wire_id(c->channel), "kind", kinds[i], "seq",
							   (json_int_t)marks[i]), &reply, st);
		json_decref(reply);
	}
	return err;
}

/* How catch_up learns what is new. */
enum catch_how {
	CATCH_FETCH,    /* `messages` after the last synced seq (start, reconnect) */
	CATCH_EVENT,    /* a message event: from the event alone unless seq skips */
	CATCH_RETRY,    /* keys arrived: only the messages waiting for one */
};

/* Take what is new, print it (and what became readable), receipt it. */
static enum lsn_err
catch_up(struct watch *w, struct watched *c, enum catch_how how, json_t *ev,
	 struct lsn_status *st)
{
	struct local_channel before;
	struct thread_fetch_result r;
	int64_t pending[WATCH_PENDING_MAX];
	size_t n_pending = 0;
	enum lsn_err err = local_channel_get(w->e->p, c->channel, &before, st);
	if (err == LSN_OK)
		err = local_msg_pending(w->e->p, c->channel, pending, WATCH_PENDING_MAX,
					&n_pending, st);
	if (err == LSN_OK && how == CATCH_FETCH)
		err = thread_fetch(w->e, &c->v, &r, st);
	else if (err == LSN_OK && how == CATCH_EVENT)
		err = thread_deliver(w->e, &c->v, ev, &r, st);
	else if (err == LSN_OK)
		err = thread_retry(w->e, &c->v, &r, st);
	if (err != LSN_OK)
		return err;
	if (!c->shown_set) {
		c->shown = before.last_seq;
		c->shown_set = true;
	}
	print_now_readable(w, c, pending, n_pending);
	struct receipts rc = {0};
	struct local_channel after;
	err = local_channel_get(w->e->p, c->channel, &after, st);
	struct print_new pn = {w, c, &rc, 0, c->shown, after.last_seq};
	int64_t shown = c->shown;
	if (err == LSN_OK)
		err = local_msg_since(w->e->p, c->channel, shown, print_new_message, &pn, st);
	int64_t newest = r.last_seq > pn.max_seq ? r.last_seq : pn.max_seq;
	if (newest > c->shown)
		c->shown = newest;
	if (r.waiting > 0 && c->waiting_since == 0)
		c->waiting_since = lsn_clock_now_ms();
	if (err == LSN_OK && newest > shown && c->v.me_member)
		err = send_receipts(w, c, st);
	return err;
}

static enum lsn_err
load_channel(struct watch *w, struct watched *c, struct lsn_status *st)
{
	chan_view_free(&c->v);
	enum lsn_err err = chan_view_load(w->e, c->channel, &c->v, st);
	if (err == LSN_OK && !c->v.valid && !out_json_mode()) {
		char label[THREAD_TOPIC_MAX + 16];
		channel_label(w->e, c->channel, label, sizeof label);
		printf(_("[%s] INVALID: %s\n"), label, c->v.reason);
		fflush(stdout);
	}
	return err;
}

static struct watched *
add_channel(struct watch *w, const uint8_t channel[LSN_ID_BYTES])
{
	struct watched *c = find_channel(w, channel);
	if (c || w->n == WATCH_MAX_CHANNELS)
		return c;
	c = &w->ch[w->n++];
	memset(c, 0, sizeof *c);
	memcpy(c->channel, channel, LSN_ID_BYTES);
	return c;
}

/* Everything from scratch: keys, every channel. */
static enum lsn_err
resync(struct watch *w, struct lsn_status *st)
{
	struct sync_stats ss;
	json_t *reply = NULL;
	enum lsn_err err = sync_to_device(w->e, &ss, st);
	if (err == LSN_OK)
		err = e2e_read(w->e, "channels", NULL, &reply, st);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(reply, "channels"), i, c) {
		uint8_t channel[LSN_ID_BYTES];
		struct watched *wc;
		if (err != LSN_OK ||
		    !lsn_id_from_hex(json_string_value(json_object_get(c, "channel")), channel) ||
		    (wc = add_channel(w, channel)) == NULL)
			continue;
		err = load_channel(w, wc, st);
		if (err == LSN_OK)
			err = catch_up(w, wc, CATCH_FETCH, NULL, st);
	}
	json_decref(reply);
	w->dropped = link_events_dropped(w->e->s.link);
	return err;
}

/* ---- events ------------------------------------------------------------------------------ */

static enum lsn_err
on_message(struct watch *w, json_t *ev, struct lsn_status *st)
{
	uint8_t channel[LSN_ID_BYTES];
	struct lsn_status pst;
	if (wire_get_id(ev, "channel", true, channel, NULL, &pst) != LSN_OK)
		return LSN_OK;
	struct watched *c = find_channel(w, channel);
	if (c == NULL) { /* a channel we just joined */
		if ((c = add_channel(w, channel)) == NULL)
			return LSN_OK;
		enum lsn_err err = load_channel(w, c, st);
		return err == LSN_OK ? catch_up(w, c, CATCH_FETCH, NULL, st) : err;
	}
	return catch_up(w, c, CATCH_EVENT, ev, st);
}

static void
describe_entry(struct watch *w, const struct lsn_mlog_entry *en)
{
	char actor[200], subject[200], label[THREAD_TOPIC_MAX + 16];
	e2e_person(w->e, en->actor, actor, sizeof actor);
	e2e_person(w->e, en->subject, subject, sizeof subject);
	channel_label(w->e, en->channel, label, sizeof label);
	printf("[");
	out_text(stdout, label);
	printf("] ");
	switch (en->action) {
	case LSN_MLOG_CREATE: printf(_("%s created the channel\n"), actor); break;
	case LSN_MLOG_ADD:
		printf(_("%s added %s (%s)\n"), actor, subject, lsn_chan_role_name(en->role));
		break;
	case LSN_MLOG_REMOVE: printf(_("%s removed %s\n"), actor, subject); break;
	case LSN_MLOG_LEAVE: printf(_("%s left\n"), actor); break;
	case LSN_MLOG_ROLE:
		printf(_("%s made %s %s\n"), actor, subject, lsn_chan_role_name(en->role));
		break;
	}
	fflush(stdout);
}

static enum lsn_err
on_channel_log(struct watch *w, json_t *ev, struct lsn_status *st)
{
	struct lsn_mlog_entry en;
	struct lsn_status pst;
	if (lsn_mlog_from_json(json_object_get(ev, "entry"), &en, &pst) != LSN_OK)
		return LSN_OK;
	bool known = find_channel(w, en.channel) != NULL;
	struct watched *c = add_channel(w, en.channel);
	if (c == NULL)
		return LSN_OK;
	enum lsn_err err = load_channel(w, c, st);
	if (err != LSN_OK)
		return err;
	if (en.action == LSN_MLOG_REMOVE || en.action == LSN_MLOG_LEAVE)
		local_outbound_mark_rotate(w->e->p, en.channel, "a member left or was removed", &pst);
	if (out_json_mode())
		say(w, en.channel, "membership", json_pack("{s:O, s:b, s:s?}", "entry",
							   json_object_get(ev, "entry"), "valid",
							   c->v.valid, "reason",
							   c->v.valid ? NULL : c->v.reason));
	else
		describe_entry(w, &en);
	/* a channel we just joined has a history to fetch; in one we watch, the
	 * next message event tells (a gap in seq) if anything was missed */
	return catch_up(w, c, known ? CATCH_RETRY : CATCH_FETCH, NULL, st);
}

static void
on_receipt(struct watch *w, json_t *ev)
{
	uint8_t channel[LSN_ID_BYTES], user[LSN_ID_BYTES];
	struct lsn_status pst;
	const char *kind = json_string_value(json_object_get(ev, "kind"));
	if (wire_get_id(ev, "channel", true, channel, NULL, &pst) != LSN_OK ||
	    wire_get_id(ev, "user", true, user, NULL, &pst) != LSN_OK || kind == NULL ||
	    memcmp(user, w->e->p->user, LSN_ID_BYTES) == 0)
		return;
	if (out_json_mode()) {
		json_t *copy = json_deep_copy(ev);
		json_object_del(copy, "ev");
		say(w, channel, "receipt", copy);
		return;
	}
	if (strcmp(kind, "read") != 0)
		return;
	char who[200], label[THREAD_TOPIC_MAX + 16];
	e2e_person(w->e, user, who, sizeof who);
	channel_label(w->e, channel, label, sizeof label);
	printf("[");
	out_text(stdout, label);
	printf(_("] read up to #%lld by "), (long long)json_integer_value(json_object_get(ev, "seq")));
	out_text(stdout, who);
	putchar('\n');
	fflush(stdout);
}

static enum lsn_err
on_to_device(struct watch *w, json_t *ev, struct lsn_status *st)
{
	struct sync_stats ss;
	enum lsn_err err = sync_to_device_event(w->e, ev, &ss, st);
	for (size_t i = 0; i < w->n && err == LSN_OK && ss.keys > 0; i++)
		err = catch_up(w, &w->ch[i], CATCH_RETRY, NULL, st);
	return err;
}

/* A co-member's devices changed: share our current sessions with new ones. */
static enum lsn_err
on_device_list(struct watch *w, json_t *ev, struct lsn_status *st)
{
	uint8_t user[LSN_ID_BYTES];
	struct lsn_status pst;
	if (wire_get_id(ev, "user", true, user, NULL, &pst) != LSN_OK)
		return LSN_OK;
	peers_forget(w->e->peers, user);
	enum lsn_err err = LSN_OK;
	size_t shared = 0;
	for (size_t i = 0; i < w->n && err == LSN_OK; i++) {
		struct watched *c = &w->ch[i];
		struct local_outbound o;
		bool found = false;
		if (chan_view_member(&c->v, user) == NULL ||
		    local_outbound_get(w->e->p, c->channel, &o, &found, st) != LSN_OK || !found)
			continue;
		const uint8_t (*one)[LSN_ID_BYTES] = (const uint8_t (*)[LSN_ID_BYTES])user;
		size_t count = 0;
		err = load_channel(w, c, st);
		if (err == LSN_OK)
			err = peers_load(w->e, one, 1, true, st);
		if (err == LSN_OK && c->v.valid)
			err = share_outbound(w->e, &c->v, &o, &count, st);
		shared += count;
		lsn_gs_outbound_wipe(&o.gs);
	}
	char who[200];
	e2e_person(w->e, user, who, sizeof who);
	if (!out_json_mode() && shared)
		printf(_("New device of %s: current keys shared with it.\n"), who);
	fflush(stdout);
	return err;
}

/* ---- care pathway events ------------------------------------------------------------------ */

/* A step's change (the event's "change" without "step_"), in words. */
static const char *
step_change_words(const char *change)
{
	static const struct {
		const char *code, *words;
	} words[] = {
		{"done", N_("done")},
		{"skipped", N_("skipped")},
		{"reopened", N_("reopened")},
		{"rescheduled", N_("rescheduled")},
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(change, words[i].code) == 0)
			return _(words[i].words);
	return change;
}

/* What a case event says, in words. */
static void
case_event_words(struct watch *w, const char *name, json_t *ev, const struct case_ctx *cc,
		 char *out, size_t len)
{
	const char *change = json_string_value(json_object_get(ev, "change"));
	char who[200], step_name[96];
	json_t *s, *step = NULL;
	size_t i;
	json_array_foreach(json_object_get(cc->reply, "steps"), i, s)
		if (json_integer_value(json_object_get(s, "id")) ==
		    json_integer_value(json_object_get(ev, "step")))
			step = s;
	snprintf(step_name, sizeof step_name, "%s", _("step"));
	if (step)
		case_step_name(cc, step, step_name, sizeof step_name);
	if (strcmp(name, "notification") == 0 || strcmp(name, "alert") == 0) {
		/* who, what and the next command; an alert with its text when readable */
		json_t *cache = json_pack("{s:O}", cc->id_hex, cc->reply);
		case_notification_text(w->e, ev, cache, out, len);
		json_decref(cache);
	} else if (strcmp(name, "ack") == 0) {
		case_person(w->e, json_string_value(json_object_get(ev, "user")), who, sizeof who);
		snprintf(out, len, _("%s acknowledged the discharge notice (%lld still to acknowledge)"),
			 who, (long long)json_integer_value(json_object_get(ev, "missing")));
	} else if (change && strncmp(change, "step_", 5) == 0 && step) {
		case_person(w->e, json_string_value(json_object_get(step, "assignee")), who, sizeof who);
		if (strcmp(change, "step_assigned") == 0)
			snprintf(out, len, _("%s assigned to %s"), step_name, who);
		else
			snprintf(out, len, "%s %s", step_name, step_change_words(change + 5));
	} else if (change && strcmp(change, "notice") == 0) {
		snprintf(out, len, _("discharge notice posted (message #%lld): acknowledge it with "
				   "liaison ack %s"), (long long)json_integer_value(json_object_get(ev, "seq")),
			 cc->ref);
	} else {
		snprintf(out, len, _("case %s"), change ? change : _("changed"));
	}
}

static enum lsn_err
on_case_event(struct watch *w, const char *name, json_t *ev, struct lsn_status *st)
{
	uint8_t id[LSN_ID_BYTES];
	struct lsn_status pst;
	struct case_ctx cc;
	if (wire_get_id(ev, "case", true, id, NULL, &pst) != LSN_OK)
		return LSN_OK;
	if (case_fetch(w->e, id, &cc, &pst) != LSN_OK) {   /* a case we can no longer see */
		case_ctx_free(&cc);
		lsn_id_to_hex(id, cc.id_hex);
		snprintf(cc.ref, sizeof cc.ref, _("case %.8s"), cc.id_hex);
	}
	char text[600], patient[CASE_NAME_MAX] = "";
	if (cc.member)
		case_patient_name(w->e, cc.channel,
				  json_integer_value(json_object_get(json_object_get(cc.reply, "notice"),
								     "seq")), patient, sizeof patient);
	case_event_words(w, name, ev, &cc, text, sizeof text);
	if (out_json_mode()) {
		json_t *copy = json_deep_copy(ev);
		json_object_del(copy, "ev");
		json_object_set_new(copy, "event", json_string(name));
		json_object_set_new(copy, "patient_ref", json_string(cc.ref));
		json_object_set_new(copy, "text", json_string(text));
		emit_json(copy);
	} else {
		printf("[%s%s", cc.ref, patient[0] ? " " : "");
		out_text(stdout, patient);
		fputs("] ", stdout);
		out_styled(stdout, strcmp(name, "alert") == 0 ? OUT_ALERT
				   : strcmp(name, "notification") == 0 ? OUT_RED : OUT_PLAIN, text);
		putchar('\n');
		fflush(stdout);
	}
	case_ctx_free(&cc);
	(void)st;
	return LSN_OK;
}

static enum lsn_err
on_event(struct watch *w, json_t *ev, struct lsn_status *st)
{
	const char *name = json_string_value(json_object_get(ev, "ev"));
	if (name == NULL)
		return LSN_OK;
	if (strcmp(name, "message") == 0)
		return on_message(w, ev, st);
	if (strcmp(name, "channel_log") == 0)
		return on_channel_log(w, ev, st);
	if (strcmp(name, "to_device") == 0)
		return on_to_device(w, ev, st);
	if (strcmp(name, "device_list") == 0)
		return on_device_list(w, ev, st);
	if (strcmp(name, "receipt") == 0)
		on_receipt(w, ev);
	if (strcmp(name, "case") == 0 || strcmp(name, "ack") == 0 || strcmp(name, "alert") == 0 ||
	    strcmp(name, "notification") == 0)
		return on_case_event(w, name, ev, st);
	return LSN_OK;
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* Key requests for messages that have waited long enough. */
static enum lsn_err
chase_keys(struct watch *w, struct lsn_status *st)
{
	int64_t now = lsn_clock_now_ms();
	enum lsn_err err = LSN_OK;
	for (size_t i = 0; i < w->n && err == LSN_OK; i++) {
		struct watched *c = &w->ch[i];
		size_t sent = 0;
		if (c->waiting_since == 0 || now - c->waiting_since < THREAD_KEY_REQUEST_DELAY_MS)
			continue;
		c->waiting_since = 0;
		err = thread_request_missing(w->e, &c->v, THREAD_KEY_REQUEST_DELAY_MS, &sent, st);
	}
	return err;
}

/* The link went down: reconnect until it works or we are told to stop. */
static enum lsn_err
relink(struct watch *w, struct lsn_status *st)
{
	if (!out_json_mode())
		fputs(_("liaison: connection lost; reconnecting...\n"), stderr);
	watched_conn = NULL; /* the old connection is freed by the reconnection */
	while (!stop_requested) {
		if (e2e_reconnect(w->e, st) == LSN_OK) {
			watched_conn = w->e->s.link;
			return resync(w, st);
		}
		sleep(WATCH_RETRY_MS / 1000);
	}
	return LSN_OK;
}

static int
watch_loop(struct watch *w)
{
	struct lsn_status st = {0};
	enum lsn_err err = resync(w, &st);
	out_warnings(&w->e->warnings);
	if (err == LSN_OK && !out_json_mode())
		fprintf(stderr, _("liaison: watching %zu channel(s); Ctrl-C to stop\n"), w->n);
	while (err == LSN_OK && !stop_requested) {
		struct link *c = w->e->s.link;
		if (!link_alive(c)) {
			err = relink(w, &st);
			continue;
		}
		link_wait_event(c, WATCH_TICK_MS);
		json_t *ev;
		while (err == LSN_OK && w->e->s.link == c && (ev = link_next_event(c)) != NULL) {
			err = on_event(w, ev, &st);
			json_decref(ev);
		}
		if (err == LSN_OK && w->e->s.link != c) {
			/* a request reconnected on the way (c is gone): what the old
			 * link would have pushed meanwhile is fetched */
			watched_conn = w->e->s.link;
			err = resync(w, &st);
		} else if (err == LSN_OK && link_events_dropped(c) != w->dropped) {
			err = resync(w, &st); /* events were lost: fetch everything */
		}
		if (err == LSN_OK)
			err = chase_keys(w, &st);
		out_warnings(&w->e->warnings);
	}
	return err == LSN_OK ? CLI_OK : out_fail(&st);
}

int
cmd_watch_run(struct cmd_call *c)
{
	struct watch w = {.e = c->e, .ch = calloc(WATCH_MAX_CHANNELS, sizeof(struct watched))};
	if (w.ch == NULL) {
		out_error("%s", _("out of memory"));
		return CLI_FAIL;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	watched_conn = c->s->link;
	int rc = watch_loop(&w);
	watched_conn = NULL;
	for (size_t i = 0; i < w.n; i++)
		chan_view_free(&w.ch[i].v);
	free(w.ch);
	return rc;
}
