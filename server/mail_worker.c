/* mail_worker.c — one thread, a queue of jobs in, a list of outcomes out
 * (mail_worker.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mail_worker.h"

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, quit;
	atomic_bool abort;
	const struct config *cfg;
	const char *password;
	struct mail_job *todo_head, **todo_tail;
	struct mail_job *done_head, **done_tail;
	unsigned count;                  /* queued + in progress + done */
} w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void
mail_job_free(struct mail_job *job)
{
	if (job == NULL)
		return;
	sodium_memzero(job, sizeof *job);
	free(job);
}

static void
push_done(struct mail_job *job)
{
	job->next = NULL;
	*w.done_tail = job;
	w.done_tail = &job->next;
}

static void *
worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&w.mu);
	for (;;) {
		while (w.todo_head == NULL && !w.quit)
			pthread_cond_wait(&w.cv, &w.mu);
		if (w.quit)
			break;
		struct mail_job *job = w.todo_head;
		w.todo_head = job->next;
		if (w.todo_head == NULL)
			w.todo_tail = &w.todo_head;
		pthread_mutex_unlock(&w.mu);
		mail_smtp_send(w.cfg, w.password, job->to, job->message, job->len, &w.abort,
			       &job->result);
		pthread_mutex_lock(&w.mu);
		push_done(job);
	}
	pthread_mutex_unlock(&w.mu);
	return NULL;
}

enum lsn_err
mail_worker_start(const struct config *cfg, const char *password, struct lsn_status *st)
{
	w.cfg = cfg;
	w.password = password;
	w.quit = false;
	atomic_store(&w.abort, false);
	w.todo_head = w.done_head = NULL;
	w.todo_tail = &w.todo_head;
	w.done_tail = &w.done_head;
	w.count = 0;
	if (pthread_create(&w.thread, NULL, worker_main, NULL) != 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "mail: cannot start the mail thread");
	w.running = true;
	return LSN_OK;
}

unsigned
mail_worker_room(void)
{
	pthread_mutex_lock(&w.mu);
	unsigned room = w.running && w.count < MAIL_WORKER_JOBS ? MAIL_WORKER_JOBS - w.count : 0;
	pthread_mutex_unlock(&w.mu);
	return room;
}

bool
mail_worker_submit(struct mail_job *job)
{
	pthread_mutex_lock(&w.mu);
	bool ok = w.running && !w.quit && w.count < MAIL_WORKER_JOBS;
	if (ok) {
		job->next = NULL;
		*w.todo_tail = job;
		w.todo_tail = &job->next;
		w.count++;
		pthread_cond_broadcast(&w.cv);
	}
	pthread_mutex_unlock(&w.mu);
	if (!ok)
		mail_job_free(job);
	return ok;
}

struct mail_job *
mail_worker_collect(void)
{
	pthread_mutex_lock(&w.mu);
	struct mail_job *list = w.done_head;
	for (struct mail_job *j = list; j; j = j->next)
		w.count--;
	w.done_head = NULL;
	w.done_tail = &w.done_head;
	pthread_mutex_unlock(&w.mu);
	return list;
}

void
mail_worker_stop(void)
{
	if (!w.running)
		return;
	pthread_mutex_lock(&w.mu);
	w.quit = true;
	atomic_store(&w.abort, true);
	pthread_cond_broadcast(&w.cv);
	pthread_mutex_unlock(&w.mu);
	pthread_join(w.thread, NULL);
	w.running = false;
	/* jobs the thread never started: outcomes "not attempted" */
	struct mail_job *j = w.todo_head;
	w.todo_head = NULL;
	w.todo_tail = &w.todo_head;
	while (j) {
		struct mail_job *next = j->next;
		memset(&j->result, 0, sizeof j->result);
		snprintf(j->result.error, sizeof j->result.error, "not attempted: the server is "
			 "shutting down");
		push_done(j);
		j = next;
	}
}
