/* group_session.c — group session sender ratchet and message envelope
 * (CRYPTO.md §4). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group_session.h"

static const char msg_sig_label[] = "liaison-msg-sig-v1";

#define SIG_LABEL_BYTES (sizeof msg_sig_label - 1)
#define CT_OFF          (LSN_MSG_HEADER_BYTES + LSN_MSG_NONCE_BYTES)

_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf contexts are 8 characters");

/* ---- ratchet ------------------------------------------------------------- */

static void
message_key(uint8_t mk[32], const uint8_t ck[32])
{
	crypto_kdf_derive_from_key(mk, 32, 1, "lsn-mkey", ck);
}

/* ck = CK_{i+1} from ck = CK_i, the old value erased. */
static void
chain_step(uint8_t ck[32])
{
	uint8_t next[32];
	crypto_kdf_derive_from_key(next, sizeof next, 2, "lsn-ckey", ck);
	memcpy(ck, next, sizeof next);
	sodium_memzero(next, sizeof next);
}

void
lsn_gs_outbound_new_det(struct lsn_gs_outbound *s, const uint8_t channel[LSN_ID_BYTES],
			const uint8_t sign_seed[32], const uint8_t ck0[32], int64_t now_ms)
{
	memset(s, 0, sizeof *s);
	memcpy(s->channel, channel, LSN_ID_BYTES);
	crypto_sign_seed_keypair(s->sign_pk, s->sign_sk, sign_seed);
	memcpy(s->chain_key, ck0, 32);
	s->index = 0;
	s->created_at = now_ms;
}

void
lsn_gs_outbound_new(struct lsn_gs_outbound *s, const uint8_t channel[LSN_ID_BYTES],
		    int64_t now_ms)
{
	uint8_t seed[32], ck0[32];
	randombytes_buf(seed, sizeof seed);
	randombytes_buf(ck0, sizeof ck0);
	lsn_gs_outbound_new_det(s, channel, seed, ck0, now_ms);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(ck0, sizeof ck0);
}

void
lsn_gs_outbound_wipe(struct lsn_gs_outbound *s)
{
	sodium_memzero(s, sizeof *s);
}

bool
lsn_gs_outbound_needs_rotation(const struct lsn_gs_outbound *s, int64_t now_ms)
{
	return s->index >= LSN_GS_ROTATE_MESSAGES || now_ms - s->created_at >= LSN_GS_ROTATE_MS;
}

void
lsn_gs_ratchet_step(struct lsn_gs_outbound *s, uint8_t mk[32], uint32_t *index_used)
{
	if (s->index == UINT32_MAX) {   /* exhausted: no key, and seal refuses this index */
		sodium_memzero(mk, 32);
		*index_used = UINT32_MAX;
		return;
	}
	message_key(mk, s->chain_key);
	chain_step(s->chain_key);
	*index_used = s->index;
	s->index++;
}

int
lsn_gs_advance(const uint8_t ck[32], uint32_t from_index, uint32_t to_index, uint8_t out[32])
{
	if (to_index < from_index || to_index - from_index > LSN_GS_MAX_ADVANCE) {
		sodium_memzero(out, 32);
		return -1;
	}
	uint8_t cur[32];
	memcpy(cur, ck, sizeof cur);
	for (uint32_t i = from_index; i < to_index; i++)
		chain_step(cur);
	memcpy(out, cur, sizeof cur);
	sodium_memzero(cur, sizeof cur);
	return 0;
}

/* ---- sessions as the receiver keeps them --------------------------------- */

void
lsn_gs_inbound_from_outbound(struct lsn_gs_inbound *in, const struct lsn_gs_outbound *s,
			     const uint8_t sender_device[LSN_ID_BYTES])
{
	memset(in, 0, sizeof *in);
	memcpy(in->channel, s->channel, LSN_ID_BYTES);
	memcpy(in->session_id, s->sign_pk, 32);
	memcpy(in->sender_device, sender_device, LSN_ID_BYTES);
	in->first_index = s->index;
	memcpy(in->chain_key, s->chain_key, 32);
}

bool
lsn_gs_inbound_consistent(const struct lsn_gs_inbound *a, const struct lsn_gs_inbound *b)
{
	if (memcmp(a->channel, b->channel, LSN_ID_BYTES) != 0 ||
	    memcmp(a->session_id, b->session_id, 32) != 0 ||
	    memcmp(a->sender_device, b->sender_device, LSN_ID_BYTES) != 0)
		return false;
	const struct lsn_gs_inbound *lo = a->first_index <= b->first_index ? a : b;
	const struct lsn_gs_inbound *hi = lo == a ? b : a;
	uint8_t ck[32];
	if (lsn_gs_advance(lo->chain_key, lo->first_index, hi->first_index, ck) != 0)
		return false;
	bool same = sodium_memcmp(ck, hi->chain_key, sizeof ck) == 0;
	sodium_memzero(ck, sizeof ck);
	return same;
}

/* ---- message envelope ---------------------------------------------------- */

/* Ed25519 over "liaison-msg-sig-v1" || H || nonce || ct, where env holds
 * H || nonce || ct in its first body_len bytes. */
static int
sign_body(uint8_t sig[64], const uint8_t *env, size_t body_len, const uint8_t sk[64])
{
	uint8_t *msg = malloc(SIG_LABEL_BYTES + body_len);
	if (msg == NULL)
		return -1;
	memcpy(msg, msg_sig_label, SIG_LABEL_BYTES);
	memcpy(msg + SIG_LABEL_BYTES, env, body_len);
	crypto_sign_detached(sig, NULL, msg, SIG_LABEL_BYTES + body_len, sk);
	free(msg);
	return 0;
}

static bool
verify_body(const uint8_t sig[64], const uint8_t *env, size_t body_len, const uint8_t pk[32])
{
	uint8_t *msg = malloc(SIG_LABEL_BYTES + body_len);
	if (msg == NULL)
		return false;
	memcpy(msg, msg_sig_label, SIG_LABEL_BYTES);
	memcpy(msg + SIG_LABEL_BYTES, env, body_len);
	bool ok = crypto_sign_verify_detached(sig, msg, SIG_LABEL_BYTES + body_len, pk) == 0;
	free(msg);
	return ok;
}

int
lsn_gs_seal_det(const struct lsn_gs_outbound *s, uint32_t index, const uint8_t mk[32],
		const uint8_t sender_device[LSN_ID_BYTES], uint64_t ts_ms,
		const uint8_t nonce[24], const uint8_t *plain, size_t len,
		uint8_t **env, size_t *env_len)
{
	*env = NULL;
	*env_len = 0;
	if (len > LSN_GS_MAX_PLAIN || index == UINT32_MAX || (plain == NULL && len > 0))
		return -1;
	struct lsn_msg_header h = {.version = LSN_MSG_VERSION, .index = index, .ts_ms = ts_ms};
	memcpy(h.channel, s->channel, LSN_ID_BYTES);
	memcpy(h.session_id, s->sign_pk, 32);
	memcpy(h.sender_device, sender_device, LSN_ID_BYTES);

	size_t ct_len = len + LSN_MSG_TAG_BYTES;
	size_t total = CT_OFF + ct_len + LSN_MSG_SIG_BYTES;
	uint8_t *out = malloc(total);
	if (out == NULL)
		return -1;
	lsn_msg_header_write(&h, out);
	memcpy(out + LSN_MSG_HEADER_BYTES, nonce, LSN_MSG_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + CT_OFF, NULL, plain, len, out,
						   LSN_MSG_HEADER_BYTES, NULL, nonce, mk);
	if (sign_body(out + CT_OFF + ct_len, out, CT_OFF + ct_len, s->sign_sk) != 0) {
		free(out);
		return -1;
	}
	*env = out;
	*env_len = total;
	return 0;
}

int
lsn_gs_seal(const struct lsn_gs_outbound *s, uint32_t index, const uint8_t mk[32],
	    const uint8_t sender_device[LSN_ID_BYTES], uint64_t ts_ms,
	    const uint8_t *plain, size_t len, uint8_t **env, size_t *env_len)
{
	uint8_t nonce[LSN_MSG_NONCE_BYTES];
	randombytes_buf(nonce, sizeof nonce);
	return lsn_gs_seal_det(s, index, mk, sender_device, ts_ms, nonce, plain, len, env,
			       env_len);
}

const char *
lsn_gs_result_text(enum lsn_gs_result r)
{
	switch (r) {
	case LSN_GS_OK:
		return "message decrypted";
	case LSN_GS_BAD_FORMAT:
		return "message is malformed or of an unknown version; the sender may need to update";
	case LSN_GS_WRONG_SESSION:
		return "message belongs to another session or channel than the key tried";
	case LSN_GS_WRONG_SENDER:
		return "message claims a sender device that did not share this session; it was not shown";
	case LSN_GS_BAD_SIGNATURE:
		return "message is not signed by its session key; it may be forged and was not shown";
	case LSN_GS_BEFORE_FIRST_KEY:
		return "no key for this message: it was sent before our first key; ask a member to share history";
	case LSN_GS_TOO_FAR_AHEAD:
		return "no key for this message: it is too far ahead of our key; wait for a newer key";
	case LSN_GS_DECRYPT_FAILED:
		return "message does not decrypt with the session key; the key we hold may be wrong, ask for it again";
	}
	return "message: unknown result";
}

/* After every check has passed: CK_first → CK_index → MK_index, decrypt. */
static enum lsn_gs_result
decrypt_at(const struct lsn_gs_inbound *s, const uint8_t *env, size_t ct_len, uint32_t index,
	   uint8_t **plain, size_t *plain_len)
{
	uint8_t ck[32], mk[32];
	if (lsn_gs_advance(s->chain_key, s->first_index, index, ck) != 0)
		return LSN_GS_TOO_FAR_AHEAD;
	message_key(mk, ck);
	sodium_memzero(ck, sizeof ck);
	size_t len = ct_len - LSN_MSG_TAG_BYTES;
	uint8_t *out = malloc(len ? len : 1);
	if (out == NULL) {
		sodium_memzero(mk, sizeof mk);
		return LSN_GS_DECRYPT_FAILED;
	}
	int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, env + CT_OFF, ct_len,
							    env, LSN_MSG_HEADER_BYTES,
							    env + LSN_MSG_HEADER_BYTES, mk);
	sodium_memzero(mk, sizeof mk);
	if (rc != 0) {
		free(out);
		return LSN_GS_DECRYPT_FAILED;
	}
	*plain = out;
	*plain_len = len;
	return LSN_GS_OK;
}

enum lsn_gs_result
lsn_gs_open(const struct lsn_gs_inbound *s, const uint8_t *env, size_t len,
	    struct lsn_msg_header *h_out, uint8_t **plain, size_t *plain_len)
{
	*plain = NULL;
	*plain_len = 0;
	struct lsn_msg_header h;
	if (env == NULL || lsn_msg_header_parse(env, len, &h, NULL) != LSN_OK)
		return LSN_GS_BAD_FORMAT;
	if (h_out != NULL)
		*h_out = h;
	if (memcmp(h.channel, s->channel, LSN_ID_BYTES) != 0 ||
	    memcmp(h.session_id, s->session_id, 32) != 0)
		return LSN_GS_WRONG_SESSION;
	if (memcmp(h.sender_device, s->sender_device, LSN_ID_BYTES) != 0)
		return LSN_GS_WRONG_SENDER;
	size_t body_len = len - LSN_MSG_SIG_BYTES;
	if (!verify_body(env + body_len, env, body_len, h.session_id))
		return LSN_GS_BAD_SIGNATURE;
	if (h.index < s->first_index)
		return LSN_GS_BEFORE_FIRST_KEY;
	if (h.index - s->first_index > LSN_GS_MAX_AHEAD)
		return LSN_GS_TOO_FAR_AHEAD;
	return decrypt_at(s, env, body_len - CT_OFF, h.index, plain, plain_len);
}

void
lsn_gs_envelope_hash(const uint8_t *env, size_t len, uint8_t out[32])
{
	crypto_generichash(out, 32, env, len, NULL, 0);
}
