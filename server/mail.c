/* mail.c — the outbox of the "something is waiting" e-mails, from the due
 * scan to the recorded outcome (mail.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "commit.h"
#include "log.h"
#include "mail.h"
#include "mail_compose.h"
#include "mail_policy.h"
#include "mail_worker.h"
#include "metrics.h"

#define PASSWORD_MAX 1024
#define PEOPLE_MAX 100000

static struct {
	bool on;                        /* configured (mail_init) */
	bool started;                   /* the mail thread runs (mail_start) */
	struct store *store;
	const struct config *cfg;
	char *password;                 /* sodium_malloc'd, NULL without AUTH */
	char link[CONFIG_URL_MAX + 64];
	unsigned awaiting;              /* claimed, waiting for their commit */
	int64_t next_due;               /* no pending mail is due before this (0: look) */
	struct mail_job *unrecorded;    /* outcomes not yet recorded */
} ml;

/* ---- start-up -------------------------------------------------------------- */

static enum lsn_err
read_password(const char *path, struct lsn_status *st)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_password_file %s: %s", path,
				strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_password_file %s: not a regular file",
				path);
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_password_file %s: mode %03o lets "
				"other users read or change the relay's password: chmod 600 %s "
				"(owned by the user liaisond runs as)", path,
				(unsigned)(sb.st_mode & 0777), path);
	}
	ml.password = sodium_malloc(PASSWORD_MAX + 1);
	if (ml.password == NULL) {
		close(fd);
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory (smtp password)");
	}
	ssize_t n = read(fd, ml.password, PASSWORD_MAX + 1);
	close(fd);
	size_t len = n > 0 ? (size_t)n : 0;
	while (len > 0 && (ml.password[len - 1] == '\n' || ml.password[len - 1] == '\r'))
		len--;
	bool ok = n > 0 && (size_t)n <= PASSWORD_MAX && len > 0 &&
		  memchr(ml.password, '\0', len) == NULL && memchr(ml.password, '\n', len) == NULL &&
		  memchr(ml.password, '\r', len) == NULL;
	if (!ok) {
		sodium_free(ml.password);
		ml.password = NULL;
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_password_file %s: expected the "
				"password on one line (1 to %d bytes)", path, PASSWORD_MAX);
	}
	ml.password[len] = '\0';
	return LSN_OK;
}

static enum lsn_err
recover(struct store *s, int64_t now)
{
	int64_t n = 0;
	enum lsn_err err = store_batch_begin(s);
	if (err == LSN_OK) {
		err = store_mail_recover(s, now, &n);
		if (err == LSN_OK)
			err = store_batch_commit(s);
		else
			store_batch_rollback(s);
	}
	if (err == LSN_OK && n > 0)
		log_warn("mail: %lld mail(s) were being sent when the server stopped; they may have "
			 "reached the relay and are not sent again (state interrupted in the outbox)",
			 (long long)n);
	return err;
}

enum lsn_err
mail_init(struct store *s, const struct config *cfg, struct lsn_status *st)
{
	enum lsn_err err;
	memset(&ml, 0, sizeof ml);
	ml.store = s;
	ml.cfg = cfg;
	if (cfg->smtp_host[0] == '\0')
		return LSN_OK;
	if ((err = config_check_mail(cfg, st)) != LSN_OK)
		return err;
	if (cfg->smtp_password_file[0] && (err = read_password(cfg->smtp_password_file, st)) != LSN_OK)
		return err;
	if ((err = mail_smtp_global_init(st)) != LSN_OK) {
		sodium_free(ml.password);
		ml.password = NULL;
		return err;
	}
	config_public_url(cfg, ml.link, sizeof ml.link);
	ml.on = true;
	return LSN_OK;
}

void
mail_start(void)
{
	struct lsn_status st = {0};
	const struct config *cfg = ml.cfg;
	if (ml.store == NULL)
		return;
	if (recover(ml.store, lsn_clock_now_ms()) != LSN_OK)
		log_error("mail: cannot read the outbox at start-up; mails left \"sending\" stay so");
	if (!ml.on) {
		log_info("mail: off (no smtp_host); nobody is told by e-mail that something waits");
		return;
	}
	if (mail_worker_start(cfg, ml.password, &st) != LSN_OK) {
		log_error("%s; no mail is sent", st.msg);
		ml.on = false;
		return;
	}
	ml.started = true;
	log_info("mail: relay %s port %d (%s%s), from %s, link %s; a mail after %lld min unseen, "
		 "at most one per %lld min per person", cfg->smtp_host, cfg->smtp_port,
		 cfg->smtp_starttls ? "STARTTLS required" : "no TLS: loopback relay",
		 cfg->smtp_user[0] ? ", authenticated" : "", cfg->mail_from, ml.link,
		 (long long)(cfg->mail_delay_ms / 60000), (long long)(cfg->mail_period_ms / 60000));
}

/* ---- 1. who is due --------------------------------------------------------- */

struct due_list {
	int64_t now;
	uint8_t (*users)[LSN_ID_BYTES];
	size_t n, cap;
	bool oom;
};

static void
due_person(const struct store_mail_person *p, void *arg)
{
	struct due_list *d = arg;
	struct mail_person mp = {.oldest_new = p->oldest_new, .last_sent_at = p->last_sent_at,
				 .batch_open = p->batch_open};
	if (!mail_due(&mp, d->now, ml.cfg->mail_delay_ms, ml.cfg->mail_period_ms) || d->oom)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		void *v = realloc(d->users, cap * sizeof d->users[0]);
		if (v == NULL) {
			d->oom = true;
			return;
		}
		d->users = v;
		d->cap = cap;
	}
	memcpy(d->users[d->n++], p->user, LSN_ID_BYTES);
}

enum lsn_err
mail_scan(struct store *s, int64_t now)
{
	if (!ml.started)
		return LSN_OK;
	struct due_list d = {.now = now};
	int64_t swept = 0;
	enum lsn_err err = store_mail_people(s, PEOPLE_MAX, due_person, &d);
	if (err == LSN_OK && d.oom)
		err = LSN_ERR_INTERNAL;
	for (size_t i = 0; err == LSN_OK && i < d.n; i++)
		err = store_mail_batch_add(s, d.users[i], now,
					   mail_announced_upto(now, ml.cfg->mail_delay_ms));
	if (err == LSN_OK)
		err = store_mail_sweep(s, now - ml.cfg->notification_retention_ms, &swept);
	if (err == LSN_OK && d.n) {
		log_info("mail: %zu mail(s) queued (something waits unseen)", d.n);
		ml.next_due = 0;
	}
	free(d.users);
	return err;
}

/* ---- 3. outcomes ------------------------------------------------------------ */

static void
free_jobs(struct mail_job *j)
{
	while (j) {
		struct mail_job *next = j->next;
		mail_job_free(j);
		j = next;
	}
}

static enum lsn_err
record_one(struct store *s, const struct mail_job *j, int64_t now)
{
	char hex[LSN_ID_HEX + 1];
	const struct mail_smtp_result *r = &j->result;
	enum lsn_err err;
	lsn_id_to_hex(j->user, hex);
	if (r->sent) {
		err = store_mail_finish(s, j->outbox_id, STORE_MAIL_SENT, now, NULL);
		if (err == LSN_OK) {
			metrics_mail(METRICS_MAIL_SENT);
			log_info("mail %lld to user %s: sent (attempt %lld)", (long long)j->outbox_id, hex,
				 (long long)j->attempt);
		}
	} else if (r->maybe_sent) {
		err = store_mail_finish(s, j->outbox_id, STORE_MAIL_INTERRUPTED, now, r->error);
		if (err == LSN_OK) {
			metrics_mail(METRICS_MAIL_INTERRUPTED);
			log_warn("mail %lld to user %s: %s after the whole message went out; the relay "
				 "may have taken it, so it is not sent again", (long long)j->outbox_id, hex,
				 r->error);
		}
	} else {
		int64_t wait = mail_backoff_ms(j->attempt);
		err = store_mail_retry(s, j->outbox_id, now + wait, r->error);
		if (err == LSN_OK) {
			if (ml.next_due > now + wait)
				ml.next_due = now + wait;
			metrics_mail(METRICS_MAIL_FAILED);
			log_warn("mail %lld to user %s: not sent (attempt %lld): %s; next attempt in %lld s",
				 (long long)j->outbox_id, hex, (long long)j->attempt, r->error,
				 (long long)(wait / 1000));
		}
	}
	return err;
}

/* Record every outcome of ml.unrecorded in the caller's transaction; on
 * an error none is kept (the caller undoes its savepoint) and the list
 * waits for the next sweep. */
static enum lsn_err
record(struct store *s, int64_t now)
{
	enum lsn_err err = LSN_OK;
	for (struct mail_job *j = ml.unrecorded; j && err == LSN_OK; j = j->next)
		err = record_one(s, j, now);
	if (err == LSN_OK) {
		free_jobs(ml.unrecorded);
		ml.unrecorded = NULL;
	}
	return err;
}

static void
collect(void)
{
	struct mail_job *done = mail_worker_collect(), **tail = &ml.unrecorded;
	while (*tail)
		tail = &(*tail)->next;
	*tail = done;
}

/* ---- 2. hand over what is due ------------------------------------------------- */

struct claim {
	struct store *s;
	int64_t now;
	struct mail_job *jobs;
	unsigned n;
	enum lsn_err err;
};

static void
claim_one(const struct store_mail_job *sj, void *arg)
{
	struct claim *c = arg;
	char hex[LSN_ID_HEX + 1];
	if (c->err != LSN_OK)
		return;
	lsn_id_to_hex(sj->user, hex);
	if (!sj->enabled || !config_address_ok(sj->address) || !sj->waiting) {
		const char *why = !sj->enabled ? "the person turned mail off"
				  : sj->address[0] == '\0' ? "the person has no address any more"
				  : !config_address_ok(sj->address)
					  ? "the address on file is not valid (liaisond user email)"
					  : "nothing waits any more (seen meanwhile)";
		c->err = store_mail_finish(c->s, sj->id, STORE_MAIL_DROPPED, c->now, why);
		if (c->err == LSN_OK) {
			metrics_mail(METRICS_MAIL_DROPPED);
			log_info("mail %lld to user %s: dropped, %s", (long long)sj->id, hex, why);
		}
		return;
	}
	struct mail_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		c->err = LSN_ERR_INTERNAL;
		return;
	}
	j->outbox_id = sj->id;
	memcpy(j->user, sj->user, LSN_ID_BYTES);
	j->attempt = sj->attempts + 1;
	snprintf(j->to, sizeof j->to, "%s", sj->address);
	struct mail_compose_in in = {.from = ml.cfg->mail_from, .to = j->to, .link = ml.link,
				     .batch_id = sj->id, .created_at = sj->created_at,
				     .date_ms = c->now};
	j->len = mail_compose(&in, j->message, sizeof j->message);
	if (j->len == 0 || (c->err = store_mail_sending(c->s, sj->id, c->now)) != LSN_OK) {
		if (c->err == LSN_OK)
			c->err = LSN_ERR_INTERNAL;
		mail_job_free(j);
		return;
	}
	j->next = c->jobs;
	c->jobs = j;
	c->n++;
}

struct handover {
	struct mail_job *jobs;
	unsigned n;
};

/* "sending" is on disk (or was rolled back): only now may the relay be
 * contacted. */
static void
claimed(void *arg, bool committed)
{
	struct handover *h = arg;
	ml.awaiting -= h->n;
	struct mail_job *j = h->jobs;
	while (j) {
		struct mail_job *next = j->next;
		if (!committed) {
			mail_job_free(j);
		} else if (!mail_worker_submit(j)) {   /* freed: stays "sending" until restart */
			log_error("mail: the mail thread refused a mail; it will be marked interrupted "
				  "at the next start");
		}
		j = next;
	}
	free(h);
	if (!committed)
		ml.next_due = 0;               /* rolled back: pending again */
}

static void
hand_over(int64_t now)
{
	unsigned room = mail_worker_room();
	if (room <= ml.awaiting || now < ml.next_due)
		return;
	room -= ml.awaiting;
	struct claim c = {.s = ml.store, .now = now};
	struct handover *h = calloc(1, sizeof *h);
	if (h == NULL || commit_req_begin(ml.store) != LSN_OK) {
		free(h);
		return;
	}
	int64_t next = 0;
	enum lsn_err err = store_mail_due(ml.store, now, (int)room, claim_one, &c);
	if (err == LSN_OK)
		err = c.err;
	if (err == LSN_OK)   /* what is left pending: when to look again */
		err = store_mail_next_due(ml.store, &next);
	bool keep = err == LSN_OK;
	if (keep && c.n) {
		h->jobs = c.jobs;
		h->n = c.n;
		keep = commit_after(claimed, h);
	}
	commit_req_end(ml.store, keep);
	if (!keep || c.n == 0) {
		free_jobs(c.jobs);
		free(h);
	} else {
		ml.awaiting += c.n;
	}
	ml.next_due = !keep ? now + 1000 : next > 0 ? next : INT64_MAX;
	if (err != LSN_OK)
		log_error("mail: cannot read the outbox (%s); trying again in a second",
			  lsn_err_code(err));
	struct effects fx;
	effects_init(&fx);
	commit_hold_effects(&fx);          /* commit what was written */
}

void
mail_sweep(int64_t now)
{
	if (!ml.started || commit_busy())
		return;
	collect();
	if (ml.unrecorded && commit_req_begin(ml.store) == LSN_OK) {
		enum lsn_err err = record(ml.store, now);
		commit_req_end(ml.store, err == LSN_OK);
		if (err != LSN_OK)
			log_error("mail: cannot record the outcome of sent mails (%s); trying again",
				  lsn_err_code(err));
		struct effects fx;
		effects_init(&fx);
		commit_hold_effects(&fx);
	}
	hand_over(now);
}

void
mail_fini(void)
{
	if (!ml.on)
		return;
	if (ml.started)
		mail_worker_stop();
	collect();
	if (ml.unrecorded && store_batch_begin(ml.store) == LSN_OK) {
		enum lsn_err err = record(ml.store, lsn_clock_now_ms());
		if (err == LSN_OK)
			err = store_batch_commit(ml.store);
		else
			store_batch_rollback(ml.store);
		if (err != LSN_OK)
			log_error("mail: cannot record the last outcomes (%s); those mails are marked "
				  "interrupted at the next start", lsn_err_code(err));
	}
	free_jobs(ml.unrecorded);
	ml.unrecorded = NULL;
	mail_smtp_global_fini();
	sodium_free(ml.password);
	ml.password = NULL;
	ml.on = ml.started = false;
}
