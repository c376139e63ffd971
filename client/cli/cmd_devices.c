/* cmd_devices.c — "liaison devices": list your devices (op devices) and
 * revoke one, signed with the identity key (op device_revoke). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "tr.h"
#include "command.h"
#include "clock.h"
#include "output.h"
#include "login.h"
#include "sigs.h"
#include "user_view.h"
#include "wire.h"

static void
add_device_row(struct out_table *t, json_t *device, const char *this_id)
{
	char created[32], seen[32], revoked[32] = "no", name[160];
	const char *id = user_view_str(device, "id");
	const char *device_name = user_view_str(device, "name");
	int64_t revoked_at = user_view_int(device, "revoked_at");
	snprintf(name, sizeof name, "%s%s", device_name ? device_name : "-",
		 id && strcmp(id, this_id) == 0 ? " (this device)" : "");
	if (revoked_at > 0)
		out_time(revoked_at, revoked, sizeof revoked);
	const char *cells[] = {
		id,
		name,
		out_time(user_view_int(device, "created_at"), created, sizeof created),
		out_time(user_view_int(device, "last_seen_at"), seen, sizeof seen),
		revoked,
	};
	out_table_add(t, cells);
}

static int
print_devices(const struct login *s, json_t *reply)
{
	static const char *const headers[] = {N_("DEVICE ID"), N_("NAME"), N_("CREATED"), N_("LAST SEEN"),
					      N_("REVOKED")};
	struct out_table *t = out_table_new(5, headers);
	if (t == NULL) {
		out_error(_("out of memory"));
		return CLI_FAIL;
	}
	char this_id[LSN_ID_HEX + 1];
	lsn_id_to_hex(s->profile->device, this_id);
	size_t i;
	json_t *device;
	json_array_foreach(json_object_get(reply, "devices"), i, device)
		add_device_row(t, device, this_id);
	out_table_print(t, stdout);
	out_table_free(t);
	return CLI_OK;
}

static int
devices_list(const struct cli *cli, struct login *s)
{
	struct lsn_status st = {0};
	json_t *reply = NULL;
	int rc;
	if (link_request(s->link, "devices", NULL, &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (cli->json) {
		rc = out_json_reply(reply);
	} else {
		rc = print_devices(s, reply);
	}
	json_decref(reply);
	return rc;
}

static json_t *
revoke_body(const struct profile *p, const uint8_t device[LSN_ID_BYTES])
{
	uint8_t msg[LSN_SIGNED_MAX], sig[crypto_sign_BYTES], idem_raw[16];
	char idem[2 * sizeof idem_raw + 1];
	int64_t ts = lsn_clock_now_ms();
	size_t len = lsn_signed_revoke(msg, p->user, device, (uint64_t)ts);
	if (len == 0)
		return NULL;
	crypto_sign_detached(sig, NULL, msg, len, p->keys->ik_sk);
	randombytes_buf(idem_raw, sizeof idem_raw);
	sodium_bin2hex(idem, sizeof idem, idem_raw, sizeof idem_raw);
	return json_pack("{s:s, s:o, s:I, s:o}", "idem", idem, "device", wire_id(device), "ts",
			 (json_int_t)ts, "sig", wire_b64(sig, sizeof sig));
}

static void
explain_revoke_error(struct lsn_status *st, const char *device_hex)
{
	if (st->err == LSN_ERR_NOT_FOUND)
		lsn_fail(st, st->err, _("device %s is not one of your devices (not_found): list them "
			 "with liaison devices"), device_hex);
	else if (st->err == LSN_ERR_CONFLICT)
		lsn_fail(st, st->err, _("device %s is already revoked (conflict): nothing to do"),
			 device_hex);
}

static int
devices_revoke(const struct cli *cli, struct login *s, const char *device_hex)
{
	struct lsn_status st = {0};
	json_t *reply = NULL;
	uint8_t device[LSN_ID_BYTES];
	if (!lsn_id_from_hex(device_hex, device))
		return CLI_USAGE; /* checked by cmd_devices_check */
	json_t *body = revoke_body(s->profile, device);
	if (body == NULL) {
		out_error(_("out of memory"));
		return CLI_FAIL;
	}
	if (link_request(s->link, "device_revoke", body, &reply, &st) != LSN_OK) {
		explain_revoke_error(&st, device_hex);
		return out_fail(&st);
	}
	int rc = CLI_OK;
	char when[32];
	if (cli->json) {
		rc = out_json_reply(reply);
	} else {
		printf(_("Device %s revoked at %s.\n"), device_hex,
		       out_time(user_view_int(reply, "revoked_at"), when, sizeof when));
		if (sodium_memcmp(device, s->profile->device, LSN_ID_BYTES) == 0)
			printf(_("That was this device: profile \"%s\" can no longer log in.\n"),
			       s->profile->name);
	}
	json_decref(reply);
	return rc;
}

/* "devices", "devices list" or "devices revoke DEVICE_ID". */
static bool
is_revoke(const struct cmd_call *c)
{
	return c->n_pos > 0 && strcmp(c->pos[0], "revoke") == 0;
}

int
cmd_devices_check(struct cmd_call *c)
{
	int n_pos = c->n_pos;
	const char *const *pos = c->pos;
	const char *sub = n_pos > 0 ? pos[0] : "list";
	bool revoke = is_revoke(c);
	if (!revoke && strcmp(sub, "list") != 0) {
		out_error(_("unknown devices command \"%s\"; use list or revoke"), sub);
		return CLI_USAGE;
	}
	if ((revoke && n_pos != 2) || (!revoke && n_pos > 1)) {
		out_error(revoke ? "devices revoke needs one DEVICE_ID; see liaison devices --help"
				 : "devices list takes no argument; see liaison devices --help");
		return CLI_USAGE;
	}
	uint8_t device[LSN_ID_BYTES];
	if (revoke && !lsn_id_from_hex(pos[1], device)) {
		out_error(_("\"%s\" is not a device id (32 lowercase hex characters); see "
			  "liaison devices list"), pos[1]);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_devices_run(struct cmd_call *c)
{
	return is_revoke(c) ? devices_revoke(c->cli, c->s, c->pos[1]) : devices_list(c->cli, c->s);
}
