/* cmd_read.c — "liaison read": sync keys (to-device queue), verify the
 * channel, fetch and decrypt new messages, ask for missing keys after a short
 * wait, send receipts, and print the thread from the local cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr.h"
#include "alarm_view.h"
#include "args.h"
#include "command.h"
#include "clock.h"
#include "mlog_verify.h"
#include "output.h"
#include "sync.h"
#include "thread.h"
#include "thread_gaps.h"
#include "thread_view.h"
#include "wire.h"

#define READ_DEFAULT_LIMIT 50

/* Receipts only as far as every message was received (delivered) and
 * decrypted (read): a missing or unreadable one stops them (thread_gaps.h). */
static enum lsn_err
send_receipts(struct e2e *e, const struct chan_view *v, struct lsn_status *st)
{
	int64_t marks[2] = {0, 0};
	if (!v->me_member)
		return LSN_OK;
	static const char *const kinds[] = {"delivered", "read"};
	enum lsn_err err = thread_receipt_marks_load(e->p, v->channel, &marks[0], &marks[1], st);
	for (size_t i = 0; i < 2 && err == LSN_OK; i++) {
		json_t *reply = NULL;
		if (marks[i] <= 0)
			continue;
		err = e2e_read(e, "receipt", json_pack("{s:o, s:s, s:I}", "channel",
						       wire_id(v->channel), "kind", kinds[i], "seq",
						       (json_int_t)marks[i]), &reply, st);
		json_decref(reply);
	}
	return err;
}

struct print_ctx {
	struct e2e *e;
	const struct receipts *rc;
	json_t *list;   /* --json */
	size_t shown;
	struct view_gaps gaps;
};

/* What is missing will be reported from the message before the last limit
 * ones on (or from the start); in --json into a "missing" array. */
static enum lsn_err
gaps_start(struct print_ctx *pc, const uint8_t channel[LSN_ID_BYTES], long limit,
	   struct lsn_status *st)
{
	struct local_channel c;
	struct local_msg_brief *rows = NULL;
	size_t n = 0;
	enum lsn_err err = local_channel_get(pc->e->p, channel, &c, st);
	if (err == LSN_OK)
		err = local_msg_briefs(pc->e->p, channel, &rows, &n, st);
	pc->gaps.e = pc->e;
	pc->gaps.last_seq = c.last_seq;
	pc->gaps.cut_from = c.cut_from;
	pc->gaps.cut_to = c.cut_to;
	pc->gaps.prev = limit > 0 && n > (size_t)limit ? rows[n - (size_t)limit - 1].seq : 0;
	pc->gaps.missing = pc->list ? json_array() : NULL;
	free(rows);
	return err;
}

static bool
print_one(void *arg, struct local_msg *m)
{
	struct print_ctx *pc = arg;
	view_gaps_before(&pc->gaps, m);
	if (pc->list)
		json_array_append_new(pc->list, view_message_json(pc->e, m, pc->rc));
	else
		view_print_message(pc->e, m, pc->rc);
	pc->shown++;
	return true;
}

static int
print_thread(struct e2e *e, const struct chan_view *v, long limit, struct lsn_status *st)
{
	struct receipts rc;
	if (receipts_load(e, v->channel, &rc, st) != LSN_OK)
		return out_fail(st);
	struct print_ctx pc = {e, &rc, out_json_mode() ? json_array() : NULL, 0, {0}};
	if (!out_json_mode())
		view_print_header(e, v);
	enum lsn_err err = gaps_start(&pc, v->channel, limit, st);
	if (err == LSN_OK)
		err = local_msg_each(e->p, v->channel, limit, print_one, &pc, st);
	if (err == LSN_OK)
		view_gaps_end(&pc.gaps);
	int rc_out = err == LSN_OK ? CLI_OK : out_fail(st);
	if (err == LSN_OK && out_json_mode()) {
		json_t *out = view_header_json(e, v);
		json_object_set_new(out, "messages", pc.list);
		json_object_set_new(out, "missing", pc.gaps.missing);
		pc.list = NULL;
		pc.gaps.missing = NULL;
		rc_out = out_json(out);
		json_decref(out);
	} else if (err == LSN_OK && pc.shown == 0) {
		puts(_("No messages yet."));
	}
	json_decref(pc.list);
	json_decref(pc.gaps.missing);
	receipts_free(&rc);
	return rc_out;
}

static int
read_channel(struct e2e *e, const char *channel_text, long limit)
{
	uint8_t channel[LSN_ID_BYTES];
	int rc = e2e_resolve_channel(e, channel_text, channel);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	struct chan_view v;
	struct thread_fetch_result r;
	memset(&v, 0, sizeof v);
	enum lsn_err err = chan_view_load(e, channel, &v, &st);
	if (err == LSN_OK)
		err = thread_fetch_chase(e, &v, &r, &st);
	if (err == LSN_OK)
		err = send_receipts(e, &v, &st);
	rc = err == LSN_OK ? print_thread(e, &v, limit, &st) : out_fail(&st);
	chan_view_free(&v);
	return rc;
}

/* The server cannot be reached: the thread as this device stored it when it
 * last read it, from the local store alone (no receipts, no member list). */
static int
read_offline(struct e2e *e, const char *text, long limit)
{
	struct lsn_status st = {0};
	uint8_t channel[LSN_ID_BYTES];
	size_t n = 1;
	bool hex = text[0] != '\0' && strspn(text, "0123456789abcdefABCDEF") == strlen(text);
	if (!lsn_id_from_hex(text, channel) && hex && strlen(text) >= 4 &&
	    local_channel_find(e->p, text, channel, &n, &st) != LSN_OK)
		return out_fail(&st);
	if (!hex || strlen(text) < 4 || n != 1) {
		out_error(_("offline, \"%s\" names %s of the channels stored on this device; give "
			  "the channel id (32 hex characters) or more of it"), text,
			  n == 0 || !hex || strlen(text) < 4 ? "none" : "several");
		return CLI_USAGE;
	}
	struct receipts none = {0};
	struct print_ctx pc = {e, &none, out_json_mode() ? json_array() : NULL, 0, {0}};
	char hexid[LSN_ID_HEX + 1], topic[THREAD_TOPIC_MAX];
	lsn_id_to_hex(channel, hexid);
	local_channel_topic(e->p, channel, topic, sizeof topic);
	if (!out_json_mode()) {
		printf(_("Channel %s (offline: stored on this device)\n"), hexid);
		if (topic[0]) {
			fputs(_("Topic: "), stdout);
			out_text(stdout, topic);
			putchar('\n');
		}
		alarm_view_print(e, channel); /* as online: they are kept here */
	}
	enum lsn_err err = gaps_start(&pc, channel, limit, &st);
	if (err == LSN_OK)
		err = local_msg_each(e->p, channel, limit, print_one, &pc, &st);
	if (err == LSN_OK)
		view_gaps_end(&pc.gaps);
	int rc = err == LSN_OK ? CLI_OK : out_fail(&st);
	if (err == LSN_OK && pc.list) {
		json_t *out = json_pack("{s:s, s:b, s:s?, s:o, s:o, s:o}", "channel", hexid, "offline",
					1, "topic", topic[0] ? topic : NULL, "messages", pc.list,
					"missing", pc.gaps.missing, "membership_alarms",
					alarm_view_json(e, channel));
		pc.list = NULL;
		pc.gaps.missing = NULL;
		rc = out_json(out);
		json_decref(out);
	} else if (err == LSN_OK && pc.shown == 0) {
		puts(_("No messages stored on this device for this channel."));
	}
	json_decref(pc.list);
	json_decref(pc.gaps.missing);
	return rc;
}

/* --limit N, or the default; false if N is not a number from 1 to 100000. */
static bool
limit_of(const struct cmd_call *c, long *limit)
{
	const char *limit_text = cmd_opt(c, "--limit");
	*limit = READ_DEFAULT_LIMIT;
	return limit_text == NULL || args_int(limit_text, 1, 100000, limit);
}

int
cmd_read_check(struct cmd_call *c)
{
	long limit;
	if (!limit_of(c, &limit)) {
		out_error(_("--limit must be a number from 1 to 100000"));
		return CLI_USAGE;
	}
	c->needs = CMD_NOTHING; /* run opens it: offline if need be */
	return CLI_OK;
}

int
cmd_read_run(struct cmd_call *c)
{
	long limit;
	struct e2e e;
	limit_of(c, &limit);
	int rc = e2e_start_or_offline(c->cli, &e);
	if (rc != CLI_OK)
		return rc;
	rc = e.s.offline ? read_offline(&e, c->pos[0], limit) : read_channel(&e, c->pos[0], limit);
	e2e_end(&e);
	return rc;
}
