/* web_static.h — the browser client's files, served by liaisond from the
 * same origin and port as the WebSocket (docs/PROTOCOL.md, "HTTP"): which
 * request path maps to which file under the web root, the MIME type, the
 * cache policy and the security headers every HTTP answer carries. Pure
 * file-system code: net.c (the only libwebsockets caller) writes what this
 * returns. */
#ifndef LSN_WEB_STATIC_H
#define LSN_WEB_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_PATH_MAX  1024            /* a longer request path is not found */
#define WEB_FILE_MAX  (32u << 20)     /* a larger file is not served */

/* The Content-Security-Policy of every answer (docs/THREAT-MODEL.md,
 * "Served code"). */
#define WEB_CSP "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " \
	"img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; " \
	"manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; " \
	"object-src 'none'"

enum web_cache {
	WEB_CACHE_REVALIDATE,   /* "no-cache": index.html and every other name */
	WEB_CACHE_IMMUTABLE,    /* "public, max-age=31536000, immutable": NAME-HASH.EXT */
	WEB_CACHE_NO_STORE,     /* "no-store": errors, /healthz, /metrics */
};

/* A header as libwebsockets adds it: the name in lower case with its
 * colon (HTTP/2 needs lower-case names), then the value. */
struct web_header {
	const char *name;
	const char *value;
};

/* The headers every answer carries — the security set, then Cache-Control
 * for cache — in *out; returns how many. Content-Type and Content-Length
 * are the caller's. */
size_t web_static_headers(enum web_cache cache, const struct web_header **out);

/* The Content-Type for a file name, by its extension (case-insensitive);
 * application/octet-stream for any other. */
const char *web_static_mime(const char *name);

/* A content-hashed file name: NAME-HASH.EXT, where HASH is 8 to 64 upper-case
 * letters and digits (esbuild's [name]-[hash]) or 8 to 64 lower-case
 * hexadecimal digits, and EXT one extension after it ("app-7QK2M4XZ.js",
 * "sodium-0f3a9c1e.wasm"). Only the last path component is looked at. */
bool web_static_hashed_name(const char *name);

/* The cache policy of a request path that maps to a file. */
enum web_cache web_static_cache(const char *url_path);

/* Is this request path (len bytes, as received: libwebsockets has already
 * decoded %XX) one the server may look up? It must start with '/', be
 * shorter than WEB_PATH_MAX, and have no NUL, control character, '\\' or
 * '%' (a path that still has '%' was encoded twice), no empty component
 * ("//") and no component starting with '.' (".", "..", hidden files). A
 * path ending in '/' is allowed only as "/" itself. */
bool web_static_path_ok(const char *url_path, size_t len);

/* Is root a directory liaisond can read? */
bool web_static_root_ok(const char *root);

/* The file of a request: "/" means "/index.html"; any other directory, a
 * path web_static_path_ok refuses, a file outside the root once symbolic
 * links are resolved (a link inside the root to a file inside it is
 * followed), anything but a regular file, or a file larger than
 * WEB_FILE_MAX: not found. */
struct web_file {
	unsigned char *buf;     /* headroom bytes, then the file's len bytes; free() it */
	size_t len;
	const char *mime;
	enum web_cache cache;
	bool gzip;              /* buf holds FILE.gz: answer with Content-Encoding: gzip */
};

/* 0: found and read into *out; -1: not found (nothing allocated). When
 * gzip_ok (the request's Accept-Encoding names gzip) and the file has a
 * precompressed sibling FILE.gz (web/build.mjs writes them) that passes the
 * same checks, that one is read instead and out->gzip is set; the MIME type
 * and cache policy stay the file's. */
int web_static_load(const char *root, const char *url_path, size_t len, size_t headroom,
		    bool gzip_ok, struct web_file *out);

/* Does an Accept-Encoding header value accept gzip? "gzip" (or "x-gzip")
 * as one of its comma-separated codings, with no q=0. */
bool web_static_accepts_gzip(const char *accept_encoding);

#endif
