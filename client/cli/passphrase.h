/* passphrase.h — where the profile passphrase comes from: --passphrase-file,
 * then $LIAISON_PASSPHRASE, then a no-echo prompt on the terminal. */
#ifndef LIAISON_PASSPHRASE_H
#define LIAISON_PASSPHRASE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define PASSPHRASE_MIN 8
#define PASSPHRASE_MAX 1024

/* Get the passphrase for profile_name into a sodium_malloc'd NUL-terminated
 * string (*out; release with passphrase_free). With confirm (enrolment) a
 * prompt asks twice and the length minimum is enforced whatever the source. */
enum lsn_err passphrase_get(const char *file, const char *profile_name, bool confirm,
			    char **out, struct lsn_status *st);
void passphrase_free(char *pass);

/* Where passphrase_get would read it from now. */
enum passphrase_source {
	PASSPHRASE_FILE,      /* --passphrase-file */
	PASSPHRASE_ENV,       /* LIAISON_PASSPHRASE */
	PASSPHRASE_TERMINAL,  /* a no-echo prompt */
	PASSPHRASE_NONE,      /* none of these: passphrase_get fails with a message */
};
enum passphrase_source passphrase_source(const char *file);

/* Ask on the terminal (only there) for a new passphrase, twice, or read it
 * from file or LIAISON_NEW_PASSPHRASE: for liaison passphrase. The length
 * minimum is enforced. */
enum lsn_err passphrase_get_new(const char *file, const char *profile_name, char **out,
				struct lsn_status *st);

/* The recovery code from --recovery-code (given), $LIAISON_RECOVERY_CODE, or
 * a prompt on the terminal, as the recovery key rk (key_backup_parse_code).
 * Usage-style errors in st. */
enum lsn_err key_backup_read_code(const char *given, uint8_t rk[32], struct lsn_status *st);

#endif
