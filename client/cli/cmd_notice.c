/* cmd_notice.c — "liaison ack": read the case's discharge notice (decrypted
 * here) and acknowledge it, then show who has and who has not yet;
 * "liaison alert": a high-priority encrypted message in the case thread,
 * pushed to the GP and cardiologist members (op alert). */
#include <stdio.h>
#include <string.h>

#include "case_view.h"
#include "command.h"
#include "i18n.h"
#include "mlog_verify.h"
#include "notice.h"
#include "notice_view.h"
#include "output.h"
#include "local.h"
#include "thread.h"
#include "user_view.h"
#include "wire.h"

#define ALERT_TEXT_MAX 4000

/* The case of CASE, refused unless we are in its thread. */
static int
member_case(struct e2e *e, const char *text, struct case_ctx *cc, const char *what)
{
	int rc = case_load(e, text, cc);
	if (rc == CLI_OK && !cc->member) {
		out_error(_("you are not a member of the thread of case %s: only its members %s "
			    "(ask one of its admins to add you)"), cc->ref, what);
		case_ctx_free(cc);
		rc = CLI_FAIL;
	}
	return rc;
}

/* ---- ack ------------------------------------------------------------------------------- */

/* The notice must be readable here before we say we received it. */
static int
read_notice(struct e2e *e, struct case_ctx *cc, int64_t seq, json_t **content)
{
	struct lsn_status st = {0};
	if (case_sync_thread(e, cc, &st) != LSN_OK)
		return out_fail(&st);
	*content = case_message(e, cc->channel, seq);
	if (*content)
		return CLI_OK;
	struct local_msg m;
	bool found = false;
	char why[300];
	snprintf(why, sizeof why, "%s", _("not received yet"));
	if (local_msg_get(e->p, cc->channel, seq, &m, &found, &st) == LSN_OK && found) {
		snprintf(why, sizeof why, "%s", m.detail[0] ? m.detail : m.status);
		local_msg_clear(&m);
	}
	char channel[LSN_ID_HEX + 1];
	lsn_id_to_hex(cc->channel, channel);
	out_error(_("cannot read the discharge notice of %s (message #%lld: %s); nothing was "
		    "acknowledged: run liaison read %s, then acknowledge again"), cc->ref,
		  (long long)seq, why, channel);
	return CLI_FAIL;
}

static int
ack_report(struct e2e *e, struct case_ctx *cc, bool added)
{
	json_t *acks = case_acks(e, cc);
	int rc = CLI_OK;
	if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:s, s:b, s:O, s:O}", "case", cc->id_hex,
					"patient_ref", cc->ref, "acknowledged", added, "acks",
					json_object_get(acks, "acks"), "not_acknowledged",
					json_object_get(acks, "not_acknowledged"));
		rc = out_json(out);
		json_decref(out);
	} else {
		printf(added ? _("You acknowledged the discharge notice of %s.\n")
			     : _("You had already acknowledged the discharge notice of %s.\n"), cc->ref);
		case_print_acks(stdout, acks, json_object_get(cc->reply, "notice"), "");
	}
	json_decref(acks);
	return rc;
}

static int
ack_case(struct e2e *e, const char *text)
{
	struct case_ctx cc;
	int rc = member_case(e, text, &cc, _("acknowledge its notice"));
	if (rc != CLI_OK)
		return rc;
	json_t *notice = json_object_get(cc.reply, "notice"), *content = NULL, *reply = NULL;
	struct lsn_status st = {0};
	uint8_t id[LSN_ID_BYTES];
	memcpy(id, cc.id, LSN_ID_BYTES);
	if (!json_is_object(notice)) {
		out_error(_("case %s has no discharge notice yet: nothing to acknowledge"), cc.ref);
		rc = CLI_FAIL;
	} else if ((rc = read_notice(e, &cc, user_view_int(notice, "seq"), &content)) == CLI_OK &&
		   !out_json_mode()) {
		notice_print(stdout, content, "  ");
		putchar('\n');
	}
	if (rc == CLI_OK && e2e_write(e, "ack", json_pack("{s:s}", "case", cc.id_hex), &reply,
				      &st) != LSN_OK)
		rc = out_fail(&st);
	bool added = json_is_true(json_object_get(reply, "acknowledged"));
	case_ctx_free(&cc);
	if (rc == CLI_OK && case_fetch(e, id, &cc, &st) != LSN_OK)
		rc = out_fail(&st);
	if (rc == CLI_OK)
		rc = ack_report(e, &cc, added);
	case_ctx_free(&cc);
	json_decref(content);
	json_decref(reply);
	return rc;
}

int
cmd_ack_run(struct cmd_call *c)
{
	return ack_case(c->e, c->pos[0]);
}

/* ---- alert ------------------------------------------------------------------------------- */

static int
alert_report(struct e2e *e, const struct case_ctx *cc, int64_t seq, int64_t notified)
{
	if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:s, s:I, s:I}", "case", cc->id_hex, "patient_ref",
					cc->ref, "seq", (json_int_t)seq, "notified",
					(json_int_t)notified);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	printf(_("Alert sent in case %s (message #%lld): %lld GP/cardiologist member(s) "
		 "notified.\n"), cc->ref, (long long)seq, (long long)notified);
	if (notified == 0)
		puts(_("No GP or cardiologist is in this case's thread: add them with liaison "
		       "channel add, or call them."));
	return CLI_OK;
}

static int
alert_case(struct e2e *e, const char *text, const char *body)
{
	struct case_ctx cc;
	int rc = member_case(e, text, &cc, _("send alerts in it"));
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	struct chan_view v;
	int64_t seq = 0, ts = 0;
	json_t *reply = NULL;
	memset(&v, 0, sizeof v);
	enum lsn_err err = chan_view_load(e, cc.channel, &v, &st);
	if (err == LSN_OK)
		err = thread_send(e, &v, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "alert",
						   "priority", "high", "case", cc.id_hex,
						   "patient_ref", cc.ref, "body", body),
				  &seq, &ts, &st);
	chan_view_free(&v);
	if (err == LSN_OK)
		err = e2e_write(e, "alert", json_pack("{s:s, s:I}", "case", cc.id_hex, "seq",
						      (json_int_t)seq), &reply, &st);
	if (err == LSN_OK)
		rc = alert_report(e, &cc, seq, user_view_int(reply, "notified"));
	else
		rc = out_fail(&st);
	if (err != LSN_OK && seq > 0)
		out_error(_("the alert was posted in the thread as message #%lld but nobody was "
			    "alerted: call the GP"), (long long)seq);
	json_decref(reply);
	case_ctx_free(&cc);
	return rc;
}

int
cmd_alert_check(struct cmd_call *c)
{
	const char *text = c->pos[1];
	if (text[0] == '\0')
		return cmd_missing(c);
	json_t *probe = json_string(text);
	bool valid = probe && strlen(text) <= ALERT_TEXT_MAX;
	json_decref(probe);
	if (!valid) {
		out_error(_("the alert must be UTF-8 text of at most %d bytes"), ALERT_TEXT_MAX);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_alert_run(struct cmd_call *c)
{
	return alert_case(c->e, c->pos[0], c->pos[1]);
}
