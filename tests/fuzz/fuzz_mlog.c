/* fuzz_mlog.c — the membership-log verifier (shared/mlog.c): a channel's
 * log as the channel_log reply carries it (a JSON array of entries), replayed
 * the way the client does (client/core/mlog_verify.c, replay()): each entry parsed
 * from JSON, in the right channel and at its index, signed by the device of
 * its actor (the fixed people of fuzz_keys.h stand for the verified peers),
 * then accepted by lsn_mlog_apply. A signature can't be forged by a fuzzer,
 * so the rules are replayed a second time without the signature check, on
 * their own state: lsn_mlog_apply sees every entry shape the fuzzer makes.
 * Properties: an entry that parses survives to_json/from_json unchanged; the
 * membership never passes its cap; every member is unique. */
#include <string.h>

#include <jansson.h>

#include "fuzz_check.h"
#include "fuzz_keys.h"
#include "mlog.h"

#define MAX_ENTRIES 64

static struct fuzz_keys keys;
static struct lsn_mlog_state strict, rules;

static void
check_roundtrip(const struct lsn_mlog_entry *e)
{
	json_t *j = lsn_mlog_to_json(e);
	FUZZ_CHECK(j != NULL);
	struct lsn_mlog_entry back;
	struct lsn_status st;
	memset(&back, 0, sizeof back);
	FUZZ_CHECK(lsn_mlog_from_json(j, &back, &st) == LSN_OK);
	json_decref(j);
	uint8_t a[LSN_MLOG_SIGNED_MAX], b[LSN_MLOG_SIGNED_MAX];
	size_t na = lsn_mlog_signed_bytes(e, a), nb = lsn_mlog_signed_bytes(&back, b);
	FUZZ_CHECK(na <= LSN_MLOG_SIGNED_MAX && na == nb && memcmp(a, b, na) == 0);
	FUZZ_CHECK(memcmp(e->sig, back.sig, sizeof e->sig) == 0);
}

static void
check_state(const struct lsn_mlog_state *s)
{
	FUZZ_CHECK(s->count <= LSN_MLOG_MAX_MEMBERS);
	for (size_t i = 0; i < s->count; i++) {
		FUZZ_CHECK(s->members[i].role == LSN_CROLE_MEMBER || s->members[i].role == LSN_CROLE_ADMIN);
		FUZZ_CHECK(lsn_mlog_member(s, s->members[i].user) == &s->members[i]);
	}
}

/* The client's checks for entry i, in its order; true when it is accepted. */
static bool
verified(const struct lsn_mlog_entry *e, size_t i)
{
	if (memcmp(e->channel, keys.channel, LSN_ID_BYTES) != 0 || e->seq != i)
		return false;
	const struct fuzz_person *p = fuzz_device(&keys, e->actor_device);
	if (p == NULL || memcmp(p->user, e->actor, LSN_ID_BYTES) != 0)
		return false;
	return lsn_mlog_verify_sig(e, p->dk_pk);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (keys.p[0].dk_pk[0] == 0 && fuzz_keys_init(&keys) != 0)
		abort();
	json_error_t jerr;
	json_t *log = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (log == NULL)
		return 0;
	lsn_mlog_state_init(&strict);
	lsn_mlog_state_init(&rules);
	bool strict_ok = true, rules_ok = true;
	size_t i;
	json_t *item;
	json_array_foreach(log, i, item) {
		if (i >= MAX_ENTRIES)
			break;
		struct lsn_mlog_entry e;
		struct lsn_status st;
		memset(&e, 0, sizeof e);
		if (lsn_mlog_from_json(item, &e, &st) != LSN_OK) {
			FUZZ_CHECK(st.err == LSN_ERR_BAD_REQUEST && st.msg[0] != '\0');
			break;
		}
		check_roundtrip(&e);
		if (strict_ok)
			strict_ok = verified(&e, i) && lsn_mlog_apply(&strict, &e, &st) == LSN_OK;
		if (rules_ok)
			rules_ok = lsn_mlog_apply(&rules, &e, &st) == LSN_OK;
		if (!strict_ok && !rules_ok)
			break;
	}
	check_state(&strict);
	check_state(&rules);
	json_decref(log);
	return 0;
}
