/* store_checkpoint.c — checkpoints off the service thread (store.h,
 * "Checkpoints"; docs/OPERATIONS.md, "Durability", point 4).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that brings the WAL
 * to 1000 pages, on the connection that commits: liaisond's service thread,
 * which then copies the pages into the database and syncs both files while
 * every connection waits. Here the writer's connection only counts (its WAL
 * hook, which replaces the automatic checkpoint) and a thread with its own
 * connection copies.
 *
 * A WAL is written again from its start (restarted) only when a write
 * transaction begins while every frame is copied. A writer that never
 * pauses leaves the thread always a few frames behind, so past `limit`
 * pages the writer's hook copies what is left itself (few pages: the
 * thread did the rest) and its next transaction restarts the WAL. That
 * bounds the WAL, and with it the cost of finding a page in it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

struct store_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool wanted, quit;
	sqlite3 *db;                  /* the thread's own connection */
	unsigned start, limit;        /* pages in the WAL */
	unsigned copied;              /* the WAL's pages the thread last copied */
	unsigned seen;                /* the writer's last count (its thread only) */
	struct store_checkpoint_counts n;   /* under mu */
};

/* The writer's hook, after each commit, on the committing thread. Always
 * SQLITE_OK: the commit is done whatever a checkpoint does. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt *c = arg;
	bool restarted = pages >= 0 && (unsigned)pages < c->seen;
	c->seen = pages > 0 ? (unsigned)pages : 0;
	if (restarted) {                      /* the WAL starts again from 0 */
		pthread_mutex_lock(&c->mu);
		c->copied = 0;
		pthread_mutex_unlock(&c->mu);
	}
	if (pages < 0 || (unsigned)pages < c->start)
		return SQLITE_OK;
	if ((unsigned)pages >= c->limit) {
		/* SQLITE_BUSY: the thread is copying; the next commit tries again */
		int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		if (rc == SQLITE_OK)
			c->n.by_writer++;
		pthread_mutex_unlock(&c->mu);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("checkpoint: the writer's copy failed: %s", sqlite3_errstr(rc));
		return SQLITE_OK;
	}
	pthread_mutex_lock(&c->mu);
	if ((unsigned)pages < c->copied)      /* copied in the WAL's last round */
		c->copied = 0;
	/* every `start` new pages, as SQLite's own checkpoint would */
	if (!c->wanted && (unsigned)pages - c->copied >= c->start) {
		c->wanted = true;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

static void *
checkpoint_main(void *arg)
{
	struct store_ckpt *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->quit)
			break;
		c->wanted = false;
		pthread_mutex_unlock(&c->mu);
		int log = 0, done = 0;
		/* PASSIVE: never waits for the writer nor stops it; syncs the WAL
		 * before copying and the database after (synchronous = NORMAL) */
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
						   &done);
		pthread_mutex_lock(&c->mu);
		if (rc == SQLITE_OK) {
			c->n.by_thread++;
			c->copied = done > 0 ? (unsigned)done : 0;
		} else if (rc != SQLITE_BUSY) {
			/* nothing is marked copied unless both syncs succeeded: the
			 * next run copies the same frames again */
			log_warn("checkpoint: %s", sqlite3_errstr(rc));
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

bool
store_checkpointer_start(struct store *s, unsigned start_pages, unsigned limit_pages)
{
	if (s->ckpt != NULL || start_pages == 0 || limit_pages <= start_pages)
		return false;
	const char *path = sqlite3_db_filename(s->db, "main");
	struct store_ckpt *c = calloc(1, sizeof *c);
	if (c == NULL || path == NULL || path[0] == '\0') {
		free(c);
		return false;
	}
	c->start = start_pages;
	c->limit = limit_pages;
	bool ok = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				  NULL) == SQLITE_OK &&
		  sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) ==
			  SQLITE_OK &&
		  sqlite3_exec(c->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) ==
			  SQLITE_OK;
	if (ok && pthread_mutex_init(&c->mu, NULL) == 0) {
		if (pthread_cond_init(&c->cv, NULL) == 0) {
			if (pthread_create(&c->thread, NULL, checkpoint_main, c) == 0) {
				s->ckpt = c;
				/* replaces the automatic checkpoint of the writer */
				sqlite3_wal_hook(s->db, wal_hook, c);
				return true;
			}
			pthread_cond_destroy(&c->cv);
		}
		pthread_mutex_destroy(&c->mu);
	}
	log_warn("checkpoint: cannot start the checkpoint thread (%s); the service thread "
		 "checkpoints", c->db ? sqlite3_errmsg(c->db) : "out of memory");
	sqlite3_close(c->db);
	free(c);
	return false;
}

void
store_checkpointer_stop(struct store *s)
{
	struct store_ckpt *c = s->ckpt;
	if (c == NULL)
		return;
	/* back to SQLite's automatic checkpoint for whatever runs after */
	sqlite3_wal_autocheckpoint(s->db, 1000);
	pthread_mutex_lock(&c->mu);
	c->quit = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	s->ckpt = NULL;
	free(c);
}

struct store_checkpoint_counts
store_checkpoint_counts(struct store *s)
{
	struct store_checkpoint_counts n = {0};
	struct store_ckpt *c = s->ckpt;
	if (c != NULL) {
		pthread_mutex_lock(&c->mu);
		n = c->n;
		pthread_mutex_unlock(&c->mu);
	}
	return n;
}
