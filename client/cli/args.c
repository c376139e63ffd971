/* args.c — subcommand option parsing with clear usage errors (exit 2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "output.h"

static const struct args_opt *
find_opt(const struct args_opt *opts, const char *arg, size_t name_len)
{
	for (const struct args_opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == name_len && strncmp(o->name, arg, name_len) == 0)
			return o;
	return NULL;
}

/* Handle the option at argv[*i]; may consume the next argument. */
static enum args_result
take_option(int argc, char **argv, int *i, const struct args_opt *opts)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct args_opt *o = find_opt(opts, arg, name_len);
	if (o == NULL) {
		out_error("unknown option \"%.*s\" for \"%s\"; see liaison %s --help",
			  (int)name_len, arg, argv[0], argv[0]);
		return ARGS_USAGE;
	}
	if (o->flag) {
		if (eq) {
			out_error("option %s takes no value; see liaison %s --help", o->name,
				  argv[0]);
			return ARGS_USAGE;
		}
		*o->flag = true;
		return ARGS_OK;
	}
	if (eq) {
		*o->value = eq + 1;
		return ARGS_OK;
	}
	if (*i + 1 >= argc) {
		out_error("option %s needs a value; see liaison %s --help", o->name, argv[0]);
		return ARGS_USAGE;
	}
	*o->value = argv[++*i];
	return ARGS_OK;
}

enum args_result
args_parse(int argc, char **argv, const struct args_opt *opts, const char **pos,
	   int max_pos, int *n_pos)
{
	bool options_done = false;
	*n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0))
			return ARGS_HELP;
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			enum args_result r = take_option(argc, argv, &i, opts);
			if (r != ARGS_OK)
				return r;
			continue;
		}
		if (*n_pos >= max_pos) {
			out_error("unexpected argument \"%s\" for \"%s\"; see liaison %s --help", arg,
				  argv[0], argv[0]);
			return ARGS_USAGE;
		}
		pos[(*n_pos)++] = arg;
	}
	return ARGS_OK;
}

bool
args_int(const char *text, long min, long max, long *out)
{
	if (text == NULL || *text == '\0')
		return false;
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}
