/* warn.h — warnings a layer that never prints hands back to the program
 * that does: "could not upload the new session to the key backup; will
 * retry", "ignored a key share from …". The client core adds them while it
 * works and goes on; the CLI prints them (or puts them in its JSON) when the
 * call returns. The list is bounded: past LSN_WARN_MAX the further ones are
 * only counted, so a hostile peer cannot make the program print without end.
 *
 * A NULL list is allowed everywhere: the warning is then dropped. */
#ifndef LSN_WARN_H
#define LSN_WARN_H

#include <stddef.h>

#define LSN_WARN_MAX 16
#define LSN_WARN_LEN 256

struct lsn_warnings {
	size_t n;                          /* kept, in order */
	size_t dropped;                    /* added past LSN_WARN_MAX */
	char msg[LSN_WARN_MAX][LSN_WARN_LEN];
};

/* Append one warning (printf-style, truncated to LSN_WARN_LEN - 1 bytes). */
void lsn_warn(struct lsn_warnings *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget every warning (after the caller has shown them). */
void lsn_warn_clear(struct lsn_warnings *w);

#endif
