/* concil_view.c — the reconciliation for people and as JSON (concil_view.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "concil_view.h"
#include "day.h"
#include "output.h"
#include "tr.h"
#include "user_view.h"

/* ---- lines and rows ------------------------------------------------------------- */

void
concil_view_line(const struct concil_line *ln, bool form_route, char *out, size_t len)
{
	char dose[16];
	concil_dose_format(ln->dose_milli, dose);
	int n = snprintf(out, len, "%s%s%s, %s %s %s", ln->inn, ln->strength[0] ? " " : "",
			 ln->strength, dose[0] ? dose : "?", ln->unit[0] ? ln->unit : "?",
			 ln->frequency[0] ? ln->frequency : "?");
	size_t used = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
	if (ln->as_needed && strcmp(ln->frequency, "si besoin") != 0 && used + 1 < len)
		used += (size_t)snprintf(out + used, len - used, " (si besoin)");
	if (ln->self_medication && used + 1 < len)
		used += (size_t)snprintf(out + used, len - used, " [automédication]");
	if (form_route && used + 1 < len)
		snprintf(out + used, len - used, " (%s, %s)", ln->form[0] ? ln->form : "forme ?",
			 ln->route[0] ? ln->route : "voie ?");
}

/* A row of the table: a BMO line beside the order line it corresponds to. */
struct row {
	int bmo, order;
};

static bool
paired(const struct row *rows, size_t n, int id)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].bmo == id || rows[i].order == id)
			return true;
	return false;
}

/* The order line a BMO line corresponds to: through a discrepancy naming
 * both, else the same INN or the same full ATC code; 0 when none. */
static int
partner(const struct concil_episode *ep, const struct concil_line *b, const struct row *rows,
	size_t n)
{
	for (size_t i = 0; i < ep->discs.n; i++) {
		const struct concil_disc *d = &ep->discs.v[i];
		if (d->bmo == b->id && d->order && !paired(rows, n, d->order))
			return d->order;
	}
	char kb[CONCIL_INN_MAX * 2 + 1], ko[CONCIL_INN_MAX * 2 + 1];
	concil_inn_key(b->inn, kb, sizeof kb);
	for (size_t i = 0; i < ep->order.n; i++) {
		const struct concil_line *o = &ep->order.v[i];
		if (paired(rows, n, o->id))
			continue;
		concil_inn_key(o->inn, ko, sizeof ko);
		if (strcmp(kb, ko) == 0 || (concil_atc_level(b->atc) == 5 && strcmp(b->atc, o->atc) == 0))
			return o->id;
	}
	return 0;
}

/* Rows: the BMO in its order, each with its partner; then the order lines
 * left. rows has room for bmo.n + order.n. */
static size_t
make_rows(const struct concil_episode *ep, struct row *rows)
{
	size_t n = 0;
	for (size_t i = 0; i < ep->bmo.n; i++) {
		rows[n].bmo = ep->bmo.v[i].id;
		rows[n].order = 0;
		rows[n].order = partner(ep, &ep->bmo.v[i], rows, n);
		n++;
	}
	for (size_t i = 0; i < ep->order.n; i++)
		if (!paired(rows, n, ep->order.v[i].id)) {
			rows[n].bmo = 0;
			rows[n].order = ep->order.v[i].id;
			n++;
		}
	return n;
}

/* A discrepancy is shown on the row of its BMO line, else of its order line. */
static bool
disc_of_row(const struct concil_disc *d, const struct row *r)
{
	if (d->bmo)
		return r->bmo == d->bmo;
	return r->order && d->order == r->order;
}

/* "!" unintentional and not decided, "?" intent undetermined, "✓" decided. */
static const char *
disc_mark(const struct concil_disc *d)
{
	if (d->resolution != CONCIL_PENDING)
		return "✓";
	if (d->intent == CONCIL_UNINTENTIONAL)
		return "!";
	if (d->intent == CONCIL_UNDETERMINED)
		return "?";
	return "";
}

static void
row_marks(const struct concil_episode *ep, const struct row *r, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ep->discs.n && used + 1 < len; i++) {
		const struct concil_disc *d = &ep->discs.v[i];
		if (!disc_of_row(d, r))
			continue;
		int n = snprintf(out + used, len - used, "%s#%d %s%s", used ? "  " : "", d->id,
				 concil_code(CONCIL_V_TYPE, (int)d->type), disc_mark(d));
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

static bool
row_form_route(const struct concil_episode *ep, const struct row *r)
{
	for (size_t i = 0; i < ep->discs.n; i++) {
		const struct concil_disc *d = &ep->discs.v[i];
		if (disc_of_row(d, r) && (d->type == CONCIL_ROUTE_CHANGE || d->type == CONCIL_FORM_CHANGE))
			return true;
	}
	return false;
}

static const char *
order_heading(enum concil_transition t)
{
	switch (t) {
	case CONCIL_ADMISSION:
		return N_("ADMISSION PRESCRIPTION");
	case CONCIL_TRANSFER:
		return N_("TRANSFER PRESCRIPTION");
	case CONCIL_DISCHARGE:
		return N_("DISCHARGE PRESCRIPTION");
	default:
		return N_("PRESCRIPTION");
	}
}

static void
print_lists(const struct concil_episode *ep)
{
	struct row *rows = calloc(ep->bmo.n + ep->order.n + 1, sizeof *rows);
	if (rows == NULL)
		return;
	size_t n = make_rows(ep, rows);
	const char *headers[] = {"#", N_("BMO (BEFORE)"), "#", order_heading(ep->transition),
				 N_("DISCREPANCIES")};
	struct out_table *t = out_table_new(5, headers);
	for (size_t i = 0; t && i < n; i++) {
		char bid[12] = "", oid[12] = "", btext[320] = "", otext[320] = "", marks[400];
		bool fr = row_form_route(ep, &rows[i]);
		const struct concil_line *b = concil_line_find(ep, rows[i].bmo);
		const struct concil_line *o = concil_line_find(ep, rows[i].order);
		if (b) {
			snprintf(bid, sizeof bid, "%d", b->id);
			concil_view_line(b, fr, btext, sizeof btext);
		}
		if (o) {
			snprintf(oid, sizeof oid, "%d", o->id);
			concil_view_line(o, fr, otext, sizeof otext);
		}
		row_marks(ep, &rows[i], marks, sizeof marks);
		const char *cells[] = {bid, btext, oid, otext, marks};
		out_table_add(t, cells);
	}
	if (t && n)
		out_table_print(t, stdout);
	else
		puts(_("  (no medication line yet)"));
	out_table_free(t);
	free(rows);
	if (ep->discs.n)
		puts(_("  ! unintentional, not decided   ? intent not determined   ✓ decided by "
		     "the prescriber"));
}

/* ---- discrepancies ------------------------------------------------------------------ */

static void
disc_lines(const struct concil_disc *d, char *out, size_t len)
{
	char b[12] = "-", o[12] = "-";
	if (d->bmo)
		snprintf(b, sizeof b, "%d", d->bmo);
	if (d->order)
		snprintf(o, sizeof o, "%d", d->order);
	if (d->other)
		snprintf(out, len, "%s → %s (with %d)", b, o, d->other);
	else
		snprintf(out, len, "%s → %s", b, o);
}

void
concil_view_print_discs(const struct concil_episode *ep)
{
	if (ep->discs.n == 0) {
		puts(_("No discrepancy: the prescription matches the BMO."));
		return;
	}
	const char *headers[] = {"#", N_("TYPE"), N_("BMO → ORDER"), N_("INTENT"), N_("SEVERITY"),
				 N_("PROPOSED"), N_("DECIDED")};
	struct out_table *t = out_table_new(7, headers);
	for (size_t i = 0; t && i < ep->discs.n; i++) {
		const struct concil_disc *d = &ep->discs.v[i];
		char id[16], lines[48], type[48], proposed[80], decided[96], day[DAY_TEXT];
		snprintf(id, sizeof id, "%d", d->id);
		snprintf(type, sizeof type, "%s%s", concil_code(CONCIL_V_TYPE, (int)d->type),
			 d->manual ? _(" (manual)") : "");
		disc_lines(d, lines, sizeof lines);
		proposed[0] = decided[0] = '\0';
		if (d->proposal != CONCIL_PENDING)
			snprintf(proposed, sizeof proposed, "%s (%s)",
				 concil_code(CONCIL_V_RESOLUTION, (int)d->proposal),
				 concil_code(CONCIL_V_ROLE, (int)d->proposed_by)
					 ? concil_code(CONCIL_V_ROLE, (int)d->proposed_by) : "?");
		if (d->resolution != CONCIL_PENDING)
			snprintf(decided, sizeof decided, "%s %s",
				 concil_code(CONCIL_V_RESOLUTION, (int)d->resolution),
				 day_format_ms(d->decided_at, day));
		else
			snprintf(decided, sizeof decided, "%s", _("pending"));
		const char *cells[] = {id, type, lines, concil_code(CONCIL_V_INTENT, (int)d->intent),
				       concil_code(CONCIL_V_SEVERITY, (int)d->severity), proposed,
				       decided};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	for (size_t i = 0; i < ep->discs.n; i++)
		if (ep->discs.v[i].note[0]) {
			printf(_("  note on #%d: "), ep->discs.v[i].id);
			out_text(stdout, ep->discs.v[i].note);
			putchar('\n');
		}
}

/* ---- the episode ------------------------------------------------------------------------ */

static void
person_line(const char *label, const struct concil_person *p)
{
	char buf[300];
	if (p->user[0] == '\0' && p->name[0] == '\0') {
		out_kv(label, "-");
		return;
	}
	const struct lsn_profession *prof = lsn_profession_find(p->profession);
	snprintf(buf, sizeof buf, "%s (%s)", p->name[0] ? p->name : p->user,
		 prof ? prof->label_fr : p->profession[0] ? p->profession : "?");
	out_kv(label, buf);
}

static void
print_sources(const struct concil_episode *ep)
{
	char buf[1200], day[DAY_TEXT];
	size_t used = 0;
	int types = concil_source_types(ep);
	int n = snprintf(buf, sizeof buf,
			 ngettext("%d distinct type (3 needed)%s", "%d distinct types (3 needed)%s",
				  (unsigned long)(types > 0 ? types : 0)),
			 types, ep->n_sources ? ":" : "");
	used = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < ep->n_sources && used + 1 < sizeof buf; i++) {
		const struct concil_source *s = &ep->sources[i];
		n = snprintf(buf + used, sizeof buf - used, "%s %s%s%s%s", i ? "," : "",
			     concil_code(CONCIL_V_SOURCE, (int)s->type), s->at > 0 ? " (" : "",
			     s->at > 0 ? day_format_ms(s->at, day) : "", s->at > 0 ? ")" : "");
		used += n > 0 ? (size_t)n : 0;
	}
	out_kv(_("Sources"), buf);
	for (size_t i = 0; i < ep->n_sources; i++)
		if (ep->sources[i].note[0]) {
			printf(_("  note on "
					"%s: "), concil_code(CONCIL_V_SOURCE, (int)ep->sources[i].type));
			out_text(stdout, ep->sources[i].note);
			putchar('\n');
		}
}

static size_t
count_intent(const struct concil_episode *ep, enum concil_intent in)
{
	size_t n = 0;
	for (size_t i = 0; i < ep->discs.n; i++)
		n += ep->discs.v[i].intent == in;
	return n;
}

static size_t
count_resolved(const struct concil_episode *ep)
{
	size_t n = 0;
	for (size_t i = 0; i < ep->discs.n; i++)
		n += ep->discs.v[i].resolution != CONCIL_PENDING;
	return n;
}

static void
print_history(struct e2e *e, const struct concil_fold *f, const struct concil_item *it)
{
	puts(_("History (each change is a message of the case thread):"));
	for (size_t i = 0; i < it->n_updates; i++) {
		const struct concil_update *u = &it->updates[i];
		char when[32], who[160];
		concil_person_of(e, u->sender, who, sizeof who, NULL, 0);
		if (who[0] == '\0')
			snprintf(who, sizeof who, "%s", _("someone"));
		out_time(u->ts, when, sizeof when);
		printf("  #%-4lld %s  ", (long long)u->seq, when);
		out_text(stdout, who);
		printf("  [%s] ", concil_code(CONCIL_V_STATUS, (int)u->status));
		out_text(stdout, u->change[0] ? u->change : _("updated"));
		if (u->attached)
			fputs(_(" (sent as an encrypted attachment)"), stdout);
		if (u->concurrent)
			fputs(_(" — WARNING: made on an older version; changes posted just before "
			      "it may be lost: check them"), stdout);
		putchar('\n');
	}
	for (size_t i = 0; i < f->n_rejected; i++) {
		const struct concil_rejected *r = &f->rejected[i];
		if (strcmp(r->episode, it->ep.episode) != 0)
			continue;
		char who[160];
		concil_person_of(e, r->sender, who, sizeof who, NULL, 0);
		printf(_("  #%-4lld REJECTED, from "), (long long)r->seq);
		out_text(stdout, who[0] ? who : _("someone"));
		fputs(": ", stdout);
		out_text(stdout, r->reason);
		puts(_(" (ignored)"));
	}
}

static void
print_next(const struct case_ctx *cc, const struct concil_episode *ep)
{
	char ep8[9];
	snprintf(ep8, sizeof ep8, "%.8s", ep->episode);
	size_t undetermined = count_intent(ep, CONCIL_UNDETERMINED);
	size_t pending = ep->discs.n - count_resolved(ep);
	switch (ep->status) {
	case CONCIL_DRAFT:
		printf(_("Next: sources (%d of 3 distinct types), the BMO and the prescription "
		       "(import or line add), then: liaison conciliation compare %s %s\n"),
		       concil_source_types(ep), cc->ref, ep8);
		break;
	case CONCIL_BMO_DONE:
		printf(_("Next: liaison conciliation compare %s %s\n"), cc->ref, ep8);
		break;
	case CONCIL_COMPARED:
	case CONCIL_AWAITING_PRESCRIBER:
		if (pending == 0)
			printf(_("Next: every discrepancy is decided: liaison conciliation close "
					"%s %s\n"),
			       cc->ref, ep8);
		else if (undetermined && ep->status == CONCIL_COMPARED)
			printf(_("Next: qualify each discrepancy (liaison conciliation discrepancy "
			       "set %s %s N --intent …), propose resolutions (propose), then hand "
			       "over to the prescriber (review)\n"), cc->ref, ep8);
		else
			printf(ngettext("Next: the prescriber decides the %zu pending discrepancy: "
					"liaison conciliation resolve %s %s N RESOLUTION\n",
					"Next: the prescriber decides the %zu pending "
					"discrepancies: liaison conciliation resolve %s %s N "
					"RESOLUTION\n", pending),
			       pending, cc->ref, ep8);
		break;
	default:
		puts(_("The reconciliation is closed."));
	}
}

void
concil_view_print(struct e2e *e, const struct case_ctx *cc, const struct concil_fold *f,
		  const struct concil_item *it)
{
	const struct concil_episode *ep = &it->ep;
	char buf[600], t1[32], t2[32], t3[32], t4[32];
	printf(_("Medication reconciliation %s — case %s"), ep->episode, cc->ref);
	if (ep->pathway[0])
		printf(" (%s)", ep->pathway);
	putchar('\n');
	snprintf(buf, sizeof buf, "%s — %s", concil_code(CONCIL_V_TRANSITION, (int)ep->transition),
		 concil_label(CONCIL_V_TRANSITION, (int)ep->transition));
	out_kv(_("Transition"), buf);
	snprintf(buf, sizeof buf, "%s — %s", concil_code(CONCIL_V_STATUS, (int)ep->status),
		 concil_label(CONCIL_V_STATUS, (int)ep->status));
	out_kv(_("Status"), buf);
	if (ep->patient.name[0]) {
		snprintf(buf, sizeof buf, _("%s%s%s%s%s (encrypted in the case thread)"),
			 ep->patient.name, ep->patient.birth_date[0] ? _(", born ") : "",
			 ep->patient.birth_date, ep->patient.ins[0] ? ", INS " : "", ep->patient.ins);
		out_kv(_("Patient"), buf);
	}
	person_line(_("Pharmacist"), &ep->pharmacist);
	person_line(_("Prescriber"), &ep->prescriber);
	snprintf(buf, sizeof buf, _("started %s; BMO done %s; compared %s; closed %s"),
		 out_time(ep->started_at, t1, sizeof t1), out_time(ep->bmo_done_at, t2, sizeof t2),
		 out_time(ep->compared_at, t3, sizeof t3), out_time(ep->closed_at, t4, sizeof t4));
	out_kv(_("Dates"), buf);
	print_sources(ep);
	if (ep->note[0]) {
		fputs(_("Note: "), stdout);
		out_text(stdout, ep->note);
		putchar('\n');
	}
	putchar('\n');
	print_lists(ep);
	for (int l = 0; l < 2; l++) {
		const struct concil_lines *ls = l ? &ep->order : &ep->bmo;
		for (size_t i = 0; i < ls->n; i++)
			if (ls->v[i].note[0]) {
				printf(_("  note on line %d: "), ls->v[i].id);
				out_text(stdout, ls->v[i].note);
				putchar('\n');
			}
	}
	putchar('\n');
	if (ep->status != CONCIL_DRAFT && ep->status != CONCIL_BMO_DONE) {
		printf(_("Discrepancies: %zu, of which %zu unintentional; %zu decided by the "
		       "prescriber\n"), ep->discs.n, count_intent(ep, CONCIL_UNINTENTIONAL),
		       count_resolved(ep));
		concil_view_print_discs(ep);
		putchar('\n');
	}
	print_history(e, f, it);
	print_next(cc, ep);
}

/* ---- JSON ----------------------------------------------------------------------------- */

json_t *
concil_view_rejected_json(struct e2e *e, const struct concil_rejected *r)
{
	char who[160], hex[LSN_ID_HEX + 1];
	concil_person_of(e, r->sender, who, sizeof who, NULL, 0);
	lsn_id_to_hex(r->sender, hex);
	return json_pack("{s:I, s:s, s:s, s:s?, s:s}", "seq", (json_int_t)r->seq, "sender", hex,
			 "sender_name", who, "episode", r->episode[0] ? r->episode : NULL,
			 "reason", r->reason);
}

json_t *
concil_view_json(struct e2e *e, const struct concil_fold *f, const struct concil_item *it)
{
	const struct concil_episode *ep = &it->ep;
	json_t *updates = json_array(), *rejected = json_array(), *rows = json_array();
	for (size_t i = 0; i < it->n_updates; i++) {
		const struct concil_update *u = &it->updates[i];
		char who[160], hex[LSN_ID_HEX + 1];
		concil_person_of(e, u->sender, who, sizeof who, NULL, 0);
		lsn_id_to_hex(u->sender, hex);
		json_array_append_new(updates, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s?, s:b, s:b}",
			"seq", (json_int_t)u->seq, "ts", (json_int_t)u->ts, "sender", hex,
			"sender_name", who, "status", concil_code(CONCIL_V_STATUS, (int)u->status),
			"change", u->change[0] ? u->change : NULL, "attachment", u->attached,
			"concurrent", u->concurrent));
	}
	for (size_t i = 0; i < f->n_rejected; i++)
		if (strcmp(f->rejected[i].episode, ep->episode) == 0)
			json_array_append_new(rejected, concil_view_rejected_json(e, &f->rejected[i]));
	struct row *rv = calloc(ep->bmo.n + ep->order.n + 1, sizeof *rv);
	size_t n = rv ? make_rows(ep, rv) : 0;
	for (size_t i = 0; i < n; i++) {
		json_t *ids = json_array();
		for (size_t k = 0; k < ep->discs.n; k++)
			if (disc_of_row(&ep->discs.v[k], &rv[i]))
				json_array_append_new(ids, json_integer(ep->discs.v[k].id));
		json_array_append_new(rows, json_pack("{s:o, s:o, s:o}", "bmo",
			rv[i].bmo ? json_integer(rv[i].bmo) : json_null(), "order",
			rv[i].order ? json_integer(rv[i].order) : json_null(), "discrepancies", ids));
	}
	free(rv);
	size_t resolved = count_resolved(ep);
	return json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I}", "episode",
			 ep->episode, "seq", (json_int_t)it->seq, "document",
			 concil_episode_encode(ep), "rows", rows, "updates", updates, "rejected",
			 rejected, "discrepancies", (json_int_t)ep->discs.n, "unintentional",
			 (json_int_t)count_intent(ep, CONCIL_UNINTENTIONAL), "pending",
			 (json_int_t)(ep->discs.n - resolved), "resolved", (json_int_t)resolved);
}

/* ---- messages in a thread ---------------------------------------------------------------- */

static const char *
str_or(json_t *o, const char *k, const char *fallback)
{
	const char *s = user_view_str(o, k);
	return s ? s : fallback;
}

void
concil_view_message(FILE *f, json_t *content, const char *indent)
{
	const char *episode = str_or(content, "episode", "?"), *c = str_or(content, "case", "?");
	fprintf(f, _("%s[medication reconciliation %.8s, "), indent, episode);
	out_text(f, str_or(content, "transition", "?"));
	fputs(" — ", f);
	out_text(f, str_or(content, "status", "?"));
	if (json_is_object(json_object_get(content, "document"))) {
		fputs(_(": too large for one message, sent as an encrypted attachment]\n"), f);
	} else {
		json_t *discs = json_object_get(content, "discrepancies"), *d;
		size_t i, unint = 0, decided = 0;
		json_array_foreach(discs, i, d) {
			unint += strcmp(str_or(d, "intent", ""), "unintentional") == 0;
			decided += strcmp(str_or(d, "resolution", "pending"), "pending") != 0;
		}
		size_t nb = json_array_size(json_object_get(content, "bmo")),
		       no = json_array_size(json_object_get(content, "order")),
		       nd = json_array_size(discs);
		fprintf(f, ngettext(": BMO %zu line", ": BMO %zu lines", nb), nb);
		fprintf(f, ngettext(", prescription %zu line", ", prescription %zu lines", no), no);
		fprintf(f, ngettext(", %zu discrepancy (%zu unintentional, %zu decided)]\n",
				    ", %zu discrepancies (%zu unintentional, %zu decided)]\n", nd),
			nd, unint, decided);
		if (user_view_str(content, "change")) {
			fprintf(f, _("%schange: "), indent);
			out_text(f, user_view_str(content, "change"));
			fputc('\n', f);
		}
	}
	fprintf(f, _("%sSee it with: liaison conciliation show %.8s %.8s\n"), indent, c, episode);
}

void
circle_view_case_message(FILE *f, json_t *content, const char *indent)
{
	json_t *copy = json_object_get(content, "copy");
	fprintf(f, _("%s[a reconciliation shared with the circle"), indent);
	if (json_is_object(copy)) {
		fputs(": ", f);
		out_text(f, str_or(copy, "pathway", _("no pathway")));
		fputs(", ", f);
		out_text(f, str_or(copy, "transition", "?"));
		fputs(", ", f);
		out_text(f, str_or(copy, "started", "?"));
		size_t nd = json_array_size(json_object_get(copy, "discrepancies"));
		fprintf(f, ngettext(", %zu discrepancy", ", %zu discrepancies", nd), nd);
	} else {
		fputs(_(" (as an encrypted attachment)"), f);
	}
	fputs("]\n", f);
	fprintf(f, _("%sSee the circle's cases with: liaison circle review %.8s\n"), indent,
		str_or(content, "channel", "CIRCLE"));
}

void
circle_view_session_message(FILE *f, json_t *content, const char *indent)
{
	json_t *x;
	size_t i;
	fprintf(f, _("%s[quality circle session of "), indent);
	out_text(f, str_or(content, "date", "?"));
	fputs(_(", theme "), f);
	out_text(f, str_or(content, "theme", "?"));
	size_t na = json_array_size(json_object_get(content, "attendees")),
	       nc = json_array_size(json_object_get(content, "cases"));
	fprintf(f, ngettext(": %zu attendee", ": %zu attendees", na), na);
	fprintf(f, ngettext(", %zu case reviewed]\n", ", %zu cases reviewed]\n", nc), nc);
	if (user_view_str(content, "consensus")) {
		fprintf(f, _("%sConsensus: "), indent);
		out_text(f, user_view_str(content, "consensus"));
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(content, "actions"), i, x) {
		fprintf(f, _("%sAction: "), indent);
		out_text(f, json_string_value(x) ? json_string_value(x) : "?");
		fputc('\n', f);
	}
	if (user_view_str(content, "follow_up")) {
		fprintf(f, _("%sFollow-up: "), indent);
		out_text(f, user_view_str(content, "follow_up"));
		fputc('\n', f);
	}
}

int
concil_case_open(struct e2e *e, const char *case_text, struct case_ctx *cc,
		 struct concil_fold *f)
{
	memset(f, 0, sizeof *f);
	int rc = case_load(e, case_text, cc);
	if (rc != CLI_OK)
		return rc;
	if (!cc->member) {
		out_error(_("you are not a member of the thread of case %s: its reconciliations "
			  "are encrypted for its members; ask one of them to add you"), cc->ref);
		return CLI_FAIL;
	}
	struct lsn_status st = {0};
	if (case_sync_thread(e, cc, &st) != LSN_OK || concil_fold_load(e, cc, f, &st) != LSN_OK)
		return out_fail(&st);
	return CLI_OK;
}
