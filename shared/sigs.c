/* sigs.c — builders for the signed byte strings (CRYPTO.md §1, login). */
#include <string.h>

#include "sigs.h"

void
lsn_buf_init(struct lsn_buf *b, uint8_t *storage, size_t cap)
{
	b->p = storage;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
}

void
lsn_buf_put(struct lsn_buf *b, const void *data, size_t len)
{
	if (b->overflow || len > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

void
lsn_buf_put_lp(struct lsn_buf *b, const void *data, size_t len)
{
	if (len > 0xffff) {
		b->overflow = true;
		return;
	}
	uint8_t be[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	lsn_buf_put(b, be, 2);
	lsn_buf_put(b, data, len);
}

void
lsn_buf_put_u32(struct lsn_buf *b, uint32_t v)
{
	uint8_t be[4];
	for (int i = 0; i < 4; i++)
		be[i] = (uint8_t)(v >> (24 - 8 * i));
	lsn_buf_put(b, be, 4);
}

void
lsn_buf_put_u64(struct lsn_buf *b, uint64_t v)
{
	uint8_t be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	lsn_buf_put(b, be, 8);
}

static size_t
finish(struct lsn_buf *b)
{
	return b->overflow ? 0 : b->len;
}

static void
put_label(struct lsn_buf *b, const char *label)
{
	lsn_buf_put(b, label, strlen(label));
}

size_t
lsn_signed_device_cert(uint8_t out[LSN_SIGNED_MAX],
		       const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
		       const uint8_t dk_pk[crypto_sign_PUBLICKEYBYTES], uint64_t ts_ms)
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, LSN_SIGNED_MAX);
	put_label(&b, "liaison-dev-v1");
	lsn_buf_put_lp(&b, user, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, device, LSN_ID_BYTES);
	lsn_buf_put(&b, dk_pk, crypto_sign_PUBLICKEYBYTES);
	lsn_buf_put_u64(&b, ts_ms);
	return finish(&b);
}

size_t
lsn_signed_ak_cert(uint8_t out[LSN_SIGNED_MAX],
		   const uint8_t device[LSN_ID_BYTES], const uint8_t ak_id[LSN_ID_BYTES],
		   const uint8_t ak_pk[crypto_kx_PUBLICKEYBYTES], uint64_t ts_ms)
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, LSN_SIGNED_MAX);
	put_label(&b, "liaison-ak-v1");
	lsn_buf_put_lp(&b, device, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, ak_id, LSN_ID_BYTES);
	lsn_buf_put(&b, ak_pk, crypto_kx_PUBLICKEYBYTES);
	lsn_buf_put_u64(&b, ts_ms);
	return finish(&b);
}

size_t
lsn_signed_login(uint8_t out[LSN_SIGNED_MAX], const char *server_name,
		 const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
		 const uint8_t challenge[LSN_CHALLENGE_BYTES])
{
	size_t name_len = server_name ? strlen(server_name) : 0;
	if (name_len == 0 || name_len > LSN_SERVER_NAME_MAX)
		return 0;
	struct lsn_buf b;
	lsn_buf_init(&b, out, LSN_SIGNED_MAX);
	put_label(&b, "liaison-login-v1");
	lsn_buf_put_lp(&b, server_name, name_len);
	lsn_buf_put_lp(&b, user, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, device, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, challenge, LSN_CHALLENGE_BYTES);
	return finish(&b);
}

size_t
lsn_signed_revoke(uint8_t out[LSN_SIGNED_MAX],
		  const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
		  uint64_t ts_ms)
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, LSN_SIGNED_MAX);
	put_label(&b, "liaison-revoke-v1");
	lsn_buf_put_lp(&b, user, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, device, LSN_ID_BYTES);
	lsn_buf_put_u64(&b, ts_ms);
	return finish(&b);
}

bool
lsn_sig_verify(const uint8_t sig[crypto_sign_BYTES], const uint8_t *msg, size_t len,
	       const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	return len > 0 && crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}
