/* cmd_enrol.c — "liaison enrol": redeem an invite, create this device's keys
 * (IK, DK, AK; CRYPTO.md §1), register them, save the profile, log in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "command.h"
#include "link.h"
#include "invite.h"
#include "key_backup.h"
#include "peers.h"
#include "output.h"
#include "passphrase.h"
#include "profile.h"
#include "login.h"
#include "sigs.h"
#include "url.h"
#include "user_view.h"
#include "wire.h"
#include "tr.h"

#define DEVICE_NAME_MAX 64
#define CA_PEM_MAX      (64 * 1024)

struct enrol_opts {
	const char *server;
	const char *invite;
	const char *device_name;
	const char *recovery_code;
	bool yes;
	char code[LSN_INVITE_TEXT + 1];     /* canonical form of the invite */
	char host_name[DEVICE_NAME_MAX + 1];
};

/* Certificates made for the enrol request. */
struct enrol_certs {
	uint8_t dk_sig[crypto_sign_BYTES];
	uint8_t ak_sig[crypto_sign_BYTES];
	char idem[2 * 16 + 1];
};

static const char *
default_device_name(struct enrol_opts *o)
{
	if (gethostname(o->host_name, sizeof o->host_name) != 0 || o->host_name[0] == '\0')
		return "liaison-cli";
	o->host_name[sizeof o->host_name - 1] = '\0';
	return o->host_name;
}

/* Values the user typed: checked here so a typo costs no round trip. */
static int
check_enrol_values(struct enrol_opts *o)
{
	struct url url;
	struct lsn_status st = {0};
	uint8_t raw[LSN_INVITE_BYTES];
	if (url_parse(o->server, &url, &st) != LSN_OK) {
		out_error("%s", st.msg);
		return CLI_USAGE;
	}
	if (!lsn_invite_parse(o->invite, raw)) {
		out_error(_("\"%s\" is not an invite code: it has 24 letters and digits, like "
			    "7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ; check it with your administrator"),
			  o->invite);
		return CLI_USAGE;
	}
	lsn_invite_format(raw, o->code);
	sodium_memzero(raw, sizeof raw);
	if (o->device_name == NULL)
		o->device_name = default_device_name(o);
	if (!lsn_display_text_valid(o->device_name, DEVICE_NAME_MAX)) {
		out_error(_("invalid device name: use 1-%d characters without control characters"),
			  DEVICE_NAME_MAX);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* The PEM text of the CA file, to save in the profile (NULL: system store). */
static enum lsn_err
read_ca_pem(const struct link_ca *ca, char **pem, struct lsn_status *st)
{
	*pem = NULL;
	if (ca->file == NULL)
		return LSN_OK;
	FILE *f = fopen(ca->file, "rb");
	char *buf = malloc(CA_PEM_MAX + 1);
	size_t len = f && buf ? fread(buf, 1, CA_PEM_MAX + 1, f) : 0;
	if (f)
		fclose(f);
	if (buf == NULL || len == 0 || len > CA_PEM_MAX) {
		free(buf);
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				_("cannot read a PEM certificate (up to 64 KiB) from %s"), ca->file);
	}
	buf[len] = '\0';
	if (strstr(buf, "-----BEGIN CERTIFICATE-----") == NULL || strlen(buf) != len) {
		free(buf);
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				_("%s is not a PEM certificate; pass the CA with --ca FILE"), ca->file);
	}
	*pem = buf;
	return LSN_OK;
}

/* "Enrolling as NAME, PROFESSION at ORG, roles ..." on stdout (stderr with --json). */
static void
show_invite(const struct cli *cli, json_t *info)
{
	FILE *f = cli->json ? stderr : stdout;
	char roles[128], expires[32];
	const char *rpps = user_view_str(info, "rpps");
	fputs(_("Enrolling as "), f);
	out_text(f, user_view_str(info, "name"));
	fputs(", ", f);
	out_text(f, user_view_profession(info));
	if (rpps) {
		fputs(" (RPPS ", f);
		out_text(f, rpps);
		fputc(')', f);
	}
	fputs(_(" at "), f);
	out_text(f, user_view_org_name(info) ? user_view_org_name(info) : "?");
	fputs(_(", roles "), f);
	out_text(f, user_view_roles(info, roles, sizeof roles));
	fprintf(f, _("; invite valid until %s.\n"),
		out_time(user_view_int(info, "expires_at"), expires, sizeof expires));
	fflush(f);
}

/* Ask on a terminal; without one (scripts) the answer is yes. */
static bool
confirmed(const struct enrol_opts *o)
{
	if (o->yes || !isatty(STDIN_FILENO))
		return true;
	fputs(_("Is this you, and enrol this device? [y/N] "), stderr);
	fflush(stderr);
	char answer[16] = "";
	if (fgets(answer, sizeof answer, stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y' || answer[0] == 'o' || answer[0] == 'O';
}

/* Fresh ids and keys into p, and the certificates IK → DK → AK. For a
 * further device of an existing account (restored = true) p->user and the
 * identity key are already there; for a new identity of an account
 * (liaisond user reset) p->user is, and a new identity key is made. */
static enum lsn_err
make_device(struct profile *p, bool restored, bool new_identity, struct enrol_certs *certs,
	    struct lsn_status *st)
{
	uint8_t msg[LSN_SIGNED_MAX];
	if (p->keys == NULL && (p->keys = profile_keys_new()) == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", _("out of memory"));
	if (!restored) {
		if (!new_identity) /* a new identity of an account keeps its user id */
			lsn_id_random(p->user);
		crypto_sign_keypair(p->ik_pk, p->keys->ik_sk);
	}
	lsn_id_random(p->device);
	lsn_id_random(p->ak_id);
	crypto_sign_keypair(p->dk_pk, p->keys->dk_sk);
	crypto_kx_keypair(p->ak_pk, p->keys->ak_sk);
	p->created_at = p->dk_ts = p->ak_ts = lsn_clock_now_ms();
	size_t len = lsn_signed_device_cert(msg, p->user, p->device, p->dk_pk, (uint64_t)p->dk_ts);
	if (len == 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", _("cannot build the device certificate"));
	crypto_sign_detached(certs->dk_sig, NULL, msg, len, p->keys->ik_sk);
	len = lsn_signed_ak_cert(msg, p->device, p->ak_id, p->ak_pk, (uint64_t)p->ak_ts);
	if (len == 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", _("cannot build the agreement key certificate"));
	crypto_sign_detached(certs->ak_sig, NULL, msg, len, p->keys->dk_sk);
	uint8_t idem[16];
	randombytes_buf(idem, sizeof idem);
	sodium_bin2hex(certs->idem, sizeof certs->idem, idem, sizeof idem);
	return LSN_OK;
}

static json_t *
enrol_body(const struct profile *p, const struct enrol_opts *o, const struct enrol_certs *c)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:I, s:o}",
			 "idem", c->idem, "code", o->code,
			 "user", wire_id(p->user), "device", wire_id(p->device),
			 "device_name", p->device_name,
			 "ik", wire_b64(p->ik_pk, sizeof p->ik_pk),
			 "dk", wire_b64(p->dk_pk, sizeof p->dk_pk), "dk_ts", (json_int_t)p->dk_ts,
			 "dk_sig", wire_b64(c->dk_sig, sizeof c->dk_sig),
			 "ak_id", wire_id(p->ak_id), "ak", wire_b64(p->ak_pk, sizeof p->ak_pk),
			 "ak_ts", (json_int_t)p->ak_ts,
			 "ak_sig", wire_b64(c->ak_sig, sizeof c->ak_sig));
}

/* Send enrol; if the connection is lost before the reply, reconnect and
 * send the same request again: the idem key makes the retry safe. */
static enum lsn_err
send_enrol(struct link **c, const struct link_ca *ca, const struct profile *p,
	   const struct enrol_opts *o, const struct enrol_certs *certs, json_t **reply,
	   struct lsn_status *st)
{
	for (int attempt = 0;; attempt++) {
		json_t *body = enrol_body(p, o, certs);
		if (body == NULL)
			return lsn_fail(st, LSN_ERR_INTERNAL, "%s", _("out of memory"));
		enum lsn_err err = link_request(*c, "enrol", body, reply, st);
		if (err == LSN_OK || link_alive(*c) || attempt == 1)
			return err;
		link_close(*c);
		*c = NULL;
		struct lsn_status again;
		if (link_open(o->server, ca, CLI_TIMEOUT_MS, c, &again) != LSN_OK)
			return err; /* report the first failure */
	}
}

/* Everything an enrolment holds, released by enrol_state_free. */
struct enrol_state {
	struct profile *profile;
	bool restored;          /* a further device: IK restored from the key backup */
	bool new_identity;      /* liaisond user reset: same account, a new IK */
	uint8_t *rk;            /* its recovery key (sodium_malloc), to restore sessions */
	char *pass;
	struct link_ca ca;
	struct link *link;
	json_t *invite_info;
	json_t *enrol_reply;
	json_t *login_reply;
};

static void
enrol_state_free(struct enrol_state *s)
{
	json_decref(s->invite_info);
	json_decref(s->enrol_reply);
	json_decref(s->login_reply);
	passphrase_free(s->pass);
	if (s->rk)
		sodium_free(s->rk);
	link_close(s->link);
	profile_close(s->profile); /* removes a reserved profile never committed */
}

/* Reserve the profile, connect, and read what the invite is for. */
static enum lsn_err
enrol_prepare(const struct cli *cli, const struct enrol_opts *o, struct enrol_state *s,
	      struct lsn_status *st)
{
	enum lsn_err err = profile_reserve(cli->profile, &s->profile, st);
	if (err == LSN_OK)
		err = login_choose_ca(cli->ca_file, NULL, &s->ca, st);
	if (err == LSN_OK)
		err = read_ca_pem(&s->ca, &s->profile->ca_pem, st);
	if (err == LSN_OK)
		err = link_open(o->server, &s->ca, CLI_TIMEOUT_MS, &s->link, st);
	if (err == LSN_OK) {
		json_t *body = json_pack("{s:s}", "code", o->code);
		err = link_request(s->link, "invite_info", body, &s->invite_info, st);
	}
	return err;
}

/* Make the keys, write the sealed profile aside, register, then commit it. */
static enum lsn_err
enrol_register(const struct cli *cli, const struct enrol_opts *o, struct enrol_state *s,
	       struct lsn_status *st)
{
	struct profile *p = s->profile;
	struct enrol_certs certs;
	enum lsn_err err = passphrase_get(cli->passphrase_file, p->name, true, &s->pass, st);
	if (err == LSN_OK)
		err = make_device(p, s->restored, s->new_identity, &certs, st);
	if (err == LSN_OK) {
		p->server_url = strdup(o->server);
		p->server_name = strdup(link_hello(s->link)->server);
		p->device_name = strdup(o->device_name);
		if (!p->server_url || !p->server_name || !p->device_name)
			err = lsn_fail(st, LSN_ERR_INTERNAL, "%s", _("out of memory"));
	}
	if (err == LSN_OK)
		err = profile_write_new(p, s->pass, st);
	if (err == LSN_OK)
		err = send_enrol(&s->link, &s->ca, p, o, &certs, &s->enrol_reply, st);
	if (err == LSN_OK)
		err = profile_commit_new(p, st);
	return err;
}

static int
enrol_report(const struct cli *cli, struct enrol_state *s)
{
	const struct profile *p = s->profile;
	json_t *reply = s->login_reply ? s->login_reply : s->enrol_reply;
	if (cli->json) {
		json_object_set_new(reply, "profile", json_string(p->name));
		json_object_set_new(reply, "server", json_string(p->server_url));
		json_object_set_new(reply, "server_name", json_string(p->server_name));
		return out_json_reply(reply);
	}
	char device[LSN_ID_HEX + 1];
	json_t *user = json_object_get(reply, "user");
	lsn_id_to_hex(p->device, device);
	fputs(_("Enrolled as "), stdout);
	out_text(stdout, user_view_str(user, "name"));
	fputs(" (", stdout);
	out_text(stdout, user_view_profession(user));
	fputs(_(") at "), stdout);
	out_text(stdout, user_view_org_name(user) ? user_view_org_name(user) : "?");
	printf(_(".\nDevice ID %s (\""), device);
	out_text(stdout, p->device_name);
	printf(_("\"), profile \"%s\", server %s ("), p->name, p->server_name);
	out_text(stdout, p->server_url);
	puts(").");
	return CLI_OK;
}

/* A device invite names an existing account: open its identity key from the
 * key backup with the recovery code (CRYPTO.md §7). */
static enum lsn_err
restore_identity(const struct enrol_opts *o, struct enrol_state *s, struct lsn_status *st)
{
	json_t *info = s->invite_info;
	struct profile *p = s->profile;
	uint8_t blob[LSN_BACKUP_IDENTITY_BYTES], bk[32], ikk[32];
	if (wire_get_id(info, "user", true, p->user, NULL, st) != LSN_OK)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "%s", _("the server's invite_info is malformed"));
	if (json_object_get(info, "backup_identity") == NULL)
		return lsn_fail(st, LSN_ERR_NOT_FOUND, "%s", _("this invite adds a device to an existing "
				"account, but the account has no key backup; set one up on your "
				"other device (liaison backup setup), then retry"));
	if (wire_get_b64(info, "ik", true, p->ik_pk, sizeof p->ik_pk, st) != LSN_OK)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "%s", _("the server does not give the "
				"account's identity key with this invite (invite_info has no \"ik\"); "
				"upgrade liaisond"));
	if (wire_get_b64(info, "backup_identity", true, blob, sizeof blob, st) != LSN_OK)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "%s", _("the key backup of this account is malformed"));
	if ((s->rk = sodium_malloc(32)) == NULL || (p->keys = profile_keys_new()) == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", _("out of memory"));
	enum lsn_err err = key_backup_read_code(o->recovery_code, s->rk, st);
	if (err == LSN_OK) {
		lsn_backup_keys(s->rk, bk, ikk);
		if (lsn_backup_open_identity(ikk, p->user, p->ik_pk, blob, sizeof blob,
					     p->keys->ik_sk) != 0)
			err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "%s", _("this recovery code does not open "
				       "the account's key backup; check the code"));
	}
	sodium_memzero(bk, sizeof bk);
	sodium_memzero(ikk, sizeof ikk);
	s->restored = err == LSN_OK;
	return err;
}

/* After the first login: the history keys from the backup. */
static void
restore_sessions(const struct cli *cli, struct enrol_state *s)
{
	struct lsn_status st = {0};
	struct e2e e;
	size_t restored = 0;
	memset(&e, 0, sizeof e);
	e.opts.ca_file = cli->ca_file; /* for a reconnection */
	e.opts.timeout_ms = CLI_TIMEOUT_MS;
	e.p = e.s.profile = s->profile;
	e.s.link = s->link;
	e.peers = peers_new();
	enum lsn_err err = profile_unlock(s->profile, s->pass, &st);
	if (err == LSN_OK && e.peers)
		err = key_backup_restore(&e, s->rk, &restored, &st);
	peers_free(e.peers);
	out_warnings(&e.warnings);
	s->link = e.s.link; /* a reconnection may have replaced it */
	if (err != LSN_OK)
		out_error(_("enrolled, but restoring the history keys failed: %s; run liaison "
			    "backup restore"), st.msg);
	else if (!cli->json)
		printf(ngettext("Restored %zu conversation key from your key backup.\n",
				"Restored %zu conversation keys from your key backup.\n", restored),
		       restored);
}

/* Without a key backup a lost device means a new identity and no history:
 * on a terminal (no --yes, no --json) offer to set it up now; otherwise say
 * how. Scripts are never asked. */
static void
offer_backup(const struct cli *cli, const struct enrol_opts *o, struct enrol_state *s)
{
	const char *hint = _(
		"Next: set up the encrypted key backup with \"liaison backup setup\" and keep "
		"its recovery code safe; without it, a lost device means a new identity and "
		"no history.\n");
	FILE *f = cli->json ? stderr : stdout;
	if (o->yes || cli->json || !isatty(STDIN_FILENO)) {
		fputs(hint, f);
		return;
	}
	fputs(_("Set up the encrypted key backup now (recommended)? [Y/n] "), stderr);
	fflush(stderr);
	char answer[16] = "";
	if (fgets(answer, sizeof answer, stdin) == NULL || answer[0] == 'n' || answer[0] == 'N') {
		fputs(hint, f);
		return;
	}
	struct lsn_status st = {0};
	struct e2e e;
	memset(&e, 0, sizeof e);
	e.opts.ca_file = cli->ca_file; /* for a reconnection */
	e.opts.timeout_ms = CLI_TIMEOUT_MS;
	e.p = e.s.profile = s->profile;
	e.s.link = s->link;
	e.peers = peers_new();
	if (e.peers == NULL || profile_unlock(s->profile, s->pass, &st) != LSN_OK) {
		out_error(_("enrolled, but the key backup could not be set up: %s; run liaison "
			    "backup setup"), st.msg[0] ? st.msg : _("out of memory"));
	} else if (cmd_backup_setup_in(&e) != CLI_OK) {
		out_error("%s", _("enrolled; set up the key backup later with liaison backup setup"));
	}
	peers_free(e.peers);
	out_warnings(&e.warnings);
	s->link = e.s.link; /* a reconnection may have replaced it */
}

static int
enrol_run(const struct cli *cli, const struct enrol_opts *o, struct enrol_state *s)
{
	struct lsn_status st = {0};
	if (enrol_prepare(cli, o, s, &st) != LSN_OK)
		return out_fail(&st);
	show_invite(cli, s->invite_info);
	s->new_identity = json_is_true(json_object_get(s->invite_info, "new_identity"));
	if (s->new_identity) {
		if (wire_get_id(s->invite_info, "user", true, s->profile->user, NULL, &st) != LSN_OK)
			return out_fail(&st);
		fputs(_("This invite gives your account a new identity (your administrator reset "
		      "it after a lost device): your contacts will be asked to check your "
		      "safety number, and earlier messages cannot be read on this device.\n"),
		      cli->json ? stderr : stdout);
	} else if (json_object_get(s->invite_info, "user") && restore_identity(o, s, &st) != LSN_OK) {
		return out_fail(&st);
	}
	if (!confirmed(o)) {
		out_error("%s", _("enrolment cancelled; nothing was changed and the invite is still "
				  "valid"));
		return CLI_FAIL;
	}
	if (enrol_register(cli, o, s, &st) != LSN_OK)
		return out_fail(&st);
	if (login_sign(s->profile, s->link, &s->login_reply, &st) != LSN_OK) {
		out_error(_("enrolled and saved profile \"%s\", but the first login failed: %s"),
			  s->profile->name, st.msg);
		return CLI_FAIL;
	}
	int rc = enrol_report(cli, s);
	if (s->restored)
		restore_sessions(cli, s);
	else if (rc == CLI_OK)
		offer_backup(cli, o, s);
	return rc;
}

/* The options hold the invite code: wiped. */
static void
enrol_opts_free(void *o)
{
	sodium_memzero(o, sizeof(struct enrol_opts));
	free(o);
}

int
cmd_enrol_check(struct cmd_call *c)
{
	struct enrol_opts *o = cmd_keep_new(c, sizeof *o, enrol_opts_free);
	if (o == NULL)
		return CLI_FAIL;
	o->server = cmd_opt(c, "--server");
	o->invite = cmd_opt(c, "--invite");
	o->device_name = cmd_opt(c, "--device-name");
	o->recovery_code = cmd_opt(c, "--recovery-code");
	o->yes = cmd_flag(c, "--yes");
	if (o->server == NULL || o->invite == NULL) {
		out_error("%s", _("enrol needs --server wss://HOST:PORT and --invite CODE; see "
				"liaison enrol --help"));
		return CLI_USAGE;
	}
	int rc = check_enrol_values(o);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	if (login_test_clock(&st) != LSN_OK) {
		out_fail(&st);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_enrol_run(struct cmd_call *c)
{
	struct enrol_state s;
	memset(&s, 0, sizeof s);
	int rc = enrol_run(c->cli, c->data, &s);
	enrol_state_free(&s);
	return rc;
}
