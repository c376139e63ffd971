/* concil_model.c — medication reconciliation: vocabularies, medication line
 * fields, the episode and its JSON document, and the rules of who changes
 * what (docs/CONCILIATION.md). */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "concil_int.h"

/* ---- fixed vocabularies ------------------------------------------------------ */

struct vocab_entry {
	const char *code;
	const char *label;
};

static const struct vocab_entry v_transition[] = {
	{"admission", "Admission"},
	{"transfer", "Transfert"},
	{"discharge", "Sortie"},
	{"community_post_discharge", "Ville après sortie"},
};
static const struct vocab_entry v_status[] = {
	{"draft", "Brouillon (BMO en cours)"},
	{"bmo_done", "BMO terminé"},
	{"compared", "Comparé à la prescription"},
	{"awaiting_prescriber", "En attente du prescripteur"},
	{"closed", "Clos"},
};
static const struct vocab_entry v_source[] = {
	{"patient_interview", "Entretien avec le patient"},
	{"caregiver", "Aidant, entourage"},
	{"medications_brought", "Médicaments apportés par le patient"},
	{"gp_prescription", "Ordonnance du médecin traitant"},
	{"specialist_prescription", "Ordonnance d'un spécialiste"},
	{"gp_contact", "Contact avec le médecin traitant"},
	{"community_pharmacist", "Pharmacien d'officine"},
	{"dossier_pharmaceutique", "Dossier pharmaceutique (DP)"},
	{"dmp", "Dossier médical partagé (DMP)"},
	{"discharge_letter", "Lettre de liaison, compte rendu"},
	{"home_nurse", "Infirmier(e) à domicile"},
	{"nursing_home_record", "Dossier de l'EHPAD"},
	{"reimbursement_history", "Historique de remboursement"},
	{"other", "Autre source"},
};
static const struct vocab_entry v_list[] = {
	{"bmo", "Bilan médicamenteux optimisé"},
	{"order", "Prescription"},
};
static const struct vocab_entry v_type[] = {
	{"omission", "Omission"},
	{"addition", "Ajout"},
	{"dose_change", "Modification de dose"},
	{"frequency_change", "Modification de fréquence"},
	{"route_change", "Modification de voie"},
	{"form_change", "Modification de forme"},
	{"substitution", "Substitution"},
	{"duplication", "Redondance"},
	{"incomplete", "Ligne incomplète"},
	{"other", "Autre"},
};
static const struct vocab_entry v_intent[] = {
	{"intentional_documented", "Intentionnelle documentée"},
	{"intentional_undocumented", "Intentionnelle non documentée"},
	{"unintentional", "Non intentionnelle (erreur médicamenteuse)"},
	{"undetermined", "À déterminer"},
};
static const struct vocab_entry v_severity[] = {
	{NULL, "Sans objet"},
	{"minor", "Mineure"},
	{"significant", "Significative"},
	{"major", "Majeure"},
	{"critical", "Critique"},
};
static const struct vocab_entry v_resolution[] = {
	{"pending", "En attente"},
	{"prescription_corrected", "Prescription corrigée"},
	{"documented_as_intentional", "Documentée comme intentionnelle"},
	{"maintained_with_justification", "Maintenue avec justification"},
};
static const struct vocab_entry v_role[] = {
	{NULL, "Autre professionnel"},
	{"pharmacist", "Pharmacien"},
	{"prescriber", "Prescripteur"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const struct vocab_entry *v;
	size_t n;
} vocabs[CONCIL_V__COUNT] = {
	[CONCIL_V_TRANSITION] = {v_transition, N(v_transition)},
	[CONCIL_V_STATUS] = {v_status, N(v_status)},
	[CONCIL_V_SOURCE] = {v_source, N(v_source)},
	[CONCIL_V_LIST] = {v_list, N(v_list)},
	[CONCIL_V_TYPE] = {v_type, N(v_type)},
	[CONCIL_V_INTENT] = {v_intent, N(v_intent)},
	[CONCIL_V_SEVERITY] = {v_severity, N(v_severity)},
	[CONCIL_V_RESOLUTION] = {v_resolution, N(v_resolution)},
	[CONCIL_V_ROLE] = {v_role, N(v_role)},
};

_Static_assert(N(v_transition) == CONCIL_TRANSITION__COUNT, "transitions");
_Static_assert(N(v_status) == CONCIL_STATUS__COUNT, "statuses");
_Static_assert(N(v_source) == CONCIL_SOURCE__COUNT, "sources");
_Static_assert(N(v_type) == CONCIL_DTYPE__COUNT, "types");
_Static_assert(N(v_intent) == CONCIL_INTENT__COUNT, "intents");
_Static_assert(N(v_severity) == CONCIL_SEVERITY__COUNT, "severities");
_Static_assert(N(v_resolution) == CONCIL_RESOLUTION__COUNT, "resolutions");
_Static_assert(N(v_role) == CONCIL_ROLE__COUNT, "roles");

const char *
concil_code(enum concil_vocab voc, int v)
{
	if ((unsigned)voc >= CONCIL_V__COUNT || v < 0 || (size_t)v >= vocabs[voc].n)
		return NULL;
	return vocabs[voc].v[v].code;
}

const char *
concil_label(enum concil_vocab voc, int v)
{
	if ((unsigned)voc >= CONCIL_V__COUNT || v < 0 || (size_t)v >= vocabs[voc].n)
		return NULL;
	return vocabs[voc].v[v].label;
}

int
concil_parse(enum concil_vocab voc, const char *code)
{
	if ((unsigned)voc >= CONCIL_V__COUNT || code == NULL)
		return -1;
	for (size_t i = 0; i < vocabs[voc].n; i++)
		if (vocabs[voc].v[i].code && strcmp(vocabs[voc].v[i].code, code) == 0)
			return (int)i;
	return -1;
}

int
concil_count(enum concil_vocab voc)
{
	return (unsigned)voc < CONCIL_V__COUNT ? (int)vocabs[voc].n : 0;
}

enum concil_role
concil_role_of(const char *profession)
{
	static const char *const pharmacists[] = {"pharmacist", "hospital_pharmacist"};
	static const char *const prescribers[] = {"gp", "cardiologist", "psychiatrist",
						  "hospital_doctor"};
	if (profession == NULL)
		return CONCIL_ROLE_NONE;
	for (size_t i = 0; i < N(pharmacists); i++)
		if (strcmp(profession, pharmacists[i]) == 0)
			return CONCIL_ROLE_PHARMACIST;
	for (size_t i = 0; i < N(prescribers); i++)
		if (strcmp(profession, prescribers[i]) == 0)
			return CONCIL_ROLE_PRESCRIBER;
	return CONCIL_ROLE_NONE;
}

/* ---- text ---------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at p (n bytes left) and its code point; 0 if
 * it is not valid UTF-8 (overlong, surrogate, above U+10FFFF, truncated). */
static size_t
utf8_next(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], v;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2; v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3; v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4; v = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

bool
concil_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t k = utf8_next(p + i, len - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += k;
	}
	return true;
}

void
concil_utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, k = 0;
	while (i > 0 && k < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		k++;
	}
	if (i == 0)
		return;
	unsigned c = (unsigned char)s[i - 1];
	size_t want = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		      (c & 0xf8) == 0xf0 ? 4 : 0;
	if (c >= 0x80 && want != k + 1)
		s[i - 1] = '\0';
}

enum lsn_err
concil_fail(struct lsn_status *st, enum lsn_err err, const char *fmt, ...)
{
	va_list ap;
	if (st == NULL)
		return err;
	st->err = err;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof st->msg, fmt, ap);
	va_end(ap);
	concil_utf8_trim(st->msg);
	return err;
}

/* Base letters of U+00C0..U+00FF ('\1': two letters, see fold_pair). */
static const char latin1[65] =
	"aaaaaa\1ceeeeiiiidnooooox\1uuuuy\1\1"
	"aaaaaa\1ceeeeiiiidnooooo/\1uuuuy\1y";

static const char *
fold_pair(unsigned cp)
{
	switch (cp) {
	case 0xc6: case 0xe6: return "ae";
	case 0xd8: case 0xf8: return "o";
	case 0xde: case 0xfe: return "th";
	case 0xdf: return "ss";
	default: return "?";
	}
}

void
concil_fold(const char *s, size_t len, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; i < len && o + 1 < cap;) {
		unsigned cp;
		size_t k = utf8_next(p + i, len - i, &cp);
		const char *rep = NULL;
		char one[2] = {0, 0};
		if (k == 0) {               /* not UTF-8: keep the byte */
			k = 1;
			one[0] = (char)p[i];
			rep = one;
		} else if (cp < 0x80) {
			one[0] = (char)(cp == '\t' ? ' ' : tolower((int)cp));
			rep = one;
		} else if (cp >= 0xc0 && cp <= 0xff) {
			char b = latin1[cp - 0xc0];
			if (b == '\1') {
				rep = fold_pair(cp);
			} else {
				one[0] = b;
				rep = one;
			}
		} else if (cp == 0x152 || cp == 0x153) {
			rep = "oe";
		} else if (cp == 0xb5 || cp == 0x3bc) {
			rep = "u";
		} else if (cp == 0xa0 || cp == 0x202f || cp == 0x2009) {
			rep = " ";
		} else if (cp == 0x2019) {
			rep = "'";
		}
		if (rep) {
			for (size_t j = 0; rep[j] && o + 1 < cap; j++)
				out[o++] = rep[j];
		} else {
			for (size_t j = 0; j < k && o + 1 < cap; j++)
				out[o++] = (char)p[i + j];
		}
		i += k;
	}
	out[o] = '\0';
}

static bool
is_stop_word(const char *w, size_t n)
{
	static const char *const stops[] = {"et", "le", "la", "les", "l", "au", "aux", "a", "par",
					    "de", "du", "d", "des", "en", "voie"};
	for (size_t i = 0; i < N(stops); i++)
		if (strlen(stops[i]) == n && memcmp(stops[i], w, n) == 0)
			return true;
	return false;
}

void
concil_vocab_key(const char *s, size_t len, char *out, size_t cap)
{
	char f[CONCIL_CSV_LINE_MAX + 1];
	size_t o = 0;
	if (cap == 0)
		return;
	concil_fold(s, len, f, sizeof f);
	for (char *c = f; *c; c++)
		if (strchr("-_,+&;:'", *c))
			*c = ' ';
	out[0] = '\0';
	for (char *c = f; *c;) {
		while (*c == ' ')
			c++;
		char *w = c;
		size_t n = 0;
		while (*c && *c != ' ') {
			c++;
			n++;
		}
		if (n == 0)
			break;
		char t[CONCIL_CSV_LINE_MAX + 1];
		size_t tn = 0;
		for (size_t j = 0; j < n; j++)
			if (w[j] != '.')
				t[tn++] = w[j];
		if (tn == 0 || is_stop_word(t, tn))
			continue;
		if (o > 0 && o + 1 < cap && out[o - 1] != '/' && t[0] != '/')
			out[o++] = ' ';
		for (size_t j = 0; j < tn && o + 1 < cap; j++)
			out[o++] = t[j];
		out[o] = '\0';
	}
}

char *
concil_inn_key(const char *inn, char *out, size_t len)
{
	char f[4 * CONCIL_INN_MAX + 1];
	size_t o = 0;
	if (len == 0)
		return out;
	concil_fold(inn, strlen(inn), f, sizeof f);
	for (const char *c = f; *c && o + 1 < len; c++)
		if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '/' || *c == '+')
			out[o++] = *c;
	out[o] = '\0';
	return out;
}

/* ---- dates ---------------------------------------------------------------------- */

int64_t
concil_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
concil_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Strict YYYY-MM-DD of a real date, years 1900–2999. */
static bool
date_valid(const char *s)
{
	unsigned y, m, d;
	int n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%n", &y, &m, &d, &n) != 3 || n != 10)
		return false;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
		return false;
	int64_t y2, days = concil_days_from_civil(y, m, d);
	unsigned m2, d2;
	concil_civil_from_days(days, &y2, &m2, &d2);
	return y2 == y && m2 == m && d2 == d;
}

/* ---- word vocabularies (docs/CONCILIATION.md, "Vocabularies") ----------------- */

struct word {
	const char *canon;
	const char *syn;      /* synonyms separated by '|' */
};

static const struct word units[] = {
	{"mg", "milligramme|milligrammes"},
	{"g", "gramme|grammes|gr"},
	{"µg", "mcg|ug|microgramme|microgrammes"},
	{"mL", "millilitre|millilitres|cc"},
	{"UI", "U|IU|unité|unités|unité internationale|unités internationales"},
	{"mmol", "millimole|millimoles"},
	{"gouttes", "goutte|gtt|gttes"},
	{"comprimé", "comprimés|cp|cps|cpr|cpé"},
	{"gélule", "gélules|gél"},
	{"capsule", "capsules"},
	{"sachet", "sachets"},
	{"ampoule", "ampoules|amp"},
	{"suppositoire", "suppositoires|suppo|suppos"},
	{"ovule", "ovules"},
	{"bouffée", "bouffées|inhalation|inhalations|puff|puffs"},
	{"pulvérisation", "pulvérisations|pulv|spray|sprays"},
	{"patch", "patchs|timbre|timbres|dispositif|dispositifs"},
	{"application", "applications|appli"},
	{"dose", "doses"},
	{"cuillère", "cuillères|cuillère mesure|cuillères mesure|cuillère-mesure"},
};

static const struct word forms[] = {
	{"comprimé", "comprimés|cp|cpr|comprimé pelliculé|comprimé sécable|comprimé enrobé|"
		     "comprimé dispersible"},
	{"comprimé LP", "cp LP|comprimé à libération prolongée|comprimé libération prolongée|LP|"
			"comprimé à libération modifiée|LM"},
	{"comprimé orodispersible", "cp orodispersible|orodispersible|lyophilisat oral|lyoc"},
	{"comprimé effervescent", "cp effervescent|effervescent"},
	{"gélule", "gélules"},
	{"gélule LP", "gélule à libération prolongée|gélule libération prolongée"},
	{"capsule", "capsule molle|capsules"},
	{"solution buvable", "sol buv|solution orale|buvable"},
	{"suspension buvable", "suspension orale|susp buv"},
	{"sirop", "sirops"},
	{"gouttes buvables", "gouttes|goutte buvable|solution buvable en gouttes"},
	{"poudre orale", "poudre pour solution buvable|poudre pour suspension buvable|sachet|"
			 "granulés|granulés en sachet"},
	{"solution injectable", "injectable|sol inj|injection|seringue préremplie|stylo prérempli|"
				"stylo"},
	{"suppositoire", "suppositoires|suppo"},
	{"dispositif transdermique", "patch|timbre|dispositif|transdermique"},
	{"collyre", "gouttes oculaires|collyre en solution"},
	{"pommade", "pommades|onguent"},
	{"crème", "crèmes"},
	{"gel", "gel cutané"},
	{"inhalateur", "poudre pour inhalation|suspension pour inhalation|aérosol doseur|"
		       "solution pour inhalation|inhalation|nébulisation"},
	{"pulvérisation nasale", "spray nasal|solution nasale|suspension nasale"},
	{"ovule", "ovules|comprimé vaginal"},
};

static const struct word routes[] = {
	{"orale", "oral|per os|PO|os|voie orale"},
	{"sublinguale", "sublingual|SL"},
	{"buccale", "oromucosale|jugale"},
	{"intraveineuse", "IV|IVD|IVL|intraveineux|intra-veineuse|veineuse"},
	{"intramusculaire", "IM|intra-musculaire"},
	{"sous-cutanée", "SC|s/c|sous-cutané|sous cutanée"},
	{"transdermique", "percutanée|TD"},
	{"cutanée", "locale|topique|cutané"},
	{"inhalée", "inhalation|inhalé|pulmonaire"},
	{"nasale", "nasal|intranasale"},
	{"ophtalmique", "oculaire|ophtalmologique"},
	{"auriculaire", "otique"},
	{"rectale", "rectal|intrarectale"},
	{"vaginale", "vaginal"},
	{"entérale", "sonde|SNG|gastrostomie|sonde nasogastrique"},
};

#define M_MORNING 1u
#define M_NOON    2u
#define M_EVENING 4u
#define M_BEDTIME 8u

static const struct frequency {
	struct word w;
	int per_day;
	unsigned moments;
} frequencies[] = {
	{{"1/j", "1 fois par jour|une fois par jour|1x/j|1/jour|1 par jour|x1/j|1/24h|"
		 "toutes les 24 h|toutes les 24h|quotidien|OD|QD"}, 1, 0},
	{{"2/j", "2 fois par jour|deux fois par jour|2x/j|2/jour|x2/j|1/12h|toutes les 12 h|"
		 "toutes les 12h|BID"}, 2, 0},
	{{"3/j", "3 fois par jour|trois fois par jour|3x/j|3/jour|x3/j|1/8h|toutes les 8 h|"
		 "toutes les 8h|TID"}, 3, 0},
	{{"4/j", "4 fois par jour|quatre fois par jour|4x/j|4/jour|x4/j|1/6h|toutes les 6 h|"
		 "toutes les 6h|QID"}, 4, 0},
	{{"5/j", "5 fois par jour|5x/j|5/jour"}, 5, 0},
	{{"6/j", "6 fois par jour|6x/j|6/jour|1/4h|toutes les 4 h|toutes les 4h"}, 6, 0},
	{{"matin", "le matin|au lever|matin à jeun|le matin à jeun"}, 1, M_MORNING},
	{{"midi", "le midi"}, 1, M_NOON},
	{{"soir", "le soir"}, 1, M_EVENING},
	{{"coucher", "au coucher|le soir au coucher"}, 1, M_BEDTIME},
	{{"matin et midi", "matin midi|matin + midi|matin, midi"}, 2, M_MORNING | M_NOON},
	{{"matin et soir", "matin soir|matin + soir|matin, soir|matin/soir"}, 2, M_MORNING | M_EVENING},
	{{"midi et soir", "midi soir|midi + soir|midi, soir"}, 2, M_NOON | M_EVENING},
	{{"matin midi et soir", "matin, midi et soir|matin midi soir|matin/midi/soir|"
				"matin + midi + soir"}, 3, M_MORNING | M_NOON | M_EVENING},
	{{"1 jour sur 2", "un jour sur deux|tous les 2 jours|tous les deux jours|1/48h|"
			  "toutes les 48 h|toutes les 48h"}, 0, 0},
	{{"1/72h", "toutes les 72 h|toutes les 72h|tous les 3 jours|tous les trois jours"}, 0, 0},
	{{"1/sem", "1 fois par semaine|une fois par semaine|1/semaine|1x/sem|hebdomadaire"}, 0, 0},
	{{"2/sem", "2 fois par semaine|deux fois par semaine|2/semaine|2x/sem"}, 0, 0},
	{{"3/sem", "3 fois par semaine|trois fois par semaine|3/semaine|3x/sem"}, 0, 0},
	{{"1/15j", "tous les 15 jours|tous les quinze jours|toutes les 2 semaines|1/2sem"}, 0, 0},
	{{"1/mois", "1 fois par mois|une fois par mois|mensuel|mensuelle"}, 0, 0},
	{{"1/3 mois", "tous les 3 mois|trimestriel|trimestrielle|1/trimestre"}, 0, 0},
	{{"si besoin", "SB|si nécessaire|à la demande|au besoin|en cas de besoin|PRN"}, 0, 0},
	{{"continu", "en continu|perfusion continue"}, 0, 0},
};

static bool
word_matches(const struct word *w, const char *key)
{
	char k[CONCIL_WORD_MAX * 4 + 1];
	concil_vocab_key(w->canon, strlen(w->canon), k, sizeof k);
	if (strcmp(k, key) == 0)
		return true;
	for (const char *s = w->syn; s && *s;) {
		const char *bar = strchr(s, '|');
		size_t n = bar ? (size_t)(bar - s) : strlen(s);
		concil_vocab_key(s, n, k, sizeof k);
		if (strcmp(k, key) == 0)
			return true;
		s = bar ? bar + 1 : s + n;
	}
	return false;
}

static const char *
word_canon(const struct word *table, size_t n, size_t stride, const char *text)
{
	char key[CONCIL_CSV_LINE_MAX + 1];
	if (text == NULL)
		return NULL;
	concil_vocab_key(text, strlen(text), key, sizeof key);
	if (key[0] == '\0')
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct word *w = (const struct word *)((const char *)table + i * stride);
		if (word_matches(w, key))
			return w->canon;
	}
	return NULL;
}

const char *
concil_unit_canon(const char *text)
{
	return word_canon(units, N(units), sizeof units[0], text);
}

const char *
concil_form_canon(const char *text)
{
	return word_canon(forms, N(forms), sizeof forms[0], text);
}

const char *
concil_route_canon(const char *text)
{
	return word_canon(routes, N(routes), sizeof routes[0], text);
}

const char *
concil_frequency_canon(const char *text)
{
	return word_canon(&frequencies[0].w, N(frequencies), sizeof frequencies[0], text);
}

bool
concil_frequency_facts(const char *canon, int *per_day, unsigned *moments)
{
	for (size_t i = 0; canon && i < N(frequencies); i++)
		if (strcmp(frequencies[i].w.canon, canon) == 0) {
			*per_day = frequencies[i].per_day;
			*moments = frequencies[i].moments;
			return true;
		}
	return false;
}

bool
concil_unit_is_count(const char *canon)
{
	static const char *const counted[] = {"comprimé", "gélule", "capsule", "sachet", "ampoule",
					      "suppositoire", "ovule", "patch"};
	for (size_t i = 0; canon && i < N(counted); i++)
		if (strcmp(counted[i], canon) == 0)
			return true;
	return false;
}

/* The canonical words for a message ("mg, g, µg, …"), about 120 bytes at
 * most: the rest is in docs/CONCILIATION.md. */
static void
word_list(const struct word *table, size_t n, size_t stride, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++) {
		const struct word *w = (const struct word *)((const char *)table + i * stride);
		if (o + strlen(w->canon) > 110) {
			snprintf(out + o, len - o, ", … (docs/CONCILIATION.md, \"Vocabularies\")");
			return;
		}
		int k = snprintf(out + o, len - o, "%s%s", i ? ", " : "", w->canon);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* ---- line fields ----------------------------------------------------------------- */

static const char *const field_names[CONCIL_FIELD__COUNT] = {
	"inn", "atc", "strength", "form", "route", "dose", "unit", "frequency", "as_needed",
	"self_medication", "note",
};

const char *
concil_field_name(enum concil_field f)
{
	return (unsigned)f < CONCIL_FIELD__COUNT ? field_names[f] : NULL;
}

int
concil_field_parse(const char *name, size_t len)
{
	while (len > 0 && (*name == ' ' || *name == '\t')) {
		name++;
		len--;
	}
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	for (int f = 0; f < CONCIL_FIELD__COUNT; f++)
		if (strlen(field_names[f]) == len && strncasecmp(field_names[f], name, len) == 0)
			return f;
	return -1;
}

int
concil_atc_level(const char *atc)
{
	static const char anatomical[] = "ABCDGHJLMNPRSV";
	size_t n = atc ? strlen(atc) : 0;
	if (n == 0 || !strchr(anatomical, atc[0]) || atc[0] == '\0')
		return 0;
	if (n == 1)
		return 1;
	if (n < 3 || !isdigit((unsigned char)atc[1]) || !isdigit((unsigned char)atc[2]))
		return 0;
	if (n == 3)
		return 2;
	if (!isupper((unsigned char)atc[3]))
		return 0;
	if (n == 4)
		return 3;
	if (!isupper((unsigned char)atc[4]))
		return 0;
	if (n == 5)
		return 4;
	if (n != 7 || !isdigit((unsigned char)atc[5]) || !isdigit((unsigned char)atc[6]))
		return 0;
	return 5;
}

char *
concil_dose_format(int64_t dose_milli, char out[16])
{
	char tmp[48];
	out[0] = '\0';
	if (dose_milli <= 0 || dose_milli > (int64_t)CONCIL_DOSE_MAX * 1000)
		return out;
	long long whole = dose_milli / 1000, frac = dose_milli % 1000;
	if (frac == 0) {
		snprintf(tmp, sizeof tmp, "%lld", whole);
	} else {
		snprintf(tmp, sizeof tmp, "%lld.%03lld", whole, frac);
		for (size_t n = strlen(tmp); tmp[n - 1] == '0'; n--)
			tmp[n - 1] = '\0';
	}
	snprintf(out, 16, "%.15s", tmp);
	return out;
}

/* "0.5", "0,5", "40", "2.125": a positive decimal with at most 3 decimals
 * and at most CONCIL_DOSE_MAX. */
static bool
dose_parse(const char *s, int64_t *milli)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, fdigits = 0;
	const char *p = s;
	for (; isdigit((unsigned char)*p); p++) {
		if (++digits > 6)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.' || *p == ',') {
		p++;
		for (; isdigit((unsigned char)*p); p++) {
			if (++fdigits > 3)
				return false;
			frac = frac * 10 + (*p - '0');
		}
		if (fdigits == 0)
			return false;
	}
	if (*p != '\0' || digits == 0)
		return false;
	for (int i = fdigits; i < 3; i++)
		frac *= 10;
	*milli = whole * 1000 + frac;
	return *milli > 0 && *milli <= (int64_t)CONCIL_DOSE_MAX * 1000;
}

static int
bool_parse(const char *s)
{
	static const char *const yes[] = {"yes", "oui", "1", "true", "o", "y"};
	static const char *const no[] = {"no", "non", "0", "false", "n"};
	for (size_t i = 0; i < N(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < N(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -1;
}

static bool
inn_valid(const char *s, size_t n)
{
	bool letter = false;
	if (n == 0 || n > CONCIL_INN_MAX || !concil_text_ok(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalpha(c) || c >= 0x80)
			letter = true;
		else if (!isdigit(c) && !strchr(" /-+'(),.", c))
			return false;
	}
	return letter;
}

static bool
strength_valid(const char *s, size_t n)
{
	if (n > CONCIL_STRENGTH_MAX || !concil_text_ok(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c < 0x80 && !strchr(" .,/%+-()", c))
			return false;
	}
	return true;
}

static void
why_set(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
why_set(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	concil_utf8_trim(why);
}

/* The value quoted for a message: at most 40 bytes, never cut inside a
 * UTF-8 sequence, control characters as '?'. */
void
concil_quote(const char *s, size_t n, char out[48])
{
	size_t o = 0, i = 0;
	while (i < n && o < 40) {
		unsigned cp;
		size_t k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			out[o++] = '?';
			i += k ? k : 1;
			continue;
		}
		if (o + k > 40)
			break;
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	if (i < n && o + 3 < 48) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Copy a value already checked to fit (cut at cap - 1 bytes otherwise). */
static void
copy_word(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool
concil_field_set(struct concil_line *ln, enum concil_field f, const char *text, size_t len,
		 char *why, size_t why_len)
{
	char v[CONCIL_CSV_LINE_MAX + 1], q[48], list[512];
	const char *canon;
	while (len > 0 && (*text == ' ' || *text == '\t')) {
		text++;
		len--;
	}
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	concil_quote(text, len, q);
	if (len > CONCIL_CSV_LINE_MAX || memchr(text, '\0', len)) {
		why_set(why, why_len, "the value is too long or holds a NUL byte");
		return false;
	}
	memcpy(v, text, len);
	v[len] = '\0';
	if (!concil_text_ok(v, len)) {
		why_set(why, why_len, "the value is not valid UTF-8 text (control character or bad "
			"byte): save the file as UTF-8");
		return false;
	}
	switch (f) {
	case CONCIL_F_INN:
		if (!inn_valid(v, len)) {
			why_set(why, why_len, len == 0 ? "the INN (DCI) is missing" :
				"\"%s\" is not an INN: at most %d bytes of letters, digits, blanks "
				"and / - + ' ( ) , .", q, CONCIL_INN_MAX);
			return false;
		}
		copy_word(ln->inn, sizeof ln->inn, v);
		return true;
	case CONCIL_F_ATC:
		for (size_t i = 0; i < len; i++)
			v[i] = (char)toupper((unsigned char)v[i]);
		if (len > 0 && concil_atc_level(v) == 0) {
			why_set(why, why_len, "\"%s\" is not an ATC code: expected a letter, 2 digits, "
				"2 letters, 2 digits (e.g. C03CA01)", q);
			return false;
		}
		copy_word(ln->atc, sizeof ln->atc, v);
		return true;
	case CONCIL_F_STRENGTH:
		if (!strength_valid(v, len)) {
			why_set(why, why_len, "\"%s\" is not a strength: at most %d bytes of digits, "
				"letters, blanks and . , / %% + - ( ) (e.g. \"40 mg\", \"49 mg/51 mg\")",
				q, CONCIL_STRENGTH_MAX);
			return false;
		}
		copy_word(ln->strength, sizeof ln->strength, v);
		return true;
	case CONCIL_F_DOSE:
		if (len == 0) {
			ln->dose_milli = 0;
			return true;
		}
		if (!dose_parse(v, &ln->dose_milli)) {
			ln->dose_milli = 0;
			why_set(why, why_len, "\"%s\" is not a dose: expected a positive number with at "
				"most 3 decimals, up to %d (e.g. 1, 0.5, 2,5); the unit goes in its own "
				"column", q, CONCIL_DOSE_MAX);
			return false;
		}
		return true;
	case CONCIL_F_FORM:
	case CONCIL_F_ROUTE:
	case CONCIL_F_UNIT:
	case CONCIL_F_FREQUENCY: {
		char *dst = f == CONCIL_F_FORM ? ln->form : f == CONCIL_F_ROUTE ? ln->route
			  : f == CONCIL_F_UNIT ? ln->unit : ln->frequency;
		if (len == 0) {
			dst[0] = '\0';
			return true;
		}
		canon = f == CONCIL_F_FORM ? concil_form_canon(v) : f == CONCIL_F_ROUTE ?
			concil_route_canon(v) : f == CONCIL_F_UNIT ? concil_unit_canon(v) :
			concil_frequency_canon(v);
		if (canon == NULL) {
			if (f == CONCIL_F_FORM)
				word_list(forms, N(forms), sizeof forms[0], list, sizeof list);
			else if (f == CONCIL_F_ROUTE)
				word_list(routes, N(routes), sizeof routes[0], list, sizeof list);
			else if (f == CONCIL_F_UNIT)
				word_list(units, N(units), sizeof units[0], list, sizeof list);
			else
				word_list(&frequencies[0].w, N(frequencies), sizeof frequencies[0], list,
					  sizeof list);
			why_set(why, why_len, "unknown %s \"%s\": one of %s", field_names[f], q, list);
			return false;
		}
		copy_word(dst, CONCIL_WORD_MAX + 1, canon);
		if (f == CONCIL_F_FREQUENCY && strcmp(canon, "si besoin") == 0)
			ln->as_needed = true;
		return true;
	}
	case CONCIL_F_AS_NEEDED:
	case CONCIL_F_SELF_MEDICATION: {
		int b = len == 0 ? 0 : bool_parse(v);
		if (b < 0) {
			why_set(why, why_len, "\"%s\" is not yes or no (yes/no, oui/non, 1/0)", q);
			return false;
		}
		if (f == CONCIL_F_AS_NEEDED)
			ln->as_needed = b || strcmp(ln->frequency, "si besoin") == 0;
		else
			ln->self_medication = b;
		return true;
	}
	case CONCIL_F_NOTE:
		if (len > CONCIL_LINE_NOTE_MAX) {
			why_set(why, why_len, "the note is longer than %d bytes", CONCIL_LINE_NOTE_MAX);
			return false;
		}
		copy_word(ln->note, sizeof ln->note, v);
		return true;
	default:
		why_set(why, why_len, "unknown field");
		return false;
	}
}

bool
concil_line_check_at(const struct concil_line *ln, enum concil_field *bad, char *why,
		     size_t why_len)
{
	int level = concil_atc_level(ln->atc);
	if (ln->inn[0] == '\0') {
		*bad = CONCIL_F_INN;
		why_set(why, why_len, "the INN (DCI) is missing");
		return false;
	}
	if (!ln->self_medication && level != 5) {
		*bad = CONCIL_F_ATC;
		why_set(why, why_len, "%s; a full ATC code (e.g. C03CA01) is needed, a shorter prefix "
			"or none only on a self-medication line (self_medication=yes)",
			ln->atc[0] ? "this is only an ATC prefix" : "the ATC code is missing");
		return false;
	}
	if (ln->atc[0] && level == 0) {
		*bad = CONCIL_F_ATC;
		why_set(why, why_len, "not an ATC code");
		return false;
	}
	if ((unsigned)ln->list >= CONCIL_LIST__COUNT) {
		*bad = CONCIL_F_INN;
		why_set(why, why_len, "the line belongs to no list");
		return false;
	}
	return true;
}

/* Fields set some other way than concil_field_set (a struct filled by
 * hand): terminated, checked text, canonical words, a dose in range. */
static bool
line_fields_ok(const struct concil_line *ln, char *why, size_t why_len)
{
	static const struct {
		size_t off, cap;
		const char *(*canon)(const char *);
		const char *name;
	} words[] = {
		{offsetof(struct concil_line, form), sizeof ln->form, concil_form_canon, "form"},
		{offsetof(struct concil_line, route), sizeof ln->route, concil_route_canon, "route"},
		{offsetof(struct concil_line, unit), sizeof ln->unit, concil_unit_canon, "unit"},
		{offsetof(struct concil_line, frequency), sizeof ln->frequency, concil_frequency_canon,
		 "frequency"},
	};
	size_t n;
	if ((n = strnlen(ln->inn, sizeof ln->inn)) == sizeof ln->inn || !inn_valid(ln->inn, n) ||
	    (n = strnlen(ln->strength, sizeof ln->strength)) == sizeof ln->strength ||
	    !strength_valid(ln->strength, n) ||
	    (n = strnlen(ln->note, sizeof ln->note)) == sizeof ln->note || !concil_text_ok(ln->note, n) ||
	    strnlen(ln->atc, sizeof ln->atc) == sizeof ln->atc ||
	    ln->dose_milli < 0 || ln->dose_milli > (int64_t)CONCIL_DOSE_MAX * 1000) {
		why_set(why, why_len, "column inn: the line has a field that was not checked "
			"(inn, strength, note, atc or dose)");
		return false;
	}
	for (size_t i = 0; i < N(words); i++) {
		const char *w = (const char *)ln + words[i].off;
		const char *c;
		if (strnlen(w, words[i].cap) == words[i].cap ||
		    (w[0] && ((c = words[i].canon(w)) == NULL || strcmp(c, w) != 0))) {
			why_set(why, why_len, "column %s: not a canonical %s", words[i].name, words[i].name);
			return false;
		}
	}
	return true;
}

bool
concil_line_check(const struct concil_line *ln, char *why, size_t why_len)
{
	enum concil_field bad = CONCIL_F_INN;
	char w[CONCIL_MSG_MAX];
	if (concil_line_check_at(ln, &bad, w, sizeof w))
		return true;
	why_set(why, why_len, "column %s: %s", field_names[bad], w);
	return false;
}

/* ---- arrays ------------------------------------------------------------------------ */

static bool
grow(void **v, size_t *cap, size_t n, size_t size, size_t max)
{
	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	size_t nc = *cap ? *cap * 2 : 8;
	if (nc > max)
		nc = max;
	void *p = realloc(*v, nc * size);
	if (p == NULL)
		return false;
	*v = p;
	*cap = nc;
	return true;
}

bool
concil_lines_push(struct concil_lines *ls, const struct concil_line *ln)
{
	void *v = ls->v;
	if (!grow(&v, &ls->cap, ls->n, sizeof *ln, CONCIL_LINES_MAX))
		return false;
	ls->v = v;
	ls->v[ls->n++] = *ln;
	return true;
}

void
concil_lines_free(struct concil_lines *ls)
{
	free(ls->v);
	memset(ls, 0, sizeof *ls);
}

bool
concil_discs_push(struct concil_discs *ds, const struct concil_disc *d)
{
	void *v = ds->v;
	if (!grow(&v, &ds->cap, ds->n, sizeof *d, CONCIL_DISC_MAX))
		return false;
	ds->v = v;
	ds->v[ds->n++] = *d;
	return true;
}

void
concil_discs_free(struct concil_discs *ds)
{
	free(ds->v);
	memset(ds, 0, sizeof *ds);
}

/* ---- the episode ------------------------------------------------------------------- */

static bool
hex_id_valid(const char *s)
{
	if (s == NULL || strlen(s) != LSN_ID_HEX)
		return false;
	for (size_t i = 0; i < LSN_ID_HEX; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

enum lsn_err
concil_episode_init(struct concil_episode *ep, const char *episode_hex,
		    enum concil_transition transition, int64_t now, struct lsn_status *st)
{
	memset(ep, 0, sizeof *ep);
	if (!hex_id_valid(episode_hex))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "episode: expected 32 lowercase hex characters");
	if ((unsigned)transition >= CONCIL_TRANSITION__COUNT)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "transition: unknown value");
	memcpy(ep->episode, episode_hex, LSN_ID_HEX + 1);
	ep->transition = transition;
	ep->status = CONCIL_DRAFT;
	ep->started_at = now;
	ep->next_id = 1;
	return LSN_OK;
}

void
concil_episode_free(struct concil_episode *ep)
{
	free(ep->sources);
	concil_lines_free(&ep->bmo);
	concil_lines_free(&ep->order);
	concil_discs_free(&ep->discs);
	memset(ep, 0, sizeof *ep);
}

static bool
dup_array(void **dst, size_t *dcap, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (dcap)
		*dcap = 0;
	if (n == 0)
		return true;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return false;
	memcpy(*dst, src, n * size);
	if (dcap)
		*dcap = n;
	return true;
}

bool
concil_episode_copy(struct concil_episode *dst, const struct concil_episode *src)
{
	void *s = NULL, *b = NULL, *o = NULL, *d = NULL;
	*dst = *src;
	if (!dup_array(&s, NULL, src->sources, src->n_sources, sizeof *src->sources) ||
	    !dup_array(&b, &dst->bmo.cap, src->bmo.v, src->bmo.n, sizeof *src->bmo.v) ||
	    !dup_array(&o, &dst->order.cap, src->order.v, src->order.n, sizeof *src->order.v) ||
	    !dup_array(&d, &dst->discs.cap, src->discs.v, src->discs.n, sizeof *src->discs.v)) {
		free(s);
		free(b);
		free(o);
		free(d);
		memset(dst, 0, sizeof *dst);
		return false;
	}
	dst->sources = s;
	dst->bmo.v = b;
	dst->order.v = o;
	dst->discs.v = d;
	return true;
}

const struct concil_line *
concil_line_find(const struct concil_episode *ep, int id)
{
	for (size_t i = 0; id > 0 && i < ep->bmo.n; i++)
		if (ep->bmo.v[i].id == id)
			return &ep->bmo.v[i];
	for (size_t i = 0; id > 0 && i < ep->order.n; i++)
		if (ep->order.v[i].id == id)
			return &ep->order.v[i];
	return NULL;
}

struct concil_disc *
concil_disc_find(struct concil_episode *ep, int id)
{
	for (size_t i = 0; id > 0 && i < ep->discs.n; i++)
		if (ep->discs.v[i].id == id)
			return &ep->discs.v[i];
	return NULL;
}

int
concil_source_types(const struct concil_episode *ep)
{
	bool seen[CONCIL_SOURCE__COUNT] = {false};
	int n = 0;
	for (size_t i = 0; i < ep->n_sources; i++) {
		unsigned t = ep->sources[i].type;
		if (t < CONCIL_SOURCE__COUNT && !seen[t]) {
			seen[t] = true;
			n++;
		}
	}
	return n;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *
str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *
ms_or_null(int64_t ms)
{
	return ms > 0 ? json_integer(ms) : json_null();
}

static json_t *
id_or_null(int id)
{
	return id > 0 ? json_integer(id) : json_null();
}

/* Set o[k] = v, remembering a failure (v NULL, or no memory) in *ok. */
void
concil_json_put(json_t *o, const char *k, json_t *v, bool *ok)
{
	if (v == NULL || o == NULL) {
		json_decref(v);
		*ok = false;
	} else if (json_object_set_new(o, k, v) != 0) {
		*ok = false;
	}
}

void
concil_json_push(json_t *a, json_t *v, bool *ok)
{
	if (v == NULL || a == NULL) {
		json_decref(v);
		*ok = false;
	} else if (json_array_append_new(a, v) != 0) {
		*ok = false;
	}
}

json_t *
concil_json_finish(json_t *o, bool ok)
{
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
concil_line_json(const struct concil_line *ln, bool with_note)
{
	char dose[16];
	bool ok = true;
	json_t *o = json_object();
	concil_json_put(o, "id", json_integer(ln->id), &ok);
	concil_json_put(o, "inn", json_string(ln->inn), &ok);
	concil_json_put(o, "atc", str_or_null(ln->atc), &ok);
	concil_json_put(o, "strength", str_or_null(ln->strength), &ok);
	concil_json_put(o, "form", str_or_null(ln->form), &ok);
	concil_json_put(o, "route", str_or_null(ln->route), &ok);
	concil_json_put(o, "dose", str_or_null(concil_dose_format(ln->dose_milli, dose)), &ok);
	concil_json_put(o, "unit", str_or_null(ln->unit), &ok);
	concil_json_put(o, "frequency", str_or_null(ln->frequency), &ok);
	concil_json_put(o, "as_needed", json_boolean(ln->as_needed), &ok);
	concil_json_put(o, "self_medication", json_boolean(ln->self_medication), &ok);
	if (with_note)
		concil_json_put(o, "note", str_or_null(ln->note), &ok);
	return concil_json_finish(o, ok);
}

json_t *
concil_disc_json(const struct concil_disc *d, bool full)
{
	bool ok = true;
	json_t *o = json_object();
	if (full)
		concil_json_put(o, "id", json_integer(d->id), &ok);
	concil_json_put(o, "type", json_string(concil_code(CONCIL_V_TYPE, (int)d->type)), &ok);
	concil_json_put(o, "origin", json_string(d->manual ? "manual" : "computed"), &ok);
	concil_json_put(o, "bmo", id_or_null(d->bmo), &ok);
	concil_json_put(o, "order", id_or_null(d->order), &ok);
	concil_json_put(o, "other", id_or_null(d->other), &ok);
	concil_json_put(o, "intent", json_string(concil_code(CONCIL_V_INTENT, (int)d->intent)), &ok);
	concil_json_put(o, "severity", str_or_null(concil_code(CONCIL_V_SEVERITY, (int)d->severity)), &ok);
	concil_json_put(o, "proposal", d->proposal == CONCIL_PENDING ? json_null()
	    : json_string(concil_code(CONCIL_V_RESOLUTION, (int)d->proposal)), &ok);
	concil_json_put(o, "proposed_by", str_or_null(concil_code(CONCIL_V_ROLE, (int)d->proposed_by)), &ok);
	concil_json_put(o, "resolution", json_string(concil_code(CONCIL_V_RESOLUTION, (int)d->resolution)), &ok);
	concil_json_put(o, "decided_by", str_or_null(concil_code(CONCIL_V_ROLE, (int)d->decided_by)), &ok);
	if (full) {
		concil_json_put(o, "detected_at", ms_or_null(d->detected_at), &ok);
		concil_json_put(o, "proposed_at", ms_or_null(d->proposed_at), &ok);
		concil_json_put(o, "decided_at", ms_or_null(d->decided_at), &ok);
		concil_json_put(o, "note", str_or_null(d->note), &ok);
	}
	return concil_json_finish(o, ok);
}

static json_t *
person_json(const struct concil_person *p)
{
	bool ok = true;
	if (!p->user[0] && !p->name[0] && !p->profession[0])
		return json_null();
	json_t *o = json_object();
	concil_json_put(o, "user", str_or_null(p->user), &ok);
	concil_json_put(o, "name", str_or_null(p->name), &ok);
	concil_json_put(o, "profession", str_or_null(p->profession), &ok);
	return concil_json_finish(o, ok);
}

json_t *
concil_episode_encode(const struct concil_episode *ep)
{
	bool ok = true;
	json_t *doc = json_object(), *a, *pat;
	concil_json_put(doc, "type", json_string(CONCIL_DOC_TYPE), &ok);
	concil_json_put(doc, "version", json_integer(CONCIL_VERSION), &ok);
	concil_json_put(doc, "episode", json_string(ep->episode), &ok);
	concil_json_put(doc, "case", str_or_null(ep->case_id), &ok);
	concil_json_put(doc, "pathway", str_or_null(ep->pathway), &ok);
	concil_json_put(doc, "transition", json_string(concil_code(CONCIL_V_TRANSITION, (int)ep->transition)), &ok);
	concil_json_put(doc, "status", json_string(concil_code(CONCIL_V_STATUS, (int)ep->status)), &ok);
	if (ep->patient.name[0] || ep->patient.birth_date[0] || ep->patient.ins[0]) {
		pat = json_object();
		concil_json_put(pat, "name", str_or_null(ep->patient.name), &ok);
		concil_json_put(pat, "birth_date", str_or_null(ep->patient.birth_date), &ok);
		concil_json_put(pat, "ins", str_or_null(ep->patient.ins), &ok);
		concil_json_put(doc, "patient", pat, &ok);
	} else {
		concil_json_put(doc, "patient", json_null(), &ok);
	}
	concil_json_put(doc, "pharmacist", person_json(&ep->pharmacist), &ok);
	concil_json_put(doc, "prescriber", person_json(&ep->prescriber), &ok);
	concil_json_put(doc, "started_at", json_integer(ep->started_at), &ok);
	concil_json_put(doc, "bmo_done_at", ms_or_null(ep->bmo_done_at), &ok);
	concil_json_put(doc, "compared_at", ms_or_null(ep->compared_at), &ok);
	concil_json_put(doc, "closed_at", ms_or_null(ep->closed_at), &ok);
	a = json_array();
	for (size_t i = 0; i < ep->n_sources; i++) {
		json_t *s = json_object();
		concil_json_put(s, "type", json_string(concil_code(CONCIL_V_SOURCE, (int)ep->sources[i].type)), &ok);
		concil_json_put(s, "at", ms_or_null(ep->sources[i].at), &ok);
		concil_json_put(s, "note", str_or_null(ep->sources[i].note), &ok);
		concil_json_push(a, s, &ok);
	}
	concil_json_put(doc, "sources", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->bmo.n; i++)
		concil_json_push(a, concil_line_json(&ep->bmo.v[i], true), &ok);
	concil_json_put(doc, "bmo", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->order.n; i++)
		concil_json_push(a, concil_line_json(&ep->order.v[i], true), &ok);
	concil_json_put(doc, "order", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->discs.n; i++)
		concil_json_push(a, concil_disc_json(&ep->discs.v[i], true), &ok);
	concil_json_put(doc, "discrepancies", a, &ok);
	concil_json_put(doc, "note", str_or_null(ep->note), &ok);
	return concil_json_finish(doc, ok);
}

/* Optional string member (absent or null: ""), checked text of at most max
 * bytes, copied into out (cap bytes). */
static enum lsn_err
get_text(json_t *obj, const char *key, const char *path, size_t max, char *out, size_t cap,
	 struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return LSN_OK;
	if (!json_is_string(v) || json_string_length(v) > max || json_string_length(v) >= cap ||
	    !concil_text_ok(json_string_value(v), json_string_length(v)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: expected text of at most %zu bytes",
				path, key, max);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return LSN_OK;
}

/* Optional time in ms (absent or null: 0). */
static enum lsn_err
get_ms(json_t *obj, const char *key, const char *path, int64_t *out, struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (v == NULL || json_is_null(v))
		return LSN_OK;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > 9007199254740991LL)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: expected a time in ms", path, key);
	*out = json_integer_value(v);
	return LSN_OK;
}

/* Vocabulary member: required (a code) or optional (null → none_value). */
static enum lsn_err
get_code(json_t *obj, const char *key, const char *path, enum concil_vocab voc, bool required,
	 int none_value, int *out, struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	if (!required && (v == NULL || json_is_null(v))) {
		*out = none_value;
		return LSN_OK;
	}
	int k = json_is_string(v) ? concil_parse(voc, json_string_value(v)) : -1;
	if (k < 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: %s; see docs/CONCILIATION.md", path, key,
				v ? "unknown value" : "missing");
	*out = k;
	return LSN_OK;
}

/* Optional line id (absent or null: 0). */
static enum lsn_err
get_id(json_t *obj, const char *key, const char *path, bool required, int *out,
       struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (!required && (v == NULL || json_is_null(v)))
		return LSN_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT_MAX / 2)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: expected an id (a positive integer)",
				path, key);
	*out = (int)json_integer_value(v);
	return LSN_OK;
}

static enum lsn_err
get_bool(json_t *obj, const char *key, const char *path, bool *out, struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	*out = false;
	if (v == NULL || json_is_null(v))
		return LSN_OK;
	if (!json_is_boolean(v))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: expected true or false", path, key);
	*out = json_is_true(v);
	return LSN_OK;
}

enum lsn_err
concil_only_keys(json_t *obj, const char *const *allowed, const char *path, struct lsn_status *st)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		size_t i;
		for (i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (allowed[i] == NULL) {
			char q[48];
			concil_quote(k, strlen(k), q);
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sfield \"%s\" is not allowed here", path, q);
		}
	}
	return LSN_OK;
}

enum lsn_err
concil_line_from_json(json_t *o, enum concil_list list, const char *path, struct concil_line *ln,
		      struct lsn_status *st)
{
	char why[CONCIL_MSG_MAX];
	enum lsn_err err;
	memset(ln, 0, sizeof *ln);
	ln->list = list;
	if (!json_is_object(o))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: expected an object", path);
	if ((err = get_id(o, "id", path, true, &ln->id, st)) != LSN_OK)
		return err;
	for (int f = 0; f < CONCIL_FIELD__COUNT; f++) {
		json_t *v = json_object_get(o, field_names[f]);
		if (v == NULL || json_is_null(v))
			continue;
		if (f == CONCIL_F_AS_NEEDED || f == CONCIL_F_SELF_MEDICATION) {
			bool b;
			if ((err = get_bool(o, field_names[f], path, &b, st)) != LSN_OK)
				return err;
			if (f == CONCIL_F_AS_NEEDED)
				ln->as_needed = ln->as_needed || b;
			else
				ln->self_medication = b;
			continue;
		}
		if (!json_is_string(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: expected a string", path,
					field_names[f]);
		if (!concil_field_set(ln, (enum concil_field)f, json_string_value(v),
				      json_string_length(v), why, sizeof why))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: %s", path, field_names[f], why);
	}
	if (!concil_line_check(ln, why, sizeof why))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: %s", path, why);
	return LSN_OK;
}

enum lsn_err
concil_disc_from_json(json_t *o, const struct concil_episode *ep, const char *path,
		      struct concil_disc *d, struct lsn_status *st)
{
	int type, intent, sev, prop, pby, res, dby;
	json_t *origin;
	enum lsn_err err;
	memset(d, 0, sizeof *d);
	if (!json_is_object(o))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: expected an object", path);
	if ((json_object_get(o, "id") && (err = get_id(o, "id", path, true, &d->id, st))) ||
	    (err = get_code(o, "type", path, CONCIL_V_TYPE, true, 0, &type, st)) ||
	    (err = get_id(o, "bmo", path, false, &d->bmo, st)) ||
	    (err = get_id(o, "order", path, false, &d->order, st)) ||
	    (err = get_id(o, "other", path, false, &d->other, st)) ||
	    (err = get_code(o, "intent", path, CONCIL_V_INTENT, true, 0, &intent, st)) ||
	    (err = get_code(o, "severity", path, CONCIL_V_SEVERITY, false, CONCIL_SEV_NONE, &sev, st)) ||
	    (err = get_code(o, "proposal", path, CONCIL_V_RESOLUTION, false, CONCIL_PENDING, &prop, st)) ||
	    (err = get_code(o, "proposed_by", path, CONCIL_V_ROLE, false, CONCIL_ROLE_NONE, &pby, st)) ||
	    (err = get_code(o, "resolution", path, CONCIL_V_RESOLUTION, true, 0, &res, st)) ||
	    (err = get_code(o, "decided_by", path, CONCIL_V_ROLE, false, CONCIL_ROLE_NONE, &dby, st)) ||
	    (err = get_ms(o, "detected_at", path, &d->detected_at, st)) ||
	    (err = get_ms(o, "proposed_at", path, &d->proposed_at, st)) ||
	    (err = get_ms(o, "decided_at", path, &d->decided_at, st)) ||
	    (err = get_text(o, "note", path, CONCIL_NOTE_MAX, d->note, sizeof d->note, st)))
		return err;
	origin = json_object_get(o, "origin");
	if (origin && !json_is_null(origin) &&
	    (!json_is_string(origin) || (strcmp(json_string_value(origin), "manual") != 0 &&
					 strcmp(json_string_value(origin), "computed") != 0)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sorigin: expected \"computed\" or \"manual\"",
				path);
	d->manual = origin && json_is_string(origin) && strcmp(json_string_value(origin), "manual") == 0;
	d->type = type;
	d->intent = intent;
	d->severity = sev;
	d->proposal = prop;
	d->proposed_by = pby;
	d->resolution = res;
	d->decided_by = dby;
	if (d->severity != CONCIL_SEV_NONE && d->intent != CONCIL_UNINTENTIONAL)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sseverity: only an unintentional discrepancy "
				"has a severity", path);
	if (d->resolution != CONCIL_PENDING && d->decided_by != CONCIL_ROLE_PRESCRIBER)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sdecided_by: a final resolution is set by a "
				"prescriber", path);
	if (d->resolution == CONCIL_PENDING && d->decided_by != CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sdecided_by: nothing is decided yet", path);
	if ((d->proposal == CONCIL_PENDING) != (d->proposed_by == CONCIL_ROLE_NONE))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sproposed_by: goes with a proposal", path);
	/* references: lines of the right list */
	const struct concil_line *b = d->bmo ? concil_line_find(ep, d->bmo) : NULL;
	const struct concil_line *r = d->order ? concil_line_find(ep, d->order) : NULL;
	const struct concil_line *x = d->other ? concil_line_find(ep, d->other) : NULL;
	if ((d->bmo && (!b || b->list != CONCIL_BMO)) || (d->order && (!r || r->list != CONCIL_ORDER)) ||
	    (d->other && (!x || x->list != CONCIL_ORDER)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: refers to a line that is not in the episode "
				"(bmo: a BMO line, order and other: order lines)", path);
	return LSN_OK;
}

enum lsn_err
concil_check_ids(const struct concil_episode *ep, struct lsn_status *st)
{
	const struct concil_lines *lists[2] = {&ep->bmo, &ep->order};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct concil_line *a = &lists[l]->v[i];
			if (concil_line_find(ep, a->id) != a)
				return concil_fail(st, LSN_ERR_BAD_REQUEST, "line id %d is used twice", a->id);
		}
	for (size_t i = 0; i < ep->discs.n; i++)
		for (size_t j = 0; j < i; j++)
			if (ep->discs.v[i].id > 0 && ep->discs.v[i].id == ep->discs.v[j].id)
				return concil_fail(st, LSN_ERR_BAD_REQUEST, "discrepancy id %d is used twice",
						ep->discs.v[i].id);
	return LSN_OK;
}

static enum lsn_err
person_from_json(json_t *doc, const char *key, struct concil_person *p, struct lsn_status *st)
{
	json_t *o = json_object_get(doc, key);
	char path[32];
	enum lsn_err err;
	memset(p, 0, sizeof *p);
	if (o == NULL || json_is_null(o))
		return LSN_OK;
	snprintf(path, sizeof path, "%s.", key);
	if (!json_is_object(o))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: expected an object or null", key);
	if ((err = get_text(o, "user", path, LSN_ID_HEX, p->user, sizeof p->user, st)) ||
	    (err = get_text(o, "name", path, CONCIL_NAME_MAX, p->name, sizeof p->name, st)) ||
	    (err = get_text(o, "profession", path, CONCIL_PROFESSION_MAX, p->profession,
			    sizeof p->profession, st)))
		return err;
	if (p->user[0] && !hex_id_valid(p->user))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%suser: expected 32 lowercase hex", path);
	return LSN_OK;
}

enum lsn_err
concil_lines_from_json(json_t *doc, const char *key, enum concil_list list,
		       struct concil_episode *ep, struct concil_lines *out,
		       const char *const *allowed, struct lsn_status *st)
{
	json_t *a = json_object_get(doc, key), *v;
	size_t i;
	char path[48];
	enum lsn_err err;
	if (!json_is_array(a) || json_array_size(a) > CONCIL_LINES_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: expected an array of at most %d lines", key,
				CONCIL_LINES_MAX);
	json_array_foreach(a, i, v) {
		struct concil_line ln;
		snprintf(path, sizeof path, "%s[%zu].", key, i);
		if (allowed && json_is_object(v) && (err = concil_only_keys(v, allowed, path, st)))
			return err;
		if ((err = concil_line_from_json(v, list, path, &ln, st)) != LSN_OK)
			return err;
		if (!concil_lines_push(out, &ln))
			return concil_fail(st, LSN_ERR_INTERNAL, "out of memory");
		if (ln.id >= ep->next_id)
			ep->next_id = ln.id + 1;
	}
	return LSN_OK;
}

static enum lsn_err
episode_decode(json_t *doc, struct concil_episode *ep, struct lsn_status *st)
{
	json_t *v, *a;
	size_t i;
	int k;
	char path[48];
	enum lsn_err err;
	ep->next_id = 1;
	if (!json_is_object(doc))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "a reconciliation document is a JSON object");
	v = json_object_get(doc, "type");
	if (!json_is_string(v) || strcmp(json_string_value(v), CONCIL_DOC_TYPE) != 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "type: expected \"%s\"", CONCIL_DOC_TYPE);
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != CONCIL_VERSION)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "version: this client reads version %d; update "
				"liaison to read this document", CONCIL_VERSION);
	if ((err = get_text(doc, "episode", "", LSN_ID_HEX, ep->episode, sizeof ep->episode, st)) ||
	    (err = get_text(doc, "case", "", LSN_ID_HEX, ep->case_id, sizeof ep->case_id, st)) ||
	    (err = get_text(doc, "pathway", "", CONCIL_PATHWAY_MAX, ep->pathway, sizeof ep->pathway, st)))
		return err;
	if (!hex_id_valid(ep->episode) || (ep->case_id[0] && !hex_id_valid(ep->case_id)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "episode, case: expected 32 lowercase hex");
	for (const char *c = ep->pathway; *c; c++)
		if (!islower((unsigned char)*c) && *c != '_')
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "pathway: expected a pathway code");
	if ((err = get_code(doc, "transition", "", CONCIL_V_TRANSITION, true, 0, &k, st)))
		return err;
	ep->transition = k;
	if ((err = get_code(doc, "status", "", CONCIL_V_STATUS, true, 0, &k, st)))
		return err;
	ep->status = k;
	v = json_object_get(doc, "patient");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "patient: expected an object or null");
		if ((err = get_text(v, "name", "patient.", CONCIL_NAME_MAX, ep->patient.name,
				    sizeof ep->patient.name, st)) ||
		    (err = get_text(v, "birth_date", "patient.", 10, ep->patient.birth_date,
				    sizeof ep->patient.birth_date, st)) ||
		    (err = get_text(v, "ins", "patient.", CONCIL_INS_MAX, ep->patient.ins,
				    sizeof ep->patient.ins, st)))
			return err;
		if (ep->patient.birth_date[0] && !date_valid(ep->patient.birth_date))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "patient.birth_date: expected YYYY-MM-DD");
	}
	if ((err = person_from_json(doc, "pharmacist", &ep->pharmacist, st)) ||
	    (err = person_from_json(doc, "prescriber", &ep->prescriber, st)) ||
	    (err = get_ms(doc, "started_at", "", &ep->started_at, st)) ||
	    (err = get_ms(doc, "bmo_done_at", "", &ep->bmo_done_at, st)) ||
	    (err = get_ms(doc, "compared_at", "", &ep->compared_at, st)) ||
	    (err = get_ms(doc, "closed_at", "", &ep->closed_at, st)) ||
	    (err = get_text(doc, "note", "", CONCIL_NOTE_MAX, ep->note, sizeof ep->note, st)))
		return err;
	if (ep->started_at <= 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "started_at: expected a time in ms");
	a = json_object_get(doc, "sources");
	if (!json_is_array(a) || json_array_size(a) > CONCIL_SOURCES_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "sources: expected an array of at most %d "
				"sources", CONCIL_SOURCES_MAX);
	if (json_array_size(a) > 0 &&
	    (ep->sources = calloc(json_array_size(a), sizeof *ep->sources)) == NULL)
		return concil_fail(st, LSN_ERR_INTERNAL, "out of memory");
	json_array_foreach(a, i, v) {
		struct concil_source *s = &ep->sources[i];
		snprintf(path, sizeof path, "sources[%zu].", i);
		if (!json_is_object(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "sources[%zu]: expected an object", i);
		if ((err = get_code(v, "type", path, CONCIL_V_SOURCE, true, 0, &k, st)) ||
		    (err = get_ms(v, "at", path, &s->at, st)) ||
		    (err = get_text(v, "note", path, CONCIL_NOTE_MAX, s->note, sizeof s->note, st)))
			return err;
		s->type = k;
		ep->n_sources++;
	}
	if ((err = concil_lines_from_json(doc, "bmo", CONCIL_BMO, ep, &ep->bmo, NULL, st)) ||
	    (err = concil_lines_from_json(doc, "order", CONCIL_ORDER, ep, &ep->order, NULL, st)) ||
	    (err = concil_check_ids(ep, st)))
		return err;
	a = json_object_get(doc, "discrepancies");
	if (!json_is_array(a) || json_array_size(a) > CONCIL_DISC_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "discrepancies: expected an array of at most %d",
				CONCIL_DISC_MAX);
	json_array_foreach(a, i, v) {
		struct concil_disc d;
		snprintf(path, sizeof path, "discrepancies[%zu].", i);
		if ((err = concil_disc_from_json(v, ep, path, &d, st)) != LSN_OK)
			return err;
		if (d.id == 0)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%sid: missing", path);
		if (!concil_discs_push(&ep->discs, &d))
			return concil_fail(st, LSN_ERR_INTERNAL, "out of memory");
		if (d.id >= ep->next_id)
			ep->next_id = d.id + 1;
	}
	if (ep->status >= CONCIL_BMO_DONE && concil_source_types(ep) < 3)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "status: a BMO past draft needs at least 3 "
				"distinct source types");
	return concil_check_ids(ep, st);
}

enum lsn_err
concil_episode_decode(json_t *doc, struct concil_episode *ep, struct lsn_status *st)
{
	memset(ep, 0, sizeof *ep);
	enum lsn_err err = episode_decode(doc, ep, st);
	if (err != LSN_OK)
		concil_episode_free(ep);
	return err;
}

/* ---- changes: who may make them, and when ------------------------------------------ */

static const char *
role_word(enum concil_role r)
{
	return r == CONCIL_ROLE_PHARMACIST ? "a pharmacist" : r == CONCIL_ROLE_PRESCRIBER ?
	       "a prescriber" : "this profession";
}

static bool
in_review(const struct concil_episode *ep)
{
	return ep->status == CONCIL_COMPARED || ep->status == CONCIL_AWAITING_PRESCRIBER;
}

static size_t
pending_count(const struct concil_episode *ep)
{
	size_t n = 0;
	for (size_t i = 0; i < ep->discs.n; i++)
		n += ep->discs.v[i].resolution == CONCIL_PENDING;
	return n;
}

static enum lsn_err
check_status(const struct concil_episode *ep, enum concil_status to, enum concil_role role,
	     struct lsn_status *st)
{
	const char *from = concil_code(CONCIL_V_STATUS, (int)ep->status);
	const char *name = concil_code(CONCIL_V_STATUS, (int)to);
	if (name == NULL)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown status");
	if (role == CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_FORBIDDEN, "only a pharmacist or a prescriber changes the "
				"status of a reconciliation");
	if (to == ep->status)
		return concil_fail(st, LSN_ERR_CONFLICT, "the reconciliation is already %s", name);
	switch (to) {
	case CONCIL_DRAFT:
		return LSN_OK;                  /* back to editing the BMO, from any open status */
	case CONCIL_BMO_DONE:
		if (ep->status != CONCIL_DRAFT)
			return concil_fail(st, LSN_ERR_CONFLICT, "the BMO is completed from draft (now %s)",
					from);
		if (concil_source_types(ep) < 3)
			return concil_fail(st, LSN_ERR_CONFLICT, "the BMO cannot be completed with %d distinct "
					"source type%s: at least 3 are needed (patient interview, "
					"DP, GP prescription…); add a source of another type",
					concil_source_types(ep), concil_source_types(ep) == 1 ? "" : "s");
		return LSN_OK;
	case CONCIL_COMPARED:
		if (ep->status == CONCIL_AWAITING_PRESCRIBER)
			return LSN_OK;
		return concil_fail(st, LSN_ERR_CONFLICT, "the reconciliation becomes compared when the BMO is "
				"compared with the prescription: run the comparison");
	case CONCIL_AWAITING_PRESCRIBER:
		if (ep->status != CONCIL_COMPARED)
			return concil_fail(st, LSN_ERR_CONFLICT, "only a compared reconciliation goes to the "
					"prescriber (now %s)", from);
		return LSN_OK;
	case CONCIL_CLOSED:
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, "a reconciliation is closed after the "
					"comparison (now %s)", from);
		if (pending_count(ep) > 0)
			return concil_fail(st, LSN_ERR_CONFLICT, "%zu discrepanc%s still pending: the prescriber "
					"decides each one before the reconciliation is closed",
					pending_count(ep), pending_count(ep) == 1 ? "y is" : "ies are");
		return LSN_OK;
	default:
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown status");
	}
}

static enum lsn_err
check_line_edit(const struct concil_episode *ep, enum concil_list list, enum concil_role role,
		struct lsn_status *st)
{
	if (list == CONCIL_BMO) {
		if (ep->status != CONCIL_DRAFT)
			return concil_fail(st, LSN_ERR_CONFLICT, "the BMO is edited in draft only: set the "
					"status back to draft first");
		return LSN_OK;
	}
	if (list != CONCIL_ORDER)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown list");
	if (role == CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_FORBIDDEN, "only a pharmacist or a prescriber writes the "
				"prescription lines");
	return LSN_OK;
}

enum lsn_err
concil_check(const struct concil_episode *ep, const struct concil_change *ch,
	     const char *profession, struct lsn_status *st)
{
	enum concil_role role = concil_role_of(profession);
	const struct concil_disc *d = NULL;
	char why[CONCIL_MSG_MAX];
	if (ep->status == CONCIL_CLOSED)
		return concil_fail(st, LSN_ERR_CONFLICT, "the reconciliation is closed: start a new episode "
				"for a new prescription");
	if (ch->note && (strlen(ch->note) > CONCIL_NOTE_MAX ||
			 !concil_text_ok(ch->note, strlen(ch->note))))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "note: at most %d bytes of text", CONCIL_NOTE_MAX);
	if (ch->kind == CONCIL_CH_INTENT || ch->kind == CONCIL_CH_PROPOSE ||
	    ch->kind == CONCIL_CH_DECIDE) {
		d = concil_disc_find((struct concil_episode *)ep, ch->id);
		if (d == NULL)
			return concil_fail(st, LSN_ERR_NOT_FOUND, "no discrepancy %d in this reconciliation",
					ch->id);
	}
	switch (ch->kind) {
	case CONCIL_CH_STATUS:
		return check_status(ep, ch->status, role, st);
	case CONCIL_CH_SOURCE_ADD:
		if ((unsigned)ch->source.type >= CONCIL_SOURCE__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown source type");
		if (strnlen(ch->source.note, sizeof ch->source.note) == sizeof ch->source.note ||
		    !concil_text_ok(ch->source.note, strlen(ch->source.note)))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "source note: at most %d bytes of text",
					CONCIL_NOTE_MAX);
		if (ep->status != CONCIL_DRAFT)
			return concil_fail(st, LSN_ERR_CONFLICT, "sources are added while the BMO is a draft: "
					"set the status back to draft first");
		if (ep->n_sources >= CONCIL_SOURCES_MAX)
			return concil_fail(st, LSN_ERR_CONFLICT, "at most %d sources", CONCIL_SOURCES_MAX);
		return LSN_OK;
	case CONCIL_CH_LINE_ADD: {
		enum lsn_err err = check_line_edit(ep, ch->line.list, role, st);
		if (err != LSN_OK)
			return err;
		if (!line_fields_ok(&ch->line, why, sizeof why) ||
		    !concil_line_check(&ch->line, why, sizeof why))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s", why);
		if ((ch->line.list == CONCIL_BMO ? ep->bmo.n : ep->order.n) >= CONCIL_LINES_MAX)
			return concil_fail(st, LSN_ERR_CONFLICT, "at most %d lines per list", CONCIL_LINES_MAX);
		return LSN_OK;
	}
	case CONCIL_CH_LINE_REMOVE: {
		const struct concil_line *ln = concil_line_find(ep, ch->id);
		if (ln == NULL)
			return concil_fail(st, LSN_ERR_NOT_FOUND, "no line %d in this reconciliation", ch->id);
		enum lsn_err err = check_line_edit(ep, ln->list, role, st);
		if (err != LSN_OK)
			return err;
		for (size_t i = 0; i < ep->discs.n; i++) {
			const struct concil_disc *x = &ep->discs.v[i];
			if ((x->bmo == ch->id || x->order == ch->id || x->other == ch->id) &&
			    x->resolution != CONCIL_PENDING)
				return concil_fail(st, LSN_ERR_CONFLICT, "line %d is part of discrepancy %d, "
						"which the prescriber has decided: it stays", ch->id, x->id);
		}
		return LSN_OK;
	}
	case CONCIL_CH_DISC_ADD:
		if (role == CONCIL_ROLE_NONE)
			return concil_fail(st, LSN_ERR_FORBIDDEN, "only a pharmacist or a prescriber adds a "
					"discrepancy");
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancies are added after the comparison");
		if ((unsigned)ch->disc_type >= CONCIL_DTYPE__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown discrepancy type");
		for (int k = 0; k < 2; k++) {
			const struct concil_line *ln = concil_line_find(ep, ch->line_ids[k]);
			if (ch->line_ids[k] && (!ln || ln->list != (k ? CONCIL_ORDER : CONCIL_BMO)))
				return concil_fail(st, LSN_ERR_NOT_FOUND, "no %s line %d in this reconciliation",
						k ? "prescription" : "BMO", ch->line_ids[k]);
		}
		if (ep->discs.n >= CONCIL_DISC_MAX)
			return concil_fail(st, LSN_ERR_CONFLICT, "at most %d discrepancies", CONCIL_DISC_MAX);
		return LSN_OK;
	case CONCIL_CH_INTENT:
		if (role == CONCIL_ROLE_NONE)
			return concil_fail(st, LSN_ERR_FORBIDDEN, "only a pharmacist or a prescriber qualifies a "
					"discrepancy");
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancies are reviewed after the comparison");
		if (d->resolution != CONCIL_PENDING)
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancy %d is already decided (%s)", d->id,
					concil_code(CONCIL_V_RESOLUTION, (int)d->resolution));
		if ((unsigned)ch->intent >= CONCIL_INTENT__COUNT ||
		    (unsigned)ch->severity >= CONCIL_SEVERITY__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown intent or severity");
		if (ch->intent == CONCIL_UNINTENTIONAL && ch->severity == CONCIL_SEV_NONE)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "give the severity of an unintentional "
					"discrepancy: minor, significant, major or critical");
		if (ch->intent != CONCIL_UNINTENTIONAL && ch->severity != CONCIL_SEV_NONE)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "only an unintentional discrepancy has a "
					"severity");
		return LSN_OK;
	case CONCIL_CH_PROPOSE:
		if (role == CONCIL_ROLE_NONE)
			return concil_fail(st, LSN_ERR_FORBIDDEN, "only a pharmacist or a prescriber proposes a "
					"resolution");
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancies are reviewed after the comparison");
		if (d->resolution != CONCIL_PENDING)
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancy %d is already decided (%s)", d->id,
					concil_code(CONCIL_V_RESOLUTION, (int)d->resolution));
		if (ch->resolution == CONCIL_PENDING || (unsigned)ch->resolution >= CONCIL_RESOLUTION__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "propose prescription_corrected, "
					"documented_as_intentional or maintained_with_justification");
		return LSN_OK;
	case CONCIL_CH_DECIDE:
		if (role != CONCIL_ROLE_PRESCRIBER)
			return concil_fail(st, LSN_ERR_FORBIDDEN, "only a prescriber sets a final resolution; "
					"as %s, propose it: the prescriber decides", role_word(role));
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancies are decided after the comparison");
		if (d->resolution != CONCIL_PENDING)
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancy %d is already decided (%s)", d->id,
					concil_code(CONCIL_V_RESOLUTION, (int)d->resolution));
		if (ch->resolution == CONCIL_PENDING || (unsigned)ch->resolution >= CONCIL_RESOLUTION__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "decide prescription_corrected, "
					"documented_as_intentional or maintained_with_justification");
		if (ch->resolution == CONCIL_DOCUMENTED_AS_INTENTIONAL && d->intent == CONCIL_UNINTENTIONAL)
			return concil_fail(st, LSN_ERR_CONFLICT, "discrepancy %d is unintentional: correct the "
					"prescription or maintain it with a justification", d->id);
		if (ch->resolution != CONCIL_DOCUMENTED_AS_INTENTIONAL && d->intent == CONCIL_UNDETERMINED)
			return concil_fail(st, LSN_ERR_CONFLICT, "say first whether discrepancy %d is intentional "
					"or not (its intent is undetermined)", d->id);
		if (ch->resolution == CONCIL_MAINTAINED_WITH_JUSTIFICATION && (!ch->note || !ch->note[0]))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "maintained_with_justification needs the "
					"justification as a note");
		return LSN_OK;
	default:
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown change");
	}
}

static void
remove_line(struct concil_episode *ep, int id)
{
	struct concil_lines *lists[2] = {&ep->bmo, &ep->order};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (lists[l]->v[i].id == id) {
				memmove(&lists[l]->v[i], &lists[l]->v[i + 1],
					(lists[l]->n - i - 1) * sizeof lists[l]->v[0]);
				lists[l]->n--;
				break;
			}
	/* the discrepancies about it go (the next comparison finds what remains) */
	size_t o = 0;
	for (size_t i = 0; i < ep->discs.n; i++) {
		struct concil_disc *x = &ep->discs.v[i];
		if (x->bmo == id || x->order == id || x->other == id)
			continue;
		ep->discs.v[o++] = *x;
	}
	ep->discs.n = o;
}

enum lsn_err
concil_apply(struct concil_episode *ep, const struct concil_change *ch, const char *profession,
	     int64_t now, struct lsn_status *st)
{
	enum concil_role role = concil_role_of(profession);
	enum lsn_err err = concil_check(ep, ch, profession, st);
	struct concil_disc *d;
	if (err != LSN_OK)
		return err;
	switch (ch->kind) {
	case CONCIL_CH_STATUS:
		ep->status = ch->status;
		if (ch->status == CONCIL_DRAFT)
			ep->bmo_done_at = 0;
		else if (ch->status == CONCIL_BMO_DONE)
			ep->bmo_done_at = now;
		else if (ch->status == CONCIL_CLOSED)
			ep->closed_at = now;
		return LSN_OK;
	case CONCIL_CH_SOURCE_ADD: {
		struct concil_source *s = realloc(ep->sources, (ep->n_sources + 1) * sizeof *s);
		if (s == NULL)
			return concil_fail(st, LSN_ERR_INTERNAL, "out of memory");
		ep->sources = s;
		s[ep->n_sources] = ch->source;
		s[ep->n_sources].note[CONCIL_NOTE_MAX] = '\0';
		ep->n_sources++;
		return LSN_OK;
	}
	case CONCIL_CH_LINE_ADD: {
		struct concil_line ln = ch->line;
		ln.id = ep->next_id;
		if (!concil_lines_push(ln.list == CONCIL_BMO ? &ep->bmo : &ep->order, &ln))
			return concil_fail(st, LSN_ERR_INTERNAL, "out of memory");
		ep->next_id++;
		return LSN_OK;
	}
	case CONCIL_CH_LINE_REMOVE:
		remove_line(ep, ch->id);
		return LSN_OK;
	case CONCIL_CH_DISC_ADD: {
		struct concil_disc x = {0};
		x.id = ep->next_id;
		x.type = ch->disc_type;
		x.manual = true;
		x.bmo = ch->line_ids[0];
		x.order = ch->line_ids[1];
		x.intent = CONCIL_UNDETERMINED;
		x.detected_at = now;
		if (ch->note)
			snprintf(x.note, sizeof x.note, "%s", ch->note);
		if (!concil_discs_push(&ep->discs, &x))
			return concil_fail(st, LSN_ERR_INTERNAL, "out of memory");
		ep->next_id++;
		return LSN_OK;
	}
	case CONCIL_CH_INTENT:
		d = concil_disc_find(ep, ch->id);
		d->intent = ch->intent;
		d->severity = ch->severity;
		if (ch->note)
			snprintf(d->note, sizeof d->note, "%s", ch->note);
		return LSN_OK;
	case CONCIL_CH_PROPOSE:
		d = concil_disc_find(ep, ch->id);
		d->proposal = ch->resolution;
		d->proposed_by = role;
		d->proposed_at = now;
		if (ch->note)
			snprintf(d->note, sizeof d->note, "%s", ch->note);
		return LSN_OK;
	case CONCIL_CH_DECIDE:
		d = concil_disc_find(ep, ch->id);
		d->resolution = ch->resolution;
		d->decided_by = CONCIL_ROLE_PRESCRIBER;
		d->decided_at = now;
		if (ch->resolution == CONCIL_DOCUMENTED_AS_INTENTIONAL) {
			d->intent = CONCIL_INTENTIONAL_DOCUMENTED;
			d->severity = CONCIL_SEV_NONE;
		}
		if (ch->note)
			snprintf(d->note, sizeof d->note, "%s", ch->note);
		return LSN_OK;
	default:
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "unknown change");
	}
}

/* ---- self-check of the word vocabularies (unit tests) ------------------------------ */

static bool
table_check(const struct word *table, size_t n, size_t stride, const char *(*canon)(const char *),
	    const char *what, char *why, size_t why_len)
{
	char ki[CONCIL_WORD_MAX * 4 + 1];
	for (size_t i = 0; i < n; i++) {
		const struct word *w = (const struct word *)((const char *)table + i * stride);
		const char *c = canon(w->canon);
		if (c != w->canon) {
			why_set(why, why_len, "%s \"%s\" does not map to itself", what, w->canon);
			return false;
		}
		/* every synonym maps to its own entry, not to an earlier one */
		for (const char *s = w->syn; s && *s;) {
			const char *bar = strchr(s, '|');
			size_t len = bar ? (size_t)(bar - s) : strlen(s);
			char syn[CONCIL_WORD_MAX * 4 + 1];
			snprintf(syn, sizeof syn, "%.*s", (int)len, s);
			concil_vocab_key(syn, strlen(syn), ki, sizeof ki);
			if (ki[0] == '\0' || canon(syn) != w->canon) {
				why_set(why, why_len, "%s synonym \"%s\" of \"%s\" maps to \"%s\"", what, syn,
					w->canon, canon(syn) ? canon(syn) : "(nothing)");
				return false;
			}
			s = bar ? bar + 1 : s + len;
		}
	}
	return true;
}

bool
concil_vocab_selfcheck(char *why, size_t why_len)
{
	return table_check(units, N(units), sizeof units[0], concil_unit_canon, "unit", why, why_len) &&
	       table_check(forms, N(forms), sizeof forms[0], concil_form_canon, "form", why, why_len) &&
	       table_check(routes, N(routes), sizeof routes[0], concil_route_canon, "route", why,
			   why_len) &&
	       table_check(&frequencies[0].w, N(frequencies), sizeof frequencies[0],
			   concil_frequency_canon, "frequency", why, why_len);
}
