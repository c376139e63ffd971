/* peers.h — other users' keys as this run has fetched and verified them
 * (CRYPTO.md §1–§2): the identity key against the local pin (trust on first
 * use, changes detected), and every device's chain IK → DK → AK. Nothing is
 * shared with a device whose chain does not verify under an accepted IK. */
#ifndef LIAISON_PEERS_H
#define LIAISON_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e2e.h"
#include "local.h"

#define PEER_DEVICE_NAME_MAX 64

struct peer_device {
	uint8_t id[LSN_ID_BYTES];
	uint8_t dk[32];
	uint8_t ak_id[LSN_ID_BYTES];
	uint8_t ak[32];
	int64_t dk_ts, ak_ts, revoked_at;
	bool chain_ok;          /* IK -> DK -> AK verifies under an accepted IK */
	char name[PEER_DEVICE_NAME_MAX + 1];
};

struct peer {
	uint8_t user[LSN_ID_BYTES];
	char rpps[16];
	uint8_t server_ik[32];  /* what the server shows now */
	struct local_pin pin;   /* our pin after seeing it */
	bool me;
	bool trusted;           /* the server's IK is the accepted one */
	bool warned;            /* a blocked-sharing warning was printed this run */
	size_t n_devices;
	struct peer_device *devices;  /* active devices (op keys) */
};

struct peers *peers_new(void);
void peers_free(struct peers *ps);

/* Fetch (op keys, 200 users per request) and verify the users not yet
 * cached, or all of them with refresh. Pins first-seen keys. Network errors
 * return the error; an unverifiable key is recorded in the peer, not an error. */
enum lsn_err peers_load(struct e2e *e, const uint8_t (*users)[LSN_ID_BYTES], size_t n,
			bool refresh, struct lsn_status *st);
/* The cached peer, or NULL. */
struct peer *peers_get(struct peers *ps, const uint8_t user[LSN_ID_BYTES]);
/* Drop a user from the cache (their device list changed). */
void peers_forget(struct peers *ps, const uint8_t user[LSN_ID_BYTES]);

/* One device of user with its verified chain: loads the user if needed; when
 * the device is not among the active ones and include_revoked, asks op
 * devices (which lists revoked devices too). *out NULL if unknown. */
enum lsn_err peers_device(struct e2e *e, const uint8_t user[LSN_ID_BYTES],
			  const uint8_t device[LSN_ID_BYTES], bool include_revoked,
			  const struct peer_device **out, struct lsn_status *st);

/* For a peer whose identity key changed (!trusted, not me), in words for
 * the user: what happened (who, since when this device saw it, the likely
 * causes) and what to do (compare the safety number, then accept). */
void peers_changed_text(struct e2e *e, const struct peer *pr, char *what, size_t what_len,
			char *todo, size_t todo_len);
/* Why key sharing to this peer is blocked ("" if it is not): identity key
 * changed, or not verified in strict mode. */
const char *peers_blocked(const struct e2e *e, const struct peer *pr);

#endif
