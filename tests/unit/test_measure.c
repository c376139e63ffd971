/* test_measure.c — structured measurements (client/core/measure.c): what
 * the user may type and the errors, the message both ways (a tampered one
 * refused), the template's thresholds over a series, the sparkline. Every
 * expected figure is computed by hand here (values in thousandths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "measure.h"

static bool
parse(const char *kind, const char *a, const char *b, struct measurement *m, char *why)
{
	const char *args[2] = {a, b};
	return measure_parse(kind, args, b ? 2 : (a ? 1 : 0), 20000, m, why, 200);
}

static void
test_decimal(void **state)
{
	(void)state;
	int64_t v = 0;
	assert_true(measure_decimal("82.5", &v));
	assert_int_equal(v, 82500);
	assert_true(measure_decimal("82,5", &v));         /* a French decimal comma */
	assert_int_equal(v, 82500);
	assert_true(measure_decimal("2.125", &v));
	assert_int_equal(v, 2125);
	assert_true(measure_decimal("7", &v));
	assert_int_equal(v, 7000);
	const char *bad[] = {"", "-1", "1.", ".5", "2.1255", "1e3", "8 2", "0x10", "82.5kg",
			     "1234567890"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(measure_decimal(bad[i], &v));
	char out[24];
	measure_format(82500, out, sizeof out);
	assert_string_equal(out, "82.5");
	measure_format(2125, out, sizeof out);
	assert_string_equal(out, "2.125");
	measure_format(4000, out, sizeof out);
	assert_string_equal(out, "4");
	measure_format(5050, out, sizeof out);
	assert_string_equal(out, "5.05");
}

static void
test_parse_ranges(void **state)
{
	(void)state;
	struct measurement m;
	char why[200];
	assert_true(parse("weight", "82.5", NULL, &m, why));
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0].name, "weight");
	assert_int_equal(m.v[0].milli, 82500);
	assert_int_equal(m.day, 20000);
	assert_true(parse("weight", "350", NULL, &m, why));
	assert_false(parse("weight", "350.001", NULL, &m, why));
	assert_false(parse("weight", "19.9", NULL, &m, why));
	assert_non_null(strstr(why, "from 20 to 350 kg"));
	assert_false(parse("weight", "80", "81", &m, why));
	assert_non_null(strstr(why, "one value"));
	assert_true(parse("potassium", "5.6", NULL, &m, why));
	assert_int_equal(m.v[0].milli, 5600);
	assert_false(parse("potassium", "10.1", NULL, &m, why));
	assert_non_null(strstr(why, "mmol/L"));
	assert_false(parse("potassium", "0.9", NULL, &m, why));
	assert_true(parse("creatinine", "270", NULL, &m, why));
	assert_int_equal(m.v[0].milli, 270000);
	assert_false(parse("creatinine", "9", NULL, &m, why));
	assert_true(parse("nyha", "III", NULL, &m, why));
	assert_int_equal(m.v[0].milli, 3000);
	assert_true(parse("nyha", "4", NULL, &m, why));
	assert_int_equal(m.v[0].milli, 4000);
	assert_false(parse("nyha", "V", NULL, &m, why));
	assert_false(parse("nyha", "0", NULL, &m, why));
	assert_non_null(strstr(why, "I, II, III or IV"));
	assert_true(parse("bp", "130/80", "72", &m, why));
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].name, "systolic");
	assert_int_equal(m.v[0].milli, 130000);
	assert_string_equal(m.v[1].name, "diastolic");
	assert_int_equal(m.v[1].milli, 80000);
	assert_string_equal(m.v[2].name, "heart_rate");
	assert_int_equal(m.v[2].milli, 72000);
	assert_false(parse("bp", "80/130", "72", &m, why));
	assert_non_null(strstr(why, "below the systolic"));
	assert_false(parse("bp", "130-80", "72", &m, why));
	assert_false(parse("bp", "130/80.5", "72", &m, why));
	assert_non_null(strstr(why, "whole number"));
	assert_false(parse("bp", "130/80", "251", &m, why));
	assert_false(parse("bp", "130/80", NULL, &m, why));
	assert_false(parse("temperature", "37", NULL, &m, why));
	assert_non_null(strstr(why, "unknown measurement"));
}

static void
test_parse_phq9(void **state)
{
	(void)state;
	struct measurement m;
	char why[200];
	const char *answers[] = {"1", "0", "2", "1", "0", "0", "1", "0", "1"};
	assert_true(measure_parse("phq9", answers, 9, 20000, &m, why, sizeof why));
	/* 1+0+2+1+0+0+1+0+1 = 6; item 9 = 1 */
	assert_string_equal(m.v[0].name, "phq9_total");
	assert_int_equal(m.v[0].milli, 6000);
	assert_string_equal(m.v[1].name, "phq9_item9");
	assert_int_equal(m.v[1].milli, 1000);
	assert_false(measure_parse("phq9", answers, 8, 20000, &m, why, sizeof why));
	assert_non_null(strstr(why, "nine answers"));
	const char *four[] = {"1", "0", "2", "1", "4", "0", "1", "0", "1"};
	assert_false(measure_parse("phq9", four, 9, 20000, &m, why, sizeof why));
	assert_non_null(strstr(why, "answer 5"));
	const char *max[] = {"3", "3", "3", "3", "3", "3", "3", "3", "3"};
	assert_true(measure_parse("phq9", max, 9, 20000, &m, why, sizeof why));
	assert_int_equal(m.v[0].milli, 27000);
}

static void
test_message_both_ways(void **state)
{
	(void)state;
	struct measurement m, back;
	char why[200];
	assert_true(parse("bp", "130/80", "72", &m, why));
	json_t *j = measure_encode(&m, "00112233445566778899aabbccddeeff");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "measurement");
	assert_string_equal(json_string_value(json_object_get(j, "at")), "2024-10-04"); /* day 20000 */
	assert_true(measure_decode(j, &back));
	assert_int_equal(back.n, 3);
	assert_int_equal(back.v[1].milli, 80000);
	assert_int_equal(back.day, 20000);
	json_decref(j);

	assert_true(parse("weight", "82.5", NULL, &m, why));
	j = measure_encode(&m, "00112233445566778899aabbccddeeff");
	assert_true(measure_decode(j, &back));
	assert_int_equal(back.v[0].milli, 82500);
	/* tampered: out of range, an extra value, another version */
	json_object_set_new(json_object_get(j, "values"), "weight", json_real(2000.0));
	assert_false(measure_decode(j, &back));
	json_object_set_new(json_object_get(j, "values"), "weight", json_real(82.5));
	json_object_set_new(json_object_get(j, "values"), "potassium", json_real(4.0));
	assert_false(measure_decode(j, &back));
	json_object_del(json_object_get(j, "values"), "potassium");
	json_object_set_new(j, "version", json_integer(2));
	assert_false(measure_decode(j, &back));
	json_decref(j);

	const char *answers[] = {"0", "0", "0", "0", "0", "0", "0", "0", "2"};
	assert_true(measure_parse("phq9", answers, 9, 20000, &m, why, sizeof why));
	j = measure_encode(&m, "00112233445566778899aabbccddeeff");
	assert_true(measure_decode(j, &back));
	assert_int_equal(back.v[1].milli, 2000);
	/* a total that is not the sum of the items is refused */
	json_object_set_new(json_object_get(j, "values"), "phq9_total", json_integer(20));
	assert_false(measure_decode(j, &back));
	json_decref(j);
}

static struct measure_threshold
threshold(const char *measure, const char *rule, double amount, int days, const char *kind)
{
	json_t *o = json_pack("{s:s, s:s, s:f, s:s}", "measure", measure, "rule", rule, "amount",
			      amount, "alert_kind", kind);
	json_object_set_new(o, "days", days ? json_integer(days) : json_null());
	struct measure_threshold t;
	assert_true(measure_threshold_from_json(o, &t));
	json_decref(o);
	return t;
}

static struct measure_point
pt(const char *measure, int64_t day, int64_t seq, int64_t milli)
{
	struct measure_point p = {.day = day, .seq = seq, .milli = milli};
	snprintf(p.measure, sizeof p.measure, "%s", measure);
	return p;
}

static void
test_weight_rise(void **state)
{
	(void)state;
	struct measure_threshold t = threshold("weight", "rise", 2.0, 3, "weight_gain");
	assert_int_equal(t.amount_milli, 2000);
	assert_int_equal(t.days, 3);
	/* +2.0 kg in exactly 3 days: 80.0 on day 100, 82.0 on day 103 */
	struct measure_point a[] = {pt("weight", 100, 5, 80000), pt("weight", 103, 9, 82000)};
	assert_true(measure_crosses(&t, a, 2, &a[1]));
	assert_false(measure_crosses(&t, a, 2, &a[0]));     /* nothing before the first */
	/* +1.9 kg in 3 days */
	struct measure_point b[] = {pt("weight", 100, 5, 80000), pt("weight", 103, 9, 81900)};
	assert_false(measure_crosses(&t, b, 2, &b[1]));
	/* +2.5 kg over 4 days */
	struct measure_point c[] = {pt("weight", 100, 5, 80000), pt("weight", 104, 9, 82500)};
	assert_false(measure_crosses(&t, c, 2, &c[1]));
	/* 80.0 (day 100), 81.0 (day 101), 82.5 (day 104): +1.5 in 3 days, +2.5 in 4 */
	struct measure_point d[] = {pt("weight", 100, 5, 80000), pt("weight", 101, 6, 81000),
				    pt("weight", 104, 9, 82500)};
	assert_false(measure_crosses(&t, d, 3, &d[2]));
	/* a dip then a rise: 80.0, 79.0, 81.0 on days 102..104: +2.0 in 1 day */
	struct measure_point e[] = {pt("weight", 102, 5, 80000), pt("weight", 103, 6, 79000),
				    pt("weight", 104, 9, 81000)};
	assert_true(measure_crosses(&t, e, 3, &e[2]));
	/* a loss never crosses */
	struct measure_point f[] = {pt("weight", 100, 5, 84000), pt("weight", 101, 9, 80000)};
	assert_false(measure_crosses(&t, f, 2, &f[1]));
	/* same day: the earlier message is the earlier value; another measure is ignored */
	struct measure_point g[] = {pt("weight", 100, 5, 80000), pt("potassium", 100, 6, 1000),
				    pt("weight", 100, 7, 82000)};
	assert_true(measure_crosses(&t, g, 3, &g[2]));
	assert_false(measure_crosses(&t, g, 3, &g[0]));
	/* back-dated entry (seq 9 on day 99): compared with what came before it in time only */
	struct measure_point h[] = {pt("weight", 100, 5, 80000), pt("weight", 99, 9, 83000)};
	assert_false(measure_crosses(&t, h, 2, &h[1]));
}

static void
test_levels(void **state)
{
	(void)state;
	struct measure_threshold hyper = threshold("potassium", "above", 5.5, 0, "hyperkalaemia");
	struct measure_threshold hypo = threshold("potassium", "below", 3.5, 0, "hypokalaemia");
	struct measure_point p55 = pt("potassium", 1, 1, 5500), p56 = pt("potassium", 1, 2, 5600),
			     p35 = pt("potassium", 1, 3, 3500), p34 = pt("potassium", 1, 4, 3400);
	assert_false(measure_crosses(&hyper, &p55, 1, &p55));   /* 5.5 is not above 5.5 */
	assert_true(measure_crosses(&hyper, &p56, 1, &p56));
	assert_false(measure_crosses(&hypo, &p35, 1, &p35));    /* 3.5 is not below 3.5 */
	assert_true(measure_crosses(&hypo, &p34, 1, &p34));
	assert_false(measure_crosses(&hypo, &p56, 1, &p56));
}

static void
test_phq9_evaluate(void **state)
{
	(void)state;
	struct measure_threshold t[2] = {threshold("phq9_item9", "at_least", 1, 0, "suicide_risk"),
					 threshold("phq9_total", "at_least", 20, 0, "severe_depression")};
	char kinds[4][MEASURE_NAME_MAX];
	/* entry 7: item 9 = 1, total 19 → suicide_risk only */
	struct measure_point a[] = {pt("phq9_total", 10, 7, 19000), pt("phq9_item9", 10, 7, 1000)};
	assert_int_equal(measure_evaluate(t, 2, a, 2, 7, kinds, 4), 1);
	assert_string_equal(kinds[0], "suicide_risk");
	/* item 9 = 0, total 20 → severe_depression only */
	struct measure_point b[] = {pt("phq9_total", 10, 7, 20000), pt("phq9_item9", 10, 7, 0)};
	assert_int_equal(measure_evaluate(t, 2, b, 2, 7, kinds, 4), 1);
	assert_string_equal(kinds[0], "severe_depression");
	/* item 9 = 0, total 19 → nothing */
	struct measure_point c[] = {pt("phq9_total", 10, 7, 19000), pt("phq9_item9", 10, 7, 0)};
	assert_int_equal(measure_evaluate(t, 2, c, 2, 7, kinds, 4), 0);
	/* both, in the thresholds' order */
	struct measure_point d[] = {pt("phq9_total", 10, 7, 24000), pt("phq9_item9", 10, 7, 2000)};
	assert_int_equal(measure_evaluate(t, 2, d, 2, 7, kinds, 4), 2);
	assert_string_equal(kinds[0], "suicide_risk");
	assert_string_equal(kinds[1], "severe_depression");
	/* an older entry that crossed does not raise again with a new one (seq 8) */
	struct measure_point e[] = {pt("phq9_total", 10, 7, 24000), pt("phq9_item9", 10, 7, 2000),
				    pt("phq9_total", 11, 8, 5000), pt("phq9_item9", 11, 8, 0)};
	assert_int_equal(measure_evaluate(t, 2, e, 4, 8, kinds, 4), 0);
	/* two thresholds of one kind: the kind once */
	struct measure_threshold dup[2] = {threshold("potassium", "above", 5.5, 0, "potassium"),
					   threshold("potassium", "below", 3.5, 0, "potassium")};
	struct measure_point f[] = {pt("potassium", 1, 3, 6000)};
	assert_int_equal(measure_evaluate(dup, 2, f, 1, 3, kinds, 4), 1);
}

static void
test_threshold_json(void **state)
{
	(void)state;
	struct measure_threshold t;
	json_t *o = json_pack("{s:s, s:s, s:f, s:n, s:s}", "measure", "weight", "rule", "rise",
			      "amount", 2.0, "days", "alert_kind", "weight_gain");
	assert_false(measure_threshold_from_json(o, &t));       /* a rise needs days */
	json_object_set_new(o, "days", json_integer(3));
	assert_true(measure_threshold_from_json(o, &t));
	json_object_set_new(o, "rule", json_string("around"));
	assert_false(measure_threshold_from_json(o, &t));
	json_object_set_new(o, "rule", json_string("above"));
	json_object_set_new(o, "measure", json_string("temperature"));
	assert_false(measure_threshold_from_json(o, &t));
	json_object_set_new(o, "measure", json_string("weight"));
	json_object_set_new(o, "amount", json_string("2"));
	assert_false(measure_threshold_from_json(o, &t));
	json_decref(o);
}

static void
test_sparkline(void **state)
{
	(void)state;
	char out[64];
	/* 1, 2, 3 over 5 ASCII levels 0..4: 0, 2, 4 */
	int64_t a[] = {1000, 2000, 3000};
	measure_sparkline(a, 3, true, out, sizeof out);
	assert_string_equal(out, "_-#");
	/* 0, 10, 70 over 8 blocks 0..7: 0, round(1.0) = 1, 7 */
	int64_t b[] = {0, 10, 70};
	measure_sparkline(b, 3, false, out, sizeof out);
	assert_string_equal(out, "▁▂█");
	/* all equal: the middle */
	int64_t c[] = {5, 5};
	measure_sparkline(c, 2, false, out, sizeof out);
	assert_string_equal(out, "▄▄");
	measure_sparkline(c, 2, true, out, sizeof out);
	assert_string_equal(out, "--");
	/* cut to fit, never half a character: 7 bytes hold two 3-byte blocks */
	measure_sparkline(b, 3, false, out, 7);
	assert_string_equal(out, "▁▂");
	measure_sparkline(a, 0, true, out, sizeof out);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_parse_ranges),
		cmocka_unit_test(test_parse_phq9),
		cmocka_unit_test(test_message_both_ways),
		cmocka_unit_test(test_weight_rise),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_phq9_evaluate),
		cmocka_unit_test(test_threshold_json),
		cmocka_unit_test(test_sparkline),
	};
	return cmocka_run_group_tests_name("measure", tests, NULL, NULL);
}
