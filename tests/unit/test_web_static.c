/* test_web_static.c — the browser client's files (server/web_static.c):
 * which request paths are looked up, which resolve to a file under the web
 * root (symbolic links out of it refused), MIME types, the content-hash
 * pattern and the headers of each cache policy. The fixture is a directory
 * made here under TMPDIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "web_static.h"

static char base[256], root[300];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof base, "%s/lsn-webstatic-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	char p[512];
	snprintf(root, sizeof root, "%s/root", base);
	mkdir(root, 0700);
	snprintf(p, sizeof p, "%s/assets", root);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/index.html", root);
	write_file(p, "<!doctype html><title>t</title>\n");
	snprintf(p, sizeof p, "%s/assets/app-7QK2M4XZ.js", root);
	write_file(p, "console.log(1);\n");
	snprintf(p, sizeof p, "%s/secret.txt", base);
	write_file(p, "outside\n");
	char target[512];
	snprintf(target, sizeof target, "%s/secret.txt", base);
	snprintf(p, sizeof p, "%s/out.txt", root);
	if (symlink(target, p) != 0)
		return -1;
	snprintf(target, sizeof target, "%s/index.html", root);
	snprintf(p, sizeof p, "%s/in.html", root);
	if (symlink(target, p) != 0)
		return -1;
	snprintf(p, sizeof p, "%s/up", root);
	if (symlink("..", p) != 0)
		return -1;
	/* precompressed siblings: one true, one alone, one leading outside */
	snprintf(p, sizeof p, "%s/assets/app-7QK2M4XZ.js.gz", root);
	write_file(p, "GZ\n");
	snprintf(p, sizeof p, "%s/lone.js.gz", root);
	write_file(p, "GZ\n");
	snprintf(p, sizeof p, "%s/evil-AAAAAAAA.js", root);
	write_file(p, "plain\n");
	snprintf(target, sizeof target, "%s/secret.txt", base);
	snprintf(p, sizeof p, "%s/evil-AAAAAAAA.js.gz", root);
	if (symlink(target, p) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char p[512];
	static const char *const names[] = {"root/index.html", "root/assets/app-7QK2M4XZ.js",
					    "root/out.txt", "root/in.html", "root/up",
					    "root/assets/app-7QK2M4XZ.js.gz", "root/lone.js.gz",
					    "root/evil-AAAAAAAA.js", "root/evil-AAAAAAAA.js.gz",
					    "secret.txt"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", base, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/root/assets", base);
	rmdir(p);
	rmdir(root);
	rmdir(base);
	return 0;
}

static bool
ok(const char *path)
{
	return web_static_path_ok(path, strlen(path));
}

static void
test_path_ok(void **state)
{
	(void)state;
	assert_true(ok("/"));
	assert_true(ok("/index.html"));
	assert_true(ok("/assets/app-7QK2M4XZ.js"));
	assert_true(ok("/a.b/c..d"));          /* dots inside a component are names */
	assert_false(ok(""));
	assert_false(ok("index.html"));
	assert_false(ok("/.."));
	assert_false(ok("/../secret.txt"));
	assert_false(ok("/assets/../index.html"));
	assert_false(ok("/assets/.."));
	assert_false(ok("/./index.html"));
	assert_false(ok("/.git/config"));
	assert_false(ok("/%2e%2e/secret.txt"));  /* still encoded: encoded twice */
	assert_false(ok("/assets%2f..%2fx"));
	assert_false(ok("/..\\secret.txt"));
	assert_false(ok("/a\\b"));
	assert_false(ok("//etc/passwd"));
	assert_false(ok("/assets/"));
	assert_false(ok("/a\tb"));
	assert_false(ok("/a\x7f"));
	/* an embedded NUL: the length says there is more than the C string */
	assert_false(web_static_path_ok("/index.html\0.js", 15));
	char longp[WEB_PATH_MAX + 2];
	memset(longp, 'a', sizeof longp);
	longp[0] = '/';
	longp[WEB_PATH_MAX] = '\0';
	assert_false(web_static_path_ok(longp, WEB_PATH_MAX));
	longp[WEB_PATH_MAX - 1] = '\0';
	assert_true(web_static_path_ok(longp, WEB_PATH_MAX - 1));
}

static void
test_mime(void **state)
{
	(void)state;
	assert_string_equal(web_static_mime("/index.html"), "text/html; charset=utf-8");
	assert_string_equal(web_static_mime("/a.js"), "text/javascript; charset=utf-8");
	assert_string_equal(web_static_mime("/a.mjs"), "text/javascript; charset=utf-8");
	assert_string_equal(web_static_mime("/a.css"), "text/css; charset=utf-8");
	assert_string_equal(web_static_mime("/a.wasm"), "application/wasm");
	assert_string_equal(web_static_mime("/a.svg"), "image/svg+xml");
	assert_string_equal(web_static_mime("/a.PNG"), "image/png");
	assert_string_equal(web_static_mime("/a.json"), "application/json");
	assert_string_equal(web_static_mime("/f.woff2"), "font/woff2");
	assert_string_equal(web_static_mime("/favicon.ico"), "image/x-icon");
	assert_string_equal(web_static_mime("/a.exe"), "application/octet-stream");
	assert_string_equal(web_static_mime("/noext"), "application/octet-stream");
	assert_string_equal(web_static_mime("/.html"), "application/octet-stream");
	assert_string_equal(web_static_mime("/d.js/x"), "application/octet-stream");
}

static void
test_hashed(void **state)
{
	(void)state;
	assert_true(web_static_hashed_name("/assets/app-7QK2M4XZ.js"));
	assert_true(web_static_hashed_name("sodium-0f3a9c1e.wasm"));
	assert_true(web_static_hashed_name("chunk-name-ABCDEFGH23.css"));
	assert_false(web_static_hashed_name("index.html"));
	assert_false(web_static_hashed_name("app.js"));
	assert_false(web_static_hashed_name("app-7QK2M4X.js"));     /* 7 characters */
	assert_false(web_static_hashed_name("my-settings.js"));     /* a word, not a hash */
	assert_false(web_static_hashed_name("app-7qk2m4xz.js"));    /* lower case, not hex */
	assert_false(web_static_hashed_name("app-7QK2m4XZ.js"));    /* mixed case */
	assert_false(web_static_hashed_name("-7QK2M4XZ.js"));       /* no name */
	assert_false(web_static_hashed_name("app-7QK2M4XZ."));      /* no extension */
	assert_false(web_static_hashed_name("/app-7QK2M4XZ/x.js")); /* a directory's name */
	char big[80];
	snprintf(big, sizeof big, "a-%.*s.js", 65, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_false(web_static_hashed_name(big));
	assert_int_equal(web_static_cache("/assets/app-7QK2M4XZ.js"), WEB_CACHE_IMMUTABLE);
	assert_int_equal(web_static_cache("/index.html"), WEB_CACHE_REVALIDATE);
	assert_int_equal(web_static_cache("/app.js"), WEB_CACHE_REVALIDATE);
}

static const char *
header(enum web_cache cache, const char *name)
{
	const struct web_header *h = NULL;
	size_t n = web_static_headers(cache, &h);
	const char *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0) {
			assert_null(found);          /* each header once */
			found = h[i].value;
		}
	return found;
}

static void
test_headers(void **state)
{
	(void)state;
	static const enum web_cache all[] = {WEB_CACHE_REVALIDATE, WEB_CACHE_IMMUTABLE,
					     WEB_CACHE_NO_STORE};
	for (size_t i = 0; i < 3; i++) {
		const struct web_header *h = NULL;
		size_t n = web_static_headers(all[i], &h);
		for (size_t k = 0; k < n; k++) {  /* lower case, ending in ':' (HTTP/2) */
			size_t len = strlen(h[k].name);
			assert_true(len > 1 && h[k].name[len - 1] == ':');
			for (size_t c = 0; c < len; c++)
				assert_false(h[k].name[c] >= 'A' && h[k].name[c] <= 'Z');
		}
		const char *csp = header(all[i], "content-security-policy:");
		assert_non_null(csp);
		assert_string_equal(csp,
			"default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
			"img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
			"worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
			"base-uri 'none'; form-action 'none'; object-src 'none'");
		assert_null(strstr(csp, "unsafe-inline"));
		assert_null(strstr(csp, "'unsafe-eval'"));
		assert_string_equal(header(all[i], "x-content-type-options:"), "nosniff");
		assert_string_equal(header(all[i], "referrer-policy:"), "no-referrer");
		assert_string_equal(header(all[i], "strict-transport-security:"), "max-age=31536000");
		assert_string_equal(header(all[i], "cross-origin-opener-policy:"), "same-origin");
		assert_non_null(header(all[i], "permissions-policy:"));
	}
	assert_string_equal(header(WEB_CACHE_REVALIDATE, "cache-control:"), "no-cache");
	assert_string_equal(header(WEB_CACHE_IMMUTABLE, "cache-control:"),
			    "public, max-age=31536000, immutable");
	assert_string_equal(header(WEB_CACHE_NO_STORE, "cache-control:"), "no-store");
}

static int
load(const char *path, struct web_file *f)
{
	return web_static_load(root, path, strlen(path), 16, false, f);
}

static void
test_load(void **state)
{
	(void)state;
	struct web_file f;
	assert_int_equal(load("/", &f), 0);
	assert_int_equal(f.len, strlen("<!doctype html><title>t</title>\n"));
	assert_memory_equal(f.buf + 16, "<!doctype html><title>t</title>\n", f.len);
	assert_string_equal(f.mime, "text/html; charset=utf-8");
	assert_int_equal(f.cache, WEB_CACHE_REVALIDATE);
	free(f.buf);
	assert_int_equal(load("/index.html", &f), 0);
	free(f.buf);
	assert_int_equal(load("/assets/app-7QK2M4XZ.js", &f), 0);
	assert_memory_equal(f.buf + 16, "console.log(1);\n", f.len);
	assert_int_equal(f.cache, WEB_CACHE_IMMUTABLE);
	assert_string_equal(f.mime, "text/javascript; charset=utf-8");
	free(f.buf);
	/* a link inside the root to a file inside it is followed */
	assert_int_equal(load("/in.html", &f), 0);
	free(f.buf);
	/* refused: not there, a directory, outside through a link or "..",
	 * encoded forms */
	assert_int_equal(load("/nope.js", &f), -1);
	assert_null(f.buf);
	assert_int_equal(load("/assets", &f), -1);
	assert_int_equal(load("/assets/", &f), -1);
	assert_int_equal(load("/out.txt", &f), -1);
	assert_int_equal(load("/up/secret.txt", &f), -1);
	/* what counts is where the file is once links are resolved: through
	 * the link to the parent and back into the root, it is inside */
	assert_int_equal(load("/up/root/index.html", &f), 0);
	free(f.buf);
	assert_int_equal(load("/../secret.txt", &f), -1);
	assert_int_equal(load("/%2e%2e/secret.txt", &f), -1);
	assert_int_equal(load("/..%2fsecret.txt", &f), -1);
	assert_int_equal(load("/..\\secret.txt", &f), -1);
	assert_int_equal(web_static_load(root, "/index.html\0", 12, 16, false, &f), -1);
	/* a missing root: nothing is found, nothing crashes */
	char missing[400];
	snprintf(missing, sizeof missing, "%s/missing", base);
	assert_false(web_static_root_ok(missing));
	assert_true(web_static_root_ok(root));
	assert_int_equal(web_static_load(missing, "/", 1, 16, true, &f), -1);
	assert_int_equal(web_static_load("", "/", 1, 16, true, &f), -1);
	assert_int_equal(web_static_load(NULL, "/", 1, 16, true, &f), -1);
}

static int
load_gz(const char *path, struct web_file *f)
{
	return web_static_load(root, path, strlen(path), 16, true, f);
}

/* FILE.gz is served for FILE when the client accepts gzip, with FILE's
 * type and cache policy; never alone, never from outside the root. */
static void
test_gzip(void **state)
{
	(void)state;
	struct web_file f;
	assert_int_equal(load_gz("/assets/app-7QK2M4XZ.js", &f), 0);
	assert_true(f.gzip);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.buf + 16, "GZ\n", 3);
	assert_string_equal(f.mime, "text/javascript; charset=utf-8");
	assert_int_equal(f.cache, WEB_CACHE_IMMUTABLE);
	free(f.buf);
	assert_int_equal(load("/assets/app-7QK2M4XZ.js", &f), 0);
	assert_false(f.gzip);
	assert_memory_equal(f.buf + 16, "console.log(1);\n", f.len);
	free(f.buf);
	/* no sibling: the file itself */
	assert_int_equal(load_gz("/", &f), 0);
	assert_false(f.gzip);
	free(f.buf);
	/* a FILE.gz without FILE is not FILE */
	assert_int_equal(load_gz("/lone.js", &f), -1);
	/* a sibling that leads outside the root is ignored: the plain file */
	assert_int_equal(load_gz("/evil-AAAAAAAA.js", &f), 0);
	assert_false(f.gzip);
	assert_memory_equal(f.buf + 16, "plain\n", f.len);
	free(f.buf);

	assert_true(web_static_accepts_gzip("gzip"));
	assert_true(web_static_accepts_gzip("gzip, deflate, br, zstd"));
	assert_true(web_static_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
	assert_true(web_static_accepts_gzip("x-gzip"));
	assert_true(web_static_accepts_gzip("deflate, gzip;q=0.001"));
	assert_false(web_static_accepts_gzip(NULL));
	assert_false(web_static_accepts_gzip(""));
	assert_false(web_static_accepts_gzip("identity"));
	assert_false(web_static_accepts_gzip("br, deflate"));
	assert_false(web_static_accepts_gzip("gzip;q=0"));
	assert_false(web_static_accepts_gzip("gzip; q=0.000, br"));
	assert_false(web_static_accepts_gzip("gzipx"));
	assert_false(web_static_accepts_gzip("*"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_ok),
		cmocka_unit_test(test_mime),
		cmocka_unit_test(test_hashed),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_gzip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
