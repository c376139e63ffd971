/* profile.c — the profile directory, its lock file (held only by the steps
 * that need the profile alone: profile.h), profile.key (the key derivation
 * parameters, in the clear) and profile.db (encrypted as a whole: its
 * tables meta and sealed, CRYPTO.md §7). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "profile.h"
#include "profile_db.h"
#include "seal.h"
#include "tr.h"

#define PROFILE_LOCK    "lock"

bool
profile_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > PROFILE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* $LIAISON_HOME, else $XDG_DATA_HOME/liaison, else ~/.local/share/liaison. */
static char *
data_home(struct lsn_status *st)
{
	const char *env = getenv("LIAISON_HOME");
	if (env && *env)
		return strdup(env);
	env = getenv("XDG_DATA_HOME");
	if (env && env[0] == '/')
		return profile_path(env, "liaison");
	const char *home = getenv("HOME");
	struct passwd pwd, *pw = NULL;
	char pwbuf[4096];
	if (home == NULL || *home == '\0') {
		if (getpwuid_r(getuid(), &pwd, pwbuf, sizeof pwbuf, &pw) != 0)
			pw = NULL;
		home = pw ? pw->pw_dir : NULL;
	}
	if (home == NULL) {
		lsn_fail(st, LSN_ERR_INTERNAL,
			 "cannot find your home directory; set LIAISON_HOME to a directory");
		return NULL;
	}
	return profile_path(home, ".local/share/liaison");
}

/* mkdir -p with mode 0700 for every directory it creates. */
static bool
make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
		*p = '/';
		if (!ok)
			return false;
	}
	return mkdir(path, 0700) == 0 || errno == EEXIST;
}

static char *
profile_dir(const char *name, struct lsn_status *st)
{
	char *home = data_home(st);
	if (home == NULL)
		return NULL;
	size_t len = strlen(home) + strlen("/profiles/") + strlen(name) + 1;
	char *dir = malloc(len);
	if (dir)
		snprintf(dir, len, "%s/profiles/%s", home, name);
	free(home);
	if (dir == NULL)
		lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	return dir;
}

static bool
file_exists(const char *dir, const char *file)
{
	char *path = profile_path(dir, file);
	bool exists = path && access(path, F_OK) == 0;
	free(path);
	return exists;
}

#define LOCK_POLL_MS 25

/* The lock file, waiting up to PROFILE_LOCK_WAIT_MS for another process. */
enum lsn_err
profile_lock(struct profile *p, const char *why, struct lsn_status *st)
{
	if (p->lock_fd >= 0)
		return LSN_OK;
	char *path = profile_path(p->dir, PROFILE_LOCK);
	if (path == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (p->lock_fd < 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot open the lock of profile \"%s\" in %s: %s",
				p->name, p->dir, strerror(errno));
	for (int waited = 0;; waited += LOCK_POLL_MS) {
		if (flock(p->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return LSN_OK;
		int e = errno;
		if (e != EWOULDBLOCK && e != EINTR) {
			profile_lock_release(p);
			return lsn_fail(st, LSN_ERR_INTERNAL, "cannot lock profile \"%s\": %s",
					p->name, strerror(e));
		}
		if (waited >= PROFILE_LOCK_WAIT_MS)
			break;
		struct timespec ts = {0, LOCK_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	profile_lock_release(p);
	return lsn_fail(st, LSN_ERR_CONFLICT,
			"profile \"%s\" is busy: another liaison process has held its lock (%s) "
			"for more than %d s; retry when it has finished", p->name, why,
			PROFILE_LOCK_WAIT_MS / 1000);
}

void
profile_lock_release(struct profile *p)
{
	if (p->lock_fd >= 0)
		close(p->lock_fd); /* releases the flock */
	p->lock_fd = -1;
}

static struct profile *
profile_alloc(const char *name, struct lsn_status *st)
{
	if (!profile_name_valid(name)) {
		lsn_fail(st, LSN_ERR_BAD_REQUEST,
			 "invalid profile name \"%s\": use 1-64 letters, digits, '.', '_' or '-'",
			 name);
		return NULL;
	}
	struct profile *p = calloc(1, sizeof *p);
	if (p == NULL) {
		lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof p->name, "%s", name);
	p->lock_fd = -1;
	p->dir = profile_dir(name, st);
	if (p->dir == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

enum lsn_err
profile_open(const char *name, struct profile **out, struct lsn_status *st)
{
	*out = NULL;
	struct profile *p = profile_alloc(name, st);
	if (p == NULL)
		return st->err;
	if (!file_exists(p->dir, PROFILE_DB)) {
		lsn_fail(st, LSN_ERR_NOT_FOUND,
			 _("no profile \"%s\" in %s; enrol this device first: "
			   "liaison --profile %s enrol --server wss://HOST:PORT --invite CODE"),
			 p->name, p->dir, p->name);
		profile_close(p);
		return LSN_ERR_NOT_FOUND;
	}
	*out = p;
	return LSN_OK;
}

enum lsn_err
profile_unlock(struct profile *p, const char *passphrase, struct lsn_status *st)
{
	/* the conversion and the migration to the current format run in one
	 * process at a time */
	bool held = p->lock_fd >= 0;
	enum lsn_err err = held ? LSN_OK : profile_lock(p, "opening the profile", st);
	if (err == LSN_OK)
		err = profile_db_unseal(p, passphrase, st);
	if (!held)
		profile_lock_release(p);
	return err;
}

enum lsn_err
profile_reserve(const char *name, struct profile **out, struct lsn_status *st)
{
	*out = NULL;
	struct profile *p = profile_alloc(name, st);
	if (p == NULL)
		return st->err;
	p->reserved = true;
	if (!make_dirs(p->dir)) {
		lsn_fail(st, LSN_ERR_INTERNAL, "cannot create the profile directory %s: %s", p->dir,
			 strerror(errno));
		profile_close(p);
		return LSN_ERR_INTERNAL;
	}
	enum lsn_err err = profile_lock(p, "enrolment", st);
	if (err == LSN_OK && file_exists(p->dir, PROFILE_DB)) {
		err = lsn_fail(st, LSN_ERR_CONFLICT,
			       "profile \"%s\" already exists (%s); to enrol another device or "
			       "account, choose a new name with --profile NAME", p->name, p->dir);
	}
	if (err != LSN_OK) {
		if (err == LSN_ERR_CONFLICT) /* in use by another process: leave it alone */
			p->reserved = false;
		profile_close(p);
		return err;
	}
	chmod(p->dir, 0700);
	*out = p;
	return LSN_OK;
}

enum lsn_err
profile_write_new(struct profile *p, const char *passphrase, struct lsn_status *st)
{
	char *tmp = profile_path(p->dir, PROFILE_DB_TMP);
	if (tmp == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	unlink(tmp);
	enum lsn_err err = profile_db_create(p, tmp, passphrase, st);
	if (err != LSN_OK)
		unlink(tmp);
	free(tmp);
	return err;
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

enum lsn_err
profile_commit_new(struct profile *p, struct lsn_status *st)
{
	char *tmp = profile_path(p->dir, PROFILE_DB_TMP);
	char *db = profile_path(p->dir, PROFILE_DB);
	enum lsn_err err = LSN_OK;
	if (tmp == NULL || db == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	else if (rename(tmp, db) != 0)
		err = lsn_fail(st, LSN_ERR_INTERNAL,
			       "cannot save profile \"%s\" (%s): %s; the enrolment data is in %s",
			       p->name, db, strerror(errno), tmp);
	free(tmp);
	free(db);
	if (err == LSN_OK) {
		sync_dir(p->dir);
		p->committed = true;
	}
	return err;
}

bool
profile_ak_find(const struct profile *p, const uint8_t ak_id[LSN_ID_BYTES], const uint8_t **pk,
		const uint8_t **sk)
{
	if (p->keys == NULL)
		return false;
	if (sodium_memcmp(ak_id, p->ak_id, LSN_ID_BYTES) == 0) {
		*pk = p->ak_pk;
		*sk = p->keys->ak_sk;
		return true;
	}
	for (size_t i = 0; i < p->n_held_ak; i++)
		if (sodium_memcmp(ak_id, p->held_ak[i].id, LSN_ID_BYTES) == 0) {
			*pk = p->held_ak[i].pk;
			*sk = p->keys->held_ak_sk[i];
			return true;
		}
	return false;
}

/* Undo profile_reserve: only files this process made are removed. */
static void
remove_reserved(struct profile *p)
{
	char *tmp = profile_path(p->dir, PROFILE_DB_TMP);
	char *lock = profile_path(p->dir, PROFILE_LOCK);
	char *key = profile_path(p->dir, PROFILE_KEYFILE);
	if (tmp)
		unlink(tmp);
	if (key)
		unlink(key);
	if (lock && p->lock_fd >= 0)
		unlink(lock);
	rmdir(p->dir); /* fails harmlessly if anything else is in it */
	free(tmp);
	free(lock);
	free(key);
}

void
profile_close(struct profile *p)
{
	if (p == NULL)
		return;
	if (p->reserved && !p->committed)
		remove_reserved(p);
	profile_lock_release(p);
	if (p->keys)
		sodium_free(p->keys);
	seal_key_free(p->local_key);
	profile_db_close(p->db);
	free(p->dir);
	free(p->server_url);
	free(p->server_name);
	free(p->device_name);
	free(p->ca_pem);
	free(p);
}
