/* test_ident.c — RPPS/FINESS check digits, ids as hex, professions, roles,
 * organisation kinds and display-text validation (shared/ident.c). */
#include "testutil.h"

#include <sodium.h>

#include "ident.h"

/* ---- RPPS and FINESS ---------------------------------------------------------- */

static void
rpps_valid(void **state)
{
	const char *good[] = {"10101010105", "10000000009", "10123456781"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!lsn_rpps_valid(good[i]))
			fail_msg("valid RPPS %s rejected", good[i]);
}

static void
rpps_rejects(void **state)
{
	const char *bad[] = {
		"10101010106", "10101010100", "10000000000", "10123456782", /* check digit */
		"11101010105",                /* one digit changed: Luhn catches it */
		"01101010105",                /* adjacent transposition 10 -> 01 */
		"1010101010",  "1010101010",  /* 10 digits */
		"101010101050", "101010101051", /* 12 digits */
		"1010101010A", "A0101010105", "1010101010 ", " 10101010105", "10101-10105",
		"+0101010105", "1010101010\n", "", "１0101010105", /* fullwidth 1 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (lsn_rpps_valid(bad[i]))
			fail_msg("invalid RPPS \"%s\" accepted", bad[i]);
	assert_false(lsn_rpps_valid(NULL));
}

static void
rpps_single_digit_errors(void **state)
{
	/* Luhn detects every single-digit substitution */
	const char *base = "10123456781";
	char s[12];
	for (int pos = 0; pos < 11; pos++) {
		for (char d = '0'; d <= '9'; d++) {
			memcpy(s, base, 12);
			if (s[pos] == d)
				continue;
			s[pos] = d;
			if (lsn_rpps_valid(s))
				fail_msg("RPPS %s accepted", s);
		}
	}
}

static void
finess_valid(void **state)
{
	assert_true(lsn_finess_valid("450000005"));
	assert_true(lsn_finess_valid("750012346"));
}

static void
finess_rejects(void **state)
{
	const char *bad[] = {"450000006", "750012345", "45000000", "4500000050", "45000000A",
			     "2A0000005", "", " 45000000", "450000005 ", "-45000005"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (lsn_finess_valid(bad[i]))
			fail_msg("invalid FINESS \"%s\" accepted", bad[i]);
	assert_false(lsn_finess_valid(NULL));
	/* an RPPS is not a FINESS and the other way round */
	assert_false(lsn_finess_valid("10101010105"));
	assert_false(lsn_rpps_valid("450000005"));
}

/* ---- ids ------------------------------------------------------------------- */

static void
id_hex_roundtrip(void **state)
{
	for (int round = 0; round < 200; round++) {
		uint8_t id[LSN_ID_BYTES], back[LSN_ID_BYTES];
		char hex[LSN_ID_HEX + 1];
		lsn_id_random(id);
		memset(hex, 'X', sizeof hex);
		lsn_id_to_hex(id, hex);
		assert_int_equal(strlen(hex), LSN_ID_HEX);
		for (int i = 0; i < LSN_ID_HEX; i++)
			assert_true((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));
		assert_true(lsn_id_from_hex(hex, back));
		assert_memory_equal(id, back, LSN_ID_BYTES);
	}
	uint8_t id[LSN_ID_BYTES];
	char hex[LSN_ID_HEX + 1];
	fill_seq(id, sizeof id, 0xf0);
	lsn_id_to_hex(id, hex);
	assert_string_equal(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
}

static void
id_random_differs(void **state)
{
	uint8_t a[LSN_ID_BYTES], b[LSN_ID_BYTES];
	lsn_id_random(a);
	lsn_id_random(b);
	assert_memory_not_equal(a, b, LSN_ID_BYTES);
}

static void
id_hex_strict(void **state)
{
	uint8_t id[LSN_ID_BYTES];
	const char *bad[] = {
		"F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF", /* uppercase */
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeFf", /* one uppercase */
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfef",  /* 31 */
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0", /* 33 */
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfefg",
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfe:f",
		"f0f1f2f3-4f5f6f7f8f9fafbfcfdfeff",
		" 0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"0xf1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (lsn_id_from_hex(bad[i], id))
			fail_msg("bad id \"%s\" accepted", bad[i]);
	assert_false(lsn_id_from_hex(NULL, id));
	assert_true(lsn_id_from_hex("00000000000000000000000000000000", id));
}

/* ---- professions, organisation kinds --------------------------------------- */

static void
professions(void **state)
{
	const struct lsn_profession *p = lsn_profession_find("gp");
	assert_non_null(p);
	assert_string_equal(p->code, "gp");
	assert_string_equal(p->label_fr, "Médecin généraliste");
	assert_true(p->needs_rpps);
	p = lsn_profession_find("pharmacist");
	assert_non_null(p);
	assert_true(p->needs_rpps);
	/* outside the RPPS register (PROTOCOL.md: rpps is null for these) */
	const char *no_rpps[] = {"coordinator", "secretary", "social_worker"};
	for (size_t i = 0; i < 3; i++) {
		p = lsn_profession_find(no_rpps[i]);
		assert_non_null(p);
		assert_false(p->needs_rpps);
	}
	const char *must_exist[] = {"cardiologist", "psychiatrist", "nurse", "psychologist",
				    "hospital_doctor", "hospital_pharmacist"};
	for (size_t i = 0; i < sizeof must_exist / sizeof must_exist[0]; i++)
		assert_non_null(lsn_profession_find(must_exist[i]));

	assert_null(lsn_profession_find("GP"));
	assert_null(lsn_profession_find("g"));
	assert_null(lsn_profession_find("gp "));
	assert_null(lsn_profession_find(""));
	assert_null(lsn_profession_find("boss"));
	assert_null(lsn_profession_find(NULL));

	/* the table: codes unique, labels valid display text, each findable */
	size_t n = 0;
	for (; lsn_profession_at(n); n++) {
		const struct lsn_profession *a = lsn_profession_at(n);
		assert_ptr_equal(lsn_profession_find(a->code), a);
		assert_true(lsn_display_text_valid(a->label_fr, 128));
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(lsn_profession_at(j)->code, a->code);
	}
	assert_true(n >= 10);
	assert_null(lsn_profession_at(n));
	assert_null(lsn_profession_at((size_t)-1));
}

static void
org_kinds(void **state)
{
	const char *good[] = {"hospital", "cpts", "health_centre", "practice", "pharmacy",
			      "nursing_home", "home_care", "other"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(lsn_org_kind_valid(good[i]));
	assert_false(lsn_org_kind_valid("CPTS"));
	assert_false(lsn_org_kind_valid("cpts "));
	assert_false(lsn_org_kind_valid(""));
	assert_false(lsn_org_kind_valid("bank"));
	assert_false(lsn_org_kind_valid(NULL));
	size_t n = 0;
	for (; lsn_org_kind_at(n); n++)
		assert_true(lsn_org_kind_valid(lsn_org_kind_at(n)));
	assert_int_equal(n, sizeof good / sizeof good[0]);
}

/* ---- roles ----------------------------------------------------------------- */

static void
roles_roundtrip(void **state)
{
	char buf[64];
	for (unsigned roles = 1; roles < 32; roles++) {
		unsigned back = 0;
		lsn_roles_format(roles, buf, sizeof buf);
		if (!lsn_roles_parse(buf, &back) || back != roles)
			fail_msg("roles %u -> \"%s\" -> %u", roles, buf, back);
	}
	unsigned r = 0;
	assert_true(lsn_roles_parse("member", &r));
	assert_int_equal(r, LSN_ROLE_MEMBER);
	assert_true(lsn_roles_parse("admin,member,coordinator", &r));
	assert_int_equal(r, LSN_ROLE_ADMIN | LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR);
	/* canonical, fixed order */
	assert_string_equal(lsn_roles_format(r, buf, sizeof buf), "member,coordinator,admin");
	assert_string_equal(lsn_roles_format(LSN_ROLE_DISCHARGE | LSN_ROLE_MEMBER, buf, sizeof buf),
			    "member,discharge");
	assert_string_equal(lsn_roles_format(0, buf, sizeof buf), "");
	/* the territory role (every CPTS's cases), after admin in the canonical order */
	assert_true(lsn_roles_parse("territory,coordinator,member", &r));
	assert_int_equal(r, LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR | LSN_ROLE_TERRITORY);
	assert_int_equal(LSN_ROLE_TERRITORY, 16);
	assert_string_equal(lsn_roles_format(r | LSN_ROLE_ADMIN, buf, sizeof buf),
			    "member,coordinator,admin,territory");
	/* a short buffer never overflows and stays terminated; what is left is not
	 * a valid different role list (no role name is a prefix of another) */
	char small[12];
	memset(small, 'Z', sizeof small);
	lsn_roles_format(LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR, small, 10);
	assert_true(memchr(small, '\0', 10) != NULL);
	assert_int_equal(small[10], 'Z');
	assert_int_equal(strncmp(small, "member", 6), 0);
	if (lsn_roles_parse(small, &r))
		assert_int_equal(r, LSN_ROLE_MEMBER);
}

static void
roles_rejects(void **state)
{
	const char *bad[] = {"", "member,", ",member", "boss", "member,,admin", "Member",
			     "member, admin", " member", "member ", "mem", "memberx", ","};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned r = 99;
		if (lsn_roles_parse(bad[i], &r))
			fail_msg("roles \"%s\" accepted", bad[i]);
	}
	unsigned r = 99;
	assert_false(lsn_roles_parse(NULL, &r));
	assert_int_equal(r, 0);
}

/* ---- display text -------------------------------------------------------------- */

static void
display_text_accepts(void **state)
{
	const char *good[] = {
		"Dr Claire Martin",
		"Dr Cl\xc3\xa9mence L\xc3\xa9onard-\xc3\x89tienne", /* é, É */
		"Fran\xc3\xa7ois \xc5\x93uvre",                     /* ç, œ */
		"M\303\251decin g\xc3\xa9n\xc3\xa9raliste",      /* octal: \xa9d would be one escape */
		"\xe2\x82\xac 12",                                  /* € (3 bytes) */
		"\xf0\x9f\x98\x80",                                 /* U+1F600 (4 bytes) */
		"\xef\xbf\xbd",                                     /* U+FFFD */
		"\xf4\x8f\xbf\xbf",                                 /* U+10FFFF, the last */
		"\xc2\xa0",                                         /* U+00A0, first after C1 */
		"a",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!lsn_display_text_valid(good[i], 128))
			fail_msg("good text %zu rejected", i);
}

static void
display_text_rejects(void **state)
{
	const char *bad[] = {
		"",                      /* empty */
		"a\tb", "a\nb", "a\rb", "\x01", "\x1f", "a\x7f""b", /* C0, DEL */
		"\xc2\x80", "\xc2\x85", "\xc2\x9f",               /* C1 controls */
		"\xc0\xaf", "\xc1\xbf",                           /* overlong 2-byte */
		"\xe0\x80\xaf", "\xe0\x9f\xbf",                   /* overlong 3-byte */
		"\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",           /* overlong 4-byte */
		"\xed\xa0\x80", "\xed\xbf\xbf",                   /* surrogates */
		"\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf",           /* above U+10FFFF */
		"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", /* 5/6-byte forms */
		"\xfe", "\xff",
		"\xc3", "a\xc3", "\xe2\x82", "\xf0\x9f\x98",       /* truncated */
		"\xc3(", "\xe2(\xac", "\xf0\x9f(\x80",            /* bad continuation */
		"\x80", "a\xbf""b",                               /* lone continuation */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (lsn_display_text_valid(bad[i], 128))
			fail_msg("bad text %zu accepted", i);
	assert_false(lsn_display_text_valid(NULL, 128));
}

static void
display_text_length(void **state)
{
	char s[130];
	memset(s, 'a', 128);
	s[128] = '\0';
	assert_true(lsn_display_text_valid(s, 128));
	s[128] = 'a';
	s[129] = '\0';
	assert_false(lsn_display_text_valid(s, 128));
	/* a multi-byte character straddling the limit counts in bytes */
	memset(s, 'a', 127);
	s[127] = '\xc3';
	s[128] = '\xa9';
	s[129] = '\0';
	assert_false(lsn_display_text_valid(s, 128));
	assert_true(lsn_display_text_valid(s, 129));
	assert_false(lsn_display_text_valid("ab", 1));
	assert_false(lsn_display_text_valid("a", 0));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rpps_valid),
		cmocka_unit_test(rpps_rejects),
		cmocka_unit_test(rpps_single_digit_errors),
		cmocka_unit_test(finess_valid),
		cmocka_unit_test(finess_rejects),
		cmocka_unit_test(id_hex_roundtrip),
		cmocka_unit_test(id_random_differs),
		cmocka_unit_test(id_hex_strict),
		cmocka_unit_test(professions),
		cmocka_unit_test(org_kinds),
		cmocka_unit_test(roles_roundtrip),
		cmocka_unit_test(roles_rejects),
		cmocka_unit_test(display_text_accepts),
		cmocka_unit_test(display_text_rejects),
		cmocka_unit_test(display_text_length),
	};
	return cmocka_run_group_tests_name("ident", tests, NULL, NULL);
}
