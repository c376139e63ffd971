/* base32.h — the text form of invite codes and recovery codes: Crockford's
 * base32 (alphabet 0123456789ABCDEFGHJKMNPQRSTVWXYZ), most significant bits
 * first, no padding characters (a last partial 5-bit group is filled with
 * zero bits), optionally cut into groups by '-'. Parsing is lenient about
 * what a person retypes: case, '-' and ' ' are ignored, I and L read as 1,
 * O as 0. docs/CRYPTO.md gives the layouts that use it. */
#ifndef LSN_BASE32_H
#define LSN_BASE32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LSN_BASE32_ALPHABET "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

/* Characters for n bytes: ceil(8n / 5). */
#define LSN_BASE32_CHARS(n) (((n) * 8 + 4) / 5)
/* Text length (without the NUL) for n bytes with a '-' between groups of
 * `group` characters (group 0: no dashes). */
size_t lsn_base32_text_len(size_t n, unsigned group);

/* Write the n bytes of in as text into out (cap bytes, with the NUL), a '-'
 * after every `group` characters but the last (group 0: none). Returns the
 * text length, or 0 (out = "" if cap > 0) when cap is too small. */
size_t lsn_base32_encode(const uint8_t *in, size_t n, unsigned group, char *out, size_t cap);

/* Read text into exactly n bytes (out). true when text holds exactly
 * LSN_BASE32_CHARS(n) characters of the alphabet (with the leniency above)
 * and the fill bits of a last partial group are zero; false otherwise, and
 * out is then wiped. */
bool lsn_base32_decode(const char *text, uint8_t *out, size_t n);

#endif
