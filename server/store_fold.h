/* store_fold.h — the directory search key: lowercase, French accents removed. */
#ifndef LSN_STORE_FOLD_H
#define LSN_STORE_FOLD_H

#include <stddef.h>

/* Fold UTF-8 text into out (always NUL-terminated): ASCII lowercased, Latin-1
 * accented letters to their base letter (é→e, Ç→c, œ→oe), other bytes kept. */
void store_fold(const char *text, char *out, size_t cap);

#endif
