/* passphrase.c — read the profile passphrase from a file, the environment or
 * the terminal (echo off), into locked memory that is wiped after use. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "tr.h"
#include "key_backup.h"
#include "passphrase.h"

void
passphrase_free(char *pass)
{
	if (pass)
		sodium_free(pass); /* sodium_free wipes before releasing */
}

static char *
secure_alloc(void)
{
	char *p = sodium_malloc(PASSPHRASE_MAX + 2);
	if (p)
		memset(p, 0, PASSPHRASE_MAX + 2);
	return p;
}

/* Characters, not bytes: "é" counts once. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	return n;
}

/* Keep the first line of buf, without its line ending. */
static void
first_line(char *buf)
{
	buf[strcspn(buf, "\r\n")] = '\0';
}

static enum lsn_err
from_file(const char *file, char *buf, struct lsn_status *st)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot read passphrase file %s: %s"), file,
				strerror(errno));
	/* as ssh with a private key: a file others may read (or change) is
	 * refused before it is read (a pipe, <(...), is read by us alone) */
	struct stat sb;
	int failed = fstat(fd, &sb) != 0 ? errno : 0;
	if (failed) {
		close(fd);
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot read passphrase file %s: %s"), file,
				strerror(failed));
	}
	if (S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0) {
		close(fd);
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				_("passphrase file %s is open to other users (mode %03o); make it "
				  "yours alone: chmod 600 %s"),
				file, (unsigned)(sb.st_mode & 0777), file);
	}
	size_t got = 0;
	while (got < PASSPHRASE_MAX + 1) {
		ssize_t n = read(fd, buf + got, PASSPHRASE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	first_line(buf);
	if (strlen(buf) > PASSPHRASE_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				_("the passphrase in %s is longer than %d bytes"), file, PASSPHRASE_MAX);
	return LSN_OK;
}

/* ---- terminal prompt ---------------------------------------------------- */

static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_echo_off;

static void
tty_restore(void)
{
	if (tty_echo_off) {
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		tty_echo_off = 0;
	}
}

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void
on_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static enum lsn_err
read_tty_line(const char *prompt, char *buf, struct lsn_status *st)
{
	/* echo off (and what was typed ahead discarded) before the prompt shows:
	 * an answer typed as soon as it appears is kept */
	struct termios noecho = tty_saved;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	tty_echo_off = 1;
	tcsetattr(tty_fd, TCSAFLUSH, &noecho);
	if (write(tty_fd, prompt, strlen(prompt)) < 0) {
		tty_restore();
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot write to the terminal"));
	}
	size_t got = 0;
	char c;
	ssize_t n;
	while ((n = read(tty_fd, &c, 1)) == 1 && c != '\n') {
		if (got < PASSPHRASE_MAX + 1)
			buf[got++] = c;
	}
	buf[got] = '\0';
	sodium_memzero(&c, sizeof c);
	tty_restore();
	ssize_t ignored = write(tty_fd, "\n", 1); /* the Enter key was not echoed */
	(void)ignored;
	if (n < 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot read the passphrase from the terminal"));
	first_line(buf);
	if (got > PASSPHRASE_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, _("the passphrase is longer than %d bytes"),
				PASSPHRASE_MAX);
	return LSN_OK;
}

static enum lsn_err
prompt_twice(char *buf, struct lsn_status *st)
{
	char *again = secure_alloc();
	if (again == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
	enum lsn_err err = read_tty_line("Repeat the passphrase: ", again, st);
	if (err == LSN_OK && strcmp(buf, again) != 0)
		err = lsn_fail(st, LSN_ERR_BAD_REQUEST,
			       _("the two passphrases differ; run the command again"));
	sodium_free(again);
	return err;
}

static enum lsn_err
from_tty(const char *profile_name, const char *label, bool confirm, char *buf,
	 struct lsn_status *st)
{
	tty_fd = isatty(STDIN_FILENO) ? open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY) : -1;
	if (tty_fd < 0 || tcgetattr(tty_fd, &tty_saved) != 0) {
		if (tty_fd >= 0)
			close(tty_fd);
		tty_fd = -1;
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				_("no passphrase and no terminal to ask for one; "
				"use --passphrase-file FILE or set LIAISON_PASSPHRASE"));
	}
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	char prompt[160];
	snprintf(prompt, sizeof prompt, "%s for profile \"%s\": ", label, profile_name);
	enum lsn_err err = read_tty_line(prompt, buf, st);
	if (err == LSN_OK && confirm && utf8_chars(buf) >= PASSPHRASE_MIN)
		err = prompt_twice(buf, st);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(tty_fd);
	tty_fd = -1;
	return err;
}

static enum lsn_err
from_any_source(const char *file, const char *env_name, const char *profile_name,
		const char *label, bool confirm, char *buf, struct lsn_status *st)
{
	if (file)
		return from_file(file, buf, st);
	const char *env = getenv(env_name);
	if (env && *env) {
		if (strlen(env) > PASSPHRASE_MAX)
			return lsn_fail(st, LSN_ERR_BAD_REQUEST,
					_("%s is longer than %d bytes"), env_name, PASSPHRASE_MAX);
		memcpy(buf, env, strlen(env) + 1);
		first_line(buf);
		return LSN_OK;
	}
	return from_tty(profile_name, label, confirm, buf, st);
}

static enum lsn_err
get_checked(const char *file, const char *env_name, const char *profile_name,
	    const char *label, bool confirm, char **out, struct lsn_status *st)
{
	*out = NULL;
	char *buf = secure_alloc();
	if (buf == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
	enum lsn_err err = from_any_source(file, env_name, profile_name, label, confirm, buf, st);
	if (err == LSN_OK && buf[0] == '\0')
		err = lsn_fail(st, LSN_ERR_BAD_REQUEST, _("the passphrase is empty"));
	if (err == LSN_OK && confirm && utf8_chars(buf) < PASSPHRASE_MIN)
		err = lsn_fail(st, LSN_ERR_BAD_REQUEST,
			       _("the passphrase must have at least %d characters"), PASSPHRASE_MIN);
	if (err != LSN_OK) {
		sodium_free(buf);
		return err;
	}
	*out = buf;
	return LSN_OK;
}

enum lsn_err
passphrase_get(const char *file, const char *profile_name, bool confirm, char **out,
	       struct lsn_status *st)
{
	return get_checked(file, "LIAISON_PASSPHRASE", profile_name,
			   confirm ? "Choose a passphrase (8 characters or more)" : "Passphrase",
			   confirm, out, st);
}

enum lsn_err
passphrase_get_new(const char *file, const char *profile_name, char **out,
		   struct lsn_status *st)
{
	return get_checked(file, "LIAISON_NEW_PASSPHRASE", profile_name,
			   "New passphrase (8 characters or more)", true, out, st);
}

enum passphrase_source
passphrase_source(const char *file)
{
	const char *env = getenv("LIAISON_PASSPHRASE");
	if (file)
		return PASSPHRASE_FILE;
	if (env && *env)
		return PASSPHRASE_ENV;
	return isatty(STDIN_FILENO) ? PASSPHRASE_TERMINAL : PASSPHRASE_NONE;
}

enum lsn_err
key_backup_read_code(const char *given, uint8_t rk[32], struct lsn_status *st)
{
	char line[256] = "";
	const char *text = given ? given : getenv("LIAISON_RECOVERY_CODE");
	if (text == NULL && isatty(STDIN_FILENO)) {
		fputs(_("Recovery code: "), stderr);
		fflush(stderr);
		if (fgets(line, sizeof line, stdin) != NULL)
			line[strcspn(line, "\r\n")] = '\0';
		text = line;
	}
	enum lsn_err err = key_backup_parse_code(text, rk, st);
	sodium_memzero(line, sizeof line);
	return err;
}
