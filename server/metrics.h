/* metrics.h — counters for GET /metrics (Prometheus text format). Only the
 * core thread and the network threads (service_threads) update them, as
 * relaxed atomics, from any thread. A leaf: every layer may count here, and it
 * includes no server module. */
#ifndef LSN_METRICS_H
#define LSN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

void metrics_conn_open(void);
void metrics_conn_close(void);
/* index into the op table, or -1 for a frame with no known op */
void metrics_request(int op_index);
void metrics_error(enum lsn_err err);
void metrics_commit(unsigned requests, int64_t duration_us, bool ok);
/* a slow consumer disconnected: its queue passed the hard limit, or stayed
 * above the soft limit for the grace period */
void metrics_outq_drop(bool soft);
/* one WebSocket frame carrying `frames` coalesced frames ({"batch":[...]}) */
void metrics_batch_out(unsigned frames);
void metrics_frame_out(size_t bytes);
/* a request refused by a rate limit (enum rl_kind), keys forgotten by its tables */
void metrics_rate_limited(int kind);
void metrics_ratelimit_evictions(uint64_t n);
/* a GET /metrics refused with 403 (address and token not allowed) */
void metrics_forbidden(void);
/* the bounds on queues and tables (docs/OPERATIONS.md, "Bounds"): a
 * connection refused by a connection cap; rows deleted by the retention
 * sweep; what the to-device queue and the attachments hold after it */
enum metrics_refused { METRICS_REFUSED_UNAUTH_PER_ADDR, METRICS_REFUSED_PER_USER,
		       METRICS_REFUSED__COUNT };
void metrics_conn_refused(enum metrics_refused why);
/* an entry of a "partial" to_device_send skipped by a bound (the request
 * itself succeeds, so liaison_errors_total does not count it) */
void metrics_todevice_skipped(bool queue_full);
struct metrics_swept {
	uint64_t attachments, chunks, idempotency, notifications, contacts;
};
void metrics_bounds_swept(const struct metrics_swept *n, int64_t todevice_entries,
			  int64_t attachment_bytes);
/* the "something is waiting" e-mails (server/mail.c): sent, an attempt
 * that failed (retried later), interrupted (may have reached the relay:
 * not sent again), dropped (mail turned off, no address, nothing waits) */
enum metrics_mail { METRICS_MAIL_SENT, METRICS_MAIL_FAILED, METRICS_MAIL_INTERRUPTED,
		    METRICS_MAIL_DROPPED, METRICS_MAIL__COUNT };
void metrics_mail(enum metrics_mail what);
/* malloc'd text (caller frees), NULL when out of memory; op_name(i) for
 * i < op_count names the ops counted by metrics_request (the op table is
 * dispatch.c's: passed in, so metrics depends on nothing above it) */
char *metrics_render(const char *(*op_name)(size_t index), size_t op_count, size_t *len);

#endif
