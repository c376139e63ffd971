/* concil_rules.c — who may change what in an episode, and when: the status
 * steps, line and source edits, the review of discrepancies (pharmacist
 * proposes, prescriber decides), and the changes applied once allowed
 * (docs/CONCILIATION.md, "Who changes what"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concil_int.h"

/* ---- changes: who may make them, and when ------------------------------------------ */

static const char *
role_word(enum concil_role r)
{
	return r == CONCIL_ROLE_PHARMACIST ? _("a pharmacist") : r == CONCIL_ROLE_PRESCRIBER ?
	       _("a prescriber") : _("this profession");
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
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown status"));
	if (role == CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a pharmacist or a prescriber "
				"changes the status of a reconciliation"));
	if (to == ep->status)
		return concil_fail(st, LSN_ERR_CONFLICT, _("the reconciliation is already "
				"%s"), name);
	switch (to) {
	case CONCIL_DRAFT:
		return LSN_OK;                  /* back to editing the BMO, from any open status */
	case CONCIL_BMO_DONE:
		if (ep->status != CONCIL_DRAFT)
			return concil_fail(st, LSN_ERR_CONFLICT, _("the BMO is completed from "
					"draft (now %s)"),
					from);
		if (concil_source_types(ep) < 3)
			return concil_fail(st, LSN_ERR_CONFLICT, ngettext("the BMO cannot be "
					"completed with %d distinct source type: at least 3 are "
					"needed (patient interview, DP, GP prescription…); add a "
					"source of another type",
					"the BMO cannot be completed with %d distinct source "
					"types: at least 3 are needed (patient interview, DP, GP "
					"prescription…); add a source of another type",
					(unsigned long)concil_source_types(ep)),
					concil_source_types(ep));
		return LSN_OK;
	case CONCIL_COMPARED:
		if (ep->status == CONCIL_AWAITING_PRESCRIBER)
			return LSN_OK;
		return concil_fail(st, LSN_ERR_CONFLICT, _("the reconciliation becomes compared "
				"when the BMO is compared with the prescription: run the "
				"comparison"));
	case CONCIL_AWAITING_PRESCRIBER:
		if (ep->status != CONCIL_COMPARED)
			return concil_fail(st, LSN_ERR_CONFLICT, _("only a compared reconciliation "
					"goes to the prescriber (now %s)"), from);
		return LSN_OK;
	case CONCIL_CLOSED:
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, _("a reconciliation is closed "
					"after the comparison (now %s)"), from);
		if (pending_count(ep) > 0)
			return concil_fail(st, LSN_ERR_CONFLICT, ngettext("%zu discrepancy is "
					"still pending: the prescriber decides each one before the "
					"reconciliation is closed",
					"%zu discrepancies are still pending: the prescriber "
					"decides each one before the reconciliation is "
					"closed", pending_count(ep)),
					pending_count(ep));
		return LSN_OK;
	default:
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown status"));
	}
}

static enum lsn_err
check_line_edit(const struct concil_episode *ep, enum concil_list list, enum concil_role role,
		struct lsn_status *st)
{
	if (list == CONCIL_BMO) {
		if (ep->status != CONCIL_DRAFT)
			return concil_fail(st, LSN_ERR_CONFLICT, _("the BMO is edited in draft "
					"only: set the status back to draft first"));
		return LSN_OK;
	}
	if (list != CONCIL_ORDER)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown list"));
	if (role == CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a pharmacist or a prescriber "
				"writes the prescription lines"));
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
		return concil_fail(st, LSN_ERR_CONFLICT, _("the reconciliation is closed: start a "
				"new episode for a new prescription"));
	if (ch->note && (strlen(ch->note) > CONCIL_NOTE_MAX ||
			 !concil_text_ok(ch->note, strlen(ch->note))))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("note: at most %d bytes of "
				"text"), CONCIL_NOTE_MAX);
	if (ch->kind == CONCIL_CH_INTENT || ch->kind == CONCIL_CH_PROPOSE ||
	    ch->kind == CONCIL_CH_DECIDE) {
		d = concil_disc_find((struct concil_episode *)ep, ch->id);
		if (d == NULL)
			return concil_fail(st, LSN_ERR_NOT_FOUND, _("no discrepancy %d in this "
					"reconciliation"),
					ch->id);
	}
	switch (ch->kind) {
	case CONCIL_CH_STATUS:
		return check_status(ep, ch->status, role, st);
	case CONCIL_CH_SOURCE_ADD:
		if ((unsigned)ch->source.type >= CONCIL_SOURCE__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown source type"));
		if (strnlen(ch->source.note, sizeof ch->source.note) == sizeof ch->source.note ||
		    !concil_text_ok(ch->source.note, strlen(ch->source.note)))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("source note: at most %d "
					"bytes of text"),
					CONCIL_NOTE_MAX);
		if (ep->status != CONCIL_DRAFT)
			return concil_fail(st, LSN_ERR_CONFLICT, _("sources are added while the "
					"BMO is a draft: set the status back to draft first"));
		if (ep->n_sources >= CONCIL_SOURCES_MAX)
			return concil_fail(st, LSN_ERR_CONFLICT, _("at most %d "
					"sources"), CONCIL_SOURCES_MAX);
		return LSN_OK;
	case CONCIL_CH_LINE_ADD: {
		enum lsn_err err = check_line_edit(ep, ch->line.list, role, st);
		if (err != LSN_OK)
			return err;
		if (!concil_line_fields_ok(&ch->line, why, sizeof why) ||
		    !concil_line_check(&ch->line, why, sizeof why))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s", why);
		if ((ch->line.list == CONCIL_BMO ? ep->bmo.n : ep->order.n) >= CONCIL_LINES_MAX)
			return concil_fail(st, LSN_ERR_CONFLICT, _("at most %d lines per "
					"list"), CONCIL_LINES_MAX);
		return LSN_OK;
	}
	case CONCIL_CH_LINE_REMOVE: {
		const struct concil_line *ln = concil_line_find(ep, ch->id);
		if (ln == NULL)
			return concil_fail(st, LSN_ERR_NOT_FOUND, _("no line %d in this "
					"reconciliation"), ch->id);
		enum lsn_err err = check_line_edit(ep, ln->list, role, st);
		if (err != LSN_OK)
			return err;
		for (size_t i = 0; i < ep->discs.n; i++) {
			const struct concil_disc *x = &ep->discs.v[i];
			if ((x->bmo == ch->id || x->order == ch->id || x->other == ch->id) &&
			    x->resolution != CONCIL_PENDING)
				return concil_fail(st, LSN_ERR_CONFLICT, _("line %d is part of "
						"discrepancy %d, which the prescriber has decided: "
						"it stays"), ch->id, x->id);
		}
		return LSN_OK;
	}
	case CONCIL_CH_DISC_ADD:
		if (role == CONCIL_ROLE_NONE)
			return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a pharmacist or a "
					"prescriber adds a discrepancy"));
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancies are added after "
					"the comparison"));
		if ((unsigned)ch->disc_type >= CONCIL_DTYPE__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown discrepancy type"));
		for (int k = 0; k < 2; k++) {
			const struct concil_line *ln = concil_line_find(ep, ch->line_ids[k]);
			if (ch->line_ids[k] && (!ln || ln->list != (k ? CONCIL_ORDER : CONCIL_BMO)))
				return concil_fail(st, LSN_ERR_NOT_FOUND, _("no %s line %d in this "
						"reconciliation"),
						k ? "prescription" : "BMO", ch->line_ids[k]);
		}
		if (ep->discs.n >= CONCIL_DISC_MAX)
			return concil_fail(st, LSN_ERR_CONFLICT, _("at most %d "
					"discrepancies"), CONCIL_DISC_MAX);
		return LSN_OK;
	case CONCIL_CH_INTENT:
		if (role == CONCIL_ROLE_NONE)
			return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a pharmacist or a "
					"prescriber qualifies a discrepancy"));
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancies are reviewed "
					"after the comparison"));
		if (d->resolution != CONCIL_PENDING)
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancy %d is already "
					"decided (%s)"), d->id,
					concil_code(CONCIL_V_RESOLUTION, (int)d->resolution));
		if ((unsigned)ch->intent >= CONCIL_INTENT__COUNT ||
		    (unsigned)ch->severity >= CONCIL_SEVERITY__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown intent or "
					"severity"));
		if (ch->intent == CONCIL_UNINTENTIONAL && ch->severity == CONCIL_SEV_NONE)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("give the severity of an "
					"unintentional discrepancy: minor, significant, major or "
					"critical"));
		if (ch->intent != CONCIL_UNINTENTIONAL && ch->severity != CONCIL_SEV_NONE)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("only an unintentional "
					"discrepancy has a severity"));
		return LSN_OK;
	case CONCIL_CH_PROPOSE:
		if (role == CONCIL_ROLE_NONE)
			return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a pharmacist or a "
					"prescriber proposes a resolution"));
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancies are reviewed "
					"after the comparison"));
		if (d->resolution != CONCIL_PENDING)
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancy %d is already "
					"decided (%s)"), d->id,
					concil_code(CONCIL_V_RESOLUTION, (int)d->resolution));
		if (ch->resolution == CONCIL_PENDING || (unsigned)ch->resolution >= CONCIL_RESOLUTION__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("propose "
					"prescription_corrected, documented_as_intentional or "
					"maintained_with_justification"));
		return LSN_OK;
	case CONCIL_CH_DECIDE:
		if (role != CONCIL_ROLE_PRESCRIBER)
			return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a prescriber sets a "
					"final resolution; as %s, propose it: the prescriber "
					"decides"), role_word(role));
		if (!in_review(ep))
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancies are decided "
					"after the comparison"));
		if (d->resolution != CONCIL_PENDING)
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancy %d is already "
					"decided (%s)"), d->id,
					concil_code(CONCIL_V_RESOLUTION, (int)d->resolution));
		if (ch->resolution == CONCIL_PENDING || (unsigned)ch->resolution >= CONCIL_RESOLUTION__COUNT)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("decide "
					"prescription_corrected, documented_as_intentional or "
					"maintained_with_justification"));
		if (ch->resolution == CONCIL_DOCUMENTED_AS_INTENTIONAL && d->intent == CONCIL_UNINTENTIONAL)
			return concil_fail(st, LSN_ERR_CONFLICT, _("discrepancy %d is "
					"unintentional: correct the prescription or maintain it "
					"with a justification"), d->id);
		if (ch->resolution != CONCIL_DOCUMENTED_AS_INTENTIONAL && d->intent == CONCIL_UNDETERMINED)
			return concil_fail(st, LSN_ERR_CONFLICT, _("say first whether discrepancy "
					"%d is intentional or not (its intent is "
					"undetermined)"), d->id);
		if (ch->resolution == CONCIL_MAINTAINED_WITH_JUSTIFICATION && (!ch->note || !ch->note[0]))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("maintained_with_justification "
					"needs the justification as a note"));
		return LSN_OK;
	default:
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown change"));
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
			return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
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
			return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
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
			return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
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
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown change"));
	}
}
