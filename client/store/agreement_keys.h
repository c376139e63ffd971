/* agreement_keys.h — storage of this device's agreement keys over time
 * (CRYPTO.md §1): "AK rotates every 7 days; a device keeps the private half
 * of its last 3 AKs to open shares that were sent late. Private halves of
 * old AKs are then erased." The rotation itself (drawing, publishing,
 * promoting) is client/core/ak_rotate.c; this is its table access.
 *
 * Storage (profile format 3, profile_migrate.c): table agreement_keys lists
 * every AK of the device with its public half, ak_id, ak_ts and state —
 * current (one), previous, pending (drawn, publication not confirmed) or
 * erased (row kept, private half gone, so that a late share can be told
 * apart from one this device never had). The private half of each key still
 * held is the sealed item "ak_sk:<hex ak_id>" in table sealed, sealed like
 * every other private key (local key, AD = "liaison-local-v1" || item name).
 * meta's ak_id/ak_pk/ak_ts name the current key. At most PROFILE_AK_KEEP
 * private halves are ever stored, a pending one included. p's copy of them
 * is read by profile_unlock and again by profile_ak_reload (profile.h). */
#ifndef LIAISON_AGREEMENT_KEYS_H
#define LIAISON_AGREEMENT_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "profile.h"

#define AK_SIG_BYTES   64   /* crypto_sign_BYTES: DK's certificate of the AK */
#define AK_IDEM_HEX    33   /* 32 hex characters + NUL */

/* Did this device hold agreement key ak_id and erase its private half? */
bool ak_erased(struct profile *p, const uint8_t ak_id[LSN_ID_BYTES]);

/* One transaction: erase the keys in erase (sealed private half deleted,
 * row marked erased at now), then store a as pending with its private half
 * sk, its certificate sig and the idem of its publication. */
enum lsn_err ak_db_draw(struct profile *p, const uint8_t (*erase)[LSN_ID_BYTES], size_t n_erase,
			const struct profile_ak *a, const uint8_t sk[crypto_kx_SECRETKEYBYTES],
			const uint8_t sig[AK_SIG_BYTES], const char *idem, int64_t now,
			struct lsn_status *st);

/* The certificate and idem stored with the pending key id. */
enum lsn_err ak_db_pending(struct profile *p, const uint8_t id[LSN_ID_BYTES],
			   uint8_t sig[AK_SIG_BYTES], char idem[AK_IDEM_HEX],
			   struct lsn_status *st);

/* One transaction: the pending key a becomes current (meta names it), the
 * current one previous. */
enum lsn_err ak_db_promote(struct profile *p, const struct profile_ak *a, struct lsn_status *st);

/* One transaction: a pending key the server refused is removed entirely. */
enum lsn_err ak_db_drop(struct profile *p, const uint8_t id[LSN_ID_BYTES], struct lsn_status *st);

#endif
