/* measure_view.c — a case's measurements read from the decrypted thread,
 * their trend for people and their table for --json. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "concil_thread.h"
#include "day.h"
#include "measure_view.h"
#include "tr.h"

static int
by_time(const void *a, const void *b)
{
	const struct measure_point *x = a, *y = b;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

bool
measure_series_add(struct measure_series *s, int64_t seq, const struct measurement *m)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].seq == seq)
			return true;
	struct measure_entry *v = realloc(s->v, (s->n + 1) * sizeof *v);
	if (v == NULL)
		return false;
	s->v = v;
	struct measure_point *p = realloc(s->pts, (s->np + m->n) * sizeof *p);
	if (p == NULL)
		return false;
	s->pts = p;
	memset(&s->v[s->n], 0, sizeof s->v[s->n]);
	s->v[s->n].seq = seq;
	s->v[s->n++].m = *m;
	for (size_t i = 0; i < m->n; i++) {
		struct measure_point *q = &s->pts[s->np++];
		memset(q, 0, sizeof *q);
		snprintf(q->measure, sizeof q->measure, "%s", m->v[i].name);
		q->day = m->day;
		q->seq = seq;
		q->milli = m->v[i].milli;
	}
	qsort(s->pts, s->np, sizeof *s->pts, by_time);
	return true;
}

enum lsn_err
measure_series_load(struct e2e *e, const struct case_ctx *cc, struct measure_series *s,
		    struct lsn_status *st)
{
	static const char *const types[] = {MEASURE_TYPE, NULL};
	struct thread_docs d;
	memset(s, 0, sizeof *s);
	enum lsn_err err = thread_docs_load(e, cc->channel, types, &d, st);
	for (size_t i = 0; err == LSN_OK && i < d.n; i++) {
		struct measurement m;
		const char *c = json_string_value(json_object_get(d.v[i].content, "case"));
		if (!c || strcmp(c, cc->id_hex) != 0 || !measure_decode(d.v[i].content, &m))
			continue;
		if (!measure_series_add(s, d.v[i].seq, &m))
			err = lsn_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		else {
			s->v[s->n - 1].ts = d.v[i].ts;
			memcpy(s->v[s->n - 1].sender, d.v[i].sender, LSN_ID_BYTES);
		}
	}
	thread_docs_free(&d);
	return err;
}

void
measure_series_free(struct measure_series *s)
{
	free(s->v);
	free(s->pts);
	memset(s, 0, sizeof *s);
}

bool
measure_utf8(void)
{
	const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && v[0])
			return strcasestr(v, "UTF-8") != NULL || strcasestr(v, "utf8") != NULL;
	}
	return false;
}

/* The measures in the order they are shown. */
static const char *const shown[] = {"weight", "nyha", "systolic", "diastolic", "heart_rate",
				     "potassium", "creatinine", "phq9_total", "phq9_item9"};

static json_t *
number(int64_t milli)
{
	return milli % 1000 == 0 ? json_integer(milli / 1000) : json_real((double)milli / 1000.0);
}

json_t *
measure_series_json(const struct measure_series *s)
{
	json_t *out = json_object();
	for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
		json_t *list = json_array();
		for (size_t i = 0; i < s->np; i++) {
			char at[DAY_TEXT];
			if (strcmp(s->pts[i].measure, shown[k]) == 0)
				json_array_append_new(list, json_pack("{s:s, s:o, s:I}", "at",
					day_format(s->pts[i].day, at), "value", number(s->pts[i].milli),
					"seq", (json_int_t)s->pts[i].seq));
		}
		if (json_array_size(list))
			json_object_set_new(out, shown[k], list);
		else
			json_decref(list);
	}
	return out;
}

#define TREND_POINTS 20     /* in the sparkline */
#define TREND_LAST 3        /* values written out */

void
measure_series_print(FILE *f, const struct measure_series *s)
{
	if (s->np == 0)
		return;
	fputs(_("Measurements:\n"), f);
	bool ascii = !measure_utf8();
	for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
		int64_t values[TREND_POINTS];
		size_t idx[TREND_POINTS], n = 0, total = 0;
		for (size_t i = 0; i < s->np; i++) {
			if (strcmp(s->pts[i].measure, shown[k]) != 0)
				continue;
			total++;
			if (n == TREND_POINTS) {   /* keep the latest */
				memmove(values, values + 1, (n - 1) * sizeof *values);
				memmove(idx, idx + 1, (n - 1) * sizeof *idx);
				n--;
			}
			values[n] = s->pts[i].milli;
			idx[n++] = i;
		}
		if (n == 0)
			continue;
		char spark[TREND_POINTS * 3 + 1], name[40];
		const char *unit = measure_unit(shown[k]);
		measure_sparkline(values, n, ascii, spark, sizeof spark);
		snprintf(name, sizeof name, "%s%s%s%s", shown[k], unit[0] ? " (" : "", unit,
			 unit[0] ? ")" : "");
		fprintf(f, "  %-22s %s", name, spark);
		for (size_t pad = n; pad < TREND_POINTS; pad++)   /* one column per value */
			fputc(' ', f);
		fputc(' ', f);
		fprintf(f, ngettext("%zu value; last:", "%zu values; last:", total), total);
		for (size_t j = n > TREND_LAST ? n - TREND_LAST : 0; j < n; j++) {
			char v[24], at[DAY_TEXT];
			measure_format(values[j], v, sizeof v);
			fprintf(f, " %s (%s)%s", v, day_format(s->pts[idx[j]].day, at),
				j + 1 < n ? "," : "");
		}
		fputc('\n', f);
	}
}
