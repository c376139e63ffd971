// Key-share envelope (CRYPTO.md "Key-share envelope (§3)"): device A seals a
// plaintext (room_key, key_request, room_key_withheld) to one agreement key
// of device B, and signs it with its device key.
import { concat, lp, u32, utf8, need, readU32, equal, wipe } from './bytes.js';
import { lib } from './sodium.js';
import { sign, verify } from './sigs.js';

export const KS_PLAINTEXT_MAX = 16384;
export const KS_OVERHEAD = 260;
const LABEL = utf8('liaison-ks-v1');
const SIG_LABEL = utf8('liaison-ks-sig-v1');

/** The 151-byte AD: "liaison-ks-v1" LP(user_A) LP(dev_A) LP(user_B) LP(dev_B) LP(ak_id_B) E_pk share_id. */
export function ksAd({ userA, devA, userB, devB, akIdB, ePk, shareId }) {
  return concat(LABEL, lp(need(userA, 16, 'user_A')), lp(need(devA, 16, 'dev_A')),
    lp(need(userB, 16, 'user_B')), lp(need(devB, 16, 'dev_B')), lp(need(akIdB, 16, 'ak_id_B')),
    need(ePk, 32, 'E_pk'), need(shareId, 16, 'share_id'));
}

/** K = crypto_kx client tx of (E_pk, E_sk) towards AK_B_pk: BLAKE2b-512(X25519 || E_pk || AK_B_pk)[32..64]. */
export function ksKey(ePk, eSk, akPkB) {
  const keys = lib().crypto_kx_client_session_keys(ePk, eSk, akPkB);
  wipe(keys.sharedRx);
  return keys.sharedTx;
}

/**
 * Seals plaintext from (userA, devA), signed with dkSecretA (64 bytes), to
 * (userB, devB)'s agreement key akPkB named akIdB. det = { eSk, shareId,
 * nonce } fixes the random values (test vectors only).
 * Returns the envelope: 01 || AD || nonce || u32(ct_len) || ct || sig.
 */
export function ksSeal({ userA, devA, userB, devB, akIdB, akPkB, dkSecretA, plaintext }, det = null) {
  const s = lib();
  if (!(plaintext instanceof Uint8Array) || plaintext.length > KS_PLAINTEXT_MAX) {
    throw new RangeError('key-share plaintext is at most 16384 bytes');
  }
  const eSk = det ? Uint8Array.from(need(det.eSk, 32, 'E_sk')) : s.randombytes_buf(32);
  const ePk = s.crypto_scalarmult_base(eSk);
  const k = ksKey(ePk, eSk, need(akPkB, 32, 'AK_B_pk'));
  wipe(eSk);
  const shareId = det ? need(det.shareId, 16, 'share_id') : s.randombytes_buf(16);
  const nonce = det ? need(det.nonce, 24, 'nonce') : s.randombytes_buf(24);
  const ad = ksAd({ userA, devA, userB, devB, akIdB, ePk, shareId });
  const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, k);
  wipe(k);
  const sig = sign(concat(SIG_LABEL, ad, nonce, ct), dkSecretA);
  return concat([1], ad, nonce, u32(ct.length), ct, sig);
}

/**
 * Parses an envelope without authenticating it; null on bad format
 * (version, label, LP lengths, ct_len, size).
 */
export function ksParse(env) {
  if (!(env instanceof Uint8Array)) return null;
  if (env.length < KS_OVERHEAD + 0 || env.length > KS_PLAINTEXT_MAX + KS_OVERHEAD) return null;
  if (env[0] !== 1 || !equal(env.subarray(1, 14), LABEL)) return null;
  for (const o of [14, 32, 50, 68, 86]) {
    if (env[o] !== 0 || env[o + 1] !== 16) return null;
  }
  const ctLen = readU32(env, 176);
  if (ctLen < 16 || 180 + ctLen + 64 !== env.length) return null;
  return {
    userA: env.slice(16, 32),
    devA: env.slice(34, 50),
    userB: env.slice(52, 68),
    devB: env.slice(70, 86),
    akIdB: env.slice(88, 104),
    ePk: env.slice(104, 136),
    shareId: env.slice(136, 152),
    ad: env.slice(1, 152),
    nonce: env.slice(152, 176),
    ct: env.slice(180, 180 + ctLen),
    sig: env.slice(180 + ctLen),
  };
}

/**
 * Opens an envelope as (me.user, me.device) holding the agreement key pair
 * { publicKey, privateKey } the envelope's akIdB names, with dkPkA the
 * sender's device key whose chain the caller verified. Returns
 * { status: 'ok', plaintext, env } or { status } with status one of
 * 'bad_format', 'not_for_me', 'bad_signature', 'decrypt_failed'.
 */
export function ksOpen(envBytes, { me, dkPkA, ak }) {
  const env = ksParse(envBytes);
  if (!env) return { status: 'bad_format' };
  if (!equal(env.userB, me.user) || !equal(env.devB, me.device)) return { status: 'not_for_me' };
  if (!verify(env.sig, concat(SIG_LABEL, env.ad, env.nonce, env.ct), dkPkA)) {
    return { status: 'bad_signature' };
  }
  const s = lib();
  const keys = s.crypto_kx_server_session_keys(ak.publicKey, ak.privateKey, env.ePk);
  wipe(keys.sharedTx);
  let plaintext;
  try {
    plaintext = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, env.ct, env.ad, env.nonce, keys.sharedRx);
  } catch {
    return { status: 'decrypt_failed' };
  } finally {
    wipe(keys.sharedRx);
  }
  return { status: 'ok', plaintext, env };
}
