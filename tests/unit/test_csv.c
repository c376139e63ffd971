/* test_csv.c — the CLI's CSV writer (client/cli/csv.c), both forms, byte for
 * byte: the standard form (',' and '.', no BOM), the French form (BOM
 * EF BB BF, ';', decimal comma), quoting of the separator, quotes and line
 * breaks, numbers and texts that only look like numbers, and the recoding
 * of a standard CSV text (the circle aggregates) into either form. Every
 * expected output is written out by hand here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

/* What w wrote, as a string (freed by the caller). */
struct sink {
	FILE *f;
	char *buf;
	size_t len;
};

static void
sink_open(struct sink *s)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	assert_non_null(s->f);
}

static void
sink_is(struct sink *s, const char *want)
{
	fclose(s->f);
	assert_int_equal(s->len, strlen(want));
	assert_memory_equal(s->buf, want, s->len);
	free(s->buf);
}

/* One header row and two data rows, as cmd_report.c writes them. */
static void
rows(struct csv_out *w)
{
	csv_cell(w, "id");
	csv_cell(w, "label");
	csv_cell(w, "value");
	csv_cell(w, "target");
	csv_row_end(w);
	csv_cell(w, "1a");
	csv_cell(w, "Notices acknowledged; within 24 h, \"J0\"");
	csv_number(w, "66.7");
	csv_number(w, ">= 90.5");
	csv_row_end(w);
	csv_cell(w, "3b:heart_failure");
	csv_cell(w, "v1.2, 2 lines\nhere");
	csv_number(w, "-12");
	csv_number(w, "");
	csv_row_end(w);
}

static void
standard_form(void **state)
{
	(void)state;
	struct sink s;
	struct csv_out w;
	sink_open(&s);
	csv_start(&w, s.f, false);
	rows(&w);
	sink_is(&s, "id,label,value,target\n"
		    "1a,\"Notices acknowledged; within 24 h, \"\"J0\"\"\",66.7,>= 90.5\n"
		    "3b:heart_failure,\"v1.2, 2 lines\nhere\",-12,\n");
}

static void
french_form(void **state)
{
	(void)state;
	struct sink s;
	struct csv_out w;
	sink_open(&s);
	csv_start(&w, s.f, true);
	rows(&w);
	/* the BOM; ';' quoted, ',' not; a decimal comma in numbers only (the
	 * "v1.2" of a text stays) */
	sink_is(&s, "\xEF\xBB\xBF"
		    "id;label;value;target\n"
		    "1a;\"Notices acknowledged; within 24 h, \"\"J0\"\"\";66,7;>= 90,5\n"
		    "3b:heart_failure;\"v1.2, 2 lines\nhere\";-12;\n");
}

static void
number_edges(void **state)
{
	(void)state;
	struct sink s;
	struct csv_out w;
	sink_open(&s);
	csv_start(&w, s.f, true);
	csv_number(&w, "1.");    /* no digit after: not a decimal point */
	csv_number(&w, ".5");    /* no digit before */
	csv_number(&w, "1.2.3"); /* each '.' between digits */
	csv_number(&w, "0.05");
	csv_row_end(&w);
	sink_is(&s, "\xEF\xBB\xBF" "1.;.5;1,2,3;0,05\n");
}

static const char AGG[] = "dimension,key,count,share\n"
			  "atc_class,C03,2,66.7\n"
			  "type,\"omission, dose\",1,33.3\n"
			  "intent,v2.0,3,100\n"
			  "total,,3,\r\n";

static void
recode_standard(void **state)
{
	(void)state;
	struct sink s;
	struct csv_out w;
	sink_open(&s);
	csv_start(&w, s.f, false);
	assert_true(csv_recode(&w, AGG));
	/* the same cells; the quoted cell quoted again; CRLF becomes LF */
	sink_is(&s, "dimension,key,count,share\n"
		    "atc_class,C03,2,66.7\n"
		    "type,\"omission, dose\",1,33.3\n"
		    "intent,v2.0,3,100\n"
		    "total,,3,\n");
}

static void
recode_french(void **state)
{
	(void)state;
	struct sink s;
	struct csv_out w;
	sink_open(&s);
	csv_start(&w, s.f, true);
	assert_true(csv_recode(&w, AGG));
	/* numbers get the decimal comma, "v2.0" (a text) does not; the quoted
	 * text is not quoted any more (no ';' in it) */
	sink_is(&s, "\xEF\xBB\xBF"
		    "dimension;key;count;share\n"
		    "atc_class;C03;2;66,7\n"
		    "type;omission, dose;1;33,3\n"
		    "intent;v2.0;3;100\n"
		    "total;;3;\n");
}

static void
recode_unterminated(void **state)
{
	(void)state;
	struct sink s;
	struct csv_out w;
	sink_open(&s);
	csv_start(&w, s.f, false);
	assert_false(csv_recode(&w, "a,\"open\nb"));
	sink_is(&s, "a,\"open\nb\"\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(standard_form),
		cmocka_unit_test(french_form),
		cmocka_unit_test(number_edges),
		cmocka_unit_test(recode_standard),
		cmocka_unit_test(recode_french),
		cmocka_unit_test(recode_unterminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
