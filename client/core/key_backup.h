/* key_backup.h — the encrypted key backup on the client (CRYPTO.md §7,
 * shared/backup.h): a recovery key RK shown once as a recovery code; the
 * identity key sealed under IKK and every inbound session sealed under BK on
 * the server; BK kept sealed in the profile so that sessions are uploaded as
 * they arrive; restore on another device of the same user.
 *
 * Entry data (JSON, then lsn_backup_seal):
 *   {"v":1,"sender_user":HEX,"sender_device":HEX,"chain_key":B64,
 *    "forwarded_by":HEX|null,"direct_index":N,"history":BOOL} */
#ifndef LIAISON_KEY_BACKUP_H
#define LIAISON_KEY_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup.h"
#include "e2e.h"

#define KEY_BACKUP_SECRET "backup_bk"

/* True when this profile uploads its sessions (backup set up or restored). */
bool key_backup_enabled(struct e2e *e);

/* Upload every inbound session not yet in the backup; nothing when the
 * backup is not set up. *uploaded may be NULL. */
enum lsn_err key_backup_flush(struct e2e *e, size_t *uploaded, struct lsn_status *st);

/* A new recovery key: store the identity blob, keep BK, upload every
 * session. code: the recovery code to show once. Refuses when a backup
 * exists already. */
enum lsn_err key_backup_setup(struct e2e *e, char code[LSN_RECOVERY_CODE_TEXT + 1],
			      struct lsn_status *st);

/* With the recovery key: check it opens our identity blob, keep BK, fetch
 * and merge every session. *restored: sessions that added keys. */
enum lsn_err key_backup_restore(struct e2e *e, const uint8_t rk[32], size_t *restored,
				struct lsn_status *st);

/* The recovery code text (NULL or empty: none given) as the recovery key
 * rk. Usage-style errors in st. */
enum lsn_err key_backup_parse_code(const char *text, uint8_t rk[32], struct lsn_status *st);

#endif
