/* invite.h — one-time enrolment invite codes: 15 random bytes shown as 24
 * Crockford base32 characters in six groups of four (e.g. "7K2M-QX9D-...").
 * The server stores only a keyed-label hash of the raw bytes. */
#ifndef LSN_INVITE_H
#define LSN_INVITE_H

#include <stdbool.h>
#include <stdint.h>

#define LSN_INVITE_BYTES     15
#define LSN_INVITE_TEXT      29   /* 24 characters + 5 dashes */
#define LSN_INVITE_HASHBYTES 32

void lsn_invite_random(uint8_t raw[LSN_INVITE_BYTES]);
void lsn_invite_format(const uint8_t raw[LSN_INVITE_BYTES], char out[LSN_INVITE_TEXT + 1]);
/* Lenient on case, dashes and spaces, and Crockford's I/L→1, O→0. */
bool lsn_invite_parse(const char *text, uint8_t raw[LSN_INVITE_BYTES]);
/* BLAKE2b-256 of "liaison-invite-v1" || raw. */
void lsn_invite_hash(const uint8_t raw[LSN_INVITE_BYTES], uint8_t hash[LSN_INVITE_HASHBYTES]);

#endif
