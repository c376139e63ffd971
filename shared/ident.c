/* ident.c — validation of RPPS/FINESS numbers, ids, professions, roles. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ident.h"

/* Luhn over all digits of s (the last being the check digit). */
static bool
luhn_valid(const char *s, size_t len)
{
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[len - 1 - i] - '0');
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

static bool
all_digits(const char *s, size_t want)
{
	if (s == NULL || strlen(s) != want)
		return false;
	for (size_t i = 0; i < want; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool
lsn_rpps_valid(const char *rpps)
{
	return all_digits(rpps, 11) && luhn_valid(rpps, 11);
}

bool
lsn_finess_valid(const char *finess)
{
	return all_digits(finess, 9) && luhn_valid(finess, 9);
}

void
lsn_id_random(uint8_t id[LSN_ID_BYTES])
{
	randombytes_buf(id, LSN_ID_BYTES);
}

void
lsn_id_to_hex(const uint8_t id[LSN_ID_BYTES], char out[LSN_ID_HEX + 1])
{
	sodium_bin2hex(out, LSN_ID_HEX + 1, id, LSN_ID_BYTES);
}

bool
lsn_id_from_hex(const char *hex, uint8_t id[LSN_ID_BYTES])
{
	if (hex == NULL || strlen(hex) != LSN_ID_HEX)
		return false;
	for (size_t i = 0; i < LSN_ID_HEX; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return false;
	size_t got = 0;
	return sodium_hex2bin(id, LSN_ID_BYTES, hex, LSN_ID_HEX, NULL, &got, NULL) == 0 &&
	       got == LSN_ID_BYTES;
}

static const struct lsn_profession professions[] = {
	{"gp", "Médecin généraliste", true},
	{"cardiologist", "Cardiologue", true},
	{"psychiatrist", "Psychiatre", true},
	{"hospital_doctor", "Médecin hospitalier", true},
	{"pharmacist", "Pharmacien d'officine", true},
	{"hospital_pharmacist", "Pharmacien hospitalier", true},
	{"nurse", "Infirmier(e)", true},
	{"psychologist", "Psychologue", true},
	{"physiotherapist", "Masseur-kinésithérapeute", true},
	{"midwife", "Sage-femme", true},
	{"dietitian", "Diététicien(ne)", true},
	{"social_worker", "Assistant(e) de service social", false},
	{"coordinator", "Coordinateur(trice) de parcours", false},
	{"secretary", "Secrétariat médical", false},
};

const struct lsn_profession *
lsn_profession_find(const char *code)
{
	for (size_t i = 0; code && i < sizeof professions / sizeof professions[0]; i++)
		if (strcmp(professions[i].code, code) == 0)
			return &professions[i];
	return NULL;
}

const struct lsn_profession *
lsn_profession_at(size_t index)
{
	return index < sizeof professions / sizeof professions[0] ? &professions[index] : NULL;
}

static const char *const org_kinds[] = {
	"hospital", "cpts", "health_centre", "practice", "pharmacy",
	"nursing_home", "home_care", "other",
};

bool
lsn_org_kind_valid(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof org_kinds / sizeof org_kinds[0]; i++)
		if (strcmp(org_kinds[i], kind) == 0)
			return true;
	return false;
}

const char *
lsn_org_kind_at(size_t index)
{
	return index < sizeof org_kinds / sizeof org_kinds[0] ? org_kinds[index] : NULL;
}

static const struct {
	const char *name;
	unsigned bit;
} role_names[] = {
	{"member", LSN_ROLE_MEMBER},
	{"discharge", LSN_ROLE_DISCHARGE},
	{"coordinator", LSN_ROLE_COORDINATOR},
	{"admin", LSN_ROLE_ADMIN},
	{"territory", LSN_ROLE_TERRITORY},
};

bool
lsn_roles_parse(const char *list, unsigned *roles)
{
	*roles = 0;
	if (list == NULL || *list == '\0')
		return false;
	const char *p = list;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		bool found = false;
		for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
			if (strlen(role_names[i].name) == len &&
			    memcmp(role_names[i].name, p, len) == 0) {
				*roles |= role_names[i].bit;
				found = true;
			}
		}
		if (!found)
			return false;
		if (!comma)
			break;
		p = comma + 1;
		if (*p == '\0')
			return false;
	}
	return true;
}

char *
lsn_roles_format(unsigned roles, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
		if (!(roles & role_names[i].bit))
			continue;
		size_t need = strlen(role_names[i].name) + (used ? 1 : 0);
		if (need >= outlen - used)
			break;   /* never cut a name in half */
		snprintf(out + used, outlen - used, "%s%s", used ? "," : "", role_names[i].name);
		used += need;
	}
	return out;
}

/* Valid UTF-8 (no overlongs, no surrogates), no C0/DEL control characters. */
bool
lsn_display_text_valid(const char *s, size_t max_bytes)
{
	if (s == NULL)
		return false;
	size_t len = strlen(s);
	if (len == 0 || len > max_bytes)
		return false;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned c = p[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2; cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3; cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4; cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n > len)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}
