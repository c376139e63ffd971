/* concil_int.h — what the concil_*.c files share and nothing else includes
 * (the unit test excepted): text folding, dates, field checks, the JSON
 * forms of a line and a discrepancy, and the one decoder of the documents
 * that carry an episode. Who defines what:
 *
 *   concil_vocab.c    text, dates, word lists, concil_fail / concil_why
 *   concil_fields.c   concil_quote, concil_line_check_at, concil_line_fields_ok
 *   concil_episode.c  JSON of lines and discrepancies, concil_doc_decode
 */
#ifndef LIAISON_CONCIL_INT_H
#define LIAISON_CONCIL_INT_H

#include "concil.h"
#include "tr.h"   /* the model's messages are marked for the CLI's catalogue (po/) */

#define CONCIL_DAY_MS (86400LL * 1000)
#define CONCIL_N(a) (sizeof(a) / sizeof((a)[0]))

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
/* Length of the UTF-8 sequence at p (n bytes left, n > 0) and its code
 * point; 0 if it is not valid UTF-8 (overlong, surrogate, above U+10FFFF,
 * truncated). */
size_t concil_utf8_next(const unsigned char *p, size_t n, unsigned *cp);

/* A value quoted in a message: at most 40 bytes of it (then "..."), never
 * cut inside a character, control characters and bad bytes as '?'. */
void concil_quote(const char *s, size_t n, char out[48]);
/* Cut s before a UTF-8 sequence that a size limit left incomplete. */
void concil_utf8_trim(char *s);
/* lsn_fail, then concil_utf8_trim on the message (a long value quoted in a
 * message must not leave half a character at the cut). */
enum lsn_err concil_fail(struct lsn_status *st, enum lsn_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a "why" buffer (nothing when why is NULL or why_len 0). */
void concil_why(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Days since 1970-01-01 of a civil date, and back. */
int64_t concil_days_from_civil(int64_t y, unsigned m, unsigned d);
void concil_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Strict YYYY-MM-DD of a real date, years 1900–2999. */
bool concil_date_valid(const char *s);

/* Frequency facts for the comparison: administrations a day (0 when not a
 * daily schedule), moment-of-day bits (1 morning, 2 noon, 4 evening,
 * 8 bedtime; 0 none given). false for an unknown canonical frequency. */
bool concil_frequency_facts(const char *canon, int *per_day, unsigned *moments);
/* Units counted per administration ("comprimé", "gélule", …). */
bool concil_unit_is_count(const char *canon);
/* The canonical words of the form, route, unit or frequency vocabulary for
 * a message ("mg, g, µg, …"), about 120 bytes at most ("" for another field). */
void concil_vocab_words(enum concil_field f, char *out, size_t len);

/* JSON of one line (with its note or not) and of one discrepancy (full:
 * with note, dates and origin; circle: types, intents, roles, resolutions). */
json_t *concil_line_json(const struct concil_line *ln, bool with_note);
json_t *concil_disc_json(const struct concil_disc *d, bool full);
/* concil_line_check, saying which field is wrong (why without "column"). */
bool concil_line_check_at(const struct concil_line *ln, enum concil_field *bad, char *why,
			  size_t why_len);
/* Fields set some other way than concil_field_set (a struct filled by
 * hand): terminated, checked text, canonical words, a dose in range. */
bool concil_line_fields_ok(const struct concil_line *ln, char *why, size_t why_len);

/* Every canonical word and synonym of the unit, form, route and frequency
 * lists maps to its own entry (no two entries share a spelling). */
bool concil_vocab_selfcheck(char *why, size_t why_len);

/* JSON building that remembers a failure (NULL value, no memory) in *ok;
 * concil_json_finish returns o, or NULL (o freed) when anything failed. */
void concil_json_put(json_t *o, const char *k, json_t *v, bool *ok);
void concil_json_push(json_t *a, json_t *v, bool *ok);
json_t *concil_json_finish(json_t *o, bool ok);

/* A document that carries an episode: the episode document itself
 * (concil_episode.c) or the de-identified circle copy (concil_share.c).
 * concil_doc_decode walks both the same way: a JSON object, "type" and
 * "version", the keys allowed at the top, the members particular to the
 * form (head), the bmo and order lines, their ids, the discrepancies, the
 * last checks of the form (tail), the ids again. */
struct concil_form {
	const char *type;                /* the "type" member it must have */
	const char *what;                /* "a circle copy": for "… is a JSON object" */
	const char *version_hint;        /* said after "this client reads version N" */
	const char *const *keys;         /* top-level keys allowed (NULL: any) */
	const char *const *line_keys;    /* keys a line may carry (NULL: any the decoder knows) */
	const char *const *disc_keys;    /* keys a discrepancy may carry (NULL: any) */
	bool disc_ids;                   /* discrepancies carry their id (else numbered on reading) */
	/* The members particular to the form (identity, dates, sources);
	 * ep->sources is allocated here if any. */
	enum lsn_err (*head)(json_t *doc, struct concil_episode *ep, struct lsn_status *st);
	/* Checks once everything is read (NULL: none). */
	enum lsn_err (*tail)(const struct concil_episode *ep, struct lsn_status *st);
};

/* Decode doc as form into ep (zeroed first; freed again on failure). */
enum lsn_err concil_doc_decode(json_t *doc, const struct concil_form *form,
			       struct concil_episode *ep, struct lsn_status *st);

#endif
