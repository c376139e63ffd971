/* concil_vocab.c — the words of medication reconciliation: the fixed code
 * lists (transition, status, source, discrepancy type, intent, severity,
 * resolution, role), the text folding that makes spellings comparable, the
 * word vocabularies of units, forms, routes and frequencies with their
 * synonyms, and civil dates (docs/CONCILIATION.md, "Vocabularies"). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

static const struct {
	const struct vocab_entry *v;
	size_t n;
} vocabs[CONCIL_V__COUNT] = {
	[CONCIL_V_TRANSITION] = {v_transition, CONCIL_N(v_transition)},
	[CONCIL_V_STATUS] = {v_status, CONCIL_N(v_status)},
	[CONCIL_V_SOURCE] = {v_source, CONCIL_N(v_source)},
	[CONCIL_V_LIST] = {v_list, CONCIL_N(v_list)},
	[CONCIL_V_TYPE] = {v_type, CONCIL_N(v_type)},
	[CONCIL_V_INTENT] = {v_intent, CONCIL_N(v_intent)},
	[CONCIL_V_SEVERITY] = {v_severity, CONCIL_N(v_severity)},
	[CONCIL_V_RESOLUTION] = {v_resolution, CONCIL_N(v_resolution)},
	[CONCIL_V_ROLE] = {v_role, CONCIL_N(v_role)},
};

_Static_assert(CONCIL_N(v_transition) == CONCIL_TRANSITION__COUNT, "transitions");
_Static_assert(CONCIL_N(v_status) == CONCIL_STATUS__COUNT, "statuses");
_Static_assert(CONCIL_N(v_source) == CONCIL_SOURCE__COUNT, "sources");
_Static_assert(CONCIL_N(v_type) == CONCIL_DTYPE__COUNT, "types");
_Static_assert(CONCIL_N(v_intent) == CONCIL_INTENT__COUNT, "intents");
_Static_assert(CONCIL_N(v_severity) == CONCIL_SEVERITY__COUNT, "severities");
_Static_assert(CONCIL_N(v_resolution) == CONCIL_RESOLUTION__COUNT, "resolutions");
_Static_assert(CONCIL_N(v_role) == CONCIL_ROLE__COUNT, "roles");

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
	for (size_t i = 0; i < CONCIL_N(pharmacists); i++)
		if (strcmp(profession, pharmacists[i]) == 0)
			return CONCIL_ROLE_PHARMACIST;
	for (size_t i = 0; i < CONCIL_N(prescribers); i++)
		if (strcmp(profession, prescribers[i]) == 0)
			return CONCIL_ROLE_PRESCRIBER;
	return CONCIL_ROLE_NONE;
}

/* ---- text ---------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at p (n bytes left) and its code point; 0 if
 * it is not valid UTF-8 (overlong, surrogate, above U+10FFFF, truncated). */
size_t
concil_utf8_next(const unsigned char *p, size_t n, unsigned *cp)
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
		size_t k = concil_utf8_next(p + i, len - i, &cp);
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

void
concil_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	concil_utf8_trim(why);
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
		size_t k = concil_utf8_next(p + i, len - i, &cp);
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
	for (size_t i = 0; i < CONCIL_N(stops); i++)
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

bool
concil_date_valid(const char *s)
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
	return word_canon(units, CONCIL_N(units), sizeof units[0], text);
}

const char *
concil_form_canon(const char *text)
{
	return word_canon(forms, CONCIL_N(forms), sizeof forms[0], text);
}

const char *
concil_route_canon(const char *text)
{
	return word_canon(routes, CONCIL_N(routes), sizeof routes[0], text);
}

const char *
concil_frequency_canon(const char *text)
{
	return word_canon(&frequencies[0].w, CONCIL_N(frequencies), sizeof frequencies[0], text);
}

bool
concil_frequency_facts(const char *canon, int *per_day, unsigned *moments)
{
	for (size_t i = 0; canon && i < CONCIL_N(frequencies); i++)
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
	for (size_t i = 0; canon && i < CONCIL_N(counted); i++)
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
			snprintf(out + o, len - o, _(", … (docs/CONCILIATION.md, "
					"\"Vocabularies\")"));
			return;
		}
		int k = snprintf(out + o, len - o, "%s%s", i ? ", " : "", w->canon);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

void
concil_vocab_words(enum concil_field f, char *out, size_t len)
{
	if (f == CONCIL_F_FORM)
		word_list(forms, CONCIL_N(forms), sizeof forms[0], out, len);
	else if (f == CONCIL_F_ROUTE)
		word_list(routes, CONCIL_N(routes), sizeof routes[0], out, len);
	else if (f == CONCIL_F_UNIT)
		word_list(units, CONCIL_N(units), sizeof units[0], out, len);
	else if (f == CONCIL_F_FREQUENCY)
		word_list(&frequencies[0].w, CONCIL_N(frequencies), sizeof frequencies[0], out, len);
	else if (len > 0)
		out[0] = '\0';
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
			concil_why(why, why_len, _("%s \"%s\" does not map to "
					"itself"), what, w->canon);
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
				concil_why(why, why_len, _("%s synonym \"%s\" of \"%s\" maps to "
						"\"%s\""), what, syn,
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
	return table_check(units, CONCIL_N(units), sizeof units[0], concil_unit_canon, "unit", why, why_len) &&
	       table_check(forms, CONCIL_N(forms), sizeof forms[0], concil_form_canon, "form", why, why_len) &&
	       table_check(routes, CONCIL_N(routes), sizeof routes[0], concil_route_canon, "route", why,
			   why_len) &&
	       table_check(&frequencies[0].w, CONCIL_N(frequencies), sizeof frequencies[0],
			   concil_frequency_canon, "frequency", why, why_len);
}
