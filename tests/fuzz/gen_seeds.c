/* gen_seeds.c — writes the signed and binary seeds of the fuzz corpus:
 * membership logs (mlog/), key-share envelopes (keyshare/) and message
 * envelopes (msg_header/), valid ones and near-valid ones that fail one check
 * each. Everything is signed with the fixed keys of fuzz_keys.h and made
 * deterministically, so the output is byte-identical on every run:
 *
 *   build-fuzz/tests/fuzz/gen_seeds tests/fuzz/corpus
 *
 * The text seeds (wire/, config/, concil_csv/) are written by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "fuzz_keys.h"
#include "keyshare.h"
#include "mlog.h"
#include "msg_header.h"

static const char *outdir;
static struct fuzz_keys keys;
static int written;

static void
put(const char *sub, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", outdir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_seeds: cannot create %s: %s\n", path, strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	written++;
}

/* ---- membership logs ------------------------------------------------------ */

struct log {
	struct lsn_mlog_entry e[16];
	size_t n;
};

/* Append a signed entry by person `by` (its own device), chained. */
static struct lsn_mlog_entry *
append(struct log *l, int by, enum lsn_mlog_action action, int subject, enum lsn_chan_role role)
{
	struct lsn_mlog_entry *e = &l->e[l->n];
	memset(e, 0, sizeof *e);
	memcpy(e->channel, keys.channel, LSN_ID_BYTES);
	e->seq = l->n;
	if (l->n > 0)
		lsn_mlog_hash(&l->e[l->n - 1], e->prev);
	memcpy(e->actor, keys.p[by].user, LSN_ID_BYTES);
	memcpy(e->actor_device, keys.p[by].device, LSN_ID_BYTES);
	e->action = action;
	memcpy(e->subject, keys.p[subject].user, LSN_ID_BYTES);
	e->role = role;
	if (action == LSN_MLOG_CREATE) {
		e->kind = LSN_KIND_TEAM;
		e->history = LSN_HISTORY_SHARED;
	}
	e->ts = 1767225600000LL + (int64_t)l->n * 60000;
	lsn_mlog_sign(e, keys.p[by].dk_sk);
	l->n++;
	return e;
}

/* How many entries the client's replay accepts (signer, signature, rules):
 * each seed is checked to fail where it is meant to. */
static size_t
accepted(const struct log *l)
{
	struct lsn_mlog_state *st = malloc(sizeof *st);
	struct lsn_status status;
	size_t i = 0;
	lsn_mlog_state_init(st);
	for (; i < l->n; i++) {
		const struct lsn_mlog_entry *e = &l->e[i];
		const struct fuzz_person *p = fuzz_device(&keys, e->actor_device);
		if (p == NULL || memcmp(p->user, e->actor, LSN_ID_BYTES) != 0 ||
		    !lsn_mlog_verify_sig(e, p->dk_pk) || lsn_mlog_apply(st, e, &status) != LSN_OK)
			break;
	}
	free(st);
	return i;
}

static void
put_log(const char *name, const struct log *l, size_t expect)
{
	if (accepted(l) != expect) {
		fprintf(stderr, "gen_seeds: %s: %zu entries accepted, meant %zu\n", name, accepted(l),
			expect);
		exit(1);
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(arr, lsn_mlog_to_json(&l->e[i]));
	char *text = json_dumps(arr, JSON_COMPACT);
	put("mlog", name, text, strlen(text));
	free(text);
	json_decref(arr);
}

static void
gen_mlog(void)
{
	struct log l = {0};
	append(&l, 0, LSN_MLOG_CREATE, 0, LSN_CROLE_ADMIN);
	put_log("create.json", &l, 1);
	append(&l, 0, LSN_MLOG_ADD, 1, LSN_CROLE_MEMBER);
	append(&l, 0, LSN_MLOG_ADD, 2, LSN_CROLE_ADMIN);
	put_log("create_add_add.json", &l, 3);
	append(&l, 2, LSN_MLOG_ROLE, 1, LSN_CROLE_ADMIN);
	append(&l, 1, LSN_MLOG_REMOVE, 2, LSN_CROLE_NONE);
	append(&l, 1, LSN_MLOG_ROLE, 0, LSN_CROLE_MEMBER);
	append(&l, 0, LSN_MLOG_LEAVE, 0, LSN_CROLE_NONE);
	put_log("all_actions.json", &l, 7);

	/* near-valid: each fails exactly one check */
	struct log bad = l;
	bad.e[3].sig[10] ^= 1;
	put_log("bad_signature.json", &bad, 3);
	bad = l;
	bad.e[4].prev[0] ^= 1;
	lsn_mlog_sign(&bad.e[4], keys.p[1].dk_sk);
	put_log("broken_chain.json", &bad, 4);
	bad = l;
	memcpy(bad.e[2].actor_device, keys.p[1].device, LSN_ID_BYTES); /* B's device, actor A */
	lsn_mlog_sign(&bad.e[2], keys.p[1].dk_sk);
	put_log("foreign_device.json", &bad, 2);

	struct log r = {0};
	append(&r, 0, LSN_MLOG_CREATE, 0, LSN_CROLE_ADMIN);
	append(&r, 1, LSN_MLOG_ADD, 1, LSN_CROLE_MEMBER);     /* not a member: refused */
	put_log("non_member_adds.json", &r, 1);
	r.n = 1;
	append(&r, 0, LSN_MLOG_ADD, 1, LSN_CROLE_MEMBER);
	append(&r, 0, LSN_MLOG_LEAVE, 0, LSN_CROLE_NONE);     /* last admin leaves: refused */
	put_log("last_admin_leaves.json", &r, 2);
	struct log d = {0};
	append(&d, 1, LSN_MLOG_ADD, 1, LSN_CROLE_MEMBER);     /* no create first */
	put_log("no_create.json", &d, 0);
}

/* ---- key-share envelopes --------------------------------------------------- */

static void
addr_of(int i, struct lsn_ks_addr *a)
{
	memcpy(a->user, keys.p[i].user, LSN_ID_BYTES);
	memcpy(a->device, keys.p[i].device, LSN_ID_BYTES);
}

/* Sealed by `from` to person `to`'s address, with agreement key `ak_of`;
 * flip: a byte to alter, -1 none, -2 drop the last byte, -3 alter the last. */
static void
put_share(const char *name, int from, int to, int ak_of, const char *plain, size_t len,
	  int flip, enum lsn_ks_result expect)
{
	struct lsn_ks_addr fa, ta;
	uint8_t e_sk[32], nonce[24], share_id[16], *env = NULL;
	size_t env_len = 0;
	addr_of(from, &fa);
	addr_of(to, &ta);
	memset(e_sk, 0x60 + written, sizeof e_sk);
	memset(nonce, 0x80 + written, sizeof nonce);
	memset(share_id, 0x20 + written, sizeof share_id);
	if (lsn_ks_seal_det(&fa, keys.p[from].dk_sk, &ta, keys.p[ak_of].ak_id, keys.p[ak_of].ak_pk,
			    e_sk, nonce, share_id, (const uint8_t *)plain, len, &env, &env_len) != 0) {
		fprintf(stderr, "gen_seeds: lsn_ks_seal_det failed for %s\n", name);
		exit(1);
	}
	if (flip >= 0)
		env[flip] ^= 1;
	if (flip == -3)
		env[env_len - 1] ^= 1;   /* last byte of the signature */
	size_t out_len = flip == -2 ? env_len - 1 : env_len;
	/* opened by B, as fuzz_keyshare.c does */
	struct lsn_ks_parsed p;
	struct lsn_ks_addr me;
	uint8_t *opened = NULL;
	size_t opened_len = 0;
	addr_of(1, &me);
	enum lsn_ks_result r = lsn_ks_parse(env, out_len, &p);
	if (r == LSN_KS_OK)
		r = lsn_ks_open(&p, &me, keys.p[from].dk_pk, keys.p[1].ak_pk, keys.p[1].ak_sk, &opened,
				&opened_len);
	free(opened);
	if (r != expect) {
		fprintf(stderr, "gen_seeds: %s opens as \"%s\", meant \"%s\"\n", name,
			lsn_ks_result_text(r), lsn_ks_result_text(expect));
		exit(1);
	}
	put("keyshare", name, env, out_len);
	free(env);
}

static void
gen_keyshare(void)
{
	static const char room[] =
		"{\"type\":\"room_key\",\"channel\":\"c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4\","
		"\"session\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"index\":0}";
	static const char req[] = "{\"type\":\"key_request\",\"session\":\"AAAA\",\"index\":3}";
	char big[4096];
	memset(big, 'k', sizeof big);
	put_share("room_key_a_to_b.bin", 0, 1, 1, room, sizeof room - 1, -1, LSN_KS_OK);
	put_share("key_request_c_to_b.bin", 2, 1, 1, req, sizeof req - 1, -1, LSN_KS_OK);
	put_share("empty_plain.bin", 0, 1, 1, "", 0, -1, LSN_KS_OK);
	put_share("big_plain.bin", 2, 1, 1, big, sizeof big, -1, LSN_KS_OK);
	/* near-valid */
	put_share("not_for_me.bin", 0, 2, 2, room, sizeof room - 1, -1, LSN_KS_NOT_FOR_ME);
	/* signed by A for B, but sealed to C's agreement key: undecryptable */
	put_share("wrong_ak.bin", 0, 1, 2, room, sizeof room - 1, -1, LSN_KS_DECRYPT_FAILED);
	put_share("bad_sig.bin", 0, 1, 1, room, sizeof room - 1, -3, LSN_KS_BAD_SIGNATURE);
	put_share("altered_ct.bin", 0, 1, 1, room, sizeof room - 1, LSN_KS_OVERHEAD + 20,
		  LSN_KS_BAD_SIGNATURE);
	put_share("bad_version.bin", 0, 1, 1, room, sizeof room - 1, 0, LSN_KS_BAD_FORMAT);
	put_share("truncated.bin", 0, 1, 1, room, sizeof room - 1, -2, LSN_KS_BAD_FORMAT);
}

/* ---- message envelopes --------------------------------------------------------- */

static void
put_envelope(const char *name, size_t plain_len, int version, size_t cut)
{
	struct lsn_msg_header h;
	memset(&h, 0, sizeof h);
	h.version = LSN_MSG_VERSION;
	memcpy(h.channel, keys.channel, LSN_ID_BYTES);
	memset(h.session_id, 0x5e, sizeof h.session_id);
	h.index = 42;
	memcpy(h.sender_device, keys.p[0].device, LSN_ID_BYTES);
	h.ts_ms = 1767225600000ULL;
	size_t len = LSN_MSG_MIN_BYTES + plain_len;
	uint8_t *env = malloc(len);
	lsn_msg_header_write(&h, env);
	if (version >= 0)
		env[3] = (uint8_t)version;
	for (size_t i = LSN_MSG_HEADER_BYTES; i < len; i++)
		env[i] = (uint8_t)(i * 7);
	put("msg_header", name, env, len - cut);
	free(env);
}

static void
gen_msg_header(void)
{
	put_envelope("text_message.bin", 120, -1, 0);
	put_envelope("empty_plain.bin", 0, -1, 0);
	put_envelope("version_2.bin", 16, 2, 0);
	put_envelope("one_byte_short.bin", 0, -1, 1);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR   (e.g. tests/fuzz/corpus)\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_seeds: cannot create %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	if (fuzz_keys_init(&keys) != 0) {
		fprintf(stderr, "gen_seeds: libsodium does not start\n");
		return 1;
	}
	gen_mlog();
	gen_keyshare();
	gen_msg_header();
	printf("gen_seeds: %d seeds written under %s\n", written, outdir);
	return 0;
}
