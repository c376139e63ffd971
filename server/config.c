/* config.c — defaults, the key = value file parser and flag overrides. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "config.h"
#include "lsn_config.h"

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1");
	cfg->port = 7443;
	snprintf(cfg->server_name, sizeof cfg->server_name, "localhost");
	snprintf(cfg->data_dir, sizeof cfg->data_dir, "data");
	snprintf(cfg->tls_cert, sizeof cfg->tls_cert, "certs/dev/server.crt");
	snprintf(cfg->tls_key, sizeof cfg->tls_key, "certs/dev/server.key");
	snprintf(cfg->web_root, sizeof cfg->web_root, "%s", LSN_WEBDIR);
	config_set(cfg, "metrics_allow", "127.0.0.0/8, ::1", NULL);
	cfg->synchronous = STORE_SYNC_FULL;
	cfg->max_frame = 256 * 1024;
	cfg->outq_max_bytes = 4 * 1024 * 1024;
	cfg->outq_max_frames = 4096;
	cfg->outq_soft_bytes = 1024 * 1024;
	cfg->outq_soft_grace_s = 10;
	snprintf(cfg->event_loop, sizeof cfg->event_loop, "epoll");
	cfg->service_threads = 1;
	cfg->ping_after_s = 30;
	cfg->hangup_after_s = 75;
	cfg->commit_delay_us = 0;
	cfg->commit_pipeline = true;
	cfg->db_cache = 16 * 1024 * 1024;
	cfg->checkpoint_pages = 1000;
	cfg->wal_max_pages = 8000;
	cfg->invite_ttl_ms = 72LL * 3600 * 1000;
	cfg->attachment_max = 50 * 1024 * 1024;
	cfg->due_soon_ms = 24LL * 3600 * 1000;
	cfg->ack_timeout_ms = 24LL * 3600 * 1000;
	cfg->case_backdate_max_days = 30;
	cfg->timer_interval_s = 60;
	snprintf(cfg->timezone, sizeof cfg->timezone, "Europe/Paris");
	cfg->log_level = LOG_INFO;
	cfg->production = false;
	cfg->rate_conn_per_s = 200;
	cfg->rate_conn_burst = 2000;
	cfg->rate_user_per_s = 400;
	cfg->rate_user_burst = 4000;
	cfg->login_fail_addr_per_min = 30;
	cfg->login_fail_addr_burst = 30;
	cfg->login_fail_account_per_min = 10;
	cfg->login_fail_account_burst = 10;
	cfg->rate_table_entries = 8192;
	cfg->todevice_max_queued = 1000;
	cfg->todevice_max_per_sender = 100;
	cfg->todevice_reply_window_ms = 24LL * 3600 * 1000;
	cfg->channels_per_user = 2000;
	cfg->open_cases_per_user = 1000;
	cfg->attachment_unfinished_ttl_ms = 24LL * 3600 * 1000;
	cfg->storage_quota = 2ULL << 30;
	cfg->idempotency_retention_ms = 7LL * 86400 * 1000;
	cfg->notification_retention_ms = 90LL * 86400 * 1000;
	cfg->conn_unauth_per_addr = 64;
	cfg->conn_per_user = 16;
	cfg->smtp_port = 587;
	cfg->smtp_starttls = true;
	cfg->mail_delay_ms = 3600LL * 1000;
	cfg->mail_period_ms = 4 * 3600LL * 1000;
}

/* The rate-limit keys: name, field, smallest and largest value. */
static const struct {
	const char *key;
	size_t offset;
	unsigned min, max;
	const char *expect;
} rate_keys[] = {
	{"rate_conn_per_s", offsetof(struct config, rate_conn_per_s), 0, 1000000,
	 "requests per second from 0 (no limit) to 1000000"},
	{"rate_conn_burst", offsetof(struct config, rate_conn_burst), 1, 10000000,
	 "a number of requests from 1 to 10000000"},
	{"rate_user_per_s", offsetof(struct config, rate_user_per_s), 0, 1000000,
	 "requests per second from 0 (no limit) to 1000000"},
	{"rate_user_burst", offsetof(struct config, rate_user_burst), 1, 10000000,
	 "a number of requests from 1 to 10000000"},
	{"login_fail_addr_per_min", offsetof(struct config, login_fail_addr_per_min), 0, 1000000,
	 "failed logins per minute from 0 (no limit) to 1000000"},
	{"login_fail_addr_burst", offsetof(struct config, login_fail_addr_burst), 1, 1000000,
	 "a number of failed logins from 1 to 1000000"},
	{"login_fail_account_per_min", offsetof(struct config, login_fail_account_per_min), 0,
	 1000000, "failed logins per minute from 0 (no limit) to 1000000"},
	{"login_fail_account_burst", offsetof(struct config, login_fail_account_burst), 1, 1000000,
	 "a number of failed logins from 1 to 1000000"},
	{"rate_table_entries", offsetof(struct config, rate_table_entries), 16, 1000000,
	 "a number of entries from 16 to 1000000"},
};

/* The bounds on queues and tables (docs/OPERATIONS.md, "Bounds"): counts
 * (0: no limit), durations and the storage quota. */
static const struct {
	const char *key;
	size_t offset;
	unsigned min, max;
	const char *expect;
} bound_counts[] = {
	{"todevice_max_queued", offsetof(struct config, todevice_max_queued), 0, 1000000,
	 "a number of entries from 0 (no limit) to 1000000"},
	{"todevice_max_per_sender", offsetof(struct config, todevice_max_per_sender), 0, 1000000,
	 "a number of entries from 0 (no limit) to 1000000"},
	{"channels_per_user", offsetof(struct config, channels_per_user), 0, 10000000,
	 "a number of channels from 0 (no limit) to 10000000"},
	{"open_cases_per_user", offsetof(struct config, open_cases_per_user), 0, 10000000,
	 "a number of cases from 0 (no limit) to 10000000"},
	{"conn_unauth_per_addr", offsetof(struct config, conn_unauth_per_addr), 0, 100000,
	 "a number of connections from 0 (no limit) to 100000"},
	{"conn_per_user", offsetof(struct config, conn_per_user), 0, 100000,
	 "a number of connections from 0 (no limit) to 100000"},
};

static const struct {
	const char *key;
	size_t offset;
} bound_durations[] = {
	{"todevice_reply_window", offsetof(struct config, todevice_reply_window_ms)},
	{"attachment_unfinished_ttl", offsetof(struct config, attachment_unfinished_ttl_ms)},
	{"idempotency_retention", offsetof(struct config, idempotency_retention_ms)},
	{"notification_retention", offsetof(struct config, notification_retention_ms)},
};

static bool
parse_uint(const char *text, unsigned long long min, unsigned long long max,
	   unsigned long long *out)
{
	if (text == NULL || !isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Sizes accept a K, M or G suffix (powers of 1024). */
static bool
parse_size(const char *text, unsigned long long min, unsigned long long max,
	   unsigned long long *out)
{
	char digits[32];
	size_t len = text ? strlen(text) : 0;
	if (len == 0 || len >= sizeof digits)
		return false;
	unsigned long long mult = 1;
	memcpy(digits, text, len + 1);
	switch (digits[len - 1]) {
	case 'K': case 'k': mult = 1024ULL; break;
	case 'M': case 'm': mult = 1024ULL * 1024; break;
	case 'G': case 'g': mult = 1024ULL * 1024 * 1024; break;
	default: break;
	}
	if (mult != 1)
		digits[len - 1] = '\0';
	unsigned long long v;
	if (!parse_uint(digits, 0, max / mult, &v) || v * mult < min)
		return false;
	*out = v * mult;
	return true;
}

bool
config_parse_duration_ms(const char *text, int64_t *out)
{
	char digits[32];
	size_t len = text ? strlen(text) : 0;
	if (len == 0 || len >= sizeof digits)
		return false;
	memcpy(digits, text, len + 1);
	long long mult = 1000;
	switch (digits[len - 1]) {
	case 's': mult = 1000; digits[len - 1] = '\0'; break;
	case 'm': mult = 60 * 1000; digits[len - 1] = '\0'; break;
	case 'h': mult = 3600 * 1000; digits[len - 1] = '\0'; break;
	case 'd': mult = 86400LL * 1000; digits[len - 1] = '\0'; break;
	default: break;
	}
	unsigned long long v;
	if (!parse_uint(digits, 1, 3650ULL * 86400 * 1000 / (unsigned long long)mult, &v))
		return false;
	*out = (int64_t)v * mult;
	return true;
}

static enum lsn_err
set_string(char *dst, size_t cap, const char *key, const char *value, struct lsn_status *st)
{
	if (*value == '\0' || strlen(value) >= cap)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s: expected a value of 1 to %zu characters",
				key, cap - 1);
	snprintf(dst, cap, "%s", value);
	return LSN_OK;
}

static enum lsn_err
bad_value(const char *key, const char *expect, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s: expected %s", key, expect);
}

static enum lsn_err set_bound(struct config *cfg, const char *key, const char *value,
			      struct lsn_status *st);
static enum lsn_err set_mail(struct config *cfg, const char *key, const char *value,
			     struct lsn_status *st);

static enum lsn_err
set_number(struct config *cfg, const char *key, const char *value, struct lsn_status *st)
{
	unsigned long long v;
	if (strcmp(key, "port") == 0) {
		if (!parse_uint(value, 1, 65535, &v))
			return bad_value(key, "a port number from 1 to 65535", st);
		cfg->port = (int)v;
	} else if (strcmp(key, "max_frame") == 0) {
		if (!parse_size(value, 4096, 16ULL << 20, &v))
			return bad_value(key, "a size from 4K to 16M", st);
		cfg->max_frame = (size_t)v;
	} else if (strcmp(key, "outq_max_bytes") == 0) {
		if (!parse_size(value, 64 * 1024, 1ULL << 30, &v))
			return bad_value(key, "a size from 64K to 1G", st);
		cfg->outq_max_bytes = (size_t)v;
	} else if (strcmp(key, "outq_max_frames") == 0) {
		if (!parse_uint(value, 16, 1000000, &v))
			return bad_value(key, "a number from 16 to 1000000", st);
		cfg->outq_max_frames = (unsigned)v;
	} else if (strcmp(key, "outq_soft_bytes") == 0) {
		if (!parse_size(value, 16 * 1024, 1ULL << 30, &v))
			return bad_value(key, "a size from 16K to 1G", st);
		cfg->outq_soft_bytes = (size_t)v;
	} else if (strcmp(key, "ping_after") == 0 || strcmp(key, "hangup_after") == 0) {
		if (!parse_uint(value, 1, 3600, &v))
			return bad_value(key, "seconds from 1 to 3600", st);
		*(strcmp(key, "ping_after") == 0 ? &cfg->ping_after_s : &cfg->hangup_after_s) =
			(unsigned)v;
	} else if (strcmp(key, "attachment_max") == 0) {
		if (!parse_size(value, 1024, 4ULL << 30, &v))
			return bad_value(key, "a size from 1K to 4G", st);
		cfg->attachment_max = (size_t)v;
	} else if (strcmp(key, "timer_interval") == 0) {
		if (!parse_uint(value, 1, 3600, &v))
			return bad_value(key, "seconds from 1 to 3600", st);
		cfg->timer_interval_s = (unsigned)v;
	} else if (strcmp(key, "outq_soft_grace") == 0) {
		if (!parse_uint(value, 1, 3600, &v))
			return bad_value(key, "seconds from 1 to 3600", st);
		cfg->outq_soft_grace_s = (unsigned)v;
	} else if (strcmp(key, "db_cache") == 0) {
		if (!parse_size(value, 1024 * 1024, 1ULL << 30, &v))
			return bad_value(key, "a size from 1M to 1G", st);
		cfg->db_cache = (size_t)v;
	} else if (strcmp(key, "checkpoint_pages") == 0) {
		if (!parse_uint(value, 1, 1000000, &v))
			return bad_value(key, "pages from 1 to 1000000", st);
		cfg->checkpoint_pages = (unsigned)v;
	} else if (strcmp(key, "wal_max_pages") == 0) {
		if (!parse_uint(value, 2, 4000000, &v))
			return bad_value(key, "pages from 2 to 4000000", st);
		cfg->wal_max_pages = (unsigned)v;
	} else if (strcmp(key, "commit_delay_us") == 0) {
		if (!parse_uint(value, 0, 100000, &v))
			return bad_value(key, "microseconds from 0 to 100000", st);
		cfg->commit_delay_us = (unsigned)v;
	} else {
		for (size_t i = 0; i < sizeof rate_keys / sizeof rate_keys[0]; i++)
			if (strcmp(key, rate_keys[i].key) == 0) {
				if (!parse_uint(value, rate_keys[i].min, rate_keys[i].max, &v))
					return bad_value(key, rate_keys[i].expect, st);
				*(unsigned *)((char *)cfg + rate_keys[i].offset) = (unsigned)v;
				return LSN_OK;
			}
		return set_bound(cfg, key, value, st);
	}
	return LSN_OK;
}

/* A bound key (bound_counts, bound_durations, storage_quota); not_found
 * for any other key. */
static enum lsn_err
set_bound(struct config *cfg, const char *key, const char *value, struct lsn_status *st)
{
	unsigned long long v;
	for (size_t i = 0; i < sizeof bound_counts / sizeof bound_counts[0]; i++)
		if (strcmp(key, bound_counts[i].key) == 0) {
			if (!parse_uint(value, bound_counts[i].min, bound_counts[i].max, &v))
				return bad_value(key, bound_counts[i].expect, st);
			*(unsigned *)((char *)cfg + bound_counts[i].offset) = (unsigned)v;
			return LSN_OK;
		}
	for (size_t i = 0; i < sizeof bound_durations / sizeof bound_durations[0]; i++)
		if (strcmp(key, bound_durations[i].key) == 0) {
			if (!config_parse_duration_ms(value,
						      (int64_t *)((char *)cfg + bound_durations[i].offset)))
				return bad_value(key, "a duration such as 24h, 30m or 7d", st);
			return LSN_OK;
		}
	if (strcmp(key, "storage_quota") == 0) {
		if (!parse_size(value, 0, 1ULL << 50, &v))
			return bad_value(key, "a size from 0 (no limit) to 1048576G, such as 2G", st);
		cfg->storage_quota = v;
		return LSN_OK;
	}
	return LSN_ERR_NOT_FOUND;
}

/* "Area/Location" of the tz database: letters, digits, '_', '-', '+' and
 * '/' between non-empty parts; no "..", no leading '/'. */
static bool
timezone_name_ok(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= sizeof ((struct config *)0)->timezone || name[0] == '/' ||
	    name[len - 1] == '/' || strstr(name, "//") || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '+' && *p != '/')
			return false;
	return true;
}

enum lsn_err
config_apply_timezone(const struct config *cfg, bool set_tz, struct lsn_status *st)
{
	const char *dir = getenv("TZDIR");
	char path[CONFIG_PATH_MAX + 80], magic[4] = {0};
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof path, "%s/%s", dir, cfg->timezone);
	FILE *f = timezone_name_ok(cfg->timezone) ? fopen(path, "rb") : NULL;
	bool ok = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	if (f)
		fclose(f);
	if (!ok)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"timezone: \"%s\" is not a time zone of the tz database (no %s): set "
				"timezone = Europe/Paris (or your CPTS's zone) in liaisond.conf, and "
				"install the tzdata package", cfg->timezone, path);
	if (!set_tz)
		return LSN_OK;
	if (setenv("TZ", cfg->timezone, 1) != 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "timezone: cannot set TZ: %s", strerror(errno));
	tzset();
	return LSN_OK;
}

/* ---- /metrics access: metrics_allow, metrics_token ---------------------- */

/* "10.0.0.0/8", "192.0.2.7", "::1" or "fd00::/8" → a prefix. */
static bool
parse_net(const char *text, struct config_net *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof addr)
		return false;
	memcpy(addr, text, len);
	addr[len] = '\0';
	unsigned char v4[4];
	unsigned max = 128, offset = 0;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, addr, v4) == 1) {
		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12, v4, 4);
		max = 32;
		offset = 96;
	} else if (inet_pton(AF_INET6, addr, out->addr) != 1) {
		return false;
	}
	unsigned long long prefix = max;
	if (slash && !parse_uint(slash + 1, 0, max, &prefix))
		return false;
	out->prefix = (unsigned)prefix + offset;
	return true;
}

static bool
net_contains(const struct config_net *net, const uint8_t addr[16])
{
	unsigned bits = net->prefix, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (net->addr[i] != addr[i])
			return false;
	if (bits == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (net->addr[i] & mask) == (addr[i] & mask);
}

/* A list separated by commas and/or spaces, or "none". */
static enum lsn_err
set_metrics_allow(struct config *cfg, const char *key, const char *value, struct lsn_status *st)
{
	static const char expect[] = "a list of addresses or networks separated by commas, such as "
				     "127.0.0.0/8, ::1, 10.1.2.0/24 (at most 32), or none";
	struct config_net nets[CONFIG_METRICS_ALLOW_MAX];
	unsigned n = 0;
	memset(nets, 0, sizeof nets);
	if (strcmp(value, "none") != 0) {
		const char *p = value;
		while (*p) {
			while (*p == ',' || *p == ' ' || *p == '\t')
				p++;
			size_t len = strcspn(p, ", \t");
			if (len == 0)
				break;
			char item[80];
			if (len >= sizeof item || n == CONFIG_METRICS_ALLOW_MAX)
				return bad_value(key, expect, st);
			memcpy(item, p, len);
			item[len] = '\0';
			if (!parse_net(item, &nets[n++]))
				return bad_value(key, expect, st);
			p += len;
		}
		if (n == 0)
			return bad_value(key, expect, st);
	}
	memcpy(cfg->metrics_allow, nets, n * sizeof nets[0]);
	cfg->metrics_allow_n = n;
	return LSN_OK;
}

static enum lsn_err
set_metrics_token(struct config *cfg, const char *key, const char *value, struct lsn_status *st)
{
	size_t len = strlen(value);
	if (strcmp(value, "none") == 0) {
		cfg->metrics_token[0] = '\0';
		return LSN_OK;
	}
	bool ok = len >= CONFIG_METRICS_TOKEN_MIN && len <= CONFIG_METRICS_TOKEN_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = value[i] > ' ' && value[i] < 0x7f;
	if (!ok)
		return bad_value(key, "a token of 16 to 128 printable characters without spaces "
				 "(for example the output of: openssl rand -hex 32), or none", st);
	snprintf(cfg->metrics_token, sizeof cfg->metrics_token, "%s", value);
	return LSN_OK;
}

bool
config_metrics_allowed(const struct config *cfg, const uint8_t addr[16], const char *authorization)
{
	for (unsigned i = 0; addr && i < cfg->metrics_allow_n; i++)
		if (net_contains(&cfg->metrics_allow[i], addr))
			return true;
	static const char bearer[] = "Bearer ";
	size_t want = strlen(cfg->metrics_token);
	if (want == 0 || authorization == NULL ||
	    strncmp(authorization, bearer, sizeof bearer - 1) != 0)
		return false;
	const char *given = authorization + sizeof bearer - 1;
	return strlen(given) == want && sodium_memcmp(given, cfg->metrics_token, want) == 0;
}

/* ---- mail: the relay and the "something is waiting" e-mails ------------- */

bool
config_address_ok(const char *addr)
{
	size_t len = strlen(addr);
	const char *at = strchr(addr, '@');
	if (len == 0 || len > CONFIG_ADDRESS_MAX || at == NULL || at == addr || at[1] == '\0' ||
	    strchr(at + 1, '@') || at - addr > 64)
		return false;
	for (const char *p = addr; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= ' ' || ch >= 0x7f || strchr("\"<>()[]\\,;:", ch))
			return false;
	}
	/* the domain: labels of letters, digits and '-', separated by dots */
	const char *d = at + 1;
	if (d[0] == '.' || d[strlen(d) - 1] == '.' || strstr(d, ".."))
		return false;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.')
			return false;
	return true;
}

/* A host name (letters, digits, '-', '.') or an IPv4 or IPv6 address. */
static bool
host_ok(const char *host)
{
	unsigned char addr[16];
	size_t len = strlen(host);
	if (len == 0 || len > CONFIG_HOST_MAX)
		return false;
	if (inet_pton(AF_INET6, host, addr) == 1)
		return true;
	if (host[0] == '-' || host[0] == '.' || strstr(host, ".."))
		return false;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

bool
config_host_is_loopback(const char *host)
{
	unsigned char addr[16];
	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, addr) == 1)
		return addr[0] == 127;
	static const unsigned char v6_loopback[16] = {[15] = 1};
	return inet_pton(AF_INET6, host, addr) == 1 && memcmp(addr, v6_loopback, 16) == 0;
}

/* https:// then printable ASCII without spaces, quotes or angle brackets. */
static bool
public_url_ok(const char *url)
{
	size_t len = strlen(url);
	if (len >= CONFIG_URL_MAX || strncmp(url, "https://", 8) != 0 || len == 8 || url[8] == '/')
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("\"<>\\`", *p))
			return false;
	return true;
}

void
config_public_url(const struct config *cfg, char *out, size_t cap)
{
	if (cfg->public_url[0])
		snprintf(out, cap, "%s", cfg->public_url);
	else if (cfg->port == 443)
		snprintf(out, cap, "https://%s/", cfg->server_name);
	else
		snprintf(out, cap, "https://%s:%d/", cfg->server_name, cfg->port);
}

/* "none" empties a text key (its default). */
static enum lsn_err
set_optional(char *dst, size_t cap, const char *key, const char *value, struct lsn_status *st)
{
	if (strcmp(value, "none") == 0) {
		dst[0] = '\0';
		return LSN_OK;
	}
	return set_string(dst, cap, key, value, st);
}

static enum lsn_err
set_mail(struct config *cfg, const char *key, const char *value, struct lsn_status *st)
{
	unsigned long long v;
	if (strcmp(key, "public_url") == 0) {
		if (strcmp(value, "none") != 0 && !public_url_ok(value))
			return bad_value(key, "an https:// URL of at most 255 printable characters "
					 "without spaces, such as https://liaison.cpts-example.fr/, or "
					 "none (https://server_name:port/)", st);
		return set_optional(cfg->public_url, sizeof cfg->public_url, key, value, st);
	}
	if (strcmp(key, "smtp_host") == 0) {
		if (strcmp(value, "none") != 0 && !host_ok(value))
			return bad_value(key, "the relay's host name or IP address, such as "
					 "smtp.example.fr, or none (no mail)", st);
		return set_optional(cfg->smtp_host, sizeof cfg->smtp_host, key, value, st);
	}
	if (strcmp(key, "smtp_port") == 0) {
		if (!parse_uint(value, 1, 65535, &v))
			return bad_value(key, "a port number from 1 to 65535 (587: submission)", st);
		cfg->smtp_port = (int)v;
		return LSN_OK;
	}
	if (strcmp(key, "smtp_starttls") == 0) {
		if (strcmp(value, "required") != 0 && strcmp(value, "off") != 0)
			return bad_value(key, "required, or off (a relay on this machine only)", st);
		cfg->smtp_starttls = strcmp(value, "required") == 0;
		return LSN_OK;
	}
	if (strcmp(key, "smtp_ca") == 0)
		return set_optional(cfg->smtp_ca, sizeof cfg->smtp_ca, key,
				    strcmp(value, "system") == 0 ? "none" : value, st);
	if (strcmp(key, "smtp_user") == 0)
		return set_optional(cfg->smtp_user, sizeof cfg->smtp_user, key, value, st);
	if (strcmp(key, "smtp_password_file") == 0)
		return set_optional(cfg->smtp_password_file, sizeof cfg->smtp_password_file, key,
				    value, st);
	if (strcmp(key, "mail_from") == 0) {
		if (strcmp(value, "none") != 0 && !config_address_ok(value))
			return bad_value(key, "an e-mail address such as liaison@cpts-example.fr", st);
		return set_optional(cfg->mail_from, sizeof cfg->mail_from, key, value, st);
	}
	if (strcmp(key, "mail_delay") == 0 || strcmp(key, "mail_period") == 0) {
		int64_t *dst = strcmp(key, "mail_delay") == 0 ? &cfg->mail_delay_ms
							       : &cfg->mail_period_ms;
		if (!config_parse_duration_ms(value, dst))
			return bad_value(key, "a duration such as 1h, 30m or 4h", st);
		return LSN_OK;
	}
	return lsn_fail(st, LSN_ERR_BAD_REQUEST, "unknown setting \"%s\"", key);
}

enum lsn_err
config_check(const struct config *cfg, struct lsn_status *st)
{
	/* the checkpoint thread copies every checkpoint_pages; the committing
	 * thread takes over only past wal_max_pages, so the second must be
	 * the larger or the thread never gets a turn */
	if (cfg->wal_max_pages <= cfg->checkpoint_pages)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "wal_max_pages (%u) must be above "
				"checkpoint_pages (%u): raise it, or remove both for their "
				"defaults (8000 and 1000)", cfg->wal_max_pages, cfg->checkpoint_pages);
	return LSN_OK;
}

enum lsn_err
config_check_mail(const struct config *cfg, struct lsn_status *st)
{
	if (cfg->smtp_host[0] == '\0')
		return LSN_OK;
	if (cfg->mail_from[0] == '\0')
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_host is set but mail_from is not: set "
				"mail_from = the sender address your relay accepts (e.g. "
				"liaison@cpts-example.fr), or smtp_host = none");
	if ((cfg->smtp_user[0] == '\0') != (cfg->smtp_password_file[0] == '\0'))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_user and smtp_password_file go "
				"together: set both (authentication) or neither");
	if (!cfg->smtp_starttls && !config_host_is_loopback(cfg->smtp_host))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "smtp_starttls = off is allowed only for a "
				"relay on this machine (localhost, 127.0.0.1, ::1), not %s: mail would "
				"cross the network in clear", cfg->smtp_host);
	return LSN_OK;
}

/* ---- key = value ------------------------------------------------------- */

enum lsn_err
config_set(struct config *cfg, const char *key, const char *value, struct lsn_status *st)
{
	enum lsn_err err = set_number(cfg, key, value, st);
	if (err != LSN_ERR_NOT_FOUND)
		return err;
	if (strcmp(key, "metrics_allow") == 0)
		return set_metrics_allow(cfg, key, value, st);
	if (strcmp(key, "metrics_token") == 0)
		return set_metrics_token(cfg, key, value, st);
	if (strcmp(key, "listen") == 0) {
		unsigned char addr[16];
		if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1)
			return bad_value(key, "an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1", st);
		return set_string(cfg->listen, sizeof cfg->listen, key, value, st);
	}
	if (strcmp(key, "server_name") == 0)
		return set_string(cfg->server_name, sizeof cfg->server_name, key, value, st);
	if (strcmp(key, "data_dir") == 0)
		return set_string(cfg->data_dir, sizeof cfg->data_dir, key, value, st);
	if (strcmp(key, "tls_cert") == 0)
		return set_string(cfg->tls_cert, sizeof cfg->tls_cert, key, value, st);
	if (strcmp(key, "tls_key") == 0)
		return set_string(cfg->tls_key, sizeof cfg->tls_key, key, value, st);
	if (strcmp(key, "web_root") == 0)
		return set_string(cfg->web_root, sizeof cfg->web_root, key, value, st);
	if (strcmp(key, "synchronous") == 0) {
		if (strcmp(value, "full") == 0)
			cfg->synchronous = STORE_SYNC_FULL;
		else if (strcmp(value, "normal") == 0)
			cfg->synchronous = STORE_SYNC_NORMAL;
		else
			return bad_value(key, "full or normal", st);
		return LSN_OK;
	}
	if (strcmp(key, "commit_pipeline") == 0) {
		if (strcmp(value, "on") == 0)
			cfg->commit_pipeline = true;
		else if (strcmp(value, "off") == 0)
			cfg->commit_pipeline = false;
		else
			return bad_value(key, "on or off", st);
		return LSN_OK;
	}
	if (strcmp(key, "service_threads") == 0) {
		unsigned long long v = 0;
		if (!parse_uint(value, 1, CONFIG_SERVICE_THREADS_MAX, &v))
			return bad_value(key, "a number of threads from 1 to 16", st);
		cfg->service_threads = (unsigned)v;
		return LSN_OK;
	}
	if (strcmp(key, "event_loop") == 0) {
		if (strcmp(value, "epoll") != 0 && strcmp(value, "poll") != 0)
			return bad_value(key, "epoll or poll", st);
		return set_string(cfg->event_loop, sizeof cfg->event_loop, key, value, st);
	}
	if (strcmp(key, "timezone") == 0) {
		if (!timezone_name_ok(value))
			return bad_value(key, "a time zone name of the tz database such as Europe/Paris, "
					 "America/Martinique or UTC", st);
		return set_string(cfg->timezone, sizeof cfg->timezone, key, value, st);
	}
	if (strcmp(key, "invite_ttl") == 0) {
		if (!config_parse_duration_ms(value, &cfg->invite_ttl_ms))
			return bad_value(key, "a duration such as 72h, 30m or 7d", st);
		return LSN_OK;
	}
	if (strcmp(key, "due_soon") == 0 || strcmp(key, "ack_timeout") == 0) {
		if (!config_parse_duration_ms(value, strcmp(key, "due_soon") == 0 ? &cfg->due_soon_ms
										 : &cfg->ack_timeout_ms))
			return bad_value(key, "a duration such as 24h, 30m or 2d", st);
		return LSN_OK;
	}
	if (strcmp(key, "case_backdate_max") == 0) {
		int64_t ms = 0;
		if (!config_parse_duration_ms(value, &ms) || ms % (86400LL * 1000) != 0)
			return bad_value(key, "a whole number of days such as 30d", st);
		cfg->case_backdate_max_days = ms / (86400LL * 1000);
		return LSN_OK;
	}
	if (strcmp(key, "log_level") == 0) {
		if (!log_level_parse(value, &cfg->log_level))
			return bad_value(key, "error, warn, info or debug", st);
		return LSN_OK;
	}
	if (strcmp(key, "mode") == 0) {
		if (strcmp(value, "production") != 0 && strcmp(value, "development") != 0)
			return bad_value(key, "production or development", st);
		cfg->production = strcmp(value, "production") == 0;
		return LSN_OK;
	}
	return set_mail(cfg, key, value, st);
}

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One "key = value" line (already without its newline). */
static enum lsn_err
parse_line(struct config *cfg, char *line, const char *origin, int lineno, struct lsn_status *st)
{
	char *s = trim(line);
	if (*s == '\0' || *s == '#')
		return LSN_OK;
	char *eq = strchr(s, '=');
	if (eq == NULL)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s:%d: expected \"key = value\"", origin,
				lineno);
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	struct lsn_status inner = {0};
	if (config_set(cfg, key, value, &inner) != LSN_OK)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s:%d: %s", origin, lineno, inner.msg);
	return LSN_OK;
}

enum lsn_err
config_parse(struct config *cfg, const char *text, size_t len, const char *origin,
	     struct lsn_status *st)
{
	char line[2048];
	int lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		lineno++;
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		size_t n = end - pos;
		if (n >= sizeof line)
			return lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s:%d: line too long", origin, lineno);
		if (memchr(text + pos, '\0', n))
			return lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s:%d: NUL byte", origin, lineno);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		enum lsn_err err = parse_line(cfg, line, origin, lineno, st);
		if (err != LSN_OK)
			return err;
		pos = end + 1;
	}
	return LSN_OK;
}

enum lsn_err
config_load_file(struct config *cfg, const char *path, struct lsn_status *st)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return lsn_fail(st, LSN_ERR_NOT_FOUND, "cannot open config file %s: %s", path,
				strerror(errno));
	char *text = malloc(1 << 20);
	size_t len = text ? fread(text, 1, 1 << 20, f) : 0;
	bool too_big = text && len == (1 << 20);
	fclose(f);
	if (text == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = too_big ? lsn_fail(st, LSN_ERR_BAD_REQUEST, "%s: larger than 1 MiB", path)
				   : config_parse(cfg, text, len, path, st);
	free(text);
	return err;
}

void
config_db_path(const struct config *cfg, char *out, size_t cap)
{
	snprintf(out, cap, "%s/liaison.db", cfg->data_dir);
}
