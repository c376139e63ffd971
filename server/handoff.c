/* handoff.c — network threads → core thread messages (handoff.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "handoff.h"

static struct {
	pthread_mutex_t mu;
	struct handoff_msg *head, **tail;
	int efd;
} ho = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, -1};

int
handoff_init(void)
{
	ho.head = NULL;
	ho.tail = &ho.head;
	ho.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return ho.efd < 0 ? -1 : 0;
}

void
handoff_fini(void)
{
	struct handoff_msg *m = handoff_take();
	while (m) {
		struct handoff_msg *next = m->next;
		free(m);
		m = next;
	}
	if (ho.efd >= 0)
		close(ho.efd);
	ho.efd = -1;
}

struct handoff_msg *
handoff_msg_new(enum handoff_kind kind, void *conn, size_t len)
{
	struct handoff_msg *m = malloc(sizeof *m + len + 1);
	if (m == NULL)
		return NULL;
	m->next = NULL;
	m->kind = kind;
	m->conn = conn;
	m->binary = false;
	m->discard = false;
	m->len = len;
	m->data[len] = '\0';
	return m;
}

void
handoff_wake(void)
{
	uint64_t one = 1;
	/* EAGAIN: the counter is full, the core is awake anyway */
	ssize_t n = write(ho.efd, &one, sizeof one);
	(void)n;
}

void
handoff_post(struct handoff_msg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&ho.mu);
	bool was_empty = ho.head == NULL;
	*ho.tail = m;
	ho.tail = &m->next;
	pthread_mutex_unlock(&ho.mu);
	if (was_empty)
		handoff_wake();
}

void
handoff_wait(int timeout_ms)
{
	struct pollfd pfd = {.fd = ho.efd, .events = POLLIN};
	if (poll(&pfd, 1, timeout_ms) > 0) {
		uint64_t count;
		ssize_t n = read(ho.efd, &count, sizeof count);
		(void)n;                   /* EAGAIN: another reader took it; none here */
	}
}

struct handoff_msg *
handoff_take(void)
{
	pthread_mutex_lock(&ho.mu);
	struct handoff_msg *m = ho.head;
	ho.head = NULL;
	ho.tail = &ho.head;
	pthread_mutex_unlock(&ho.mu);
	return m;
}
