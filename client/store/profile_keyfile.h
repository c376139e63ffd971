/* profile_keyfile.h — profile.key, the one file of a profile in the clear
 * (CRYPTO.md §7): what is needed to derive the key of profile.db, and
 * nothing else (no name, no id). profile.db itself is encrypted as a whole
 * (SQLCipher) under a subkey of the local key, and the local key comes from
 * the passphrase with Argon2id, so the salt and limits must be readable
 * before the database opens.
 *
 *     liaison-profile-key 1
 *     argon2id13 OPSLIMIT MEMLIMIT SALT-HEX
 *
 * A second parameter line exists only while the passphrase is being changed
 * (profile_rekey): the new parameters, then the old ones. Whichever opens
 * the database is the right one; the next unlock leaves that one alone. */
#ifndef LIAISON_PROFILE_KEYFILE_H
#define LIAISON_PROFILE_KEYFILE_H

#include <stddef.h>

#include "err.h"
#include "seal.h"

#define KEYFILE_MAX 2

struct keyfile {
	struct seal_kdf kdf[KEYFILE_MAX];
	size_t n;
};

/* Read path; LSN_ERR_NOT_FOUND (no message) if it does not exist, a
 * message saying the profile is damaged if it does not parse. */
enum lsn_err keyfile_read(const char *path, struct keyfile *kf, struct lsn_status *st);
/* Write kf to path atomically (a temporary file beside it, fsync, rename,
 * fsync of the directory), mode 0600. */
enum lsn_err keyfile_write(const char *path, const struct keyfile *kf, struct lsn_status *st);

#endif
