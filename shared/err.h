/* err.h — the one error enumeration of Liaison, shared by server and client.
 * Each value maps 1:1 to a wire error code (docs/PROTOCOL.md, "Errors"). */
#ifndef LSN_ERR_H
#define LSN_ERR_H

#include <stdint.h>

enum lsn_err {
	LSN_OK = 0,
	LSN_ERR_BAD_JSON,          /* frame is not a JSON object */
	LSN_ERR_BAD_REQUEST,       /* missing field, wrong type, value out of range */
	LSN_ERR_UNKNOWN_OP,        /* op not in the protocol */
	LSN_ERR_TOO_LARGE,         /* frame above the size cap */
	LSN_ERR_NOT_LOGGED_IN,     /* op needs a logged-in device */
	LSN_ERR_ALREADY_LOGGED_IN, /* login twice on one connection */
	LSN_ERR_NO_CHALLENGE,      /* login without a fresh challenge */
	LSN_ERR_BAD_SIGNATURE,     /* a signature does not verify */
	LSN_ERR_INVITE_UNKNOWN,    /* invite code not issued here */
	LSN_ERR_INVITE_USED,       /* invite already consumed */
	LSN_ERR_INVITE_EXPIRED,    /* invite past its expiry */
	LSN_ERR_UNKNOWN_DEVICE,    /* user/device pair not enrolled */
	LSN_ERR_DEVICE_REVOKED,    /* device was revoked */
	LSN_ERR_NOT_FOUND,         /* referenced object does not exist */
	LSN_ERR_FORBIDDEN,         /* logged in, but not allowed */
	LSN_ERR_CONFLICT,          /* object already exists / idempotency key reused differently */
	LSN_ERR_INVALID_RPPS,      /* RPPS number fails its shape or check digit */
	LSN_ERR_INVALID_FINESS,    /* FINESS number fails its shape or check digit */
	LSN_ERR_RATE_LIMITED,      /* too many requests */
	LSN_ERR_STORAGE,           /* the database refused; nothing was written */
	LSN_ERR_SHUTTING_DOWN,     /* server is stopping; retry on another connection */
	LSN_ERR_INTERNAL,          /* a bug; reported in the server log */
	LSN_ERR_CASE_CLOSED,       /* the case is closed: its steps no longer change */
	LSN_ERR_CASE_ALREADY_CLOSED, /* closing a case that is closed */
	LSN_ERR_STEP_DONE,         /* the step is already completed */
	LSN_ERR_STEP_SKIPPED,      /* the step was skipped */
	LSN_ERR_STEP_PENDING,      /* reopening a step that is still pending */
	LSN_ERR_NOT_ASSIGNEE,      /* only the step's assignee or a coordinator may do this */
	LSN_ERR_COORDINATOR_ONLY,  /* only a coordinator may do this */
	LSN_ERR_NO_CPTS,           /* a case needs a CPTS and none could be found */
	LSN_ERR_ALREADY_ALERTED,   /* this message has already raised an alert */
	LSN_ERR_CASE_BACKDATED,    /* a case's J0 further in the past than the server allows */
	LSN_ERR_TODEVICE_NOT_ALLOWED, /* to-device to a user who shares no channel with the sender */
	LSN_ERR_TODEVICE_QUEUE_FULL,  /* the recipient device's to-device queue is at its cap */
	LSN_ERR_TOO_MANY_CHANNELS, /* a user is a member of channels_per_user channels */
	LSN_ERR_TOO_MANY_CASES,    /* a user has opened open_cases_per_user open cases */
	LSN_ERR_STORAGE_QUOTA,     /* the user's attachments would pass storage_quota */
	LSN_ERR_TOO_MANY_CONNECTIONS, /* conn_per_user connections of this user already open */
	LSN_ERR__COUNT
};

/* Wire code, e.g. "bad_request". Never NULL. */
const char *lsn_err_code(enum lsn_err err);

/* A default human message that says what to do next. Never NULL. */
const char *lsn_err_message(enum lsn_err err);
/* The same in English whatever the locale (the words the server uses). */
const char *lsn_err_message_en(enum lsn_err err);

/* Reverse mapping for clients; LSN_ERR_INTERNAL for an unknown string. */
enum lsn_err lsn_err_from_code(const char *code);

/* An error with a specific message for the user ("field \"user\": expected ..."). */
struct lsn_status {
	enum lsn_err err;
	char msg[256];
	/* rate_limited from the server: its retry_after_ms (PROTOCOL.md "Rate
	 * limits"), how long before the same request may pass; 0 otherwise */
	uint32_t retry_after_ms;
};

/* Set st (if not NULL) and return err. A NULL fmt uses the default message. */
enum lsn_err lsn_fail(struct lsn_status *st, enum lsn_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
