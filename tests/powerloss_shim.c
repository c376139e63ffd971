/* powerloss_shim.c — an LD_PRELOAD library for the power-loss test
 * (tests/integration/test_crash.py with CRASH_POWERLOSS=1): it keeps, beside
 * the database and its WAL, a copy of each as it was when a sync of it
 * began ("<file>.synced"). Only what was written before an fsync or
 * fdatasync started is sure to survive a power cut; the test kills the
 * server, puts these copies in place of the files (what a power cut
 * leaves: nothing written since the last sync) and restarts.
 *
 * Contract: fsync and fdatasync behave as libc's; for a file of
 * $LSN_POWERLOSS_DIR named *.db or *.db-wal, the copy is taken first (the
 * state the sync makes durable) and replaces the previous copy atomically
 * (rename), so a SIGKILL at any moment leaves a whole copy; unlinking
 * such a file (SQLite deletes the WAL once it is wholly checkpointed and
 * the database synced) drops its copy too. Other files pass through. The shim never makes a write durable that was not synced:
 * it copies from the file, it does not keep it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* libc's function name (ISO C has no cast from dlsym's pointer) */
static void
next_symbol(const char *name, void *fn_ptr, size_t size)
{
	void *sym = dlsym(RTLD_NEXT, name);
	if (sym == NULL || size != sizeof sym) {
		fprintf(stderr, "powerloss_shim: no %s\n", name);
		abort();
	}
	memcpy(fn_ptr, &sym, size);
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* path is one of the files the shim keeps copies of. */
static bool
tracked(const char *path)
{
	const char *dir = getenv("LSN_POWERLOSS_DIR");
	size_t dl = dir ? strlen(dir) : 0;
	return dl > 0 && strncmp(path, dir, dl) == 0 && path[dl] == '/' &&
	       (ends_with(path, ".db") || ends_with(path, ".db-wal"));
}

/* Copy fd's file to path.synced (through path.synced.tmp and rename). */
static void
snapshot(int fd)
{
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	if (!tracked(path))
		return;
	char tmp[PATH_MAX + 16], dst[PATH_MAX + 16];
	snprintf(tmp, sizeof tmp, "%s.synced.tmp", path);
	snprintf(dst, sizeof dst, "%s.synced", path);
	pthread_mutex_lock(&mu);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = in >= 0 && out >= 0;
	char buf[1 << 16];
	while (ok) {
		ssize_t r = read(in, buf, sizeof buf);
		if (r == 0)
			break;
		if (r < 0 || write(out, buf, (size_t)r) != r)
			ok = false;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (ok)
		ok = rename(tmp, dst) == 0;
	if (!ok) {
		fprintf(stderr, "powerloss_shim: cannot copy %s: %s\n", path, strerror(errno));
		abort();                 /* the test must not go on with a stale copy */
	}
	pthread_mutex_unlock(&mu);
}

int
fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		next_symbol("fsync", &real, sizeof real);
	snapshot(fd);
	return real(fd);
}

int
fdatasync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		next_symbol("fdatasync", &real, sizeof real);
	snapshot(fd);
	return real(fd);
}

int
unlink(const char *path)
{
	static int (*real)(const char *);
	if (real == NULL)
		next_symbol("unlink", &real, sizeof real);
	int rc = real(path);
	char abs[PATH_MAX], copy[PATH_MAX + 16];
	if (rc == 0 && realpath(".", abs) && path[0] != '/') {
		size_t n = strlen(abs);
		snprintf(abs + n, sizeof abs - n, "/%s", path);
	} else if (rc == 0) {
		snprintf(abs, sizeof abs, "%s", path);
	}
	if (rc == 0 && tracked(abs)) {
		snprintf(copy, sizeof copy, "%s.synced", abs);
		pthread_mutex_lock(&mu);
		real(copy);
		pthread_mutex_unlock(&mu);
	}
	return rc;
}
