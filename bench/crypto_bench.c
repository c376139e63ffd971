/* crypto_bench.c — the client's cryptographic cost per operation (issue 6,
 * item 4): group message encrypt+sign and verify+decrypt, key-share envelope
 * creation and opening, and the Argon2id profile unlock. Prints µs per
 * operation (median of repeated timed batches); --json for scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "group_session.h"
#include "keyshare.h"
#include "seal.h"

#define BATCHES 9

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median over BATCHES batches of the per-call time of fn (n calls a batch). */
static double
measure(void (*fn)(void *), void *arg, int n)
{
	double per[BATCHES];
	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_us();
		for (int i = 0; i < n; i++)
			fn(arg);
		per[b] = (now_us() - t0) / n;
	}
	qsort(per, BATCHES, sizeof per[0], cmp_double);
	return per[BATCHES / 2];
}

struct gs_ctx {
	struct lsn_gs_outbound out;
	struct lsn_gs_inbound in;
	uint8_t device[16];
	uint8_t plain[512];
	uint8_t *env;
	size_t env_len;
};

static void
gs_seal_one(void *arg)
{
	struct gs_ctx *g = arg;
	uint8_t mk[32];
	uint32_t index;
	if (g->out.index > 100000)   /* stay inside the ratchet's advance bound */
		lsn_gs_outbound_new(&g->out, g->out.channel, 0);
	lsn_gs_ratchet_step(&g->out, mk, &index);
	uint8_t *env = NULL;
	size_t len = 0;
	if (lsn_gs_seal(&g->out, index, mk, g->device, 1, g->plain, sizeof g->plain, &env, &len) != 0)
		abort();
	free(env);
}

static void
gs_open_one(void *arg)
{
	struct gs_ctx *g = arg;
	uint8_t *plain = NULL;
	size_t len = 0;
	if (lsn_gs_open(&g->in, g->env, g->env_len, NULL, &plain, &len) != LSN_GS_OK)
		abort();
	free(plain);
}

struct ks_ctx {
	struct lsn_ks_addr from, to;
	uint8_t dk_pk[32], dk_sk[64], ak_id[16], ak_pk[32], ak_sk[32];
	uint8_t plain[200];
	uint8_t *env;
	size_t env_len;
};

static void
ks_seal_one(void *arg)
{
	struct ks_ctx *k = arg;
	uint8_t *env = NULL;
	size_t len = 0;
	if (lsn_ks_seal(&k->from, k->dk_sk, &k->to, k->ak_id, k->ak_pk, k->plain, sizeof k->plain,
			&env, &len) != 0)
		abort();
	free(env);
}

static void
ks_open_one(void *arg)
{
	struct ks_ctx *k = arg;
	struct lsn_ks_parsed p;
	uint8_t *plain = NULL;
	size_t len = 0;
	if (lsn_ks_parse(k->env, k->env_len, &p) != LSN_KS_OK ||
	    lsn_ks_open(&p, &k->to, k->dk_pk, k->ak_pk, k->ak_sk, &plain, &len) != LSN_KS_OK)
		abort();
	free(plain);
}

static void
unlock_one(void *arg)
{
	struct seal_kdf *kdf = arg;
	uint8_t *key = NULL;
	struct lsn_status st = {0};
	if (seal_derive(kdf, "correct horse battery staple", &key, &st) != LSN_OK)
		abort();
	seal_key_free(key);
}

int
main(int argc, char **argv)
{
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (sodium_init() < 0)
		return 1;
	static struct gs_ctx g;
	uint8_t channel[16];
	randombytes_buf(channel, sizeof channel);
	randombytes_buf(g.device, sizeof g.device);
	randombytes_buf(g.plain, sizeof g.plain);
	lsn_gs_outbound_new(&g.out, channel, 0);
	lsn_gs_inbound_from_outbound(&g.in, &g.out, g.device);
	uint8_t mk[32];
	uint32_t index;
	lsn_gs_ratchet_step(&g.out, mk, &index);
	if (lsn_gs_seal(&g.out, index, mk, g.device, 1, g.plain, sizeof g.plain, &g.env, &g.env_len))
		return 1;

	static struct ks_ctx k;
	randombytes_buf(&k.from, sizeof k.from);
	randombytes_buf(&k.to, sizeof k.to);
	randombytes_buf(k.ak_id, sizeof k.ak_id);
	randombytes_buf(k.plain, sizeof k.plain);
	crypto_sign_keypair(k.dk_pk, k.dk_sk);
	crypto_kx_keypair(k.ak_pk, k.ak_sk);
	if (lsn_ks_seal(&k.from, k.dk_sk, &k.to, k.ak_id, k.ak_pk, k.plain, sizeof k.plain, &k.env,
			&k.env_len))
		return 1;

	struct seal_kdf kdf;
	seal_kdf_new(&kdf);
	double r[5] = {
		measure(gs_seal_one, &g, 2000), measure(gs_open_one, &g, 2000),
		measure(ks_seal_one, &k, 500), measure(ks_open_one, &k, 500),
		measure(unlock_one, &kdf, 1),
	};
	const char *names[5] = {"message encrypt+sign (ratchet step, 512 B)",
				"message verify+decrypt (512 B, at the first index)",
				"key-share envelope create (200 B room key)",
				"key-share envelope open", "profile unlock (Argon2id INTERACTIVE)"};
	const char *keys[5] = {"gs_seal_us", "gs_open_us", "ks_seal_us", "ks_open_us", "unlock_us"};
	for (int i = 0; i < 5; i++) {
		if (json)
			printf("%s\"%s\":%.1f%s", i ? "," : "{", keys[i], r[i], i == 4 ? "}\n" : "");
		else
			printf("%-52s %12.1f µs\n", names[i], r[i]);
	}
	free(g.env);
	free(k.env);
	sodium_memzero(&g, sizeof g);
	sodium_memzero(&k, sizeof k);
	return 0;
}
