/* mail_smtp.h — one message to one recipient through the configured SMTP
 * relay, with libcurl: STARTTLS required (unless the configuration turned
 * it off for a loopback relay), the relay's certificate verified,
 * authentication when configured.
 *
 * Contract: blocking (up to MAIL_SMTP_TIMEOUT_S); runs on the mail
 * worker's thread (mail_worker.c), never on the service thread. Touches no
 * database and logs nothing: the outcome comes back in mail_smtp_result,
 * worded for the log without the recipient's address or the relay's own
 * text. mail_smtp_global_init() once, before any thread. */
#ifndef LSN_MAIL_SMTP_H
#define LSN_MAIL_SMTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

#define MAIL_SMTP_TIMEOUT_S 60
#define MAIL_SMTP_ERROR_MAX 120

struct mail_smtp_result {
	bool sent;              /* the relay accepted the message (final 250) */
	bool maybe_sent;        /* failed after the whole message went out
				   without an answer: it may have been accepted */
	long smtp_code;         /* the relay's last reply code, 0 = none */
	char error[MAIL_SMTP_ERROR_MAX]; /* what went wrong, for the log */
};

enum lsn_err mail_smtp_global_init(struct lsn_status *st);
void mail_smtp_global_fini(void);
/* Send msg (len bytes, CRLF lines) from cfg->mail_from to `to`. password:
 * NULL without authentication. abort: set by another thread to give up at
 * once (shutdown). */
void mail_smtp_send(const struct config *cfg, const char *password, const char *to,
		    const char *msg, size_t len, const atomic_bool *abort,
		    struct mail_smtp_result *res);

#endif
