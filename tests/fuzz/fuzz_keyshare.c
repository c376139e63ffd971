/* fuzz_keyshare.c — the key-share opener (shared/keyshare.c): an envelope
 * as a device receives it in its to-device queue, addressed to person B of
 * fuzz_keys.h. Layout first (lsn_ks_parse), then the checks that need no
 * agreement key (lsn_ks_verify), then lsn_ks_open with B's agreement key and
 * the device key of the claimed sender. Properties: the parsed pointers stay
 * inside the envelope; an opened share is exactly ct - 16 bytes and was
 * signed by a known sender; verify and open agree on everything before
 * decryption. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_check.h"
#include "fuzz_keys.h"
#include "keyshare.h"

static struct fuzz_keys keys;

static bool
inside(const unsigned char *env, size_t size, const uint8_t *p, size_t n)
{
	return p >= env && n <= size && (size_t)(p - env) <= size - n;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (keys.p[0].dk_pk[0] == 0 && fuzz_keys_init(&keys) != 0)
		abort();
	struct lsn_ks_parsed p;
	enum lsn_ks_result r = lsn_ks_parse(data, size, &p);
	FUZZ_CHECK(lsn_ks_result_text(r) != NULL);
	if (r != LSN_KS_OK)
		return 0;
	FUZZ_CHECK(size <= LSN_KS_MAX_BYTES);
	FUZZ_CHECK(inside(data, size, p.ad, p.ad_len));
	FUZZ_CHECK(inside(data, size, p.nonce, LSN_KS_NONCE_BYTES));
	FUZZ_CHECK(inside(data, size, p.ct, p.ct_len));
	FUZZ_CHECK(inside(data, size, p.sig, LSN_KS_SIG_BYTES));
	FUZZ_CHECK(p.ct_len >= LSN_KS_TAG_BYTES);

	const struct fuzz_person *me = &keys.p[1];
	struct lsn_ks_addr my_addr;
	memcpy(my_addr.user, me->user, LSN_ID_BYTES);
	memcpy(my_addr.device, me->device, LSN_ID_BYTES);
	const struct fuzz_person *from = fuzz_device(&keys, p.from.device);
	const uint8_t *from_dk = from ? from->dk_pk : keys.p[0].dk_pk;

	enum lsn_ks_result v = lsn_ks_verify(&p, &my_addr, from_dk);
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	enum lsn_ks_result o = lsn_ks_open(&p, &my_addr, from_dk, me->ak_pk, me->ak_sk, &plain,
					   &plain_len);
	if (o == LSN_KS_OK) {
		FUZZ_CHECK(v == LSN_KS_OK && from != NULL);
		FUZZ_CHECK(plain != NULL && plain_len == p.ct_len - LSN_KS_TAG_BYTES);
		FUZZ_CHECK(plain_len <= LSN_KS_MAX_PLAIN);
		sodium_memzero(plain, plain_len);
	} else {
		FUZZ_CHECK(plain == NULL);
		/* open fails for the same reason as verify, or later, at decryption */
		FUZZ_CHECK(o == v || (v == LSN_KS_OK && o == LSN_KS_DECRYPT_FAILED));
	}
	free(plain);
	return 0;
}
