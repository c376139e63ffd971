/* concil_int.h — what the concil_*.c files share and nothing else includes:
 * text folding, dates, the JSON forms of a line and a discrepancy. */
#ifndef LIAISON_CONCIL_INT_H
#define LIAISON_CONCIL_INT_H

#include "concil.h"

#define CONCIL_DAY_MS (86400LL * 1000)

/* UTF-8 text folded for comparison into out (cap bytes, always terminated):
 * ASCII lower case; Latin-1 letters without their accents; œ → oe, æ → ae,
 * ß → ss; µ and μ → u; no-break spaces and tabs → space; × → x; other
 * non-ASCII bytes kept as they are. */
void concil_fold(const char *s, size_t len, char *out, size_t cap);
/* Vocabulary key: concil_fold, punctuation -_,+&;:'’ to blanks, dots
 * dropped, stop words (et, le, la, les, l, au, aux, a, par, de, du, d, des,
 * en, voie) dropped, single blanks, none around '/'. */
void concil_vocab_key(const char *s, size_t len, char *out, size_t cap);
/* Valid UTF-8 without control characters (a tab is refused too). */
bool concil_text_ok(const char *s, size_t len);

/* A value quoted in a message: at most 40 bytes of it (then "..."), never
 * cut inside a character, control characters and bad bytes as '?'. */
void concil_quote(const char *s, size_t n, char out[48]);
/* Cut s before a UTF-8 sequence that a size limit left incomplete. */
void concil_utf8_trim(char *s);
/* lsn_fail, then concil_utf8_trim on the message (a long value quoted in a
 * message must not leave half a character at the cut). */
enum lsn_err concil_fail(struct lsn_status *st, enum lsn_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Days since 1970-01-01 of a civil date, and back. */
int64_t concil_days_from_civil(int64_t y, unsigned m, unsigned d);
void concil_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Frequency facts for the comparison: administrations a day (0 when not a
 * daily schedule), moment-of-day bits (1 morning, 2 noon, 4 evening,
 * 8 bedtime; 0 none given). false for an unknown canonical frequency. */
bool concil_frequency_facts(const char *canon, int *per_day, unsigned *moments);
/* Units counted per administration ("comprimé", "gélule", …). */
bool concil_unit_is_count(const char *canon);

/* JSON of one line (with its note or not) and of one discrepancy (full:
 * with note, dates and origin; circle: types, intents, roles, resolutions). */
json_t *concil_line_json(const struct concil_line *ln, bool with_note);
enum lsn_err concil_line_from_json(json_t *o, enum concil_list list, const char *path,
				   struct concil_line *ln, struct lsn_status *st);
json_t *concil_disc_json(const struct concil_disc *d, bool full);
/* ep: the lines the references must name (already read). */
enum lsn_err concil_disc_from_json(json_t *o, const struct concil_episode *ep, const char *path,
				   struct concil_disc *d, struct lsn_status *st);
/* concil_line_check, saying which field is wrong (why without "column"). */
bool concil_line_check_at(const struct concil_line *ln, enum concil_field *bad, char *why,
			  size_t why_len);
/* Check that obj has only the keys of allowed (NULL-terminated). */
enum lsn_err concil_only_keys(json_t *obj, const char *const *allowed, const char *path,
			      struct lsn_status *st);
/* Line or discrepancy ids: unique, references to lines of the right list. */
enum lsn_err concil_check_ids(const struct concil_episode *ep, struct lsn_status *st);

/* Every canonical word and synonym of the unit, form, route and frequency
 * lists maps to its own entry (no two entries share a spelling). */
bool concil_vocab_selfcheck(char *why, size_t why_len);

/* JSON building that remembers a failure (NULL value, no memory) in *ok;
 * concil_json_finish returns o, or NULL (o freed) when anything failed. */
void concil_json_put(json_t *o, const char *k, json_t *v, bool *ok);
void concil_json_push(json_t *a, json_t *v, bool *ok);
json_t *concil_json_finish(json_t *o, bool ok);

/* The lines under key of a document (at most CONCIL_LINES_MAX), each
 * checked and appended to out; ep->next_id moves past their ids. allowed:
 * the only keys a line may carry (NULL: any the decoder knows). */
enum lsn_err concil_lines_from_json(json_t *doc, const char *key, enum concil_list list,
				    struct concil_episode *ep, struct concil_lines *out,
				    const char *const *allowed, struct lsn_status *st);

#endif
