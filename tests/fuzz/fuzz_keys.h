/* fuzz_keys.h — the fixed identities shared by the fuzz targets and by
 * gen_seeds.c, which signs the seed corpus with them. Everything is derived
 * from constant bytes, so `gen_seeds` regenerates byte-identical seeds and the
 * targets can verify their signatures. Test keys only: never used elsewhere. */
#ifndef LSN_FUZZ_KEYS_H
#define LSN_FUZZ_KEYS_H

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "ident.h"

#define FUZZ_PEOPLE 3   /* A (creator), B, C */

struct fuzz_person {
	uint8_t user[LSN_ID_BYTES];
	uint8_t device[LSN_ID_BYTES];
	uint8_t dk_pk[32], dk_sk[64];      /* device key, Ed25519 */
	uint8_t ak_id[LSN_ID_BYTES];
	uint8_t ak_pk[32], ak_sk[32];      /* agreement key, X25519 */
};

struct fuzz_keys {
	uint8_t channel[LSN_ID_BYTES];
	struct fuzz_person p[FUZZ_PEOPLE];
};

/* 0 on success, -1 if libsodium cannot start. */
static inline int
fuzz_keys_init(struct fuzz_keys *k)
{
	if (sodium_init() < 0)
		return -1;
	memset(k, 0, sizeof *k);
	memset(k->channel, 0xc4, sizeof k->channel);
	for (int i = 0; i < FUZZ_PEOPLE; i++) {
		struct fuzz_person *p = &k->p[i];
		uint8_t seed[32];
		memset(p->user, 0xa0 + i, sizeof p->user);
		memset(p->device, 0xd0 + i, sizeof p->device);
		memset(p->ak_id, 0x50 + i, sizeof p->ak_id);
		memset(seed, 0x10 + i, sizeof seed);
		crypto_sign_seed_keypair(p->dk_pk, p->dk_sk, seed);
		memset(p->ak_sk, 0x30 + i, sizeof p->ak_sk);
		crypto_scalarmult_base(p->ak_pk, p->ak_sk);
	}
	return 0;
}

/* The person whose device id is dev, or NULL. */
static inline const struct fuzz_person *
fuzz_device(const struct fuzz_keys *k, const uint8_t dev[LSN_ID_BYTES])
{
	for (int i = 0; i < FUZZ_PEOPLE; i++)
		if (memcmp(k->p[i].device, dev, LSN_ID_BYTES) == 0)
			return &k->p[i];
	return NULL;
}

#endif
