/* syncfault_shim.c — an LD_PRELOAD library for test_sync_fault.py: it makes
 * the server's syncs of its WAL stall or fail on demand, as a disk that
 * hangs or reports an I/O error would.
 *
 * Contract: fsync and fdatasync behave as libc's, except for a file named
 * *.db-wal under $LSN_SYNCFAULT_DIR. For such a file, while the file
 * $LSN_SYNCFAULT_CTL/stall exists the call waits (polling every 10 ms)
 * before syncing; then, if $LSN_SYNCFAULT_CTL/fail exists, it returns -1
 * with errno EIO without syncing. Every such call also appends one line
 * ("sync", "stalled" or "failed") to $LSN_SYNCFAULT_CTL/log, so the test
 * can see that the server really was waiting on a sync. Other files and
 * processes without the variables pass through. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libc's function (ISO C has no cast from dlsym's pointer) */
static void
next_symbol(const char *name, void *fn_ptr, size_t size)
{
	void *sym = dlsym(RTLD_NEXT, name);
	if (sym == NULL || size != sizeof sym) {
		fprintf(stderr, "syncfault_shim: no %s\n", name);
		abort();
	}
	memcpy(fn_ptr, &sym, size);
}

/* fd is the WAL of a database under $LSN_SYNCFAULT_DIR. */
static bool
is_wal(int fd)
{
	const char *dir = getenv("LSN_SYNCFAULT_DIR");
	if (dir == NULL || *dir == '\0' || getenv("LSN_SYNCFAULT_CTL") == NULL)
		return false;
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	size_t dl = strlen(dir), pl = (size_t)n;
	return strncmp(path, dir, dl) == 0 && path[dl] == '/' && pl > 7 &&
	       strcmp(path + pl - 7, ".db-wal") == 0;
}

static bool
ctl_exists(const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", getenv("LSN_SYNCFAULT_CTL"), name);
	return access(path, F_OK) == 0;
}

static void
ctl_log(const char *what)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/log", getenv("LSN_SYNCFAULT_CTL"));
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	char line[32];
	int n = snprintf(line, sizeof line, "%s\n", what);
	if (write(fd, line, (size_t)n) != n) {
		/* the log is a hint for the test's diagnostics only */
	}
	close(fd);
}

/* The fault, if one is set, before the real call; -1 (EIO) to fail it. */
static int
fault(int fd)
{
	if (!is_wal(fd))
		return 0;
	bool stalled = false;
	while (ctl_exists("stall")) {
		stalled = true;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (ctl_exists("fail")) {
		ctl_log("failed");
		errno = EIO;
		return -1;
	}
	ctl_log(stalled ? "stalled" : "sync");
	return 0;
}

int
fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		next_symbol("fsync", &real, sizeof real);
	return fault(fd) < 0 ? -1 : real(fd);
}

int
fdatasync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		next_symbol("fdatasync", &real, sizeof real);
	return fault(fd) < 0 ? -1 : real(fd);
}
