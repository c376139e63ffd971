/* timers.c — the deadline scan (with the mail scan) and the once-a-second
 * sweep with the revocation watch and the mail sweep (timers.h). */
#include <string.h>

#include "case.h"
#include "clock.h"
#include "commit.h"
#include "deliver.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "timers.h"

#define CLOSE_POLICY 1008

static struct {
	struct store *store;
	const struct config *cfg;
	int64_t data_version, data_version_at; /* revocation watch: last seen, when */
} tm;

void
timers_init(struct store *store, const struct config *cfg)
{
	tm.store = store;
	tm.cfg = cfg;
	tm.data_version_at = lsn_clock_now_ms() - lsn_clock_offset_ms();
	if (store_data_version(store, &tm.data_version) != LSN_OK)
		tm.data_version = -1;
	mail_start();
}

/* The retention sweep (docs/OPERATIONS.md, "Bounds"): unfinished
 * attachments and their chunks past attachment_unfinished_ttl, idempotency
 * keys and notifications past their retention, to-device contacts past the
 * reply window. Runs with the deadline scan, inside its commit. */
static enum lsn_err
bounds_sweep(int64_t now)
{
	const struct config *cfg = tm.cfg;
	struct store_sweep_before before = {
		.attachment = now - cfg->attachment_unfinished_ttl_ms,
		.idempotency = now - cfg->idempotency_retention_ms,
		.notification = now - cfg->notification_retention_ms,
		.contact = now - cfg->todevice_reply_window_ms,
	};
	struct store_sweep_counts n;
	enum lsn_err err = store_bounds_sweep(tm.store, &before, &n);
	if (err != LSN_OK)
		return err;
	struct metrics_swept m = {(uint64_t)n.attachments, (uint64_t)n.chunks,
				  (uint64_t)n.idempotency, (uint64_t)n.notifications,
				  (uint64_t)n.contacts};
	metrics_bounds_swept(&m, n.todevice_entries, n.attachment_bytes);
	if (n.attachments || n.idempotency || n.notifications)
		log_info("retention sweep: %lld unfinished attachment(s) (%lld chunk(s)), %lld "
			 "idempotency key(s), %lld notification(s) deleted", (long long)n.attachments,
			 (long long)n.chunks, (long long)n.idempotency, (long long)n.notifications);
	return LSN_OK;
}

/* The deadline scan: steps due soon or overdue, unacknowledged notices.
 * Its writes join the group commit like any request's. */
int64_t
timers_deadline_scan(void)
{
	struct effects fx;
	unsigned pushed = 0;
	if (commit_busy())             /* the database is the commit thread's: soon */
		return 20 * 1000;
	effects_init(&fx);
	if (commit_req_begin(tm.store) == LSN_OK) {
		int64_t now = lsn_clock_now_ms();
		enum lsn_err err = case_tick(tm.store, tm.cfg, &fx, now, &pushed);
		if (err == LSN_OK)
			err = bounds_sweep(now);
		commit_req_end(tm.store, err == LSN_OK);
		if (err != LSN_OK)
			log_error("deadline scan failed (%s); it runs again in %u s", lsn_err_code(err),
				  tm.cfg->timer_interval_s);
		if (pushed)
			log_info("deadline scan: %u notification(s)", pushed);
		/* the mails due: their own savepoint, so a failure there never
		 * undoes the notifications above */
		if (commit_req_begin(tm.store) == LSN_OK) {
			err = mail_scan(tm.store, now);
			commit_req_end(tm.store, err == LSN_OK);
			if (err != LSN_OK)
				log_error("mail scan failed (%s); it runs again in %u s",
					  lsn_err_code(err), tm.cfg->timer_interval_s);
		}
		commit_hold_effects(&fx);
	}
	effects_free(&fx);
	return (int64_t)tm.cfg->timer_interval_s * 1000000;
}

static void
close_revoked(const uint8_t id[LSN_ID_BYTES], void *arg)
{
	bool mute = *(const bool *)arg;
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(id, hex);
	if (mute ? deliver_mute_device(id, CLOSE_POLICY, "device revoked")
		 : deliver_close_device(id, CLOSE_POLICY, "device revoked"))
		log_info("device %s was revoked by an administrator; closing its connections", hex);
}

/* An administrator's "liaisond revoke" runs in another process: when the
 * database changed from outside (PRAGMA data_version), act on the devices
 * revoked since the last look, so a revoked device gets no further event
 * (its next request would be refused anyway). mute: only take them off the
 * index now and close them at the next sweep, so that replies already owed
 * to them still go out. */
static void
revocation_watch(bool mute)
{
	int64_t v = 0, now = lsn_clock_now_ms() - lsn_clock_offset_ms(); /* wall time */
	if (commit_busy() || store_in_batch(tm.store) ||
	    store_data_version(tm.store, &v) != LSN_OK || v == tm.data_version)
		return;
	/* a minute of margin for the other process's clock and commit */
	store_devices_revoked_since(tm.store, tm.data_version_at - 60000, close_revoked, &mute);
	tm.data_version = v;
	tm.data_version_at = now;
}

void
timers_revocation_watch(void)
{
	revocation_watch(true);
}

/* Once a second: reap a finished commit (a safety net, should a wake-up
 * ever be missed); drop the peers whose queue stayed above the soft limit
 * even though nothing new was queued for them; act on revocations made by
 * an administrator from another process. */
void
timers_sweep(void)
{
	commit_reap(false);
	deliver_sweep();
	revocation_watch(false);
	mail_sweep(lsn_clock_now_ms());
}
