/* config.h — liaisond settings: embedded defaults, then liaisond.conf
 * (key = value), then command-line flags. etc/liaisond.conf.sample documents
 * every key. */
#ifndef LSN_CONFIG_H
#define LSN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "log.h"
#include "store.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_SERVICE_THREADS_MAX 16
#define CONFIG_METRICS_ALLOW_MAX 32
#define CONFIG_METRICS_TOKEN_MIN 16
#define CONFIG_METRICS_TOKEN_MAX 128
#define CONFIG_URL_MAX 256
#define CONFIG_HOST_MAX 254
#define CONFIG_ADDRESS_MAX 254

/* An address prefix: IPv4 is kept as its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d, prefix + 96), so one comparison covers both. */
struct config_net {
	uint8_t addr[16];
	unsigned prefix;               /* 0 to 128 bits */
};

struct config {
	char listen[64];
	int port;
	char server_name[254];
	char data_dir[CONFIG_PATH_MAX];
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	/* the browser client's built files, served at / (server/web_static.h);
	 * default: the directory meson install fills (LSN_WEBDIR) */
	char web_root[CONFIG_PATH_MAX];
	/* /metrics: answered to these networks, or to a request carrying the
	 * bearer token (empty: no token accepted); default loopback only */
	struct config_net metrics_allow[CONFIG_METRICS_ALLOW_MAX];
	unsigned metrics_allow_n;
	char metrics_token[CONFIG_METRICS_TOKEN_MAX + 1];
	enum store_sync synchronous;
	size_t max_frame;
	size_t outq_max_bytes;
	unsigned outq_max_frames;
	size_t outq_soft_bytes;        /* above this for outq_soft_grace_s: disconnected */
	unsigned outq_soft_grace_s;
	char event_loop[8];            /* "epoll" (libev, when lws has it) or "poll" */
	unsigned service_threads;      /* network threads (TLS, frames, HTTP); 1: one thread does all */
	unsigned ping_after_s;
	unsigned hangup_after_s;
	unsigned commit_delay_us;
	/* on: COMMIT writes, a sync thread fdatasyncs the WAL while the next
	 * batch runs (server/syncer.h); off: COMMIT fsyncs on the commit thread */
	bool commit_pipeline;
	size_t db_cache;               /* SQLite's page cache of the server's connection */
	unsigned checkpoint_pages;     /* the checkpoint thread copies every N new WAL pages */
	unsigned wal_max_pages;        /* past it the committing thread finishes the copy */
	int64_t invite_ttl_ms;
	size_t attachment_max;
	int64_t due_soon_ms;           /* a step is "due soon" this long before its deadline */
	int64_t ack_timeout_ms;        /* unacknowledged discharge notices escalate after this */
	int64_t case_backdate_max_days; /* a case's J0 at most this many days ago (coordinators: any) */
	unsigned timer_interval_s;     /* how often the deadline scan runs */
	char timezone[64];             /* the CPTS's time zone (tz database name): pathway days */
	enum log_level log_level;
	bool production;
	/* rate limits (server/ratelimit.h); a rate of 0 turns that limit off */
	unsigned rate_conn_per_s, rate_conn_burst;        /* requests, per connection */
	unsigned rate_user_per_s, rate_user_burst;        /* requests, per logged-in user */
	unsigned login_fail_addr_per_min, login_fail_addr_burst;       /* failed logins */
	unsigned login_fail_account_per_min, login_fail_account_burst;
	unsigned rate_table_entries;   /* keys kept per table (users, addresses, accounts) */
	/* bounds on queues and tables (docs/OPERATIONS.md, "Bounds"); 0 turns
	 * a count limit off */
	unsigned todevice_max_queued;     /* entries queued for one recipient device */
	unsigned todevice_max_per_sender; /* of those, from one sending user */
	int64_t todevice_reply_window_ms; /* a user who wrote to you may be answered this long */
	unsigned channels_per_user;       /* channels a user is a current member of */
	unsigned open_cases_per_user;     /* open cases a user has opened */
	int64_t attachment_unfinished_ttl_ms; /* an unfinished upload is deleted after this */
	uint64_t storage_quota;           /* bytes of attachments per uploader */
	int64_t idempotency_retention_ms; /* stored replies of idempotent writes kept this long */
	int64_t notification_retention_ms; /* notifications kept this long */
	unsigned conn_unauth_per_addr;    /* connections not logged in, per remote address */
	unsigned conn_per_user;           /* logged-in connections per user */
	/* "something is waiting" e-mails (docs/OPERATIONS.md, "Mail"): off
	 * while smtp_host is empty */
	char public_url[CONFIG_URL_MAX];  /* the link in the mail; "" = https://server_name:port/ */
	char smtp_host[CONFIG_HOST_MAX + 1]; /* the relay; "" = no mail */
	int smtp_port;
	bool smtp_starttls;               /* false only for a loopback relay */
	char smtp_ca[CONFIG_PATH_MAX];    /* CA file for the relay's certificate; "" = system */
	char smtp_user[CONFIG_ADDRESS_MAX + 1]; /* "" = no AUTH */
	char smtp_password_file[CONFIG_PATH_MAX]; /* mode 600 or 400, read at start-up */
	char mail_from[CONFIG_ADDRESS_MAX + 1];
	int64_t mail_delay_ms;            /* unseen this long: a mail */
	int64_t mail_period_ms;           /* at most one mail per person per period */
};

void config_defaults(struct config *cfg);
/* Apply a config file; unknown keys and bad values are errors naming the line. */
enum lsn_err config_load_file(struct config *cfg, const char *path, struct lsn_status *st);
/* Apply one setting (from the file or a --key flag). */
enum lsn_err config_set(struct config *cfg, const char *key, const char *value,
			struct lsn_status *st);
/* Parse text in memory (the file loader and the fuzzer use it). */
enum lsn_err config_parse(struct config *cfg, const char *text, size_t len, const char *origin,
			  struct lsn_status *st);
/* The database file inside data_dir. */
void config_db_path(const struct config *cfg, char *out, size_t cap);
/* Check cfg->timezone against the tz database (TZDIR or /usr/share/zoneinfo)
 * and, with set_tz, make it the process's local time (TZ, tzset). Call once
 * at start-up, before any thread. */
enum lsn_err config_apply_timezone(const struct config *cfg, bool set_tz, struct lsn_status *st);
/* The keys that constrain each other, once every source (defaults, file,
 * flags) is applied; every command checks it. Today: wal_max_pages must be
 * above checkpoint_pages (docs/OPERATIONS.md, "Durability"). */
enum lsn_err config_check(const struct config *cfg, struct lsn_status *st);
/* The mail keys together (docs/OPERATIONS.md, "Mail"): with smtp_host
 * set, mail_from is required, smtp_user and smtp_password_file go
 * together, smtp_starttls = off only for a loopback relay. LSN_OK when
 * mail is off. */
enum lsn_err config_check_mail(const struct config *cfg, struct lsn_status *st);
/* A loopback relay: localhost, 127.0.0.0/8 or ::1. */
bool config_host_is_loopback(const char *host);
/* An e-mail address liaisond accepts: local@domain in printable ASCII,
 * without spaces, quotes, angle brackets or control characters (so it can
 * never break a header), at most 254 characters. */
bool config_address_ok(const char *addr);
/* The link the mail carries: public_url, or https://server_name[:port]/. */
void config_public_url(const struct config *cfg, char *out, size_t cap);
/* "72h", "30m", "45s", "7d" or plain seconds → milliseconds. */
bool config_parse_duration_ms(const char *text, int64_t *out);
/* /metrics access: is this peer address (16 bytes, IPv4 as ::ffff:a.b.c.d)
 * in metrics_allow, or does the Authorization header value ("Bearer TOKEN",
 * NULL when absent) carry metrics_token? */
bool config_metrics_allowed(const struct config *cfg, const uint8_t addr[16],
			    const char *authorization);

#endif
