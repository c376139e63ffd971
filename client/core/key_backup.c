/* key_backup.c — set up, feed and restore the encrypted key backup
 * (key_backup.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "key_backup.h"
#include "local.h"
#include "wire.h"

#define BACKUP_BATCH   100
#define BACKUP_PAGE    200

bool
key_backup_enabled(struct e2e *e)
{
	uint8_t bk[32];
	bool on = local_secret_get(e->p, KEY_BACKUP_SECRET, bk, sizeof bk);
	sodium_memzero(bk, sizeof bk);
	return on;
}

/* ---- upload ----------------------------------------------------------------- */

static json_t *
entry_json(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES], const struct local_inbound *in)
{
	char *data = NULL;
	json_t *plain = json_pack("{s:i, s:o, s:o, s:o, s:o, s:I, s:b}", "v", 1, "sender_user",
				  wire_id(in->sender_user), "sender_device",
				  wire_id(in->gs.sender_device), "chain_key",
				  wire_b64(in->gs.chain_key, 32), "forwarded_by",
				  in->forwarded ? wire_id(in->forwarded_by) : json_null(),
				  "direct_index", (json_int_t)in->direct_index, "history", in->history);
	if (plain)
		data = json_dumps(plain, JSON_COMPACT);
	json_decref(plain);
	if (data == NULL)
		return NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0, len = strlen(data);
	int rc = lsn_backup_seal(bk, user, in->gs.channel, in->gs.session_id, in->gs.first_index,
				 (const uint8_t *)data, len, &blob, &blob_len);
	sodium_memzero(data, len);
	free(data);
	if (rc != 0)
		return NULL;
	json_t *entry = json_pack("{s:o, s:o, s:I, s:o}", "channel", wire_id(in->gs.channel),
				  "session_id", wire_b64(in->gs.session_id, 32), "first_index",
				  (json_int_t)in->gs.first_index, "data", wire_b64(blob, blob_len));
	free(blob);
	return entry;
}

/* One batch of not-yet-uploaded sessions; *n: how many were found. */
static enum lsn_err
flush_batch(struct e2e *e, const uint8_t bk[32], size_t *n, struct lsn_status *st)
{
	uint8_t sids[BACKUP_BATCH][LOCAL_SID_BYTES];
	uint32_t first[BACKUP_BATCH];
	enum lsn_err err = local_inbound_not_backed_up(e->p, sids, BACKUP_BATCH, n, st);
	json_t *entries = json_array();
	for (size_t i = 0; i < *n && err == LSN_OK; i++) {
		struct local_inbound in;
		bool found = false;
		err = local_inbound_get(e->p, sids[i], &in, &found, st);
		json_t *entry = err == LSN_OK && found ? entry_json(bk, e->p->user, &in) : NULL;
		first[i] = found ? in.gs.first_index : UINT32_MAX;
		if (entry)
			json_array_append_new(entries, entry);
		sodium_memzero(&in, sizeof in);
	}
	json_t *reply = NULL;
	if (err == LSN_OK && json_array_size(entries) > 0)
		err = e2e_write(e, "backup_put", json_pack("{s:O}", "entries", entries), &reply, st);
	json_decref(reply);
	json_decref(entries);
	/* marked only where the row still starts at the index uploaded */
	for (size_t i = 0; i < *n && err == LSN_OK; i++)
		err = local_inbound_mark_backed_up(e->p, sids[i], first[i], st);
	return err;
}

enum lsn_err
key_backup_flush(struct e2e *e, size_t *uploaded, struct lsn_status *st)
{
	uint8_t bk[32];
	size_t total = 0, n = BACKUP_BATCH;
	enum lsn_err err = LSN_OK;
	if (local_secret_get(e->p, KEY_BACKUP_SECRET, bk, sizeof bk)) {
		while (err == LSN_OK && n == BACKUP_BATCH) {
			err = flush_batch(e, bk, &n, st);
			total += n;
		}
	}
	sodium_memzero(bk, sizeof bk);
	if (uploaded)
		*uploaded = total;
	return err;
}

/* ---- setup ------------------------------------------------------------------- */

static enum lsn_err
backup_exists(struct e2e *e, bool *exists, struct lsn_status *st)
{
	json_t *reply = NULL;
	struct lsn_status gst = {0};
	enum lsn_err err = e2e_read(e, "backup_identity_get", NULL, &reply, &gst);
	json_decref(reply);
	*exists = err == LSN_OK;
	if (err == LSN_OK || err == LSN_ERR_NOT_FOUND)
		return LSN_OK;
	*st = gst;
	return err;
}

enum lsn_err
key_backup_setup(struct e2e *e, char code[LSN_RECOVERY_CODE_TEXT + 1], struct lsn_status *st)
{
	bool exists = false;
	enum lsn_err err = backup_exists(e, &exists, st);
	if (err != LSN_OK)
		return err;
	if (exists || key_backup_enabled(e))
		return lsn_fail(st, LSN_ERR_CONFLICT, "a key backup is already set up for your "
				"account; keep using its recovery code (liaison backup restore on a "
				"new device)");
	uint8_t rk[32], bk[32], ikk[32];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	lsn_backup_rk_random(rk);
	lsn_backup_keys(rk, bk, ikk);
	lsn_recovery_code_format(rk, code);
	if (lsn_backup_seal_identity(ikk, e->p->user, e->p->ik_pk, e->p->keys->ik_sk, &blob,
				     &blob_len) != 0)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	json_t *reply = NULL;
	if (err == LSN_OK)
		err = e2e_write(e, "backup_identity_put", json_pack("{s:o}", "blob",
								     wire_b64(blob, blob_len)),
				&reply, st);
	json_decref(reply);
	free(blob);
	if (err == LSN_OK)
		err = local_secret_put(e->p, KEY_BACKUP_SECRET, bk, sizeof bk, st);
	if (err == LSN_OK)
		err = local_inbound_backup_reset(e->p, st);
	if (err == LSN_OK)
		err = key_backup_flush(e, NULL, st);
	sodium_memzero(rk, sizeof rk);
	sodium_memzero(bk, sizeof bk);
	sodium_memzero(ikk, sizeof ikk);
	return err;
}

/* ---- restore ------------------------------------------------------------------ */

static bool
parse_entry_data(json_t *obj, struct local_inbound *in)
{
	struct lsn_status st;
	int64_t direct = -1;
	bool history = false, forwarded = false;
	if (wire_get_id(obj, "sender_user", true, in->sender_user, NULL, &st) != LSN_OK ||
	    wire_get_id(obj, "sender_device", true, in->gs.sender_device, NULL, &st) != LSN_OK ||
	    wire_get_b64(obj, "chain_key", true, in->gs.chain_key, 32, &st) != LSN_OK ||
	    wire_get_id(obj, "forwarded_by", false, in->forwarded_by, &forwarded, &st) != LSN_OK ||
	    wire_get_int(obj, "direct_index", false, -1, UINT32_MAX, &direct, &st) != LSN_OK ||
	    wire_get_bool(obj, "history", false, &history, &st) != LSN_OK)
		return false;
	in->forwarded = forwarded;
	in->direct_index = direct;
	in->history = history;
	return true;
}

/* One server entry into the store; *added when it gave us a key. */
static enum lsn_err
restore_entry(struct e2e *e, const uint8_t bk[32], json_t *entry, bool *added,
	      struct lsn_status *st)
{
	struct local_inbound in;
	struct lsn_status pst;
	int64_t first = 0;
	const char *b64 = NULL;
	memset(&in, 0, sizeof in);
	*added = false;
	if (wire_get_id(entry, "channel", true, in.gs.channel, NULL, &pst) != LSN_OK ||
	    wire_get_b64(entry, "session_id", true, in.gs.session_id, 32, &pst) != LSN_OK ||
	    wire_get_int(entry, "first_index", true, 0, UINT32_MAX - 1, &first, &pst) != LSN_OK ||
	    wire_get_str(entry, "data", true, 4 * LSN_BACKUP_MAX_DATA, &b64, &pst) != LSN_OK)
		return LSN_OK; /* malformed: skipped */
	size_t cap = strlen(b64), len = 0, data_len = 0;
	uint8_t *blob = malloc(cap ? cap : 1), *data = NULL;
	if (blob && wire_b64_decode(b64, blob, cap, &len) &&
	    lsn_backup_open(bk, e->p->user, in.gs.channel, in.gs.session_id, (uint32_t)first, blob,
			    len, &data, &data_len) == 0) {
		json_t *obj = json_loadb((const char *)data, data_len, 0, NULL);
		in.gs.first_index = (uint32_t)first;
		in.received_at = lsn_clock_now_ms();
		in.backed_up = true;
		memcpy(in.via_device, e->p->device, LSN_ID_BYTES);
		bool conflict = false;
		enum lsn_err err = obj && parse_entry_data(obj, &in)
					   ? local_inbound_merge(e->p, &in, added, &conflict, st) : LSN_OK;
		json_decref(obj);
		sodium_memzero(data, data_len);
		free(data);
		free(blob);
		sodium_memzero(&in, sizeof in);
		return err;
	}
	free(blob);
	return LSN_OK; /* not ours or altered: skipped */
}

static enum lsn_err
check_identity(struct e2e *e, const uint8_t ikk[32], struct lsn_status *st)
{
	json_t *reply = NULL;
	uint8_t blob[LSN_BACKUP_IDENTITY_BYTES], ik_sk[64];
	enum lsn_err err = e2e_read(e, "backup_identity_get", NULL, &reply, st);
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(st, err, "your account has no key backup; set one up on a device "
				"that has your history: liaison backup setup");
	if (err == LSN_OK &&
	    (wire_get_b64(reply, "blob", true, blob, sizeof blob, st) != LSN_OK ||
	     lsn_backup_open_identity(ikk, e->p->user, e->p->ik_pk, blob, sizeof blob, ik_sk) != 0))
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "this recovery code does not open your key "
			       "backup; check the code (14 groups of 4 characters)");
	json_decref(reply);
	sodium_memzero(ik_sk, sizeof ik_sk);
	return err;
}

enum lsn_err
key_backup_restore(struct e2e *e, const uint8_t rk[32], size_t *restored, struct lsn_status *st)
{
	uint8_t bk[32], ikk[32];
	lsn_backup_keys(rk, bk, ikk);
	*restored = 0;
	enum lsn_err err = check_identity(e, ikk, st);
	if (err == LSN_OK)
		err = local_secret_put(e->p, KEY_BACKUP_SECRET, bk, sizeof bk, st);
	int64_t after = 0;
	bool more = err == LSN_OK;
	while (more && err == LSN_OK) {
		json_t *reply = NULL;
		err = e2e_read(e, "backup_get", json_pack("{s:I, s:i}", "after", (json_int_t)after,
							  "limit", BACKUP_PAGE), &reply, st);
		json_t *entries = json_object_get(reply, "entries");
		more = json_is_true(json_object_get(reply, "more")) && json_array_size(entries) > 0;
		size_t i;
		json_t *entry;
		size_t added_here = 0;
		if (err == LSN_OK)
			err = local_begin(e->p, st); /* one page, one transaction */
		json_array_foreach(entries, i, entry) {
			bool added = false;
			if (err == LSN_OK)
				err = restore_entry(e, bk, entry, &added, st);
			added_here += added;
			int64_t id = json_integer_value(json_object_get(entry, "id"));
			after = id > after ? id : after;
		}
		if (err == LSN_OK)
			err = local_commit(e->p, st);
		else
			local_rollback(e->p);
		if (err == LSN_OK)
			*restored += added_here;
		json_decref(reply);
	}
	sodium_memzero(bk, sizeof bk);
	sodium_memzero(ikk, sizeof ikk);
	return err;
}

/* ---- the code -------------------------------------------------------------------- */

enum lsn_err
key_backup_parse_code(const char *text, uint8_t rk[32], struct lsn_status *st)
{
	if (text == NULL || text[0] == '\0')
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "no recovery code: give --recovery-code "
				"CODE or set LIAISON_RECOVERY_CODE");
	if (!lsn_recovery_code_parse(text, rk))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "that is not a valid recovery code (56 "
				"characters in 14 groups of 4, with a checksum); check for a typo");
	return LSN_OK;
}
