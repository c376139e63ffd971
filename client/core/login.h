/* login.h — what every command except enrol does first: open and lock the
 * profile, unlock its keys with the passphrase, connect trusting the right CA,
 * and log in by signing the server's challenge with the device key. */
#ifndef LIAISON_LOGIN_H
#define LIAISON_LOGIN_H

#include <jansson.h>

#include "link.h"
#include "profile.h"

/* What opening a session needs from its caller (the CLI's options). */
struct login_config {
	const char *profile;     /* profile name */
	const char *ca_file;     /* a CA file the user named (--ca), or NULL */
	int timeout_ms;          /* for the connection and every request */
	/* Ask for the passphrase of profile name, into a string the caller's
	 * passphrase_free releases (and wipes). */
	enum lsn_err (*passphrase)(void *arg, const char *name, char **out,
				   struct lsn_status *st);
	void (*passphrase_free)(char *pass);
	void *arg;
	/* How many times a wrong passphrase is asked again (0 or 1: once; the
	 * CLI asks 3 times on a terminal, once from a file or the environment). */
	int passphrase_tries;
	/* When the server cannot be reached (link_diag_unreachable), open the
	 * profile anyway: struct login's offline is set, link and login stay
	 * NULL. For what the local store alone can show (liaison read). */
	bool offline_ok;
};

struct login {
	struct profile *profile;
	struct link *link;
	json_t *login; /* the login reply: {"user":{USER},"device":{DEVICE}} */
	bool offline;  /* offline_ok and the server could not be reached */
	char offline_why[256]; /* then: why (the connection's error message) */
};

/* The CA to trust: --ca FILE > $LIAISON_CA > the CA stored in the profile
 * (profile_pem, may be NULL) > LSN_DEV_CA if that file exists > the system
 * trust store. Fails if a CA file named by the user cannot be read. */
enum lsn_err login_choose_ca(const char *ca_file, const char *profile_pem,
			       struct link_ca *ca, struct lsn_status *st);

/* Log in on c as the device of p (keys unlocked), using the hello challenge
 * or a fresh one. *reply (if reply is not NULL) gets the login reply. */
enum lsn_err login_sign(struct profile *p, struct link *c, json_t **reply,
			   struct lsn_status *st);

/* Testing aid: apply $LIAISON_TEST_CLOCK_OFFSET_MS (integer milliseconds,
 * may be negative) to the program's clock with lsn_clock_advance_ms, once
 * per process; the CLI calls it before login_open (and enrol before
 * touching the profile).
 * Fails (bad_request) on a value that is not such an integer. */
enum lsn_err login_test_clock(struct lsn_status *st);

/* Open, unlock, connect and log in; s is filled on success, left empty on
 * failure (st says why). The test clock is the caller's (login_test_clock
 * first). */
enum lsn_err login_open(const struct login_config *o, struct login *s,
			  struct lsn_status *st);
void login_end(struct login *s);
/* Only open and unlock the profile (asking for the passphrase as
 * login_open does): no connection, s->link and s->login stay NULL. */
enum lsn_err login_open_profile(const struct login_config *o, struct login *s,
				struct lsn_status *st);

#endif
