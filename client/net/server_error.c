/* server_error.c — user-facing wording of server errors and close codes. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "server_error.h"
#include "tr.h"

/* What went wrong and what to do next, per wire code. A NULL what uses the
 * server's own message (it names the field or object concerned). Both are
 * translated (po/); the code in parentheses never is. */
static const struct {
	enum lsn_err err;
	const char *what;
	const char *next;
} advice[] = {
	{LSN_ERR_BAD_JSON, N_("the server could not read the request"),
	 N_("this is a liaison bug; please report it")},
	{LSN_ERR_BAD_REQUEST, NULL, N_("check the command's arguments (see its --help)")},
	{LSN_ERR_UNKNOWN_OP, N_("the server does not know this operation"),
	 N_("use matching versions of liaison and liaisond")},
	{LSN_ERR_TOO_LARGE, N_("the request is larger than the server accepts"),
	 N_("send less data at once")},
	{LSN_ERR_NOT_LOGGED_IN, N_("the server says this connection is not logged in"),
	 N_("retry the command")},
	{LSN_ERR_ALREADY_LOGGED_IN, N_("this connection is already logged in"), N_("retry the command")},
	{LSN_ERR_NO_CHALLENGE, N_("no fresh login challenge"), N_("retry the command")},
	{LSN_ERR_BAD_SIGNATURE, N_("the server rejected a signature of this device"),
	 N_("the profile may be damaged or enrolled at another server; enrol again with a new invite")},
	{LSN_ERR_INVITE_UNKNOWN, N_("invite code not recognised by this server"),
	 N_("check the code and the server, or ask your administrator for a new one")},
	{LSN_ERR_INVITE_USED, N_("invite already used"), N_("ask your administrator for a new one")},
	{LSN_ERR_INVITE_EXPIRED, N_("invite expired"), N_("ask your administrator for a new one")},
	{LSN_ERR_UNKNOWN_DEVICE, N_("this device is not enrolled on this server"),
	 N_("check --profile, or enrol again with a new invite")},
	{LSN_ERR_DEVICE_REVOKED, N_("this device has been revoked"), N_("enrol again with a new invite")},
	{LSN_ERR_NOT_FOUND, NULL, N_("check the id")},
	{LSN_ERR_FORBIDDEN, NULL, N_("ask a coordinator or an administrator")},
	{LSN_ERR_CONFLICT, NULL, N_("nothing was changed")},
	{LSN_ERR_INVALID_RPPS, N_("invalid RPPS number"), N_("check the number")},
	{LSN_ERR_INVALID_FINESS, N_("invalid FINESS number"), N_("check the number")},
	{LSN_ERR_RATE_LIMITED, N_("too many requests"), N_("wait a moment and retry")},
	{LSN_ERR_STORAGE, N_("the server could not store this"), N_("nothing was written; retry later")},
	{LSN_ERR_SHUTTING_DOWN, N_("the server is shutting down"), N_("retry in a few seconds")},
	{LSN_ERR_INTERNAL, N_("internal server error"),
	 N_("retry, and tell your administrator if it persists")},
	{LSN_ERR_CASE_CLOSED, N_("this case is closed: its steps and notice no longer change"),
	 N_("open a new case if the patient's care goes on")},
	{LSN_ERR_CASE_ALREADY_CLOSED, N_("this case is already closed"), N_("nothing was changed")},
	{LSN_ERR_STEP_DONE, N_("this step is already done"),
	 N_("a coordinator can reopen it (liaison case step reopen)")},
	{LSN_ERR_STEP_SKIPPED, N_("this step was skipped"),
	 N_("a coordinator can reopen it (liaison case step reopen)")},
	{LSN_ERR_STEP_PENDING, N_("this step is still pending: only a done or skipped step is reopened"),
	 N_("complete or skip it instead")},
	{LSN_ERR_NOT_ASSIGNEE, N_("only the step's assignee or a coordinator may do this"),
	 N_("ask the assignee, or have the step reassigned to you (liaison case step assign)")},
	{LSN_ERR_COORDINATOR_ONLY, NULL, N_("ask the CPTS coordinator")},
	{LSN_ERR_ALREADY_ALERTED, NULL, N_("post a new message and alert on it if it is a new alarm")},
	{LSN_ERR_CASE_BACKDATED, NULL, N_("ask the CPTS coordinator to open the case")},
	{LSN_ERR_TODEVICE_NOT_ALLOWED, N_("the server refused a key share: you share no channel with that user"),
	 N_("add the user to a channel first")},
	{LSN_ERR_TODEVICE_QUEUE_FULL, N_("a recipient device has too many key shares waiting"),
	 N_("its owner must run liaison read (or watch) before it can receive more; retry later")},
	{LSN_ERR_TOO_MANY_CHANNELS, NULL, N_("leave a channel you no longer need, then retry")},
	{LSN_ERR_TOO_MANY_CASES, NULL, N_("close a case you no longer follow, then retry")},
	{LSN_ERR_STORAGE_QUOTA, NULL, N_("ask your administrator to raise storage_quota")},
	{LSN_ERR_TOO_MANY_CONNECTIONS, N_("too many connections of your account are open"),
	 N_("stop another liaison watch or liaison process, then retry")},
	{LSN_ERR_NO_CPTS, NULL,
	 N_("add the patient's GP (a member of a CPTS) to the case thread, or name the CPTS with --cpts")},
};

/* Server text goes to a terminal: keep it short and on one line. */
static void
clean_copy(char *out, size_t outlen, const char *text)
{
	snprintf(out, outlen, "%s", text ? text : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

/* What went wrong, in the user's language: our own wording when we have
 * one; else the server's text, which names the field or object concerned
 * but is English — in a translated locale it follows the code's meaning in
 * the user's language ("objet introuvable (no such case among yours)"). */
static void
server_what(enum lsn_err err, const char *own, const char *server_msg, char *out, size_t len)
{
	const char *meaning = lsn_err_message(err);
	if (own)
		snprintf(out, len, "%s", _(own));
	else if (!server_msg[0])
		snprintf(out, len, "%s", meaning);
	else if (strcmp(meaning, lsn_err_message_en(err)) != 0)
		snprintf(out, len, "%s (%s)", meaning, server_msg);
	else
		snprintf(out, len, "%s", server_msg);
}

enum lsn_err
server_error_status(struct lsn_status *st, const char *code, const char *message)
{
	char server_msg[160], code_text[40];
	clean_copy(server_msg, sizeof server_msg, message);
	clean_copy(code_text, sizeof code_text, code ? code : "no code");
	enum lsn_err err = lsn_err_from_code(code);
	bool known = code && strcmp(lsn_err_code(err), code) == 0;
	for (size_t i = 0; known && i < sizeof advice / sizeof advice[0]; i++) {
		if (advice[i].err != err)
			continue;
		char what[sizeof server_msg + 120];
		server_what(err, advice[i].what, server_msg, what, sizeof what);
		return lsn_fail(st, err, "%s (%s): %s", what, code_text, _(advice[i].next));
	}
	return lsn_fail(st, LSN_ERR_INTERNAL, _("the server refused: %s (%s)"),
			server_msg[0] ? server_msg : _("no reason given"), code_text);
}

enum lsn_err
server_error_close(struct lsn_status *st, int code, const char *reason)
{
	char why[124];
	clean_copy(why, sizeof why, reason);
	switch (code) {
	case 1001:
		return lsn_fail(st, LSN_ERR_SHUTTING_DOWN,
				"%s", _("the server is shutting down (close 1001): retry in a few seconds"));
	case 1008:
		return lsn_fail(st, LSN_ERR_DEVICE_REVOKED,
				_("the server closed the connection: %s (close 1008): if this device "
				  "was revoked, enrol again with a new invite"),
				why[0] ? why : _("policy violation"));
	case 4008:
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"%s", _("the server dropped this slow connection (close 4008): retry"));
	case 4029:
		return lsn_fail(st, LSN_ERR_TOO_MANY_CONNECTIONS, "%s",
				_("the server refused the connection: too many unauthenticated "
				  "connections from this address (close 4029): retry in a moment"));
	default:
		return lsn_fail(st, LSN_ERR_INTERNAL,
				_("the server closed the connection (close %d%s%s): retry, and "
				  "check the server if it happens again"), code, why[0] ? ": " : "", why);
	}
}
