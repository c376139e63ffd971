/* login.c — CA choice, login (CRYPTO.md §1: DK signs the challenge), and
 * the open-unlock-connect-login sequence shared by the commands. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "lsn_config.h"
#include "link_diag.h"
#include "login.h"
#include "sigs.h"
#include "wire.h"

static enum lsn_err
use_ca_file(const char *file, const char *source, struct link_ca *ca, struct lsn_status *st)
{
	if (access(file, R_OK) != 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "cannot read the CA certificate %s (%s): %s",
				file, source, strerror(errno));
	ca->file = file;
	snprintf(ca->label, sizeof ca->label, "the CA in %s", file);
	return LSN_OK;
}

enum lsn_err
login_choose_ca(const char *ca_file, const char *profile_pem, struct link_ca *ca,
		  struct lsn_status *st)
{
	memset(ca, 0, sizeof *ca);
	const char *env = getenv("LIAISON_CA");
	if (ca_file)
		return use_ca_file(ca_file, "--ca", ca, st);
	if (env && *env)
		return use_ca_file(env, "LIAISON_CA", ca, st);
	if (profile_pem) {
		ca->pem = profile_pem;
		snprintf(ca->label, sizeof ca->label, "the CA saved in the profile at enrolment");
		return LSN_OK;
	}
	if (access(LSN_DEV_CA, R_OK) == 0)
		return use_ca_file(LSN_DEV_CA, "development CA", ca, st);
	snprintf(ca->label, sizeof ca->label, "the system trust store");
	return LSN_OK;
}

/* A fresh challenge from the server (op "challenge"). */
static enum lsn_err
ask_challenge(struct link *c, uint8_t challenge[LSN_CHALLENGE_BYTES], struct lsn_status *st)
{
	json_t *reply = NULL;
	enum lsn_err err = link_request(c, "challenge", NULL, &reply, st);
	if (err == LSN_OK &&
	    wire_get_b64(reply, "challenge", true, challenge, LSN_CHALLENGE_BYTES, st) != LSN_OK)
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server sent an unusable challenge");
	json_decref(reply);
	return err;
}

static enum lsn_err
login_once(struct profile *p, struct link *c, json_t **reply, struct lsn_status *st)
{
	uint8_t challenge[LSN_CHALLENGE_BYTES], msg[LSN_SIGNED_MAX], sig[crypto_sign_BYTES];
	if (!link_take_challenge(c, challenge)) {
		enum lsn_err err = ask_challenge(c, challenge, st);
		if (err != LSN_OK)
			return err;
	}
	size_t len = lsn_signed_login(msg, p->server_name, p->user, p->device, challenge);
	if (len == 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "the server name in the profile is unusable");
	crypto_sign_detached(sig, NULL, msg, len, p->keys->dk_sk);
	/* batch: the connection unpacks coalesced frames (link.c) */
	json_t *body = json_pack("{s:o, s:o, s:o, s:b}", "user", wire_id(p->user), "device",
				 wire_id(p->device), "sig", wire_b64(sig, sizeof sig), "batch", 1);
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	return link_request(c, "login", body, reply, st);
}

enum lsn_err
login_sign(struct profile *p, struct link *c, json_t **reply, struct lsn_status *st)
{
	const struct link_hello *hello = link_hello(c);
	if (strcmp(hello->server, p->server_name) != 0)
		return lsn_fail(st, LSN_ERR_UNKNOWN_DEVICE,
				"the server at %s is \"%s\", but profile \"%s\" was enrolled at "
				"\"%s\"; check the server or use another --profile",
				p->server_url, hello->server, p->name, p->server_name);
	json_t *r = NULL;
	enum lsn_err err = login_once(p, c, &r, st);
	if (err == LSN_ERR_NO_CHALLENGE) /* the hello challenge was stale: once more */
		err = login_once(p, c, &r, st);
	if (err == LSN_ERR_DEVICE_REVOKED)
		lsn_fail(st, err, "this device has been revoked (device_revoked): enrol again "
			 "with a new invite");
	else if (err == LSN_ERR_UNKNOWN_DEVICE)
		lsn_fail(st, err, "server \"%s\" does not know this device (unknown_device): "
			 "check --profile, or enrol again with a new invite", p->server_name);
	if (err == LSN_OK && !json_is_object(json_object_get(r, "user")))
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server's login reply has no user");
	if (err == LSN_OK && reply)
		*reply = r;
	else
		json_decref(r);
	return err;
}

/* Ask for the passphrase and unlock; a wrong one is asked again, up to
 * o->passphrase_tries times in all (the callback says so to the user). */
static enum lsn_err
unlock_profile(const struct login_config *o, struct profile *p, struct lsn_status *st)
{
	int tries = o->passphrase_tries > 1 ? o->passphrase_tries : 1;
	enum lsn_err err = LSN_OK;
	for (int i = 1; i <= tries; i++) {
		char *pass = NULL;
		err = o->passphrase(o->arg, p->name, &pass, st);
		if (err == LSN_OK)
			err = profile_unlock(p, pass, st);
		o->passphrase_free(pass);
		if (!profile_wrong_passphrase(err))
			break;
	}
	return err;
}

#define TEST_CLOCK_ENV "LIAISON_TEST_CLOCK_OFFSET_MS"
#define TEST_CLOCK_MAX_MS (100LL * 366 * 24 * 3600 * 1000)   /* a century */

enum lsn_err
login_test_clock(struct lsn_status *st)
{
	static bool applied;
	const char *env = getenv(TEST_CLOCK_ENV);
	if (applied || env == NULL || *env == '\0')
		return LSN_OK;
	char *end = NULL;
	errno = 0;
	long long ms = strtoll(env, &end, 10);
	if (errno != 0 || end == env || *end != '\0' || ms > TEST_CLOCK_MAX_MS ||
	    ms < -TEST_CLOCK_MAX_MS)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"%s=\"%s\" is not a number of milliseconds (an integer, may be "
				"negative); fix or unset it (it is a testing aid)", TEST_CLOCK_ENV,
				env);
	lsn_clock_advance_ms((int64_t)ms);
	applied = true;
	return LSN_OK;
}

static enum lsn_err
login_connect(const struct login_config *o, struct login *s, struct lsn_status *st)
{
	struct link_ca ca;
	enum lsn_err err = login_choose_ca(o->ca_file, s->profile->ca_pem, &ca, st);
	if (err == LSN_OK)
		err = link_open(s->profile->server_url, &ca, o->timeout_ms, &s->link, st);
	if (err == LSN_OK)
		err = login_sign(s->profile, s->link, &s->login, st);
	if (err != LSN_OK && o->offline_ok && s->login == NULL && link_diag_unreachable(st->msg)) {
		link_close(s->link);
		s->link = NULL;
		s->offline = true;
		snprintf(s->offline_why, sizeof s->offline_why, "%s", st->msg);
		return LSN_OK;
	}
	return err;
}

enum lsn_err
login_open(const struct login_config *o, struct login *s, struct lsn_status *st)
{
	memset(s, 0, sizeof *s);
	enum lsn_err err = profile_open(o->profile, &s->profile, st);
	if (err == LSN_OK)
		err = unlock_profile(o, s->profile, st);
	if (err == LSN_OK)
		err = login_connect(o, s, st);
	if (err != LSN_OK)
		login_end(s);
	return err;
}

enum lsn_err
login_open_profile(const struct login_config *o, struct login *s, struct lsn_status *st)
{
	memset(s, 0, sizeof *s);
	enum lsn_err err = profile_open(o->profile, &s->profile, st);
	if (err == LSN_OK)
		err = unlock_profile(o, s->profile, st);
	if (err != LSN_OK)
		login_end(s);
	return err;
}

void
login_end(struct login *s)
{
	json_decref(s->login);
	link_close(s->link);
	profile_close(s->profile);
	memset(s, 0, sizeof *s);
}
