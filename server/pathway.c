/* pathway.c — schedule expansion, role matching, step and case transitions. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ident.h"
#include "pathway.h"

bool
pathway_has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);
	for (const char *p = flags; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && memcmp(p, flag, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

bool
pathway_role_matches(const char *roles, const char *profession, unsigned user_roles)
{
	for (const char *p = roles; p && *p;) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len > 0 && len == strlen(profession) && memcmp(p, profession, len) == 0) ||
		    (len == 9 && memcmp(p, "discharge", 9) == 0 && (user_roles & LSN_ROLE_DISCHARGE)) ||
		    (len == 11 && memcmp(p, "coordinator", 11) == 0 && (user_roles & LSN_ROLE_COORDINATOR)))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* Local days: the process's time zone (TZ, set from liaisond.conf's
 * "timezone" and tzset() once at start-up) through the C library. */

static int64_t
local_midnight(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
	time_t t = mktime(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t * 1000;
}

static bool
local_date(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	return localtime_r(&t, tm) != NULL;
}

int64_t
pathway_parse_day(const char *text)
{
	int y, m, d;
	if (text == NULL || strlen(text) != 10)
		return -1;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? text[i] != '-' : (text[i] < '0' || text[i] > '9'))
			return -1;   /* no sign, space or other slack sscanf would allow */
	if (sscanf(text, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
	time_t t = timegm(&tm);
	struct tm check;
	gmtime_r(&t, &check);
	if (check.tm_mday != d || check.tm_mon != m - 1)
		return -1;   /* 2026-02-30 */
	return local_midnight(y, m, d);
}

int64_t
pathway_day_start(int64_t t, int64_t days)
{
	struct tm tm;
	if (!local_date(t, &tm) || days < -100000 || days > 100000)
		return -1;
	return local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + (int)days);
}

int64_t
pathway_due_at(int64_t j0, int64_t day)
{
	return day < 0 ? 0 : pathway_day_start(j0, day + 1) - 1;
}

/* Days since 1970-01-01 of the local calendar day of t. */
static int64_t
local_day_number(int64_t t)
{
	struct tm tm;
	if (!local_date(t, &tm))
		return 0;
	struct tm utc = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday};
	return (int64_t)timegm(&utc) / 86400;
}

int64_t
pathway_day_diff(int64_t from, int64_t to)
{
	return local_day_number(to) - local_day_number(from);
}

bool
pathway_format_day(int64_t t, char out[PATHWAY_DAY_TEXT])
{
	struct tm tm;
	if (!local_date(t, &tm) || strftime(out, PATHWAY_DAY_TEXT, "%Y-%m-%d", &tm) != 10) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool
pathway_has_any_flag(const char *flags, const char *list)
{
	char one[64];
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 0 && len < sizeof one) {
			memcpy(one, p, len);
			one[len] = '\0';
			if (pathway_has_flag(flags, one))
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

bool
pathway_is_anchor(const struct store_schedule_row *rows, size_t n, const char *event)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].anchor[0] && strcmp(rows[i].anchor, event) == 0)
			return true;
	return false;
}

/* A row with a flag list: does the case have one of them, and none of its
 * unless list? */
static bool
flagged_row_applies(const struct store_schedule_row *r, const char *flags)
{
	return pathway_has_any_flag(flags, r->flag) &&
	       !(r->unless[0] && pathway_has_any_flag(flags, r->unless));
}

/* Does a flagged replacing row of this step apply to the case? */
static bool
step_replaced(const struct store_schedule_row *rows, size_t n, const char *step, const char *flags)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].step, step) == 0 && rows[i].flag[0] && rows[i].replaces_base &&
		    flagged_row_applies(&rows[i], flags))
			return true;
	return false;
}

static bool
row_applies(const struct store_schedule_row *rows, size_t n, size_t i, const char *flags)
{
	const struct store_schedule_row *r = &rows[i];
	if (r->flag[0])
		return flagged_row_applies(r, flags);
	if (r->unless[0] && pathway_has_any_flag(flags, r->unless))
		return false;
	return !step_replaced(rows, n, r->step, flags);
}

/* day: days after the base (J0 or the anchor's day); offset: base − J0 in days. */
static void
emit(const struct store_schedule_row *r, int64_t base, int64_t offset, int64_t day,
     int64_t *occurrence, pathway_occurrence_cb cb, void *arg)
{
	struct pathway_occurrence o = {
		.step = r->step, .occurrence = ++*occurrence, .roles = r->roles,
		.day = day < 0 ? -1 : offset + day, .due_at = pathway_due_at(base, day),
	};
	cb(&o, arg);
}

static const struct pathway_anchor *
find_anchor(const struct pathway_anchor *anchors, size_t n, const char *event)
{
	for (size_t i = 0; i < n; i++)
		if (anchors[i].event && strcmp(anchors[i].event, event) == 0)
			return &anchors[i];
	return NULL;
}

int
pathway_expand_at(const struct store_schedule_row *rows, size_t n, const char *flags, int64_t j0,
		  const struct pathway_anchor *anchors, size_t n_anchors, pathway_occurrence_cb cb,
		  void *arg)
{
	int count = 0;
	int64_t occurrence = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_schedule_row *r = &rows[i];
		if (i == 0 || strcmp(rows[i - 1].step, r->step) != 0)
			occurrence = 0;
		if (!row_applies(rows, n, i, flags))
			continue;
		int64_t base = j0, offset = 0;
		if (r->anchor[0]) {
			const struct pathway_anchor *a = find_anchor(anchors, n_anchors, r->anchor);
			if (a == NULL) {   /* not happened yet: no deadline until it is recorded */
				emit(r, j0, 0, -1, &occurrence, cb, arg);
				count++;
				continue;
			}
			base = a->day;
			offset = pathway_day_diff(j0, a->day);
		}
		if (!r->has_first_day) {
			emit(r, base, offset, -1, &occurrence, cb, arg);
			count++;
			continue;
		}
		if (r->first_day < 0 || r->every_days < 0 || (r->every_days && r->last_day < r->first_day))
			return -1;
		int64_t last = r->every_days ? r->last_day : r->first_day;
		int64_t step = r->every_days ? r->every_days : 1;
		for (int64_t day = r->first_day; day <= last; day += step) {
			emit(r, base, offset, day, &occurrence, cb, arg);
			count++;
		}
	}
	return count;
}

int
pathway_expand(const struct store_schedule_row *rows, size_t n, const char *flags, int64_t j0,
	       pathway_occurrence_cb cb, void *arg)
{
	return pathway_expand_at(rows, n, flags, j0, NULL, 0, cb, arg);
}

bool
pathway_close_reason_valid(const char *reason)
{
	static const char *const reasons[] = {"completed", "readmitted", "deceased", "moved",
					      "consent_withdrawn"};
	for (size_t i = 0; reason && i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reason, reasons[i]) == 0)
			return true;
	return false;
}

bool
pathway_reschedule_reason_valid(const char *reason)
{
	static const char *const reasons[] = {"patient_request", "patient_unavailable",
					      "patient_hospitalised", "professional_unavailable",
					      "appointment_date", "clinical_decision", "other"};
	for (size_t i = 0; reason && i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reason, reasons[i]) == 0)
			return true;
	return false;
}

bool
pathway_skip_reason_valid(const char *reason)
{
	static const char *const reasons[] = {"patient_declined", "not_indicated", "done_elsewhere",
					      "patient_hospitalised", "patient_unreachable",
					      "rescheduled", "other"};
	for (size_t i = 0; reason && i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reason, reasons[i]) == 0)
			return true;
	return false;
}

enum lsn_err
pathway_step_transition(const char *case_status, const char *step_status,
			enum pathway_action action, const struct pathway_actor *actor,
			struct lsn_status *st)
{
	if (strcmp(case_status, "open") != 0)
		return lsn_fail(st, LSN_ERR_CASE_CLOSED, NULL);
	bool pending = strcmp(step_status, "pending") == 0;
	switch (action) {
	case PATHWAY_COMPLETE:
	case PATHWAY_SKIP:
	case PATHWAY_REASSIGN:
	case PATHWAY_RESCHEDULE:
		if (strcmp(step_status, "done") == 0)
			return lsn_fail(st, LSN_ERR_STEP_DONE, NULL);
		if (strcmp(step_status, "skipped") == 0)
			return lsn_fail(st, LSN_ERR_STEP_SKIPPED, NULL);
		if (!pending)
			return lsn_fail(st, LSN_ERR_INTERNAL, "step in unknown status \"%s\"", step_status);
		if (!actor->is_assignee && !actor->is_coordinator)
			return lsn_fail(st, LSN_ERR_NOT_ASSIGNEE, NULL);
		return LSN_OK;
	case PATHWAY_REOPEN:
		if (pending)
			return lsn_fail(st, LSN_ERR_STEP_PENDING, NULL);
		if (strcmp(step_status, "done") != 0 && strcmp(step_status, "skipped") != 0)
			return lsn_fail(st, LSN_ERR_INTERNAL, "step in unknown status \"%s\"", step_status);
		if (!actor->is_coordinator)
			return lsn_fail(st, LSN_ERR_COORDINATOR_ONLY,
					"only a coordinator can reopen a completed or skipped step");
		return LSN_OK;
	}
	return lsn_fail(st, LSN_ERR_INTERNAL, NULL);
}
