/* handle_backup.c — encrypted key backup: the identity key sealed under the
 * recovery key, and group sessions sealed under the backup key. Opaque
 * blobs; the server keeps, per session, the entry with the lowest index. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "wire.h"

#define BACKUP_BLOB_MAX   4096
#define BACKUP_BATCH_MAX  500
#define BACKUP_LIST_MAX   500

static enum lsn_err
get_blob(struct handler_ctx *hc, json_t *obj, const char *field, uint8_t *out, size_t *len)
{
	const char *text = NULL;
	enum lsn_err err = wire_get_str(obj, field, true, BACKUP_BLOB_MAX / 3 * 4 + 8, &text, &hc->st);
	if (err != LSN_OK)
		return err;
	if (!wire_b64_decode(text, out, BACKUP_BLOB_MAX, len) || *len == 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"%s\": expected base64 of 1 to %d bytes", field, BACKUP_BLOB_MAX);
	return LSN_OK;
}

enum lsn_err
handle_backup_identity_put(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t blob[BACKUP_BLOB_MAX];
	size_t len = 0;
	enum lsn_err err = get_blob(hc, req, "blob", blob, &len);
	if (err != LSN_OK)
		return err;
	err = store_backup_identity_put(hc->srv->store, hc->sess->user, blob, len, hc->now);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "backup");
}

enum lsn_err
handle_backup_identity_get(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	enum lsn_err err = store_backup_identity_get(hc->srv->store, hc->sess->user, &blob, &len);
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, err, "no key backup for this user; set one up with "
					      "\"liaison backup setup\"");
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "backup");
	json_object_set_new(reply, "blob", wire_b64(blob, len));
	free(blob);
	return LSN_OK;
}

enum lsn_err
handle_backup_put(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	json_t *entries = json_object_get(req, "entries");
	uint8_t data[BACKUP_BLOB_MAX];
	int64_t stored = 0;
	if (!json_is_array(entries) || json_array_size(entries) == 0 ||
	    json_array_size(entries) > BACKUP_BATCH_MAX)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"entries\": expected an array of 1 to %d entries", BACKUP_BATCH_MAX);
	for (size_t i = 0; i < json_array_size(entries); i++) {
		json_t *item = json_array_get(entries, i);
		struct store_backup_entry e = {0};
		bool ok = false;
		enum lsn_err err;
		if ((err = wire_get_id(item, "channel", true, e.channel, NULL, &hc->st)) ||
		    (err = wire_get_b64(item, "session_id", true, e.session_id, 32, &hc->st)) ||
		    (err = wire_get_int(item, "first_index", true, 0, UINT32_MAX, &e.first_index,
					&hc->st)) ||
		    (err = get_blob(hc, item, "data", data, &e.data_len)))
			return lsn_fail(&hc->st, err, "entries[%zu]: %s", i, hc->st.msg);
		e.data = data;
		if ((err = store_backup_put(hc->srv->store, hc->sess->user, &e, hc->now, &ok)) != LSN_OK)
			return handler_store_fail(hc, err, "backup");
		stored += ok;
	}
	json_object_set_new(reply, "stored", json_integer(stored));
	return LSN_OK;
}

struct bk_list {
	json_t *list;
	int count;
};

static void
append_backup(const struct store_backup_entry *e, void *arg)
{
	struct bk_list *l = arg;
	json_array_append_new(l->list,
		json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)e->id,
			  "channel", wire_id(e->channel), "session_id", wire_b64(e->session_id, 32),
			  "first_index", (json_int_t)e->first_index,
			  "data", wire_b64(e->data, e->data_len)));
	l->count++;
}

enum lsn_err
handle_backup_get(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	int64_t after = 0, limit = 200;
	enum lsn_err err;
	if ((err = wire_get_int(req, "after", false, 0, WIRE_ID_MAX, &after, &hc->st)) ||
	    (err = wire_get_int(req, "limit", false, 1, BACKUP_LIST_MAX, &limit, &hc->st)))
		return err;
	struct bk_list l = {.list = json_array()};
	json_object_set_new(reply, "entries", l.list);
	if ((err = store_backup_list(hc->srv->store, hc->sess->user, after, (int)limit + 1,
				     append_backup, &l)) != LSN_OK)
		return handler_store_fail(hc, err, "backup");
	handler_page_finish(reply, l.list, limit);
	return LSN_OK;
}
