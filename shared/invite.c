/* invite.c — invite code text form and hash. */
#include <string.h>

#include <sodium.h>

#include "invite.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void
lsn_invite_random(uint8_t raw[LSN_INVITE_BYTES])
{
	randombytes_buf(raw, LSN_INVITE_BYTES);
}

void
lsn_invite_format(const uint8_t raw[LSN_INVITE_BYTES], char out[LSN_INVITE_TEXT + 1])
{
	size_t o = 0;
	unsigned acc = 0, bits = 0, chars = 0;
	for (size_t i = 0; i < LSN_INVITE_BYTES; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			if (chars > 0 && chars % 4 == 0)
				out[o++] = '-';
			out[o++] = alphabet[(acc >> bits) & 31];
			chars++;
		}
	}
	out[o] = '\0';
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
lsn_invite_parse(const char *text, uint8_t raw[LSN_INVITE_BYTES])
{
	unsigned acc = 0, bits = 0;
	size_t chars = 0, out = 0;
	if (text == NULL)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		int v = decode_char(*p);
		if (v < 0 || chars >= 24)
			return false;
		chars++;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			raw[out++] = (uint8_t)(acc >> bits);
		}
	}
	return chars == 24 && out == LSN_INVITE_BYTES;
}

void
lsn_invite_hash(const uint8_t raw[LSN_INVITE_BYTES], uint8_t hash[LSN_INVITE_HASHBYTES])
{
	static const char label[] = "liaison-invite-v1";
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, LSN_INVITE_HASHBYTES);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, raw, LSN_INVITE_BYTES);
	crypto_generichash_final(&st, hash, LSN_INVITE_HASHBYTES);
}
