/* invite.c — invite code text form and hash. */
#include <sodium.h>

#include "base32.h"
#include "invite.h"

_Static_assert(LSN_BASE32_CHARS(LSN_INVITE_BYTES) == 24, "24 characters");

void
lsn_invite_random(uint8_t raw[LSN_INVITE_BYTES])
{
	randombytes_buf(raw, LSN_INVITE_BYTES);
}

void
lsn_invite_format(const uint8_t raw[LSN_INVITE_BYTES], char out[LSN_INVITE_TEXT + 1])
{
	lsn_base32_encode(raw, LSN_INVITE_BYTES, 4, out, LSN_INVITE_TEXT + 1);
}

bool
lsn_invite_parse(const char *text, uint8_t raw[LSN_INVITE_BYTES])
{
	return lsn_base32_decode(text, raw, LSN_INVITE_BYTES);
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
