/* pathway.h — the pure logic of care pathways: expanding a template's
 * schedule into dated step occurrences, matching a professional to a step's
 * roles, and the step and case state machine. No storage, no network: the
 * unit tests check it day by day. */
#ifndef LSN_PATHWAY_H
#define LSN_PATHWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define PATHWAY_DAY_MS 86400000LL

struct pathway_occurrence {
	const char *step;
	int64_t occurrence;            /* 1, 2, … per step, in due order */
	const char *roles;
	int64_t day;                   /* days after J0; -1 = no deadline */
	int64_t due_at;                /* end of that local day, ms; 0 = no deadline */
};
typedef void (*pathway_occurrence_cb)(const struct pathway_occurrence *o, void *arg);

/* A case event recorded on the case (op case_event): rows whose anchor is
 * that event count their days from its day. */
struct pathway_anchor {
	const char *event;
	int64_t day;                   /* local midnight of the event's day, ms */
};

/* Expand rows (one step's rows contiguous, as store_template_schedule gives
 * them) for a case with flags (comma list) and j0 (local midnight, ms).
 * A row applies when its flag list is empty or names a flag of the case,
 * and its unless list names none; a row with flag and replaces_base that
 * applies drops the step's rows without a flag. A row with an anchor counts
 * from the anchor's day when anchors has it (day = days after J0), else
 * gives one occurrence without a deadline. Returns the number of
 * occurrences, or -1 if a row is malformed. */
int pathway_expand_at(const struct store_schedule_row *rows, size_t n, const char *flags,
		      int64_t j0, const struct pathway_anchor *anchors, size_t n_anchors,
		      pathway_occurrence_cb cb, void *arg);
/* The same without any event recorded. */
int pathway_expand(const struct store_schedule_row *rows, size_t n, const char *flags, int64_t j0,
		   pathway_occurrence_cb cb, void *arg);

/* Is flag in the comma list flags? */
bool pathway_has_flag(const char *flags, const char *flag);
/* Does the comma list flags hold any flag of the '|'-separated list? */
bool pathway_has_any_flag(const char *flags, const char *list);
/* Is event an anchor of some row? (the events a case of the template can record) */
bool pathway_is_anchor(const struct store_schedule_row *rows, size_t n, const char *event);
/* roles: '|'-separated professions, or "discharge"/"coordinator" (user roles,
 * or the coordinator profession). */
bool pathway_role_matches(const char *roles, const char *profession, unsigned user_roles);
/* Days are calendar days of the CPTS's time zone: the process's local time
 * (TZ, set once at start-up from liaisond.conf "timezone"). A day is 23, 24
 * or 25 hours long; PATHWAY_DAY_MS is only a unit for durations. */
#define PATHWAY_DAY_TEXT 11            /* "YYYY-MM-DD" and its NUL */
/* "YYYY-MM-DD" → local midnight in ms; -1 if not a valid date. */
int64_t pathway_parse_day(const char *text);
/* Local midnight of the day `days` calendar days after the local day of t. */
int64_t pathway_day_start(int64_t t, int64_t days);
/* The deadline of day `day` after j0: the last ms of that local day; 0 when
 * day < 0 (no deadline). */
int64_t pathway_due_at(int64_t j0, int64_t day);
/* Whole local calendar days from the day of `from` to the day of `to`: a
 * visit at 21:00 on the discharge day is 0, at 08:00 the next day 1. */
int64_t pathway_day_diff(int64_t from, int64_t to);
/* The local day of t as "YYYY-MM-DD"; false (out empty) if it cannot. */
bool pathway_format_day(int64_t t, char out[PATHWAY_DAY_TEXT]);

enum pathway_action {
	PATHWAY_COMPLETE, PATHWAY_SKIP, PATHWAY_REOPEN, PATHWAY_REASSIGN, PATHWAY_RESCHEDULE,
};

struct pathway_actor {
	bool is_assignee;
	bool is_coordinator;           /* a coordinator of the case's CPTS */
};

/* May actor apply action to a step in step_status of a case in case_status?
 * Every refusal has its own error (err.h). */
enum lsn_err pathway_step_transition(const char *case_status, const char *step_status,
				     enum pathway_action action, const struct pathway_actor *actor,
				     struct lsn_status *st);

/* Case close reasons: completed, readmitted, deceased, moved, consent_withdrawn. */
bool pathway_close_reason_valid(const char *reason);
/* Step skip reasons, a fixed list so that no clinical free text reaches the
 * server (details go in an encrypted note): patient_declined, not_indicated,
 * done_elsewhere, patient_hospitalised, patient_unreachable, rescheduled, other. */
bool pathway_skip_reason_valid(const char *reason);
/* Reschedule reasons, a fixed list for the same reason: patient_request,
 * patient_unavailable, patient_hospitalised, professional_unavailable,
 * appointment_date, clinical_decision, other. */
bool pathway_reschedule_reason_valid(const char *reason);

#endif
