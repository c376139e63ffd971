/* web_static.c — request path to file, MIME type, cache policy and the
 * security headers of the browser client's files (web_static.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_static.h"

#define SECURITY_HEADERS \
	{"content-security-policy:", WEB_CSP}, \
	{"x-content-type-options:", "nosniff"}, \
	{"referrer-policy:", "no-referrer"}, \
	{"strict-transport-security:", "max-age=31536000"}, \
	{"cross-origin-opener-policy:", "same-origin"}, \
	{"cross-origin-resource-policy:", "same-origin"}, \
	{"x-frame-options:", "DENY"}, \
	{"permissions-policy:", "accelerometer=(), camera=(), geolocation=(), gyroscope=(), " \
	 "magnetometer=(), microphone=(), payment=(), usb=()"}

static const struct web_header headers_revalidate[] = {
	SECURITY_HEADERS, {"cache-control:", "no-cache"},
};
static const struct web_header headers_immutable[] = {
	SECURITY_HEADERS, {"cache-control:", "public, max-age=31536000, immutable"},
};
static const struct web_header headers_no_store[] = {
	SECURITY_HEADERS, {"cache-control:", "no-store"},
};

size_t
web_static_headers(enum web_cache cache, const struct web_header **out)
{
	switch (cache) {
	case WEB_CACHE_IMMUTABLE:
		*out = headers_immutable;
		return sizeof headers_immutable / sizeof headers_immutable[0];
	case WEB_CACHE_REVALIDATE:
		*out = headers_revalidate;
		return sizeof headers_revalidate / sizeof headers_revalidate[0];
	case WEB_CACHE_NO_STORE:
	default:
		*out = headers_no_store;
		return sizeof headers_no_store / sizeof headers_no_store[0];
	}
}

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
	{"html", "text/html; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"wasm", "application/wasm"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"json", "application/json"},
	{"map", "application/json"},
	{"webmanifest", "application/manifest+json"},
	{"woff2", "font/woff2"},
	{"ico", "image/x-icon"},
	{"txt", "text/plain; charset=utf-8"},
};

static const char *
last_component(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

const char *
web_static_mime(const char *name)
{
	const char *base = last_component(name);
	const char *dot = strrchr(base, '.');
	if (dot && dot != base)
		for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

bool
web_static_hashed_name(const char *name)
{
	const char *base = last_component(name);
	const char *dot = strrchr(base, '.');
	if (dot == NULL || dot[1] == '\0')
		return false;
	/* HASH runs back from the dot to the last '-' before it */
	const char *dash = dot;
	while (dash > base && dash[-1] != '-')
		dash--;
	if (dash == base || dash - 1 == base)   /* no '-', or nothing before it */
		return false;
	size_t n = (size_t)(dot - dash);
	if (n < 8 || n > 64)
		return false;
	bool upper = true, hex = true;
	for (const char *p = dash; p < dot; p++) {
		upper = upper && ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
		hex = hex && ((*p >= 'a' && *p <= 'f') || (*p >= '0' && *p <= '9'));
	}
	return upper || hex;
}

enum web_cache
web_static_cache(const char *url_path)
{
	return web_static_hashed_name(url_path) ? WEB_CACHE_IMMUTABLE : WEB_CACHE_REVALIDATE;
}

bool
web_static_path_ok(const char *url_path, size_t len)
{
	if (url_path == NULL || len == 0 || len >= WEB_PATH_MAX || url_path[0] != '/')
		return false;
	if (len == 1)
		return true;
	if (url_path[len - 1] == '/')
		return false;               /* a directory other than the root */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url_path[i];
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '%')
			return false;
		if (c == '/' && (i + 1 == len || url_path[i + 1] == '/' || url_path[i + 1] == '.'))
			return false;           /* "//", or a component starting with '.' */
	}
	return true;
}

bool
web_static_root_ok(const char *root)
{
	struct stat sb;
	return root && root[0] && stat(root, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	       access(root, R_OK | X_OK) == 0;
}

/* Read a regular file of at most WEB_FILE_MAX bytes after headroom bytes. */
static int
read_file(const char *path, size_t headroom, struct web_file *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0 ||
	    (unsigned long long)sb.st_size > WEB_FILE_MAX) {
		close(fd);
		return -1;
	}
	size_t size = (size_t)sb.st_size;
	unsigned char *buf = malloc(headroom + size + 1);
	size_t got = 0;
	while (buf && got < size) {
		ssize_t n = read(fd, buf + headroom + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (buf == NULL || got != size) {   /* out of memory, or changed under us */
		free(buf);
		return -1;
	}
	out->buf = buf;
	out->len = size;
	return 0;
}

/* The real path of root + rel (+ suffix) if it stays under the root. */
static bool
resolve_under(const char *real_root, const char *rel, size_t rel_len, const char *suffix,
	      char real[PATH_MAX])
{
	char joined[PATH_MAX];
	int n = snprintf(joined, sizeof joined, "%s%.*s%s", real_root, (int)rel_len, rel, suffix);
	if (n < 0 || (size_t)n >= sizeof joined || realpath(joined, real) == NULL)
		return false;
	/* symbolic links resolved: the file must still be under the root */
	size_t rl = strlen(real_root);
	bool root_is_slash = rl == 1 && real_root[0] == '/';
	return root_is_slash || (strncmp(real, real_root, rl) == 0 && real[rl] == '/');
}

int
web_static_load(const char *root, const char *url_path, size_t len, size_t headroom,
		bool gzip_ok, struct web_file *out)
{
	memset(out, 0, sizeof *out);
	if (root == NULL || root[0] == '\0' || !web_static_path_ok(url_path, len))
		return -1;
	char real_root[PATH_MAX], real[PATH_MAX];
	if (realpath(root, real_root) == NULL)
		return -1;
	const char *rel = len == 1 ? "/index.html" : url_path;
	size_t rel_len = len == 1 ? 11 : len;
	/* the plain file must exist in any case: a lone FILE.gz is not FILE */
	if (!resolve_under(real_root, rel, rel_len, "", real))
		return -1;
	char real_gz[PATH_MAX];
	if (gzip_ok && resolve_under(real_root, rel, rel_len, ".gz", real_gz) &&
	    read_file(real_gz, headroom, out) == 0)
		out->gzip = true;
	else if (read_file(real, headroom, out) != 0)
		return -1;
	out->mime = web_static_mime(rel);
	out->cache = web_static_cache(rel);
	return 0;
}

bool
web_static_accepts_gzip(const char *ae)
{
	if (ae == NULL)
		return false;
	const char *p = ae;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *tok = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		size_t tl = (size_t)(p - tok);
		bool gz = (tl == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
			  (tl == 6 && strncasecmp(tok, "x-gzip", 6) == 0);
		/* parameters: only q matters; q=0 (0, 0.0, 0.000) refuses */
		bool refused = false;
		while (*p && *p != ',') {
			while (*p == ' ' || *p == '\t' || *p == ';')
				p++;
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
				const char *v = p + 2;
				if (v[0] == '0') {
					refused = true;
					for (v++; *v == '.' || *v == '0'; v++)
						;
					if (*v >= '1' && *v <= '9')
						refused = false;
				}
			}
			while (*p && *p != ',' && *p != ';')
				p++;
		}
		if (gz && !refused)
			return true;
	}
	return false;
}
