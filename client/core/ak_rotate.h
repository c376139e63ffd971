/* ak_rotate.h — the rotation of this device's agreement key (CRYPTO.md §1),
 * run at the start of every end-to-end command and by login. Its storage is
 * client/store/agreement_keys.h. */
#ifndef LIAISON_AK_ROTATE_H
#define LIAISON_AK_ROTATE_H

#include "link.h"
#include "profile.h"
#include "warn.h"

#define AK_ROTATE_MS (7LL * 24 * 3600 * 1000)   /* CRYPTO.md §1: every 7 days */

/* Once logged in on c: when the current AK's ak_ts is 7 days old or more,
 * draw a new X25519 pair and a random ak_id, certify it with DK and publish
 * it (op ak_publish, with an idem); the server's acceptance makes it
 * current. The key the new one pushes out of the last 3 is erased as soon
 * as the new one is drawn (sealed row deleted, memory wiped), so the profile
 * never holds more than 3 private halves. A key whose publication got no
 * answer stays pending and is sent again, with the same idem, by the next
 * command (shares sealed to it still open meanwhile).
 *
 * One process at a time: when a rotation is due, it takes the profile's
 * lock file and reads the keys again from the database (another process
 * may have rotated them already), and releases the lock when done.
 *
 * Never fails the user's command and never prints: a failure leaves the
 * current key in use and adds one line saying why to w (may be NULL). */
void ak_rotate_if_due(struct profile *p, struct link *c, struct lsn_warnings *w);

#endif
