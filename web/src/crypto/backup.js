// Key backup (CRYPTO.md "Key backup (§7, server side)"): the recovery key
// RK (random, shown as a recovery code, or Argon2id of a passphrase), the
// keys BK and IKK derived from it, session entries and the identity blob.
import { concat, lp, u32, utf8, need, equal, wipe } from './bytes.js';
import { lib, kdf, blake2b256 } from './sodium.js';
import { encodeGroups, decodeLenient } from './base32.js';

export const RK_OPSLIMIT = 3; // OPSLIMIT_MODERATE
export const RK_MEMLIMIT = 268435456; // MEMLIMIT_MODERATE, 256 MiB
export const ENTRY_DATA_MAX = 65536;

/** RK = crypto_pwhash(32, passphrase, salt(16), 3, 256 MiB, Argon2id13). */
export function rkFromPassphrase(passphrase, salt) {
  const s = lib();
  return s.crypto_pwhash(32, passphrase, need(salt, 16, 'salt'), RK_OPSLIMIT, RK_MEMLIMIT,
    s.crypto_pwhash_ALG_ARGON2ID13);
}

/** A fresh random RK. */
export function rkNew() {
  return lib().randombytes_buf(32);
}

/** BK = crypto_kdf_derive_from_key(32, 1, "lsn-bkup", RK). */
export function backupKey(rk) {
  return kdf(1, 'lsn-bkup', need(rk, 32, 'RK'));
}

/** IKK = crypto_kdf_derive_from_key(32, 2, "lsn-idnt", RK). */
export function identityKeyKey(rk) {
  return kdf(2, 'lsn-idnt', need(rk, 32, 'RK'));
}

/** First 3 bytes of BLAKE2b-256("liaison-rk-v1" || RK). */
export function rkChecksum(rk) {
  return blake2b256(concat(utf8('liaison-rk-v1'), need(rk, 32, 'RK'))).slice(0, 3);
}

/** The recovery code: RK || checksum in Crockford base32, 14 groups of 4. */
export function recoveryCode(rk) {
  return encodeGroups(concat(rk, rkChecksum(rk)));
}

/** RK from a recovery code (lenient spelling), or null (wrong character, length or checksum). */
export function recoveryParse(text) {
  const raw = decodeLenient(text, 35);
  if (!raw) return null;
  const rk = raw.slice(0, 32);
  if (!equal(rkChecksum(rk), raw.subarray(32))) {
    wipe(rk);
    return null;
  }
  return rk;
}

/** AD = "liaison-backup-v1" || LP(user) || channel(16) || session_id(32) || u32(first_index) — 87 bytes. */
export function backupEntryAd(user, channel, sessionId, firstIndex) {
  return concat(utf8('liaison-backup-v1'), lp(need(user, 16, 'user')), need(channel, 16, 'channel'),
    need(sessionId, 32, 'session_id'), u32(firstIndex));
}

/** entry = 01 || nonce(24) || AEAD(BK, nonce, AD, data). nonce fixed only for vectors. */
export function backupSeal(bk, { user, channel, sessionId, firstIndex, data }, nonce = null) {
  const s = lib();
  if (data.length > ENTRY_DATA_MAX) throw new RangeError('backup entry data above 65536 bytes');
  const n = nonce ? need(nonce, 24, 'nonce') : s.randombytes_buf(24);
  const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(data, backupEntryAd(user, channel, sessionId, firstIndex),
    null, n, need(bk, 32, 'BK'));
  return concat([1], n, ct);
}

/** The data of an entry, or null when it does not open for these fields under BK. */
export function backupOpen(bk, { user, channel, sessionId, firstIndex }, entry) {
  if (!(entry instanceof Uint8Array) || entry.length < 1 + 24 + 16 || entry[0] !== 1) return null;
  try {
    return lib().crypto_aead_xchacha20poly1305_ietf_decrypt(null, entry.subarray(25),
      backupEntryAd(user, channel, sessionId, firstIndex), entry.subarray(1, 25), bk);
  } catch {
    return null;
  }
}

/** AD = "liaison-backup-ik-v1" || LP(user) || IK_pk(32) — 70 bytes. */
export function identityAd(user, ikPk) {
  return concat(utf8('liaison-backup-ik-v1'), lp(need(user, 16, 'user')), need(ikPk, 32, 'IK_pk'));
}

/** identity = 01 || nonce(24) || AEAD(IKK, nonce, AD, IK_sk(64)) — 105 bytes. */
export function identitySeal(ikk, user, ikPk, ikSk, nonce = null) {
  const s = lib();
  const n = nonce ? need(nonce, 24, 'nonce') : s.randombytes_buf(24);
  const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(need(ikSk, 64, 'IK_sk'), identityAd(user, ikPk),
    null, n, need(ikk, 32, 'IKK'));
  return concat([1], n, ct);
}

/** IK_sk from an identity blob, or null (wrong key, user, IK_pk, altered, or a secret key not IK_pk's). */
export function identityOpen(ikk, user, ikPk, blob) {
  if (!(blob instanceof Uint8Array) || blob.length !== 105 || blob[0] !== 1) return null;
  let sk;
  try {
    sk = lib().crypto_aead_xchacha20poly1305_ietf_decrypt(null, blob.subarray(25), identityAd(user, ikPk),
      blob.subarray(1, 25), ikk);
  } catch {
    return null;
  }
  const kp = lib().crypto_sign_seed_keypair(sk.subarray(0, 32));
  const ok = equal(kp.publicKey, ikPk) && equal(sk.subarray(32), ikPk);
  wipe(kp.privateKey);
  if (!ok) {
    wipe(sk);
    return null;
  }
  return sk;
}
