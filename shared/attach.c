/* attach.c — attachment encryption with crypto_secretstream (CRYPTO.md §8). */
#include <string.h>

#include <sodium.h>

#include "attach.h"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL   crypto_secretstream_xchacha20poly1305_TAG_FINAL

_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == LSN_ATTACH_KEY_BYTES, "key");
_Static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == LSN_ATTACH_HEADER_BYTES,
	       "header");

static void
enc_begin(struct lsn_attach_enc *e, const uint8_t id[LSN_ID_BYTES])
{
	memcpy(e->id, id, LSN_ID_BYTES);
	e->finished = false;
	crypto_generichash_init(&e->hash, NULL, 0, LSN_ATTACH_HASH_BYTES);
}

void
lsn_attach_enc_init(struct lsn_attach_enc *e, const uint8_t id[LSN_ID_BYTES],
		    uint8_t key_out[LSN_ATTACH_KEY_BYTES], uint8_t header_out[LSN_ATTACH_HEADER_BYTES])
{
	memset(e, 0, sizeof *e);
	crypto_secretstream_xchacha20poly1305_keygen(key_out);
	crypto_secretstream_xchacha20poly1305_init_push(&e->st, header_out, key_out);
	enc_begin(e, id);
}

/* init_push draws the header at random, then derives the state from (key,
 * header) exactly as init_pull does; init_pull therefore gives the state a
 * push would have had with this header. Test vectors only. */
void
lsn_attach_enc_init_det(struct lsn_attach_enc *e, const uint8_t id[LSN_ID_BYTES],
			const uint8_t key[LSN_ATTACH_KEY_BYTES],
			const uint8_t header[LSN_ATTACH_HEADER_BYTES])
{
	memset(e, 0, sizeof *e);
	crypto_secretstream_xchacha20poly1305_init_pull(&e->st, header, key);
	enc_begin(e, id);
}

int
lsn_attach_enc_chunk(struct lsn_attach_enc *e, const uint8_t *plain, size_t len, bool last,
		     uint8_t *out, size_t *out_len)
{
	*out_len = 0;
	if (e->finished || len > LSN_ATTACH_CHUNK || (!last && len != LSN_ATTACH_CHUNK) ||
	    (plain == NULL && len > 0))
		return -1;
	unsigned long long clen = 0;
	crypto_secretstream_xchacha20poly1305_push(&e->st, out, &clen, plain, len, e->id,
						   LSN_ID_BYTES, last ? TAG_FINAL : TAG_MESSAGE);
	crypto_generichash_update(&e->hash, out, (size_t)clen);
	e->finished = last;
	*out_len = (size_t)clen;
	return 0;
}

void
lsn_attach_enc_final(struct lsn_attach_enc *e, uint8_t hash[LSN_ATTACH_HASH_BYTES])
{
	crypto_generichash_final(&e->hash, hash, LSN_ATTACH_HASH_BYTES);
	sodium_memzero(e, sizeof *e);
}

int
lsn_attach_dec_init(struct lsn_attach_dec *d, const uint8_t id[LSN_ID_BYTES],
		    const uint8_t key[LSN_ATTACH_KEY_BYTES],
		    const uint8_t header[LSN_ATTACH_HEADER_BYTES])
{
	memset(d, 0, sizeof *d);
	memcpy(d->id, id, LSN_ID_BYTES);
	crypto_generichash_init(&d->hash, NULL, 0, LSN_ATTACH_HASH_BYTES);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&d->st, header, key) != 0) {
		d->failed = true;
		return -1;
	}
	return 0;
}

int
lsn_attach_dec_chunk(struct lsn_attach_dec *d, const uint8_t *ct, size_t len, uint8_t *out,
		     size_t *out_len, bool *final)
{
	*out_len = 0;
	*final = false;
	if (d->failed || d->final_seen || ct == NULL || len < ABYTES || len > LSN_ATTACH_CHUNK_CT) {
		d->failed = true;
		return -1;
	}
	unsigned long long mlen = 0;
	unsigned char tag = 0;
	if (crypto_secretstream_xchacha20poly1305_pull(&d->st, out, &mlen, &tag, ct, len, d->id,
						       LSN_ID_BYTES) != 0 ||
	    (tag != TAG_FINAL && (tag != TAG_MESSAGE || len != LSN_ATTACH_CHUNK_CT))) {
		sodium_memzero(out, len - ABYTES);
		d->failed = true;
		return -1;
	}
	crypto_generichash_update(&d->hash, ct, len);
	d->final_seen = tag == TAG_FINAL;
	*final = d->final_seen;
	*out_len = (size_t)mlen;
	return 0;
}

bool
lsn_attach_dec_finish(struct lsn_attach_dec *d, const uint8_t expected_hash[LSN_ATTACH_HASH_BYTES])
{
	uint8_t got[LSN_ATTACH_HASH_BYTES];
	crypto_generichash_final(&d->hash, got, sizeof got);
	bool ok = d->final_seen && !d->failed &&
		  sodium_memcmp(got, expected_hash, sizeof got) == 0;
	sodium_memzero(d, sizeof *d);
	return ok;
}

size_t
lsn_attach_ct_size(uint64_t plain_size, size_t *chunks)
{
	uint64_t n = plain_size == 0 ? 1 : (plain_size + LSN_ATTACH_CHUNK - 1) / LSN_ATTACH_CHUNK;
	if (chunks != NULL)
		*chunks = (size_t)n;
	return (size_t)(plain_size + n * ABYTES);
}
