/* fuzz_config.c — the liaisond.conf parser (server/config.c): the text of
 * a config file, applied over the embedded defaults as config_load_file does.
 * Properties: an error names its origin and line; an accepted file leaves
 * every setting within the bounds the server relies on. */
#include <string.h>

#include "config.h"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct config cfg;
	struct lsn_status st;
	memset(&st, 0, sizeof st);
	config_defaults(&cfg);
	if (config_parse(&cfg, (const char *)data, size, "fuzz.conf", &st) != LSN_OK) {
		FUZZ_CHECK(strncmp(st.msg, "fuzz.conf", 9) == 0 || strstr(st.msg, "fuzz.conf") != NULL);
	} else {
		FUZZ_CHECK(memchr(cfg.listen, '\0', sizeof cfg.listen) != NULL);
		FUZZ_CHECK(memchr(cfg.server_name, '\0', sizeof cfg.server_name) != NULL);
		FUZZ_CHECK(memchr(cfg.data_dir, '\0', sizeof cfg.data_dir) != NULL);
		FUZZ_CHECK(memchr(cfg.tls_cert, '\0', sizeof cfg.tls_cert) != NULL);
		FUZZ_CHECK(memchr(cfg.tls_key, '\0', sizeof cfg.tls_key) != NULL);
		FUZZ_CHECK(cfg.port >= 0 && cfg.port <= 65535);
		FUZZ_CHECK(cfg.max_frame > 0);
		FUZZ_CHECK(cfg.invite_ttl_ms > 0 && cfg.due_soon_ms > 0 && cfg.ack_timeout_ms > 0);
		char db[CONFIG_PATH_MAX + 32];
		config_db_path(&cfg, db, sizeof db);
		FUZZ_CHECK(memchr(db, '\0', sizeof db) != NULL);
	}
	/* The duration syntax on its own, as a C string. */
	char text[40];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	int64_t ms = 0;
	if (config_parse_duration_ms(text, &ms))
		FUZZ_CHECK(ms > 0);
	return 0;
}
