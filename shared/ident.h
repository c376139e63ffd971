/* ident.h — identifiers of people, organisations and objects: RPPS, FINESS,
 * 16-byte random ids as 32 hex characters, professions, roles, org kinds. */
#ifndef LSN_IDENT_H
#define LSN_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LSN_ID_BYTES 16
#define LSN_ID_HEX   (2 * LSN_ID_BYTES)

/* RPPS: exactly 11 ASCII digits, the last a Luhn check digit. */
bool lsn_rpps_valid(const char *rpps);
/* FINESS: exactly 9 ASCII digits, the last a Luhn check digit over the first 8. */
bool lsn_finess_valid(const char *finess);

/* Fresh random id (libsodium must be initialised). */
void lsn_id_random(uint8_t id[LSN_ID_BYTES]);
/* Lowercase hex into out (LSN_ID_HEX + 1 bytes, NUL-terminated). */
void lsn_id_to_hex(const uint8_t id[LSN_ID_BYTES], char out[LSN_ID_HEX + 1]);
/* Strict parse: exactly 32 lowercase hex characters. */
bool lsn_id_from_hex(const char *hex, uint8_t id[LSN_ID_BYTES]);

/* Professions: code (wire and database) and French label. */
struct lsn_profession {
	const char *code;
	const char *label_fr;
	bool needs_rpps;   /* health professionals registered in RPPS */
};
const struct lsn_profession *lsn_profession_find(const char *code);
const struct lsn_profession *lsn_profession_at(size_t index); /* NULL past the end */

/* Organisation kinds. */
bool lsn_org_kind_valid(const char *kind);
const char *lsn_org_kind_at(size_t index);

/* Roles are a bit set; on the wire and in the database a comma list. */
enum lsn_role {
	LSN_ROLE_MEMBER      = 1u << 0,
	LSN_ROLE_DISCHARGE   = 1u << 1,
	LSN_ROLE_COORDINATOR = 1u << 2,
	LSN_ROLE_ADMIN       = 1u << 3,
	LSN_ROLE_TERRITORY   = 1u << 4,   /* coordinator view over every CPTS */
};
/* Parse "member,coordinator"; false on an unknown or empty name. */
bool lsn_roles_parse(const char *list, unsigned *roles);
/* Canonical comma list in a fixed order into out; returns out. */
char *lsn_roles_format(unsigned roles, char *out, size_t outlen);

/* Display names: 1..128 bytes of valid UTF-8, no control characters. */
bool lsn_display_text_valid(const char *s, size_t max_bytes);

#endif
