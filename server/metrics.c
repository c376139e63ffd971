/* metrics.c — counters and their Prometheus rendering. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "ratelimit.h"

/* Counters are bumped by the core thread and the network threads alike
 * (service_threads) and read by whichever thread renders /metrics: relaxed
 * atomics, each counter on its own (a page may mix an instant's values). */
#define INC(f) __atomic_fetch_add(&(f), 1, __ATOMIC_RELAXED)
#define ADD(f, n) __atomic_fetch_add(&(f), (n), __ATOMIC_RELAXED)
#define SUB(f, n) __atomic_fetch_sub(&(f), (n), __ATOMIC_RELAXED)
#define STORE(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELAXED)
#define LOAD(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)

#define OPS_MAX 64
static const unsigned batch_buckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
#define BATCH_BUCKETS (sizeof batch_buckets / sizeof batch_buckets[0])
static const unsigned commit_us_buckets[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
					     100000, 250000};
#define COMMIT_BUCKETS (sizeof commit_us_buckets / sizeof commit_us_buckets[0])

static struct {
	uint64_t connections;
	uint64_t connections_total;
	uint64_t requests[OPS_MAX + 1];   /* last slot: unknown op / undecodable */
	uint64_t errors[LSN_ERR__COUNT];
	uint64_t commit_batches;
	uint64_t commit_failures;
	uint64_t commit_requests;
	uint64_t batch_hist[BATCH_BUCKETS];
	uint64_t commit_us_hist[COMMIT_BUCKETS];
	uint64_t commit_us_sum;
	uint64_t outq_drops;
	uint64_t outq_soft_drops;
	uint64_t batch_frames;
	uint64_t batched_frames;
	uint64_t frames_out;
	uint64_t bytes_out;
	uint64_t rate_limited[RL__COUNT];
	uint64_t rl_evictions;
	uint64_t metrics_forbidden;
	uint64_t conn_refused[METRICS_REFUSED__COUNT];
	struct metrics_swept swept;
	int64_t todevice_entries, attachment_bytes;
	uint64_t td_skipped_full, td_skipped_policy;
	uint64_t mail[METRICS_MAIL__COUNT];
} m;

void metrics_conn_open(void) { INC(m.connections); INC(m.connections_total); }
void metrics_conn_close(void) { if (LOAD(m.connections)) SUB(m.connections, 1); }
void metrics_outq_drop(bool soft) { if (soft) INC(m.outq_soft_drops); else INC(m.outq_drops); }
void metrics_batch_out(unsigned frames) { INC(m.batch_frames); ADD(m.batched_frames, frames); }

void
metrics_rate_limited(int kind)
{
	if (kind >= 0 && kind < RL__COUNT)
		INC(m.rate_limited[kind]);
}

void metrics_ratelimit_evictions(uint64_t n) { ADD(m.rl_evictions, n); }
void metrics_forbidden(void) { INC(m.metrics_forbidden); }

void
metrics_conn_refused(enum metrics_refused why)
{
	if ((unsigned)why < METRICS_REFUSED__COUNT)
		INC(m.conn_refused[why]);
}

void
metrics_todevice_skipped(bool queue_full)
{
	if (queue_full)
		INC(m.td_skipped_full);
	else
		INC(m.td_skipped_policy);
}

void
metrics_mail(enum metrics_mail what)
{
	if ((unsigned)what < METRICS_MAIL__COUNT)
		INC(m.mail[what]);
}

void
metrics_bounds_swept(const struct metrics_swept *n, int64_t todevice_entries,
		     int64_t attachment_bytes)
{
	ADD(m.swept.attachments, n->attachments);
	ADD(m.swept.chunks, n->chunks);
	ADD(m.swept.idempotency, n->idempotency);
	ADD(m.swept.notifications, n->notifications);
	ADD(m.swept.contacts, n->contacts);
	STORE(m.todevice_entries, todevice_entries);
	STORE(m.attachment_bytes, attachment_bytes);
}


void
metrics_frame_out(size_t bytes)
{
	INC(m.frames_out);
	ADD(m.bytes_out, bytes);
}

void
metrics_request(int op_index)
{
	if (op_index >= 0 && op_index < OPS_MAX)
		INC(m.requests[op_index]);
	else
		INC(m.requests[OPS_MAX]);
}

void
metrics_error(enum lsn_err err)
{
	if ((unsigned)err < LSN_ERR__COUNT)
		INC(m.errors[err]);
}

void
metrics_commit(unsigned requests, int64_t duration_us, bool ok)
{
	if (!ok) {
		INC(m.commit_failures);
		return;
	}
	INC(m.commit_batches);
	ADD(m.commit_requests, requests);
	ADD(m.commit_us_sum, (uint64_t)(duration_us > 0 ? duration_us : 0));
	for (size_t i = 0; i < BATCH_BUCKETS; i++)
		if (requests <= batch_buckets[i])
			INC(m.batch_hist[i]);
	for (size_t i = 0; i < COMMIT_BUCKETS; i++)
		if (duration_us <= (int64_t)commit_us_buckets[i])
			INC(m.commit_us_hist[i]);
}

/* A growing text builder; on out of memory it stops and flags, and the
 * rendering fails as a whole (never a page cut off mid-line). */
struct text {
	char *p;
	size_t len, cap;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *fmt, ...)
{
	while (!t->full) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->full = true;
		} else if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		} else {
			size_t cap = t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2
									 : t->len + (size_t)n + 1;
			char *p = realloc(t->p, cap);
			if (p == NULL)
				t->full = true;
			else {
				t->p = p;
				t->cap = cap;
			}
		}
	}
}

static void
render_requests(struct text *t, const char *(*op_name)(size_t), size_t op_count)
{
	put(t, "# HELP liaison_requests_total Requests received, by op.\n"
	       "# TYPE liaison_requests_total counter\n");
	for (size_t i = 0; i < op_count && i < OPS_MAX; i++)
		put(t, "liaison_requests_total{op=\"%s\"} %llu\n", op_name(i),
		    (unsigned long long)LOAD(m.requests[i]));
	put(t, "liaison_requests_total{op=\"unknown\"} %llu\n",
	    (unsigned long long)LOAD(m.requests[OPS_MAX]));
	put(t, "# HELP liaison_errors_total Error replies, by code.\n"
	       "# TYPE liaison_errors_total counter\n");
	for (int i = 1; i < LSN_ERR__COUNT; i++)
		put(t, "liaison_errors_total{code=\"%s\"} %llu\n", lsn_err_code((enum lsn_err)i),
		    (unsigned long long)LOAD(m.errors[i]));
}

static void
render_commits(struct text *t)
{
	put(t, "# HELP liaison_commit_batches_total Group-commit transactions committed.\n"
	       "# TYPE liaison_commit_batches_total counter\n"
	       "liaison_commit_batches_total %llu\n"
	       "# HELP liaison_commit_failures_total Group-commit transactions that failed.\n"
	       "# TYPE liaison_commit_failures_total counter\n"
	       "liaison_commit_failures_total %llu\n"
	       "# HELP liaison_commit_batch_size Requests per committed batch.\n"
	       "# TYPE liaison_commit_batch_size histogram\n",
	    (unsigned long long)LOAD(m.commit_batches), (unsigned long long)LOAD(m.commit_failures));
	for (size_t i = 0; i < BATCH_BUCKETS; i++)
		put(t, "liaison_commit_batch_size_bucket{le=\"%u\"} %llu\n", batch_buckets[i],
		    (unsigned long long)LOAD(m.batch_hist[i]));
	put(t, "liaison_commit_batch_size_bucket{le=\"+Inf\"} %llu\n"
	       "liaison_commit_batch_size_sum %llu\nliaison_commit_batch_size_count %llu\n",
	    (unsigned long long)LOAD(m.commit_batches), (unsigned long long)LOAD(m.commit_requests),
	    (unsigned long long)LOAD(m.commit_batches));
	put(t, "# HELP liaison_commit_seconds Time to commit a batch (fsync included).\n"
	       "# TYPE liaison_commit_seconds histogram\n");
	for (size_t i = 0; i < COMMIT_BUCKETS; i++)
		put(t, "liaison_commit_seconds_bucket{le=\"%g\"} %llu\n",
		    commit_us_buckets[i] / 1e6, (unsigned long long)LOAD(m.commit_us_hist[i]));
	put(t, "liaison_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	       "liaison_commit_seconds_sum %.6f\nliaison_commit_seconds_count %llu\n",
	    (unsigned long long)LOAD(m.commit_batches), LOAD(m.commit_us_sum) / 1e6,
	    (unsigned long long)LOAD(m.commit_batches));
}

static void
render_rate_limits(struct text *t)
{
	put(t, "# HELP liaison_rate_limited_total Requests refused with rate_limited, by limit.\n"
	       "# TYPE liaison_rate_limited_total counter\n");
	for (int k = 0; k < RL__COUNT; k++)
		put(t, "liaison_rate_limited_total{limit=\"%s\"} %llu\n", rl_kind_name((enum rl_kind)k),
		    (unsigned long long)LOAD(m.rate_limited[k]));
	put(t, "# HELP liaison_ratelimit_evictions_total Keys (users, addresses, accounts) "
	       "forgotten by a full rate-limit table.\n"
	       "# TYPE liaison_ratelimit_evictions_total counter\n"
	       "liaison_ratelimit_evictions_total %llu\n", (unsigned long long)LOAD(m.rl_evictions));
}

static void
render_bounds(struct text *t)
{
	put(t, "# HELP liaison_connections_refused_total Connections refused by a connection cap "
	       "(conn_unauth_per_addr: close 4029; conn_per_user: too_many_connections).\n"
	       "# TYPE liaison_connections_refused_total counter\n"
	       "liaison_connections_refused_total{cap=\"conn_unauth_per_addr\"} %llu\n"
	       "liaison_connections_refused_total{cap=\"conn_per_user\"} %llu\n",
	    (unsigned long long)LOAD(m.conn_refused[METRICS_REFUSED_UNAUTH_PER_ADDR]),
	    (unsigned long long)LOAD(m.conn_refused[METRICS_REFUSED_PER_USER]));
	put(t, "# HELP liaison_swept_total Rows deleted by the retention sweep, by table.\n"
	       "# TYPE liaison_swept_total counter\n"
	       "liaison_swept_total{what=\"unfinished_attachments\"} %llu\n"
	       "liaison_swept_total{what=\"attachment_chunks\"} %llu\n"
	       "liaison_swept_total{what=\"idempotency_keys\"} %llu\n"
	       "liaison_swept_total{what=\"notifications\"} %llu\n"
	       "liaison_swept_total{what=\"todevice_contacts\"} %llu\n",
	    (unsigned long long)LOAD(m.swept.attachments), (unsigned long long)LOAD(m.swept.chunks),
	    (unsigned long long)LOAD(m.swept.idempotency), (unsigned long long)LOAD(m.swept.notifications),
	    (unsigned long long)LOAD(m.swept.contacts));
	put(t, "# HELP liaison_todevice_skipped_total Entries of partial to_device_send requests "
	       "skipped by a bound, by code.\n"
	       "# TYPE liaison_todevice_skipped_total counter\n"
	       "liaison_todevice_skipped_total{code=\"todevice_queue_full\"} %llu\n"
	       "liaison_todevice_skipped_total{code=\"todevice_not_allowed\"} %llu\n",
	    (unsigned long long)LOAD(m.td_skipped_full), (unsigned long long)LOAD(m.td_skipped_policy));
	put(t, "# HELP liaison_todevice_entries To-device entries queued (at the last sweep).\n"
	       "# TYPE liaison_todevice_entries gauge\nliaison_todevice_entries %lld\n"
	       "# HELP liaison_attachment_bytes Bytes of attachments stored or reserved (at the "
	       "last sweep).\n"
	       "# TYPE liaison_attachment_bytes gauge\nliaison_attachment_bytes %lld\n",
	    (long long)LOAD(m.todevice_entries), (long long)LOAD(m.attachment_bytes));
}

char *
metrics_render(const char *(*op_name)(size_t index), size_t op_count, size_t *len)
{
	struct text t = {.cap = 16384};
	t.p = malloc(t.cap);
	if (t.p == NULL)
		return NULL;
	put(&t, "# HELP liaison_connections Open WebSocket connections.\n"
		"# TYPE liaison_connections gauge\nliaison_connections %llu\n"
		"# HELP liaison_connections_total WebSocket connections accepted.\n"
		"# TYPE liaison_connections_total counter\nliaison_connections_total %llu\n",
	    (unsigned long long)LOAD(m.connections), (unsigned long long)LOAD(m.connections_total));
	render_requests(&t, op_name, op_count);
	render_commits(&t);
	render_rate_limits(&t);
	render_bounds(&t);
	put(&t, "# HELP liaison_outq_soft_drops_total Connections dropped because their output queue "
		"stayed above the soft limit for the grace period.\n"
		"# TYPE liaison_outq_soft_drops_total counter\nliaison_outq_soft_drops_total %llu\n"
		"# HELP liaison_batch_frames_total WebSocket frames that carried several coalesced frames.\n"
		"# TYPE liaison_batch_frames_total counter\nliaison_batch_frames_total %llu\n"
		"# HELP liaison_batched_frames_total Frames sent inside a batch frame.\n"
		"# TYPE liaison_batched_frames_total counter\nliaison_batched_frames_total %llu\n",
	    (unsigned long long)LOAD(m.outq_soft_drops), (unsigned long long)LOAD(m.batch_frames),
	    (unsigned long long)LOAD(m.batched_frames));
	put(&t, "# HELP liaison_outq_drops_total Connections dropped because their output queue was full.\n"
		"# TYPE liaison_outq_drops_total counter\nliaison_outq_drops_total %llu\n"
		"# HELP liaison_frames_out_total Frames sent.\n"
		"# TYPE liaison_frames_out_total counter\nliaison_frames_out_total %llu\n"
		"# HELP liaison_bytes_out_total Payload bytes sent.\n"
		"# TYPE liaison_bytes_out_total counter\nliaison_bytes_out_total %llu\n",
	    (unsigned long long)LOAD(m.outq_drops), (unsigned long long)LOAD(m.frames_out),
	    (unsigned long long)LOAD(m.bytes_out));
	put(&t, "# HELP liaison_mail_sent_total E-mails \"something is waiting\" accepted by the "
		"SMTP relay.\n"
		"# TYPE liaison_mail_sent_total counter\nliaison_mail_sent_total %llu\n"
		"# HELP liaison_mail_failed_total E-mail attempts that failed before the relay took "
		"the message (retried later).\n"
		"# TYPE liaison_mail_failed_total counter\nliaison_mail_failed_total %llu\n"
		"# HELP liaison_mail_interrupted_total E-mails that may have reached the relay "
		"without an answer (never sent again).\n"
		"# TYPE liaison_mail_interrupted_total counter\nliaison_mail_interrupted_total %llu\n"
		"# HELP liaison_mail_dropped_total E-mails not sent: mail turned off, no address, "
		"or nothing waiting any more.\n"
		"# TYPE liaison_mail_dropped_total counter\nliaison_mail_dropped_total %llu\n",
	    (unsigned long long)LOAD(m.mail[METRICS_MAIL_SENT]),
	    (unsigned long long)LOAD(m.mail[METRICS_MAIL_FAILED]),
	    (unsigned long long)LOAD(m.mail[METRICS_MAIL_INTERRUPTED]),
	    (unsigned long long)LOAD(m.mail[METRICS_MAIL_DROPPED]));
	put(&t, "# HELP liaison_metrics_forbidden_total Requests for /metrics refused (address "
		"not in metrics_allow, no valid metrics_token).\n"
		"# TYPE liaison_metrics_forbidden_total counter\nliaison_metrics_forbidden_total %llu\n",
	    (unsigned long long)LOAD(m.metrics_forbidden));
	if (t.full) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}
