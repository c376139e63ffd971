/* mail_worker.h — the thread that talks to the SMTP relay, so that a slow
 * or unreachable relay never holds the service thread: mail.c submits a
 * job (an outbox id, the address, the composed message), the thread sends
 * it with mail_smtp.c, and mail.c collects the outcome on its next sweep.
 *
 * Contract: a job is copied in and freed by the worker side; outcomes are
 * taken out with mail_worker_collect on the service thread. Knows nothing
 * of the database or the log. mail_worker_stop aborts a send in progress
 * (its outcome says so) and joins the thread. At most MAIL_WORKER_JOBS
 * jobs are queued or in progress. */
#ifndef LSN_MAIL_WORKER_H
#define LSN_MAIL_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "ident.h"
#include "mail_compose.h"
#include "mail_smtp.h"

#define MAIL_WORKER_JOBS 32

struct mail_job {
	struct mail_job *next;
	int64_t outbox_id;
	uint8_t user[LSN_ID_BYTES];
	int64_t attempt;                 /* 1 for the first */
	char to[CONFIG_ADDRESS_MAX + 1];
	size_t len;
	char message[MAIL_MESSAGE_MAX];
	struct mail_smtp_result result;  /* filled by the worker */
};

/* Start the thread; password (NULL: no authentication) is used in place,
 * it must outlive mail_worker_stop. */
enum lsn_err mail_worker_start(const struct config *cfg, const char *password,
			       struct lsn_status *st);
/* Jobs that can still be submitted (MAIL_WORKER_JOBS minus those queued,
 * in progress or done and not collected). */
unsigned mail_worker_room(void);
/* Hand a job over (ownership too); false (job freed) when there is no room. */
bool mail_worker_submit(struct mail_job *job);
/* The finished jobs, oldest first (caller frees each with mail_job_free). */
struct mail_job *mail_worker_collect(void);
/* Abort what is in progress, finish the thread; jobs never started come
 * back from mail_worker_collect with result.error "not attempted". */
void mail_worker_stop(void);
/* Wipe (the address) and free. */
void mail_job_free(struct mail_job *job);

#endif
