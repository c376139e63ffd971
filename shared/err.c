/* err.c — string table for enum lsn_err: wire codes and default messages. */
#include <libintl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* The messages are marked for the client's catalogue (po/). liaisond never
 * calls setlocale, so it runs in the C locale where gettext returns the
 * English text: the server's replies stay English; the client, in a French
 * locale, prints the French text. The codes are never translated. */
#define N_(s) s

static const struct {
	const char *code;
	const char *message;
} err_table[LSN_ERR__COUNT] = {
	[LSN_OK] = {"ok", N_("success")},
	[LSN_ERR_BAD_JSON] = {"bad_json",
		N_("the frame is not a JSON object; send one UTF-8 JSON object per text frame")},
	[LSN_ERR_BAD_REQUEST] = {"bad_request",
		N_("a field is missing or has the wrong type; see docs/PROTOCOL.md for this op")},
	[LSN_ERR_UNKNOWN_OP] = {"unknown_op",
		N_("this server does not know that op; check the client version")},
	[LSN_ERR_TOO_LARGE] = {"too_large",
		N_("the frame is larger than the server accepts; send large documents in chunks")},
	[LSN_ERR_NOT_LOGGED_IN] = {"not_logged_in",
		N_("log in first: answer the challenge with op \"login\"")},
	[LSN_ERR_ALREADY_LOGGED_IN] = {"already_logged_in",
		N_("this connection is already logged in; open a new connection for another "
		   "device")},
	[LSN_ERR_NO_CHALLENGE] = {"no_challenge",
		N_("no fresh challenge on this connection; request one with op \"challenge\"")},
	[LSN_ERR_BAD_SIGNATURE] = {"bad_signature",
		N_("a signature does not verify; the device keys may be damaged or the data "
		   "altered")},
	[LSN_ERR_INVITE_UNKNOWN] = {"invite_unknown",
		N_("this invite code is not known here; check it, or ask your administrator for a "
		   "new one")},
	[LSN_ERR_INVITE_USED] = {"invite_used",
		N_("this invite has already been used; ask your administrator for a new one")},
	[LSN_ERR_INVITE_EXPIRED] = {"invite_expired",
		N_("this invite has expired; ask your administrator for a new one")},
	[LSN_ERR_UNKNOWN_DEVICE] = {"unknown_device",
		N_("this device is not enrolled on this server; enrol it with an invite")},
	[LSN_ERR_DEVICE_REVOKED] = {"device_revoked",
		N_("this device has been revoked; enrol a new device or ask your administrator")},
	[LSN_ERR_NOT_FOUND] = {"not_found", N_("no such object")},
	[LSN_ERR_FORBIDDEN] = {"forbidden",
		N_("your roles do not allow this; ask a coordinator or administrator")},
	[LSN_ERR_CONFLICT] = {"conflict",
		N_("this already exists, or the idempotency key was used for a different request")},
	[LSN_ERR_INVALID_RPPS] = {"invalid_rpps",
		N_("an RPPS number has 11 digits and a valid check digit; check the number")},
	[LSN_ERR_INVALID_FINESS] = {"invalid_finess",
		N_("a FINESS number has 9 digits and a valid check digit; check the number")},
	[LSN_ERR_RATE_LIMITED] = {"rate_limited",
		N_("too many requests; wait the reply's retry_after_ms milliseconds, then retry")},
	[LSN_ERR_STORAGE] = {"storage",
		N_("the server could not store this; nothing was written, retry later")},
	[LSN_ERR_SHUTTING_DOWN] = {"shutting_down",
		N_("the server is restarting; reconnect in a few seconds")},
	[LSN_ERR_INTERNAL] = {"internal",
		N_("internal server error; it has been logged, retry or contact the "
		   "administrator")},
	[LSN_ERR_CASE_CLOSED] = {"case_closed",
		N_("this case is closed; its steps can no longer change")},
	[LSN_ERR_CASE_ALREADY_CLOSED] = {"case_already_closed", N_("this case is already closed")},
	[LSN_ERR_STEP_DONE] = {"step_done",
		N_("this step is already completed; a coordinator can reopen it")},
	[LSN_ERR_STEP_SKIPPED] = {"step_skipped",
		N_("this step was skipped; a coordinator can reopen it")},
	[LSN_ERR_STEP_PENDING] = {"step_pending",
		N_("this step is still pending; only a completed or skipped step can be reopened")},
	[LSN_ERR_NOT_ASSIGNEE] = {"not_assignee",
		N_("only the professional assigned to this step or a coordinator can do this; "
		"ask a coordinator to reassign it")},
	[LSN_ERR_COORDINATOR_ONLY] = {"coordinator_only",
		N_("only a CPTS coordinator can do this")},
	[LSN_ERR_NO_CPTS] = {"no_cpts",
		N_("no CPTS for this case: add the patient's GP (a member of a CPTS) to the case "
		"channel first, or name the CPTS (liaison case open ... --cpts ORG_ID)")},
	[LSN_ERR_ALREADY_ALERTED] = {"already_alerted",
		N_("this message has already raised an alert; post a new message to alert again")},
	[LSN_ERR_CASE_BACKDATED] = {"case_backdated",
		N_("this J0 is too far in the past for this server; ask the CPTS coordinator to "
		"open the case")},
	[LSN_ERR_TODEVICE_NOT_ALLOWED] = {"todevice_not_allowed",
		N_("key shares go only to users you share a channel with, or who wrote to you "
		"recently; add the user to a channel first")},
	[LSN_ERR_TODEVICE_QUEUE_FULL] = {"todevice_queue_full",
		N_("the recipient device has too many key shares waiting; it must fetch them "
		"before it can receive more")},
	[LSN_ERR_TOO_MANY_CHANNELS] = {"too_many_channels",
		N_("this user is a member of as many channels as the server allows; leave a "
		"channel first")},
	[LSN_ERR_TOO_MANY_CASES] = {"too_many_cases",
		N_("you have as many open cases as the server allows; close a case first")},
	[LSN_ERR_STORAGE_QUOTA] = {"storage_quota",
		N_("your attachments would use more storage than the server allows you; ask "
		"your administrator")},
	[LSN_ERR_TOO_MANY_CONNECTIONS] = {"too_many_connections",
		N_("too many connections of this user are open; close another liaison process "
		"and retry")},
};

const char *
lsn_err_code(enum lsn_err err)
{
	if ((unsigned)err >= LSN_ERR__COUNT)
		return "internal";
	return err_table[err].code;
}

const char *
lsn_err_message(enum lsn_err err)
{
	if ((unsigned)err >= LSN_ERR__COUNT)
		return gettext(err_table[LSN_ERR_INTERNAL].message);
	return gettext(err_table[err].message);
}

const char *
lsn_err_message_en(enum lsn_err err)
{
	if ((unsigned)err >= LSN_ERR__COUNT)
		return err_table[LSN_ERR_INTERNAL].message;
	return err_table[err].message;
}

enum lsn_err
lsn_err_from_code(const char *code)
{
	for (int i = 0; i < LSN_ERR__COUNT; i++)
		if (code && strcmp(err_table[i].code, code) == 0)
			return (enum lsn_err)i;
	return LSN_ERR_INTERNAL;
}

enum lsn_err
lsn_fail(struct lsn_status *st, enum lsn_err err, const char *fmt, ...)
{
	if (st == NULL)
		return err;
	st->err = err;
	st->retry_after_ms = 0;
	if (fmt == NULL || *fmt == '\0') {
		snprintf(st->msg, sizeof st->msg, "%s", lsn_err_message(err));
		return err;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof st->msg, fmt, ap);
	va_end(ap);
	return err;
}
