/* server_error.c — user-facing wording of server errors and close codes. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "server_error.h"

/* What went wrong and what to do next, per wire code. A NULL what uses the
 * server's own message (it names the field or object concerned). */
static const struct {
	enum lsn_err err;
	const char *what;
	const char *next;
} advice[] = {
	{LSN_ERR_BAD_JSON, "the server could not read the request",
	 "this is a liaison bug; please report it"},
	{LSN_ERR_BAD_REQUEST, NULL, "check the command's arguments (see its --help)"},
	{LSN_ERR_UNKNOWN_OP, "the server does not know this operation",
	 "use matching versions of liaison and liaisond"},
	{LSN_ERR_TOO_LARGE, "the request is larger than the server accepts",
	 "send less data at once"},
	{LSN_ERR_NOT_LOGGED_IN, "the server says this connection is not logged in",
	 "retry the command"},
	{LSN_ERR_ALREADY_LOGGED_IN, "this connection is already logged in", "retry the command"},
	{LSN_ERR_NO_CHALLENGE, "no fresh login challenge", "retry the command"},
	{LSN_ERR_BAD_SIGNATURE, "the server rejected a signature of this device",
	 "the profile may be damaged or enrolled at another server; enrol again with a new invite"},
	{LSN_ERR_INVITE_UNKNOWN, "invite code not recognised by this server",
	 "check the code and the server, or ask your administrator for a new one"},
	{LSN_ERR_INVITE_USED, "invite already used", "ask your administrator for a new one"},
	{LSN_ERR_INVITE_EXPIRED, "invite expired", "ask your administrator for a new one"},
	{LSN_ERR_UNKNOWN_DEVICE, "this device is not enrolled on this server",
	 "check --profile, or enrol again with a new invite"},
	{LSN_ERR_DEVICE_REVOKED, "this device has been revoked", "enrol again with a new invite"},
	{LSN_ERR_NOT_FOUND, NULL, "check the id"},
	{LSN_ERR_FORBIDDEN, NULL, "ask a coordinator or an administrator"},
	{LSN_ERR_CONFLICT, NULL, "nothing was changed"},
	{LSN_ERR_INVALID_RPPS, "invalid RPPS number", "check the number"},
	{LSN_ERR_INVALID_FINESS, "invalid FINESS number", "check the number"},
	{LSN_ERR_RATE_LIMITED, "too many requests", "wait a moment and retry"},
	{LSN_ERR_STORAGE, "the server could not store this", "nothing was written; retry later"},
	{LSN_ERR_SHUTTING_DOWN, "the server is shutting down", "retry in a few seconds"},
	{LSN_ERR_INTERNAL, "internal server error",
	 "retry, and tell your administrator if it persists"},
	{LSN_ERR_CASE_CLOSED, "this case is closed: its steps and notice no longer change",
	 "open a new case if the patient's care goes on"},
	{LSN_ERR_CASE_ALREADY_CLOSED, "this case is already closed", "nothing was changed"},
	{LSN_ERR_STEP_DONE, "this step is already done",
	 "a coordinator can reopen it (liaison case step reopen)"},
	{LSN_ERR_STEP_SKIPPED, "this step was skipped",
	 "a coordinator can reopen it (liaison case step reopen)"},
	{LSN_ERR_STEP_PENDING, "this step is still pending: only a done or skipped step is reopened",
	 "complete or skip it instead"},
	{LSN_ERR_NOT_ASSIGNEE, "only the step's assignee or a coordinator may do this",
	 "ask the assignee, or have the step reassigned to you (liaison case step assign)"},
	{LSN_ERR_COORDINATOR_ONLY, NULL, "ask the CPTS coordinator"},
	{LSN_ERR_ALREADY_ALERTED, NULL, "post a new message and alert on it if it is a new alarm"},
	{LSN_ERR_CASE_BACKDATED, NULL, "ask the CPTS coordinator to open the case"},
	{LSN_ERR_NO_CPTS, NULL,
	 "add the patient's GP (a member of a CPTS) to the case thread, or name the CPTS with --cpts"},
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
		const char *what = advice[i].what ? advice[i].what
			: server_msg[0] ? server_msg : lsn_err_message(err);
		return lsn_fail(st, err, "%s (%s): %s", what, code_text, advice[i].next);
	}
	return lsn_fail(st, LSN_ERR_INTERNAL, "the server refused: %s (%s)",
			server_msg[0] ? server_msg : "no reason given", code_text);
}

enum lsn_err
server_error_close(struct lsn_status *st, int code, const char *reason)
{
	char why[124];
	clean_copy(why, sizeof why, reason);
	switch (code) {
	case 1001:
		return lsn_fail(st, LSN_ERR_SHUTTING_DOWN,
				"the server is shutting down (close 1001): retry in a few seconds");
	case 1008:
		return lsn_fail(st, LSN_ERR_DEVICE_REVOKED,
				"the server closed the connection: %s (close 1008): if this device "
				"was revoked, enrol again with a new invite",
				why[0] ? why : "policy violation");
	case 4008:
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"the server dropped this slow connection (close 4008): retry");
	default:
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"the server closed the connection (close %d%s%s): retry, and "
				"check the server if it happens again", code, why[0] ? ": " : "", why);
	}
}
