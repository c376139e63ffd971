/* args.h — a small command-line option parser for subcommands:
 * "--name VALUE", "--name=VALUE", boolean "--flag", "--" and positionals. */
#ifndef LIAISON_ARGS_H
#define LIAISON_ARGS_H

#include <stdbool.h>

/* One accepted option: exactly one of value (takes an argument) or flag. */
struct args_opt {
	const char *name;   /* with the dashes, e.g. "--invite" */
	const char **value;
	bool *flag;
};

enum args_result {
	ARGS_OK,
	ARGS_HELP,   /* --help or -h was given: print help, exit 0 */
	ARGS_USAGE,  /* an error was printed: exit 2 */
};

/* Parse argv[1..argc-1] (argv[0] is the command name, used in messages).
 * Positional arguments go to pos[0..max_pos-1] and their count to *n_pos;
 * opts is terminated by an entry with name NULL. */
enum args_result args_parse(int argc, char **argv, const struct args_opt *opts,
			    const char **pos, int max_pos, int *n_pos);

/* Parse a decimal integer in [min, max]; false on anything else. */
bool args_int(const char *text, long min, long max, long *out);

#endif
