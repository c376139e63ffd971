/* powerloss_shim.c — an LD_PRELOAD library for the power-loss test
 * (tests/integration/test_crash.py with CRASH_POWERLOSS=1): it keeps, beside
 * the database and its WAL, a copy of each as it was when a sync of it
 * began ("<file>.synced"). Only what was written before an fsync or
 * fdatasync started is sure to survive a power cut; the test kills the
 * server, puts these copies in place of the files (what a power cut
 * leaves: nothing written since the last sync) and restarts.
 *
 * Contract: fsync and fdatasync behave as libc's; for a file of
 * $LSN_POWERLOSS_DIR named *.db or *.db-wal, the copy is taken when the
 * sync begins (what it makes durable) and replaces the previous copy
 * atomically (rename) only once the sync has returned successfully: a
 * kill during a sync leaves the copy of the sync before. A SIGKILL at any
 * moment leaves a whole copy; unlinking
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

/* The newest copy promoted for each file (two files: the database and
 * its WAL; a few slots to spare). */
static struct {
	char path[PATH_MAX];
	unsigned long gen;
} promoted[8];
static unsigned long next_gen;

/* A sync of fd begins: if its file is tracked, copy it to a new
 * path.synced.tmp.N (*gen: N) and return true. */
static bool
snapshot(int fd, char *path, char *tmp, size_t size, unsigned long *gen)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, PATH_MAX - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	if (!tracked(path))
		return false;
	pthread_mutex_lock(&mu);
	*gen = ++next_gen;
	snprintf(tmp, size, "%s.synced.tmp.%lu", path, *gen);
	/* read through fd itself: opening the file again and closing that
	 * descriptor would drop every POSIX lock this process holds on it
	 * (fcntl locks are per process and inode), SQLite's SHARED lock on
	 * the database included, and another process could then take it
	 * EXCLUSIVE and delete the WAL under the server */
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = out >= 0;
	char buf[1 << 16];
	for (off_t at = 0; ok; ) {
		ssize_t r = pread(fd, buf, sizeof buf, at);
		if (r == 0)
			break;
		if (r < 0 || write(out, buf, (size_t)r) != r)
			ok = false;
		else
			at += r;
	}
	if (out >= 0)
		close(out);
	pthread_mutex_unlock(&mu);
	if (!ok) {
		fprintf(stderr, "powerloss_shim: cannot copy %s: %s\n", path, strerror(errno));
		abort();                 /* the test must not go on with a stale copy */
	}
	return true;
}

/* The sync that began with copy gen returned: that copy is now what a
 * power cut leaves, unless a newer one was promoted already. */
static void
promote(const char *path, const char *tmp, unsigned long gen, bool synced)
{
	char dst[PATH_MAX + 16];
	snprintf(dst, sizeof dst, "%s.synced", path);
	pthread_mutex_lock(&mu);
	size_t i, free_slot = sizeof promoted / sizeof promoted[0];
	for (i = 0; i < sizeof promoted / sizeof promoted[0]; i++) {
		if (strcmp(promoted[i].path, path) == 0)
			break;
		if (promoted[i].path[0] == '\0' && free_slot == sizeof promoted / sizeof promoted[0])
			free_slot = i;
	}
	if (i == sizeof promoted / sizeof promoted[0]) {
		i = free_slot;
		if (i == sizeof promoted / sizeof promoted[0]) {
			fprintf(stderr, "powerloss_shim: too many files\n");
			abort();
		}
		snprintf(promoted[i].path, sizeof promoted[i].path, "%s", path);
		promoted[i].gen = 0;
	}
	if (synced && gen > promoted[i].gen) {
		if (rename(tmp, dst) != 0) {
			fprintf(stderr, "powerloss_shim: cannot keep %s: %s\n", dst, strerror(errno));
			abort();
		}
		promoted[i].gen = gen;
	} else {
		unlink(tmp);
	}
	pthread_mutex_unlock(&mu);
}

/* The real sync between the copy and its promotion. */
static int
synced_call(int (*real)(int), int fd)
{
	char path[PATH_MAX], tmp[PATH_MAX + 40];
	unsigned long gen = 0;
	bool tracked_file = snapshot(fd, path, tmp, sizeof tmp, &gen);
	int rc = real(fd);
	if (tracked_file)
		promote(path, tmp, gen, rc == 0);
	return rc;
}

int
fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		next_symbol("fsync", &real, sizeof real);
	return synced_call(real, fd);
}

int
fdatasync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		next_symbol("fdatasync", &real, sizeof real);
	return synced_call(real, fd);
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
