/* store_backup.c — "liaisond backup FILE": SQLite's online backup of the
 * open database into a new file while the server keeps running.
 *
 * The copy is written to a temporary file beside FILE, synced, checked with
 * PRAGMA integrity_check and only then linked to FILE (link(2) refuses to
 * replace an existing file), so FILE is either a complete checked copy or
 * absent. The source is read in steps of BACKUP_STEP_PAGES pages with a
 * short sleep between them; in WAL mode a reader never blocks the server's
 * writers. A write by the server between two steps makes SQLite restart the
 * copy; after BACKUP_RESTARTS_MAX restarts the rest is copied in one step,
 * which holds one read snapshot (still not blocking writers). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store_internal.h"

#define BACKUP_STEP_PAGES   256
#define BACKUP_SLEEP_MS     5
#define BACKUP_RESTARTS_MAX 8

static enum lsn_err
sqlite_fail(sqlite3 *db, const char *tmp, const char *what, struct lsn_status *st)
{
	int code = db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM;
	if ((code & 0xff) == SQLITE_FULL)
		return lsn_fail(st, LSN_ERR_STORAGE, "disk full while writing %s: free some space or "
				"back up to another file system", tmp);
	return lsn_fail(st, LSN_ERR_STORAGE, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Write every page of src into the database dst. */
static enum lsn_err
copy_pages(sqlite3 *src, sqlite3 *dst, const char *tmp, int64_t *pages, struct lsn_status *st)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL)
		return sqlite_fail(dst, tmp, "cannot start the backup", st);
	int rc, restarts = 0, last_remaining = -1, step = BACKUP_STEP_PAGES;
	for (;;) {
		rc = sqlite3_backup_step(b, step);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		int remaining = sqlite3_backup_remaining(b);
		if (last_remaining >= 0 && remaining > last_remaining && ++restarts >= BACKUP_RESTARTS_MAX)
			step = -1;   /* the server keeps writing: copy the rest in one snapshot */
		last_remaining = remaining;
		sqlite3_sleep(BACKUP_SLEEP_MS);
	}
	*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_FULL)
			return lsn_fail(st, LSN_ERR_STORAGE, "disk full while writing %s: free some space "
					"or back up to another file system", tmp);
		return lsn_fail(st, LSN_ERR_STORAGE, "the backup failed: %s", sqlite3_errstr(rc));
	}
	if (restarts)
		log_info("backup: restarted %d times by concurrent writes", restarts);
	return LSN_OK;
}

/* PRAGMA integrity_check on the copy. */
static enum lsn_err
check_copy(sqlite3 *db, struct lsn_status *st)
{
	sqlite3_stmt *q = NULL;
	enum lsn_err err = LSN_OK;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot check the copy: %s", sqlite3_errmsg(db));
	int rc;
	bool seen_ok = false;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(q, 0);
		if (line && strcmp(line, "ok") == 0) {
			seen_ok = true;
			continue;
		}
		err = lsn_fail(st, LSN_ERR_STORAGE, "the copy fails integrity_check: %s",
			       line ? line : "?");
		break;
	}
	if (err == LSN_OK && (rc != SQLITE_DONE || !seen_ok))
		err = lsn_fail(st, LSN_ERR_STORAGE, "cannot check the copy: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return err;
}

static int
fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

enum lsn_err
store_backup(struct store *s, const char *path, int64_t *pages, struct lsn_status *st)
{
	struct stat sb;
	char dir_buf[PATH_MAX], base_buf[PATH_MAX], tmp[PATH_MAX + 64];
	*pages = 0;
	if (path == NULL || *path == '\0' || strlen(path) >= PATH_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "give the backup file name, e.g. "
				"/var/backups/liaison/liaison-2026-01-31.db");
	if (lstat(path, &sb) == 0)
		return lsn_fail(st, LSN_ERR_CONFLICT, "%s already exists; choose a new file name "
				"(backups are never overwritten)", path);
	if (errno != ENOENT)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot use %s: %s", path, strerror(errno));
	snprintf(dir_buf, sizeof dir_buf, "%s", path);
	snprintf(base_buf, sizeof base_buf, "%s", path);
	const char *dir = dirname(dir_buf), *base = basename(base_buf);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return lsn_fail(st, LSN_ERR_NOT_FOUND, "directory %s does not exist; create it first "
				"(mkdir -p %s)", dir, dir);
	if (access(dir, W_OK) != 0)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot write in %s: %s", dir, strerror(errno));
	snprintf(tmp, sizeof tmp, "%s/.%s.partial-%ld", dir, base, (long)getpid());
	unlink(tmp);

	sqlite3 *dst = NULL;
	enum lsn_err err = LSN_OK;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		err = sqlite_fail(dst, tmp, "cannot create the backup file", st);
	if (err == LSN_OK)
		err = copy_pages(s->db, dst, tmp, pages, st);
	if (err == LSN_OK)
		err = check_copy(dst, st);
	if (sqlite3_close(dst) != SQLITE_OK && err == LSN_OK)
		err = lsn_fail(st, LSN_ERR_STORAGE, "cannot close the backup file %s", tmp);
	if (err == LSN_OK && fsync_path(tmp, O_RDONLY) != 0)
		err = errno == ENOSPC ? lsn_fail(st, LSN_ERR_STORAGE, "disk full while writing %s: free "
						 "some space or back up to another file system", tmp)
				      : lsn_fail(st, LSN_ERR_STORAGE, "cannot sync %s: %s", tmp,
						 strerror(errno));
	if (err == LSN_OK && link(tmp, path) != 0)
		err = errno == EEXIST ? lsn_fail(st, LSN_ERR_CONFLICT, "%s appeared during the backup; "
						 "choose a new file name", path)
				      : lsn_fail(st, LSN_ERR_STORAGE, "cannot create %s: %s", path,
						 strerror(errno));
	/* the temporary name (and any journal SQLite left beside it) goes */
	char side[PATH_MAX + 80];
	unlink(tmp);
	snprintf(side, sizeof side, "%s-journal", tmp);
	unlink(side);
	snprintf(side, sizeof side, "%s-wal", tmp);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", tmp);
	unlink(side);
	if (err == LSN_OK)
		fsync_path(dir, O_RDONLY | O_DIRECTORY);
	return err;
}
