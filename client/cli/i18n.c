/* i18n.c — the locale, the catalogue's directory and "is it French?". */
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "lsn_config.h"

#define I18N_DOMAIN "liaison"

/* Whether the running executable lies in the build tree (a liaison run by
 * the tests, ./dev or a developer before meson install): its catalogues are
 * then the ones just built under <build>/po, not the installed ones. */
static bool
running_from_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	size_t root = strlen(LSN_BUILD_ROOT);
	return strncmp(exe, LSN_BUILD_ROOT, root) == 0 && exe[root] == '/';
}

void
i18n_init(void)
{
	setlocale(LC_ALL, "");
	/* a French locale would print and parse "2,5": numbers on the command
	 * line, in files and in JSON keep the '.'; the French CSV form puts its
	 * decimal comma itself (csv.c) */
	setlocale(LC_NUMERIC, "C");
	const char *dir = getenv("LIAISON_LOCALEDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = running_from_build_tree() ? LSN_BUILD_LOCALEDIR : LSN_LOCALEDIR;
	bindtextdomain(I18N_DOMAIN, dir);
	bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
	textdomain(I18N_DOMAIN);
}

bool
i18n_french(void)
{
	const char *loc = setlocale(LC_MESSAGES, NULL);
	return loc != NULL && strncmp(loc, "fr", 2) == 0 && (loc[2] == '\0' || loc[2] == '_' ||
							      loc[2] == '.' || loc[2] == '@');
}

void
i18n_english_messages(void)
{
	setlocale(LC_MESSAGES, "C");
}
