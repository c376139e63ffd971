/* handle_directory.c — search the professionals enrolled on this server. */
#include "handlers.h"
#include "wire.h"

static void
append_user(const struct store_user *u, void *arg)
{
	json_array_append_new((json_t *)arg, render_user(u));
}

enum lsn_err
handle_directory_search(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_user_query q = {0};
	const char *text = NULL, *profession = NULL;
	uint8_t org_id[LSN_ID_BYTES];
	bool has_org = false;
	int64_t limit = 50;
	enum lsn_err err;
	if ((err = wire_get_str(req, "q", false, 128, &text, &hc->st)) ||
	    (err = wire_get_str(req, "profession", false, 32, &profession, &hc->st)) ||
	    (err = wire_get_id(req, "org", false, org_id, &has_org, &hc->st)) ||
	    (err = wire_get_int(req, "limit", false, 1, 100, &limit, &hc->st)))
		return err;
	if (profession && !lsn_profession_find(profession))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"profession\": unknown profession \"%s\" (e.g. gp, pharmacist, "
				"nurse, cardiologist)", profession);
	q.text = text;
	q.profession = profession;
	q.org_id = has_org ? org_id : NULL;
	q.limit = (int)limit;
	json_t *list = json_array();
	if (list == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	json_object_set_new(reply, "users", list);
	if ((err = store_user_search(hc->srv->store, &q, append_user, list)) != LSN_OK)
		return handler_store_fail(hc, err, "user");
	return LSN_OK;
}
