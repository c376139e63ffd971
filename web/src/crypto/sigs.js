// Signed byte strings of CRYPTO.md §1 ("Keys", "Signed byte strings"):
// device certificate, agreement-key certificate, login, revocation, and the
// Ed25519 calls that sign and verify them.
import { concat, lp, u64, utf8, need } from './bytes.js';
import { lib } from './sodium.js';

function id16(x, what) {
  return need(x, 16, what);
}

/** "liaison-dev-v1" || LP(user) || LP(device) || DK_pk(32) || u64(ts) — 90 bytes. */
export function devCert(user, device, dkPk, ts) {
  return concat(utf8('liaison-dev-v1'), lp(id16(user, 'user')), lp(id16(device, 'device')),
    need(dkPk, 32, 'DK_pk'), u64(ts));
}

/** "liaison-ak-v1" || LP(device) || LP(ak_id) || AK_pk(32) || u64(ts) — 89 bytes. */
export function akCert(device, akId, akPk, ts) {
  return concat(utf8('liaison-ak-v1'), lp(id16(device, 'device')), lp(id16(akId, 'ak_id')),
    need(akPk, 32, 'AK_pk'), u64(ts));
}

/**
 * "liaison-login-v1" || LP(server_name) || LP(user) || LP(device) || LP(challenge(32)).
 * The server name must be 1 to 253 bytes.
 */
export function loginString(serverName, user, device, challenge) {
  const name = utf8(serverName);
  if (name.length < 1 || name.length > 253) throw new RangeError('server name must be 1 to 253 bytes');
  return concat(utf8('liaison-login-v1'), lp(name), lp(id16(user, 'user')),
    lp(id16(device, 'device')), lp(need(challenge, 32, 'challenge')));
}

/** "liaison-revoke-v1" || LP(user) || LP(device) || u64(ts) — 61 bytes. */
export function revokeString(user, device, ts) {
  return concat(utf8('liaison-revoke-v1'), lp(id16(user, 'user')), lp(id16(device, 'device')), u64(ts));
}

/** Ed25519 key pair from a 32-byte seed: { publicKey(32), privateKey(64) }. */
export function signSeedKeypair(seed) {
  const kp = lib().crypto_sign_seed_keypair(need(seed, 32, 'seed'));
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** Fresh Ed25519 key pair. */
export function signKeypair() {
  const kp = lib().crypto_sign_keypair();
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** Detached Ed25519 signature (64 bytes) with a 64-byte secret key. */
export function sign(message, secretKey) {
  return lib().crypto_sign_detached(message, need(secretKey, 64, 'Ed25519 secret key'));
}

/** true when sig is a valid Ed25519 signature of message under publicKey. */
export function verify(sig, message, publicKey) {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  try {
    return lib().crypto_sign_verify_detached(sig, message, publicKey);
  } catch {
    return false;
  }
}
