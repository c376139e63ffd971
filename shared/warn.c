/* warn.c — the bounded warning list of warn.h. */
#include "warn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
lsn_warn(struct lsn_warnings *w, const char *fmt, ...)
{
	if (w == NULL)
		return;
	if (w->n >= LSN_WARN_MAX) {
		w->dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(w->msg[w->n], LSN_WARN_LEN, fmt, ap);
	va_end(ap);
	if (len < 0)
		snprintf(w->msg[w->n], LSN_WARN_LEN, "(unprintable warning)");
	w->n++;
}

void
lsn_warn_clear(struct lsn_warnings *w)
{
	if (w == NULL)
		return;
	memset(w, 0, sizeof *w);
}
