/* agreement_keys.h — this device's agreement keys over time (CRYPTO.md §1):
 * "AK rotates every 7 days; a device keeps the private half of its last 3
 * AKs to open shares that were sent late. Private halves of old AKs are then
 * erased."
 *
 * Storage (profile format 3, profile_migrate.c): table agreement_keys lists
 * every AK of the device with its public half, ak_id, ak_ts and state —
 * current (one), previous, pending (drawn, publication not confirmed) or
 * erased (row kept, private half gone, so that a late share can be told
 * apart from one this device never had). The private half of each key still
 * held is the sealed item "ak_sk:<hex ak_id>" in table sealed, sealed like
 * every other private key (local key, AD = "liaison-local-v1" || item name).
 * meta's ak_id/ak_pk/ak_ts name the current key. At most PROFILE_AK_KEEP
 * private halves are ever stored, a pending one included. */
#ifndef LIAISON_AGREEMENT_KEYS_H
#define LIAISON_AGREEMENT_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "ident.h"
#include "profile.h"

#define AK_ROTATE_MS (7LL * 24 * 3600 * 1000)   /* CRYPTO.md §1: every 7 days */

/* Run by every end-to-end command and by login, once logged in on c: when
 * the current AK's ak_ts is 7 days old or more, draw a new X25519 pair and a
 * random ak_id, certify it with DK and publish it (op ak_publish, with an
 * idem); the server's acceptance makes it current. The key the new one
 * pushes out of the last 3 is erased as soon as the new one is drawn (sealed
 * row deleted, memory wiped), so the profile never holds more than 3 private
 * halves. A key whose publication got no answer stays pending and is sent
 * again, with the same idem, by the next command (shares sealed to it still
 * open meanwhile). Never fails the user's command: a failure leaves the
 * current key in use and says why on stderr, in one line. */
void ak_rotate_if_due(struct profile *p, struct conn *c);

/* Did this device hold agreement key ak_id and erase its private half? */
bool ak_erased(struct profile *p, const uint8_t ak_id[LSN_ID_BYTES]);

#endif
