/* mail_compose.h — the one e-mail liaisond sends: "quelque chose vous
 * attend dans Liaison", a fixed French text with an English line, a fixed
 * Subject, and the server's public URL. Nothing from the database goes in
 * it but the link (and the recipient's address in To:): no patient, case,
 * pathway, step, name or count.
 *
 * Contract: pure (no I/O, no clock: the date is a parameter); the message
 * is RFC 5322 with CRLF line ends, its body quoted-printable UTF-8, every
 * line under 78 characters. The caller has checked the addresses
 * (config_address_ok) and the URL (config.c). A leaf. */
#ifndef LSN_MAIL_COMPOSE_H
#define LSN_MAIL_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#define MAIL_SUBJECT "Quelque chose vous attend dans Liaison"
/* Large enough for the message with a 255-character link and two
 * 254-character addresses. */
#define MAIL_MESSAGE_MAX 4096

struct mail_compose_in {
	const char *from, *to;     /* addresses (no display name) */
	const char *link;          /* the server's public URL */
	int64_t batch_id;          /* the outbox row: Message-ID */
	int64_t created_at;        /* the outbox row's creation (ms): Message-ID */
	int64_t date_ms;           /* Date: (ms since the epoch, UTC) */
};

/* The message into out (NUL-terminated); its length, or 0 when it does not
 * fit cap. */
size_t mail_compose(const struct mail_compose_in *in, char *out, size_t cap);
/* The plain-text body as the person reads it (UTF-8, "\n" line ends), for
 * the documentation and the tests. */
const char *mail_body_text(void);

#endif
