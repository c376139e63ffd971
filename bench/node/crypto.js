// crypto.js — the docs/CRYPTO.md constructions this generator needs, on
// libsodium.js: the signed strings of §1 (device and AK certificates,
// login), the membership-log entry of §6, and the group-session message
// envelope of §4. Written from the document alone (not from the C code or
// web/src/crypto); tests/bench/test_node_gen.mjs checks them against the
// document's vectors. await ready() before anything else.
import { randomFillSync } from 'node:crypto';
import sodiumLib from 'libsodium-wrappers-sumo';

export let sodium = null;
export async function ready() {
  await sodiumLib.ready;
  sodium = sodiumLib;
}

const enc = new TextEncoder();

/** Concatenates Uint8Arrays (and ASCII strings). */
export function cat(...parts) {
  const bufs = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bufs) { out.set(b, o); o += b.length; }
  return out;
}
/** LP(x): 2-byte big-endian length, then x. */
export function lp(x) {
  const b = typeof x === 'string' ? enc.encode(x) : x;
  if (b.length > 0xffff) throw new Error('LP: too long');
  return cat(Uint8Array.of(b.length >> 8, b.length & 0xff), b);
}
/** u64(t): 8 bytes big-endian. */
export function u64(t) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(t));
  return b;
}
export function u32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
export const hex = (b) => Buffer.from(b).toString('hex');
export const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
export const b64 = (b) => Buffer.from(b).toString('base64');
// Node's CSPRNG: libsodium.js's randombytes_buf costs about 0.5 ms a call
// under node (measured), more than a whole seal
export const random = (n) => randomFillSync(new Uint8Array(n));

export const keypair = () => sodium.crypto_sign_seed_keypair(random(32));
export const sign = (sk, msg) => sodium.crypto_sign_detached(msg, sk);
export const blake2b256 = (data) => sodium.crypto_generichash(32, data, null);

/** §1 device certificate, signed by IK. */
export const devCert = (user, device, dkPk, ts) =>
  cat('liaison-dev-v1', lp(user), lp(device), dkPk, u64(ts));
/** §1 agreement-key certificate, signed by DK. */
export const akCert = (device, akId, akPk, ts) =>
  cat('liaison-ak-v1', lp(device), lp(akId), akPk, u64(ts));
/** §1 login string, signed by DK. */
export function loginString(server, user, device, challenge) {
  const s = enc.encode(server);
  if (s.length < 1 || s.length > 253) throw new Error('server name must be 1..253 bytes');
  return cat('liaison-login-v1', lp(s), lp(user), lp(device), lp(challenge));
}

const ACTION = { create: 1, add: 2, remove: 3, leave: 4, role: 5 };
const ROLE = { member: 1, admin: 2 };
const HISTORY = { shared: 1, from_join: 2 };
const KIND = { case: 1, circle: 2, team: 3, direct: 4 };

/** §6 signed(entry), from the wire entry's fields (hex ids, base64 prev). */
export function mlogSigned(e) {
  return cat('liaison-mlog-v1', Uint8Array.of(1), lp(unhex(e.channel)), u64(e.seq),
    lp(e.prev ? new Uint8Array(Buffer.from(e.prev, 'base64')) : new Uint8Array(0)),
    lp(unhex(e.actor)), lp(unhex(e.actor_device)),
    Uint8Array.of(ACTION[e.action]), lp(unhex(e.subject)),
    Uint8Array.of(e.role ? ROLE[e.role] : 0, e.history ? HISTORY[e.history] : 0,
      e.kind ? KIND[e.kind] : 0),
    u64(e.ts));
}

/** crypto_kdf_derive_from_key(32, id, ctx, key) as §4 uses it. */
const kdf = (id, ctx, key) => sodium.crypto_kdf_derive_from_key(32, id, ctx, key);

/** §4 outbound group session: one per channel per sending device. */
export function newSession(seed = random(32), ck = random(32)) {
  const s = sodium.crypto_sign_seed_keypair(seed);
  return { sk: s.privateKey, id: s.publicKey, ck, index: 0 };
}
/** §4 "LSN" 01 channel session_id u32(index) sender_device u64(ts): 80 bytes. */
export const header = (channel, sessionId, index, device, ts) =>
  cat('LSN', Uint8Array.of(1), channel, sessionId, u32(index), device, u64(ts));

/** Seals plaintext with the session's next key: H || nonce || ct || sig.
 *  nonce: random unless given (the test vectors give it). */
export function seal(sess, channel, device, ts, plaintext, nonce = random(24)) {
  const mk = kdf(1, 'lsn-mkey', sess.ck);
  const index = sess.index;
  sess.ck = kdf(2, 'lsn-ckey', sess.ck);
  sess.index += 1;
  const h = header(channel, sess.id, index, device, ts);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, h, null, nonce, mk);
  const sig = sign(sess.sk, cat('liaison-msg-sig-v1', h, nonce, ct));
  return cat(h, nonce, ct, sig);
}
/** Envelope bytes for a plaintext of n bytes (184 + n). */
export const ENVELOPE_OVERHEAD = 184;
