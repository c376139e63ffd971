/* main.c — liaisond: option parsing and the subcommand switch. With no
 * subcommand it serves; the others administer the database. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "lsn_config.h"
#include "mail.h"
#include "net.h"
#include "store.h"

static const char usage[] =
	"Usage: liaisond [OPTIONS] [COMMAND [ARGS]]\n"
	"\n"
	"Liaison server: secure messaging and care-pathway coordination for a CPTS.\n"
	"\n"
	"Commands:\n"
	"  (none) | serve          run the server in the foreground (stop with Ctrl-C or SIGTERM)\n"
	"  init                    create the data directory and database, apply migrations\n"
	"  org add --name N --finess F --kind K\n"
	"                          register an organisation (kind: hospital, cpts, health_centre,\n"
	"                          practice, pharmacy, nursing_home, home_care, other)\n"
	"  org list [--json]       list organisations\n"
	"  invite --name N --profession P --org FINESS|ID --roles R [--rpps N]\n"
	"         [--email ADDRESS] [--expires-in 72h] [--json]\n"
	"                          issue a one-time enrolment invite; prints the code\n"
	"                          (--email: the address of their \"something is waiting\"\n"
	"                          e-mails)\n"
	"  invite --user USER_ID [--expires-in 72h] [--json]\n"
	"                          invite a further device of an enrolled user\n"
	"  invite --csv FILE [--expires-in 72h] [--json]\n"
	"                          invite everyone of a spreadsheet (columns name,\n"
	"                          profession, org, roles, rpps, email; ';' or ','),\n"
	"                          all or none; prints the codes as CSV for mail merge\n"
	"  users [--query TEXT] [--json]\n"
	"                          list enrolled users and their devices\n"
	"  user roles --user ID | --rpps N --roles R\n"
	"                          change an enrolled user's roles (member, discharge,\n"
	"                          coordinator, territory, admin), from their next login\n"
	"  revoke --device ID | --user ID\n"
	"                          revoke one device, or every device of a user\n"
	"  user reset --rpps RPPS | --user ID [--expires-in 72h] [--json]\n"
	"                          a lost only device without key backup: revoke every device\n"
	"                          and print an invite that enrols a new identity key\n"
	"  user email --user ID | --rpps N [--email ADDRESS|none] [--json]\n"
	"                          the address of a user's \"something is waiting\" e-mails\n"
	"                          (none removes it); without --email, shows it\n"
	"  check                   run PRAGMA integrity_check on the database\n"
	"  audit show [--user ID|RPPS] [--case ID] [--since T] [--until T] [--json]\n"
	"                          list audit entries (T: YYYY-MM-DD, \"YYYY-MM-DD HH:MM\" local\n"
	"                          time, or a duration ago such as 2h or 7d)\n"
	"  audit verify [--json]   check the audit chain; exit 1 and name the entry if an entry\n"
	"                          was changed, removed or reordered\n"
	"  backup FILE             online backup of the database into a new FILE (the server\n"
	"                          may keep running), checked with integrity_check\n"
	"  targets set --cpts FINESS --indicator ID --value N [--direction ge|le]\n"
	"  targets remove --cpts FINESS --indicator ID | targets [--cpts FINESS] [--json]\n"
	"                          a CPTS's quantified targets for the indicator report\n"
	"\n";

static const char usage_options[] =
	"Options (each overrides the same key of the config file):\n"
	"  --config FILE           read settings from FILE (key = value; see liaisond.conf.sample)\n"
	"  --data-dir DIR          data directory (default: data)\n"
	"  --listen ADDR           address to listen on (default: 127.0.0.1)\n"
	"  --port N                port for wss:// and https:// (default: 7443)\n"
	"  --cert FILE             TLS certificate chain, PEM (default: certs/dev/server.crt)\n"
	"  --key FILE              TLS private key, PEM (default: certs/dev/server.key)\n"
	"  --server-name NAME      name signed into every login (default: localhost)\n"
	"  --synchronous full|normal  SQLite durability (default: full)\n"
	"  --commit-pipeline on|off  pipelined group commit (default: on)\n"
	"  --max-frame BYTES       largest accepted frame (default: 256K)\n"
	"  --log-level LEVEL       error, warn, info or debug (default: info)\n"
	"  --event-loop epoll|poll event loop (default: epoll, when available)\n"
	"  --service-threads N     network threads beside a core thread (default: 1: one\n"
	"                          thread does everything; see docs/OPERATIONS.md)\n"
	"  --web-root DIR          the browser client's files, served at / (default: " LSN_WEBDIR ")\n"
	"  --version               print the version and exit\n"
	"  --help                  print this help and exit\n";

static const struct {
	const char *flag;
	const char *key;
} flag_keys[] = {
	{"--data-dir", "data_dir"}, {"--listen", "listen"}, {"--port", "port"},
	{"--cert", "tls_cert"}, {"--key", "tls_key"}, {"--server-name", "server_name"},
	{"--synchronous", "synchronous"}, {"--max-frame", "max_frame"},
	{"--log-level", "log_level"}, {"--mode", "mode"}, {"--event-loop", "event_loop"},
	{"--web-root", "web_root"}, {"--commit-pipeline", "commit_pipeline"},
	{"--service-threads", "service_threads"},
};

/* Find --config first so that flags can override the file. */
static int
load_config_file(int argc, char **argv, struct config *cfg)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") != 0)
			continue;
		if (i + 1 >= argc) {
			fprintf(stderr, "liaisond: --config needs a file name\n");
			return 2;
		}
		struct lsn_status st = {0};
		if (config_load_file(cfg, argv[i + 1], &st) != LSN_OK) {
			fprintf(stderr, "liaisond: %s\n", st.msg);
			return 1;
		}
	}
	return 0;
}

/* Apply global flags; returns the index of the subcommand (argc if none),
 * or a negative exit code. */
static int
apply_flags(int argc, char **argv, struct config *cfg)
{
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		const char *key = NULL;
		for (size_t k = 0; k < sizeof flag_keys / sizeof flag_keys[0]; k++)
			if (strcmp(argv[i], flag_keys[k].flag) == 0)
				key = flag_keys[k].key;
		if (key == NULL) {
			fprintf(stderr, "liaisond: unknown option %s; see liaisond --help\n", argv[i]);
			return -2;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "liaisond: %s needs a value\n", argv[i]);
			return -2;
		}
		struct lsn_status st = {0};
		if (config_set(cfg, key, argv[++i], &st) != LSN_OK) {
			fprintf(stderr, "liaisond: %s: %s\n", argv[i - 1], st.msg);
			return -2;
		}
	}
	return i;
}

/* Each message passes through buffers of 16–90 KiB (OpenSSL's record buffers,
 * released between reads; SQLite's commit scratch). With glibc's default
 * 128 KiB trim threshold, freeing them at the top of the heap gave the pages
 * back to the kernel after nearly every message, and the next message faulted
 * them in again (page faults and page clearing were ~5 % of server time in
 * the W1 profile, docs/PERFORMANCE.md). Keep up to 32 MiB of freed heap. */
static void
tune_malloc(void)
{
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
}

static int
serve(const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 16];
	tune_malloc();
	struct lsn_status st = {0};
	struct store *store = NULL;
	struct store_options opt = {.sync = cfg->synchronous, .busy_timeout_ms = 5000,
				    .cache_bytes = cfg->db_cache};
	config_db_path(cfg, path, sizeof path);
	if (store_open(&store, path, &opt, &st) != LSN_OK) {
		log_error("%s", st.msg);
		return 1;
	}
	log_info("database %s at schema version %d", path, store_schema_version(store));
	/* the WAL's pages are copied into the database by a thread of their
	 * own every checkpoint_pages, and by the committing thread only past
	 * wal_max_pages (docs/OPERATIONS.md, "Durability") */
	if (store_checkpointer_start(store, cfg->checkpoint_pages, cfg->wal_max_pages))
		log_info("checkpoints: on their own thread every %u WAL pages; the committing "
			 "thread finishes past %u", cfg->checkpoint_pages, cfg->wal_max_pages);
	if (mail_init(store, cfg, &st) != LSN_OK) {
		log_error("%s", st.msg);
		store_close(store);
		return 1;
	}
	enum lsn_err err = net_run(cfg, store, &st);
	mail_fini();
	store_close(store);
	if (err != LSN_OK) {
		log_error("%s", st.msg);
		return 1;
	}
	return 0;
}

static int
run_command(const struct config *cfg, int argc, char **argv)
{
	if (argc == 0 || strcmp(argv[0], "serve") == 0)
		return serve(cfg);
	const char *cmd = argv[0];
	if (strcmp(cmd, "init") == 0)
		return admin_init(cfg);
	if (strcmp(cmd, "org") == 0)
		return admin_org(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "invite") == 0)
		return admin_invite(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "users") == 0)
		return admin_users(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "user") == 0)
		return admin_user(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "revoke") == 0)
		return admin_revoke(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return admin_check(cfg);
	if (strcmp(cmd, "audit") == 0)
		return admin_audit(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "backup") == 0)
		return admin_backup(cfg, argc - 1, argv + 1);
	if (strcmp(cmd, "targets") == 0)
		return admin_targets(cfg, argc - 1, argv + 1);
	fprintf(stderr, "liaisond: unknown command \"%s\"; see liaisond --help\n", cmd);
	return 2;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			fputs(usage_options, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("liaisond %s\n", LSN_VERSION);
			return 0;
		}
	}
	store_process_init();
	if (sodium_init() < 0) {
		fprintf(stderr, "liaisond: libsodium failed to initialise\n");
		return 1;
	}
	config_defaults(&cfg);
	int rc = load_config_file(argc, argv, &cfg);
	if (rc)
		return rc;
	int first = apply_flags(argc, argv, &cfg);
	if (first < 0)
		return -first;
	log_set_level(cfg.log_level);
	/* checked for every command; the server's days use it (set before any
	 * thread starts), the administrator's commands keep the shell's zone */
	struct lsn_status st = {0};
	if (config_check(&cfg, &st) != LSN_OK) {
		fprintf(stderr, "liaisond: %s\n", st.msg);
		return 2;
	}
	bool serving = argc - first == 0 || strcmp(argv[first], "serve") == 0;
	if (config_apply_timezone(&cfg, serving, &st) != LSN_OK) {
		fprintf(stderr, "liaisond: %s\n", st.msg);
		return 2;
	}
	return run_command(&cfg, argc - first, argv + first);
}
