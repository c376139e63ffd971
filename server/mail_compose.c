/* mail_compose.c — the fixed message: headers, the French and English
 * text, quoted-printable (mail_compose.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mail_compose.h"

/* {LINK} is replaced by the link, alone on its line. */
static const char body[] =
	"Bonjour,\n"
	"\n"
	"Quelque chose vous attend dans Liaison : un avis de sortie, une alerte ou\n"
	"une étape de parcours que vous n'avez pas encore vue.\n"
	"\n"
	"Connectez-vous pour le voir :\n"
	"{LINK}\n"
	"\n"
	"Ce message ne contient aucune information sur un patient. Vous recevez au\n"
	"plus un message de ce type par période. Pour ne plus en recevoir :\n"
	"liaison mail off\n"
	"\n"
	"--\n"
	"Something is waiting for you in Liaison; log in to see it (no patient\n"
	"information is ever sent by e-mail; to stop these e-mails: liaison mail off).\n";

const char *
mail_body_text(void)
{
	return body;
}

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* One line of the body, quoted-printable (RFC 2045 §6.7): '=', non-ASCII
 * bytes and a trailing space as =XX, soft line breaks before 76. */
static void
put_qp_line(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char enc[4];
		size_t w;
		bool last = i + 1 == n;
		if ((ch >= 33 && ch <= 126 && ch != '=') || (ch == ' ' && !last)) {
			enc[0] = (char)ch;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[ch >> 4];
			enc[2] = hex[ch & 15];
			w = 3;
		}
		if (col + w > 75) {
			put(o, "=\r\n", 3);
			col = 0;
		}
		put(o, enc, w);
		col += w;
	}
	put(o, "\r\n", 2);
}

/* RFC 5322 date, C names whatever the locale. */
static void
put_date(struct out *o, int64_t ms)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char line[64];
	if (gmtime_r(&t, &tm) == NULL) {
		o->full = true;
		return;
	}
	snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
		 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	puts_(o, line);
}

size_t
mail_compose(const struct mail_compose_in *in, char *out, size_t cap)
{
	struct out o = {.p = out, .cap = cap};
	char line[512];
	const char *domain = strchr(in->from, '@');
	if (cap == 0)
		return 0;
	out[0] = '\0';
	put_date(&o, in->date_ms);
	snprintf(line, sizeof line, "From: Liaison <%s>\r\nTo: <%s>\r\n", in->from, in->to);
	puts_(&o, line);
	puts_(&o, "Subject: " MAIL_SUBJECT "\r\n");
	snprintf(line, sizeof line, "Message-ID: <liaison.%lld.%lld@%s>\r\n",
		 (long long)in->batch_id, (long long)in->created_at, domain ? domain + 1 : "liaison");
	puts_(&o, line);
	puts_(&o, "MIME-Version: 1.0\r\n"
		  "Content-Type: text/plain; charset=UTF-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n"
		  "Auto-Submitted: auto-generated\r\n"
		  "\r\n");
	const char *p = body;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n == 6 && memcmp(p, "{LINK}", 6) == 0)
			/* the URL (printable ASCII, at most 255 characters) keeps its
			 * own line; long ones get soft breaks, which readers join */
			put_qp_line(&o, in->link, strlen(in->link));
		else
			put_qp_line(&o, p, n);
		p += n + (nl ? 1 : 0);
	}
	return o.full ? 0 : o.len;
}
