/* test_commit.c — the write batch's life (server/commit.c) without sockets:
 * a writing request's reply is held until the batch commits, replies behind
 * it on the same connection wait too and keep their order, and once a reply
 * is released another database connection sees what it acknowledged. With
 * the commit thread: while the commit is in flight nothing is released and
 * a new frame waits, to be dispatched once the commit is reaped; a
 * commit_after call runs only once the COMMIT has returned. Pipelined
 * (commit_pipeline = on): the COMMIT returns at once, the next frame runs
 * at once, and every reply — the writer's, the ones behind it, another
 * connection's read that could show the write — waits for the sync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "commit.h"
#include "deliver.h"
#include "syncer.h"
#include "server_fixture.h"
#include "wire.h"

static struct fx *cur;                 /* the fixture the hooks dispatch into */
static unsigned want_writes, schedules, frames_run;
static atomic_uint wakes;

static void hook_want_write(struct client *p) { (void)p; want_writes++; }
static void hook_closing(struct client *p) { (void)p; }
static void hook_schedule(int64_t us) { (void)us; schedules++; }
static void hook_cancel(void) {}
static void hook_wake(void) { atomic_fetch_add(&wakes, 1); }

/* What net.c does with a frame: dispatch it, hand the result to commit. */
static void
process(struct client *p, const char *data, size_t len)
{
	struct dispatch_result res;
	dispatch_frame(&cur->srv, &p->sess, data, len, &res);
	commit_result(p, &res);
	dispatch_result_free(&res);
}

/* A frame that waited for a commit. */
static void
hook_run_frame(struct client *p, const char *data, size_t len, bool discard, bool binary)
{
	(void)discard;
	(void)binary;
	frames_run++;
	process(p, data, len);
}

static const struct deliver_hooks dhooks = {hook_want_write, hook_closing};
static const struct commit_hooks chooks = {hook_schedule, hook_cancel, hook_wake,
					   hook_run_frame, NULL};

static char *
frame_of(int64_t id, const char *op, json_t *body, size_t *len)
{
	char *text = wire_encode_request(id, op, body, len);
	assert_non_null(text);
	return text;
}

static void
send_frame(struct client *p, int64_t id, const char *op, json_t *body)
{
	size_t len = 0;
	char *text = frame_of(id, op, body, &len);
	if (!commit_defer(p, text, len, false, false))
		process(p, text, len);
	free(text);
}

/* Devices in the database as another connection sees them (committed only). */
static int
devices_on_disk(struct fx *f)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM devices", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* The id of the i-th queued reply (0-based), -2 if there is none. */
static int64_t
queued_id(struct client *p, unsigned i)
{
	struct outq_frame *q = outq_peek(&p->q);
	for (; q && i; i--)
		q = q->next;
	if (q == NULL)
		return -2;
	json_t *j = json_loadb((const char *)outq_payload(&p->q, q), q->len, 0, NULL);
	assert_non_null(j);
	json_t *id = json_object_get(j, "id");
	int64_t v = json_is_integer(id) ? json_integer_value(id) : -1;
	json_decref(j);
	return v;
}

static json_t *
new_enrol(struct fx *f, struct device_keys *k, const char *rpps)
{
	char code[LSN_INVITE_TEXT + 1];
	issue_invite(f, rpps, 3600 * 1000, code);
	make_keys(k);
	return enrol_body(k, code, "e1");
}

enum mode { HERE, THREAD, PIPELINE };

static void
start(struct fx *f, struct client *p, enum mode mode)
{
	bool thread = mode != HERE;
	f->cfg.commit_pipeline = mode == PIPELINE;
	cur = f;
	want_writes = schedules = frames_run = 0;
	atomic_store(&wakes, 0);
	assert_int_equal(deliver_init(&f->cfg, &dhooks), 0);
	commit_init(f->store, &f->cfg, &chooks, thread);
	memset(p, 0, sizeof *p);
	deliver_client_add(p, 0);
	session_new_challenge(&p->sess);
}

static void
stop(struct client *p)
{
	commit_drain();
	commit_fini();
	commit_forget(p);
	deliver_client_remove(p);
	deliver_fini();
}

static void
test_reply_held_until_commit(void **state)
{
	struct fx *f = *state;
	struct client p;
	struct device_keys k;
	start(f, &p, HERE);
	json_t *body = new_enrol(f, &k, "10101010105");
	send_frame(&p, 1, "enrol", body);
	/* held: nothing queued, nothing on disk, a commit scheduled */
	assert_int_equal(p.q.frames, 0);
	assert_int_equal(p.pending, 1);
	assert_int_equal(schedules, 1);
	assert_true(store_in_batch(f->store));
	assert_int_equal(devices_on_disk(f), 0);
	/* a read-only request behind it waits too: replies keep their order */
	send_frame(&p, 2, "ping", json_object());
	assert_int_equal(p.q.frames, 0);
	assert_int_equal(p.pending, 2);
	commit_run();
	assert_false(store_in_batch(f->store));
	assert_int_equal(p.pending, 0);
	assert_int_equal(p.q.frames, 2);
	assert_int_equal(queued_id(&p, 0), 1);
	assert_int_equal(queued_id(&p, 1), 2);
	assert_int_equal(devices_on_disk(f), 1);
	/* with nothing held, a read is answered at once */
	send_frame(&p, 3, "ping", json_object());
	assert_int_equal(p.q.frames, 3);
	assert_int_equal(queued_id(&p, 2), 3);
	stop(&p);
}

static void
test_commit_thread_defers_frames(void **state)
{
	struct fx *f = *state;
	struct client p;
	struct device_keys k;
	start(f, &p, THREAD);
	send_frame(&p, 1, "enrol", new_enrol(f, &k, "10000000009"));
	assert_int_equal(p.pending, 1);
	commit_run();                      /* handed to the commit thread */
	assert_true(commit_busy());
	/* in flight: nothing released, a new frame waits */
	send_frame(&p, 2, "ping", json_object());
	assert_int_equal(p.deferred, 1);
	assert_int_equal(frames_run, 0);
	assert_int_equal(p.q.frames, 0);
	commit_reap(true);
	assert_false(commit_busy());
	/* the commit thread wakes the service thread just after it marks the
	 * commit done, so the reap above may have seen "done" first: wait for
	 * the wake-up (at most a second) */
	const struct timespec ms = {0, 1000000};
	for (int i = 0; i < 1000 && atomic_load(&wakes) < 1; i++)
		nanosleep(&ms, NULL);
	assert_true(atomic_load(&wakes) >= 1);
	assert_int_equal(devices_on_disk(f), 1);
	/* released in order: the acknowledged write, then the frame that waited */
	assert_int_equal(p.deferred, 0);
	assert_int_equal(frames_run, 1);
	assert_int_equal(p.q.frames, 2);
	assert_int_equal(queued_id(&p, 0), 1);
	assert_int_equal(queued_id(&p, 1), 2);
	stop(&p);
}

static void
test_gone_peer_is_forgotten(void **state)
{
	struct fx *f = *state;
	struct client p;
	struct device_keys k;
	start(f, &p, HERE);
	send_frame(&p, 1, "enrol", new_enrol(f, &k, "10123456781"));
	assert_int_equal(p.pending, 1);
	commit_forget(&p);                 /* the connection closed meanwhile */
	commit_run();
	assert_int_equal(p.q.frames, 0);   /* nothing written to a gone peer */
	assert_int_equal(devices_on_disk(f), 1); /* its request still committed */
	p.pending = 0;
	stop(&p);
}

/* commit_after: called once the batch's COMMIT returned, with whether it
 * is on disk (the mail outbox contacts the relay only then). */
static int after_calls, after_committed;

static void
after_cb(void *arg, bool committed)
{
	(void)arg;
	after_calls++;
	after_committed = committed;
}

static void
test_after_commit(void **state)
{
	struct fx *f = *state;
	struct client p;
	start(f, &p, THREAD);
	after_calls = 0;
	assert_int_equal(commit_req_begin(f->store), LSN_OK);
	assert_true(commit_after(after_cb, NULL));
	commit_req_end(f->store, true);
	assert_int_equal(after_calls, 0);  /* nothing before the COMMIT */
	commit_run();                      /* handed to the commit thread */
	assert_int_equal(after_calls, 0);
	commit_reap(true);
	assert_int_equal(after_calls, 1);
	assert_true(after_committed);
	stop(&p);
}

static void
test_pipeline_holds_until_synced(void **state)
{
	struct fx *f = *state;
	struct client p, q;
	struct device_keys k;
	start(f, &p, PIPELINE);
	memset(&q, 0, sizeof q);
	deliver_client_add(&q, 0);
	session_new_challenge(&q.sess);
	assert_true(syncer_running());
	after_calls = 0;
	syncer_pause(true);                /* no sync begins until told */
	send_frame(&p, 1, "enrol", new_enrol(f, &k, "10000000017"));
	assert_true(commit_after(after_cb, NULL));
	assert_int_equal(p.pending, 1);
	commit_run();                      /* written here, not yet synced */
	assert_false(store_in_batch(f->store));
	assert_false(commit_busy());
	assert_int_equal(p.q.frames, 0);
	assert_int_equal(after_calls, 0);
	/* the next frame is not kept: it runs now, its reply waits behind */
	send_frame(&p, 2, "ping", json_object());
	assert_int_equal(p.deferred, 0);
	assert_int_equal(p.pending, 2);
	/* another connection's read could show the unsynced write: held too */
	send_frame(&q, 3, "ping", json_object());
	assert_int_equal(q.pending, 1);
	/* a sync runs (paused): the next commit waits for it, q's reply too */
	unsigned scheduled = schedules;
	commit_run();
	commit_reap(false);
	assert_int_equal(p.q.frames, 0);
	assert_int_equal(q.q.frames, 0);
	syncer_pause(false);
	commit_reap(true);                 /* the sync covers the batch: the enrol's reply */
	assert_int_equal(p.q.frames, 1);
	assert_int_equal(p.pending, 1);
	assert_int_equal(q.pending, 1);
	assert_true(schedules > scheduled); /* and the commit that waited is due */
	commit_run();
	commit_reap(true);
	assert_int_equal(p.pending, 0);
	assert_int_equal(q.pending, 0);
	assert_int_equal(p.q.frames, 2);
	assert_int_equal(queued_id(&p, 0), 1);
	assert_int_equal(queued_id(&p, 1), 2);
	assert_int_equal(q.q.frames, 1);
	assert_int_equal(queued_id(&q, 0), 3);
	assert_int_equal(after_calls, 1);
	assert_true(after_committed);
	assert_int_equal(devices_on_disk(f), 1);
	/* with nothing waiting for a sync, a read is answered at once */
	send_frame(&q, 4, "ping", json_object());
	assert_int_equal(q.q.frames, 2);
	commit_forget(&q);
	deliver_client_remove(&q);
	stop(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_held_until_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_thread_defers_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_peer_is_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_holds_until_synced, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
