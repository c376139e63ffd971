/* base32.c — Crockford base32 for codes people read and type (base32.h). */
#include <string.h>

#include <sodium.h>

#include "base32.h"

static const char alphabet[] = LSN_BASE32_ALPHABET;

size_t
lsn_base32_text_len(size_t n, unsigned group)
{
	size_t chars = LSN_BASE32_CHARS(n);
	return chars + (group && chars ? (chars - 1) / group : 0);
}

size_t
lsn_base32_encode(const uint8_t *in, size_t n, unsigned group, char *out, size_t cap)
{
	size_t len = lsn_base32_text_len(n, group), o = 0, chars = 0;
	unsigned acc = 0, bits = 0;
	if (cap == 0)
		return 0;
	if (len >= cap) {
		out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			acc = (acc << 8 | in[i]) & 0xfff;   /* at most 12 pending bits */
			bits += 8;
		} else if (bits > 0) {
			acc = (acc << (5 - bits)) & 0xfff;  /* last group: zero fill */
			bits = 5;
		}
		while (bits >= 5) {
			bits -= 5;
			if (group && chars > 0 && chars % group == 0)
				out[o++] = '-';
			out[o++] = alphabet[(acc >> bits) & 31];
			chars++;
		}
	}
	out[o] = '\0';
	return o;
}

static int
decode_char(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'I' || c == 'L')
		c = '1';
	if (c == 'O')
		c = '0';
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

bool
lsn_base32_decode(const char *text, uint8_t *out, size_t n)
{
	size_t want = LSN_BASE32_CHARS(n), chars = 0, o = 0;
	unsigned acc = 0, bits = 0;
	bool ok = text != NULL;
	for (const char *p = text; ok && *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		int v = decode_char(*p);
		if (v < 0 || chars >= want) {
			ok = false;
			break;
		}
		chars++;
		acc = (acc << 5 | (unsigned)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* what is left are the fill bits of the last group: fewer than 5, zero */
	ok = ok && chars == want && o == n && (acc & ((1u << bits) - 1)) == 0;
	if (!ok && n > 0)
		sodium_memzero(out, n);
	return ok;
}
