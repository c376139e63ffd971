/* store_fold.c — accent and case folding for directory search. */
#include <string.h>

#include "store_fold.h"

/* Base letters for U+00C0..U+00FF; NULL = keep the character as is. */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", NULL, "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", NULL, "y",
};

static void
put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + n >= cap)
		return;
	memcpy(out + *o, s, n);
	*o += n;
}

void
store_fold(const char *text, char *out, size_t cap)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)text;
	if (cap == 0)
		return;
	while (*p) {
		if (*p < 0x80) {
			char c = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
			put(out, cap, &o, &c, 1);
			p++;
		} else if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
			const char *base = latin1_fold[p[1] - 0x80];
			if (base)
				put(out, cap, &o, base, strlen(base));
			else
				put(out, cap, &o, (const char *)p, 2);
			p += 2;
		} else if (*p == 0xc5 && (p[1] == 0x92 || p[1] == 0x93)) { /* Œ œ */
			put(out, cap, &o, "oe", 2);
			p += 2;
		} else {
			put(out, cap, &o, (const char *)p, 1);
			p++;
		}
	}
	out[o] = '\0';
}
