/* syncer.c — the pipelined commit's sync thread: fdatasync of the WAL,
 * numbered batches, "covered up to n" (syncer.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "syncer.h"

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, quit, failed, paused;
	uint64_t requested, covered;
	int fd;
	char path[PATH_MAX];
	void (*wake)(void);
} sy = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1};

/* fsync the directory holding path: a new file's entry becomes durable. */
static bool
sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_error("syncer: cannot open %s: %s", dir, strerror(errno));
		return false;
	}
	bool ok = fsync(fd) == 0;
	if (!ok)
		log_error("syncer: fsync of %s failed: %s", dir, strerror(errno));
	close(fd);
	return ok;
}

/* The WAL at sy.path is still the file sy.fd holds; else open the new one
 * and make it and its entry durable. */
static bool
same_file_or_reopen(void)
{
	struct stat a, b;
	if (fstat(sy.fd, &a) == 0 && stat(sy.path, &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev)
		return true;
	int fd = open(sy.path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_error("syncer: the WAL %s was replaced and cannot be opened: %s", sy.path,
			  strerror(errno));
		return false;
	}
	log_warn("syncer: the WAL %s was replaced; syncing the new file", sy.path);
	close(sy.fd);
	sy.fd = fd;
	return fdatasync(sy.fd) == 0 && sync_dir_of(sy.path);
}

static void *
syncer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sy.mu);
	for (;;) {
		while (!sy.quit && (sy.failed || sy.paused || sy.requested <= sy.covered))
			pthread_cond_wait(&sy.cv, &sy.mu);
		if (sy.quit)
			break;
		uint64_t target = sy.requested;   /* every batch written before this sync */
		pthread_mutex_unlock(&sy.mu);
		int err = fdatasync(sy.fd) == 0 ? 0 : errno;
		bool ok = err == 0 && same_file_or_reopen();
		pthread_mutex_lock(&sy.mu);
		if (ok) {
			sy.covered = target;
		} else {
			sy.failed = true;
			log_error("syncer: fdatasync of %s failed (%s): no write is acknowledged any "
				  "more; restart liaisond", sy.path, err ? strerror(err) : "see above");
		}
		pthread_cond_broadcast(&sy.cv);
		pthread_mutex_unlock(&sy.mu);
		sy.wake();
		pthread_mutex_lock(&sy.mu);
	}
	pthread_mutex_unlock(&sy.mu);
	return NULL;
}

bool
syncer_start(const char *wal_path, void (*wake)(void))
{
	if (strlen(wal_path) >= sizeof sy.path) {
		log_error("syncer: WAL path too long");
		return false;
	}
	snprintf(sy.path, sizeof sy.path, "%s", wal_path);
	sy.fd = open(sy.path, O_RDWR | O_CLOEXEC);
	if (sy.fd < 0) {
		log_error("syncer: cannot open the WAL %s: %s", sy.path, strerror(errno));
		return false;
	}
	if (!sync_dir_of(sy.path)) {
		close(sy.fd);
		sy.fd = -1;
		return false;
	}
	sy.wake = wake;
	sy.quit = sy.failed = sy.paused = false;
	sy.requested = sy.covered = 0;
	if (pthread_create(&sy.thread, NULL, syncer_main, NULL) != 0) {
		log_error("syncer: cannot start the sync thread");
		close(sy.fd);
		sy.fd = -1;
		return false;
	}
	sy.running = true;
	return true;
}

void
syncer_stop(void)
{
	if (!sy.running)
		return;
	pthread_mutex_lock(&sy.mu);
	sy.quit = true;
	pthread_cond_broadcast(&sy.cv);
	pthread_mutex_unlock(&sy.mu);
	pthread_join(sy.thread, NULL);
	close(sy.fd);
	sy.fd = -1;
	sy.running = false;
}

bool
syncer_running(void)
{
	return sy.running;
}

void
syncer_request(uint64_t n)
{
	pthread_mutex_lock(&sy.mu);
	if (n > sy.requested) {
		sy.requested = n;
		pthread_cond_broadcast(&sy.cv);
	}
	pthread_mutex_unlock(&sy.mu);
}

uint64_t
syncer_covered(bool *failed)
{
	pthread_mutex_lock(&sy.mu);
	uint64_t n = sy.covered;
	*failed = sy.failed;
	pthread_mutex_unlock(&sy.mu);
	return n;
}

void
syncer_wait(uint64_t n)
{
	pthread_mutex_lock(&sy.mu);
	while (sy.running && !sy.failed && sy.covered < n)
		pthread_cond_wait(&sy.cv, &sy.mu);
	pthread_mutex_unlock(&sy.mu);
}

void
syncer_pause(bool paused)
{
	pthread_mutex_lock(&sy.mu);
	sy.paused = paused;
	pthread_cond_broadcast(&sy.cv);
	pthread_mutex_unlock(&sy.mu);
}
