/* test_seal.c — the client's local sealing (CRYPTO.md §7): the Argon2id
 * local key against a vector from the reference argon2 tool, sealing round
 * trip, every way an item must fail to open, and the database subkey
 * against a vector computed with Python's hashlib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "seal.h"

/* Expected key computed with the reference implementation (Debian package
 * argon2), independently of libsodium:
 *   echo -n "correct horse battery staple" |
 *     argon2 liaison-salt-16b -id -t 2 -k 65536 -p 1 -l 32 -r
 * (t = OPSLIMIT_INTERACTIVE, k = MEMLIMIT_INTERACTIVE in KiB, p = 1) */
static const char expected_key_hex[] =
	"2facd173d49584269b957282a662abe5d0ea48643b3c9660ef1415e7538c6894";

static void
fixed_kdf(struct seal_kdf *kdf)
{
	seal_kdf_new(kdf);
	memcpy(kdf->salt, "liaison-salt-16b", SEAL_SALTBYTES);
}

static void
test_kdf_vector(void **state)
{
	struct seal_kdf kdf;
	struct lsn_status st = {0};
	uint8_t *key = NULL;
	char hex[2 * SEAL_KEYBYTES + 1];
	fixed_kdf(&kdf);
	assert_int_equal(kdf.opslimit, 2);
	assert_int_equal(kdf.memlimit, 67108864);
	assert_int_equal(kdf.alg, crypto_pwhash_ALG_ARGON2ID13);
	assert_int_equal(seal_derive(&kdf, "correct horse battery staple", &key, &st), LSN_OK);
	sodium_bin2hex(hex, sizeof hex, key, SEAL_KEYBYTES);
	assert_string_equal(hex, expected_key_hex);
	seal_key_free(key);
}

static void
test_kdf_refuses_damaged_parameters(void **state)
{
	struct seal_kdf kdf;
	struct lsn_status st = {0};
	uint8_t *key = NULL;
	fixed_kdf(&kdf);
	kdf.memlimit = 1LL << 40;   /* a damaged profile must not exhaust memory */
	assert_int_not_equal(seal_derive(&kdf, "pw", &key, &st), LSN_OK);
	assert_null(key);
	fixed_kdf(&kdf);
	kdf.alg = 1;                /* Argon2i is not what we wrote */
	assert_int_not_equal(seal_derive(&kdf, "pw", &key, &st), LSN_OK);
}

static void
test_round_trip_and_failures(void **state)
{
	struct seal_kdf kdf;
	struct lsn_status st = {0};
	uint8_t *key = NULL, *other = NULL;
	const uint8_t secret[32] = "0123456789abcdef0123456789abcde";
	uint8_t nonce[SEAL_NONCEBYTES], nonce2[SEAL_NONCEBYTES];
	uint8_t ct[sizeof secret + SEAL_ABYTES], ct2[sizeof secret + SEAL_ABYTES];
	uint8_t out[sizeof secret];
	fixed_kdf(&kdf);
	assert_int_equal(seal_derive(&kdf, "correct horse battery staple", &key, &st), LSN_OK);
	assert_int_equal(seal_derive(&kdf, "correct horse battery stapler", &other, &st), LSN_OK);

	assert_true(seal_item(key, "dk_sk", secret, sizeof secret, nonce, ct));
	assert_true(seal_open_item(key, "dk_sk", nonce, ct, sizeof ct, out));
	assert_memory_equal(out, secret, sizeof secret);
	/* the ciphertext does not contain the secret */
	assert_null(memmem(ct, sizeof ct, secret, 8));
	/* fresh nonce every time: the same secret seals differently */
	assert_true(seal_item(key, "dk_sk", secret, sizeof secret, nonce2, ct2));
	assert_memory_not_equal(nonce, nonce2, sizeof nonce);
	assert_memory_not_equal(ct, ct2, sizeof ct);

	assert_false(seal_open_item(other, "dk_sk", nonce, ct, sizeof ct, out)); /* wrong passphrase */
	assert_false(seal_open_item(key, "ik_sk", nonce, ct, sizeof ct, out));   /* item swapped */
	ct[5] ^= 1;
	assert_false(seal_open_item(key, "dk_sk", nonce, ct, sizeof ct, out));   /* altered */
	ct[5] ^= 1;
	nonce[0] ^= 1;
	assert_false(seal_open_item(key, "dk_sk", nonce, ct, sizeof ct, out));   /* nonce altered */
	nonce[0] ^= 1;
	assert_false(seal_open_item(key, "dk_sk", nonce, ct, SEAL_ABYTES - 1, out)); /* truncated */
	assert_true(seal_open_item(key, "dk_sk", nonce, ct, sizeof ct, out));

	char long_name[SEAL_NAME_MAX + 2];
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_false(seal_item(key, long_name, secret, sizeof secret, nonce, ct));
	assert_false(seal_item(key, "", secret, sizeof secret, nonce, ct));
	seal_key_free(key);
	seal_key_free(other);
}

/* The database key (SQLCipher's raw key) of the vector's local key:
 * crypto_kdf_derive_from_key is BLAKE2b-256 keyed with the local key, salt
 * = the subkey id (little-endian 64 bits, zero-padded to 16 bytes),
 * personal = the context (zero-padded to 16 bytes), empty message. Computed
 * with Python's hashlib, independently of libsodium:
 *   hashlib.blake2b(b"", digest_size=32, key=bytes.fromhex(expected_key_hex),
 *                   salt=struct.pack("<Q", 1) + bytes(8),
 *                   person=b"lsnprfdb" + bytes(8)).hexdigest() */
static void
test_db_key_vector(void **state)
{
	uint8_t local[SEAL_KEYBYTES], dbk[SEAL_DB_KEYBYTES];
	char hex[2 * SEAL_DB_KEYBYTES + 1];
	assert_int_equal(sodium_hex2bin(local, sizeof local, expected_key_hex,
					strlen(expected_key_hex), NULL, NULL, NULL), 0);
	seal_db_key(local, dbk);
	sodium_bin2hex(hex, sizeof hex, dbk, sizeof dbk);
	assert_string_equal(hex, "dedb4dfa792784c0224c97a102ce42b64a360af1375561708f112dbadfc8be6c");
	assert_memory_not_equal(dbk, local, sizeof dbk); /* a subkey, never the local key */
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf_vector),
		cmocka_unit_test(test_kdf_refuses_damaged_parameters),
		cmocka_unit_test(test_round_trip_and_failures),
		cmocka_unit_test(test_db_key_vector),
	};
	return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
