/* test_notice.c — the discharge notice checks of the client core
 * (client/core/notice.c): every field of the lettre de liaison accepted,
 * the code lists of the modes of admission and discharge, the duration of a
 * discharge treatment required, and each date of an entry checked against
 * the stay, every problem reported at once with its field. The notice is
 * written to a temporary file, as liaison discharge --notice reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "notice.h"

#define DISCHARGE "2026-11-23"

/* A complete notice: stay 2026-11-16 → 2026-11-23, every optional field. */
static json_t *
base_notice(void)
{
	json_error_t jerr;
	json_t *n = json_loads(
		"{\"patient\":{\"family_name\":\"LEMAIRE\",\"given_names\":\"Odette\","
		"  \"birth_date\":\"1948-03-12\",\"sex\":\"F\",\"ins\":\"248034523405672\"},"
		" \"gp\":{\"name\":\"Dr Claire Martin\",\"rpps\":\"10101010105\"},"
		" \"referring_doctor\":{\"name\":\"Dr Louis Petit\",\"rpps\":\"10345678907\"},"
		" \"hospital_doctor\":{\"name\":\"Dr Hélène Roux\"},"
		" \"establishment\":{\"name\":\"CHR Orléans\",\"finess\":\"750012346\"},"
		" \"admission_date\":\"2026-11-16\",\"admission_mode\":\"emergency\","
		" \"discharge_date\":\"" DISCHARGE "\",\"discharge_mode\":\"transfer\","
		" \"discharge_destination\":\"SMR Les Tilleuls\","
		" \"reason_for_admission\":\"Décompensation cardiaque\","
		" \"allergies\":[\"Latex\"],"
		" \"stay_summary\":{\"summary\":\"Déplétion\",\"adverse_events\":[],"
		"  \"resistant_organisms\":[],\"blood_products\":[],\"implanted_devices\":[]},"
		" \"discharge_treatments\":[{\"drug\":\"furosémide\",\"atc\":\"C03CA01\","
		"  \"dose\":\"40 mg\",\"frequency\":\"matin\",\"duration\":\"1 mois\","
		"  \"end_date\":\"2026-12-23\",\"route\":\"orale\",\"change\":\"modified\"}],"
		" \"stopped_treatments\":[{\"drug\":\"diltiazem\",\"atc\":\"C08DB01\","
		"  \"reason\":\"FEVG altérée\",\"replaced_by\":\"bisoprolol\",\"date\":\"2026-11-17\"}],"
		" \"results_awaited\":[{\"test\":\"Kaliémie\",\"expected_by\":\"2026-11-30\"}],"
		" \"follow_up\":{\"planned_acts\":[{\"act\":\"Consultation\",\"date\":\"2026-11-30\"}],"
		"  \"recommendations\":\"Régime peu salé\",\"monitoring\":\"Poids\"}}",
		0, &jerr);
	assert_non_null(n);
	return n;
}

struct problems {
	size_t n;
	char text[16][400];
};

static void
collect(void *arg, const char *problem)
{
	struct problems *p = arg;
	if (p->n < 16)
		snprintf(p->text[p->n], sizeof p->text[0], "%s", problem);
	p->n++;
}

static bool
has(const struct problems *p, const char *words)
{
	for (size_t i = 0; i < p->n && i < 16; i++)
		if (strstr(p->text[i], words))
			return true;
	return false;
}

/* Check n (its reference is stolen) as the file "notice.json". */
static size_t
check(json_t *n, struct problems *p)
{
	char path[] = "/tmp/lsn-notice-unit-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char *text = json_dumps(n, 0);
	assert_non_null(text);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	free(text);
	json_decref(n);
	memset(p, 0, sizeof *p);
	json_t *out = NULL;
	size_t problems = notice_load(path, NULL, &out, collect, p);
	unlink(path);
	assert_int_equal(problems, p->n);
	assert_true((problems == 0) == (out != NULL));
	json_decref(out);
	return problems;
}

static void
set(json_t *n, const char *list, size_t i, const char *key, json_t *value)
{
	json_t *obj = list ? json_array_get(json_object_get(n, list), i) : n;
	assert_non_null(obj);
	json_object_set_new(obj, key, value);
}

static void
test_every_field(void **state)
{
	(void)state;
	struct problems p;
	assert_int_equal(check(base_notice(), &p), 0);
}

static void
test_modes(void **state)
{
	(void)state;
	struct problems p;
	const char *admission[] = {"emergency", "scheduled", "transfer", "other"};
	const char *discharge[] = {"home", "home_with_care", "nursing_home", "transfer", "other"};
	for (size_t i = 0; i < 4; i++) {
		json_t *n = base_notice();
		set(n, NULL, 0, "admission_mode", json_string(admission[i]));
		assert_int_equal(check(n, &p), 0);
	}
	for (size_t i = 0; i < 5; i++) {
		json_t *n = base_notice();
		set(n, NULL, 0, "discharge_mode", json_string(discharge[i]));
		assert_int_equal(check(n, &p), 0);
	}
	json_t *n = base_notice();
	set(n, NULL, 0, "admission_mode", json_string("Emergency"));      /* codes are exact */
	set(n, NULL, 0, "discharge_mode", json_string("domicile"));
	assert_int_equal(check(n, &p), 2);
	assert_true(has(&p, "admission_mode: \"Emergency\" is not one of emergency, scheduled, "
			"transfer, other"));
	assert_true(has(&p, "discharge_mode: \"domicile\" is not one of home, home_with_care, "
			"nursing_home, transfer, other"));
	/* a transfer names its destination; other modes need not */
	n = base_notice();
	json_object_del(n, "discharge_destination");
	assert_int_equal(check(n, &p), 1);
	assert_true(has(&p, "discharge_destination: missing: with discharge_mode transfer"));
	n = base_notice();
	json_object_del(n, "discharge_destination");
	set(n, NULL, 0, "discharge_mode", json_string("home"));
	assert_int_equal(check(n, &p), 0);
	/* and every one of them is optional */
	n = base_notice();
	json_object_del(n, "discharge_destination");
	json_object_del(n, "discharge_mode");
	json_object_del(n, "admission_mode");
	json_object_del(n, "allergies");
	assert_int_equal(check(n, &p), 0);
}

static void
test_treatment_fields(void **state)
{
	(void)state;
	struct problems p;
	json_t *n = base_notice();
	json_object_del(json_array_get(json_object_get(n, "discharge_treatments"), 0), "duration");
	assert_int_equal(check(n, &p), 1);
	assert_true(has(&p, "discharge_treatments[0].duration: missing: add how long to take it"));
	n = base_notice();
	set(n, "discharge_treatments", 0, "end_date", json_string("23/12/2026"));
	set(n, "stopped_treatments", 0, "atc", json_string("C8DB01"));
	set(n, "stopped_treatments", 0, "replaced_by", json_string(""));
	set(n, NULL, 0, "allergies", json_pack("[s]", ""));
	set(n, "discharge_treatments", 0, "posologie", json_string("x"));
	assert_int_equal(check(n, &p), 5);
	assert_true(has(&p, "discharge_treatments[0].end_date: \"23/12/2026\" is not a date"));
	assert_true(has(&p, "stopped_treatments[0].atc: \"C8DB01\" is not an ATC code"));
	assert_true(has(&p, "stopped_treatments[0].replaced_by: empty"));
	assert_true(has(&p, "allergies[0]: expected a non-empty line"));
	assert_true(has(&p, "discharge_treatments[0].posologie: unknown field"));
}

/* Each date of an entry against the stay 2026-11-16 → 2026-11-23. */
static void
test_dates_against_the_stay(void **state)
{
	(void)state;
	struct problems p;
	struct {
		const char *list, *key, *day, *words;
	} bad[] = {
		{"results_awaited", "expected_by", "2026-11-15",
		 "results_awaited[0].expected_by: 2026-11-15 is before admission_date"},
		{"discharge_treatments", "end_date", "2026-11-22",
		 "discharge_treatments[0].end_date: 2026-11-22 is before discharge_date"},
		{"stopped_treatments", "date", "2026-11-15",
		 "stopped_treatments[0].date: 2026-11-15 is before admission_date"},
		{"stopped_treatments", "date", "2026-11-24",
		 "stopped_treatments[0].date: 2026-11-24 is after discharge_date"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *n = base_notice();
		set(n, bad[i].list, 0, bad[i].key, json_string(bad[i].day));
		assert_int_equal(check(n, &p), 1);
		assert_true(has(&p, bad[i].words));
	}
	json_t *n = base_notice();
	json_t *act = json_array_get(json_object_get(json_object_get(n, "follow_up"),
						     "planned_acts"), 0);
	json_object_set_new(act, "date", json_string("2026-11-22"));
	assert_int_equal(check(n, &p), 1);
	assert_true(has(&p, "follow_up.planned_acts[0].date: 2026-11-22 is before discharge_date"));

	/* the bounds themselves are inside the stay */
	n = base_notice();
	set(n, "results_awaited", 0, "expected_by", json_string("2026-11-16"));
	set(n, "discharge_treatments", 0, "end_date", json_string(DISCHARGE));
	set(n, "stopped_treatments", 0, "date", json_string("2026-11-16"));
	act = json_array_get(json_object_get(json_object_get(n, "follow_up"), "planned_acts"), 0);
	json_object_set_new(act, "date", json_string(DISCHARGE));
	assert_int_equal(check(n, &p), 0);
	n = base_notice();
	set(n, "stopped_treatments", 0, "date", json_string(DISCHARGE));
	assert_int_equal(check(n, &p), 0);

	/* all at once, with a problem elsewhere too */
	n = base_notice();
	set(n, "results_awaited", 0, "expected_by", json_string("2026-11-01"));
	set(n, "discharge_treatments", 0, "end_date", json_string("2026-11-20"));
	set(n, "stopped_treatments", 0, "date", json_string("2026-12-01"));
	json_object_del(json_object_get(n, "patient"), "given_names");
	assert_int_equal(check(n, &p), 4);
	assert_true(has(&p, "patient.given_names: missing"));
	assert_true(has(&p, "results_awaited[0].expected_by"));
	assert_true(has(&p, "discharge_treatments[0].end_date"));
	assert_true(has(&p, "stopped_treatments[0].date"));
	/* each says what to do */
	assert_true(has(&p, "check the date"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_treatment_fields),
		cmocka_unit_test(test_dates_against_the_stay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
