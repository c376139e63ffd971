// Group sessions (CRYPTO.md "Group sessions (§4)"): the per-sender chain-key
// ratchet, the message envelope H || nonce || ct || sig, and its hash.
import { concat, utf8, need, equal, wipe } from './bytes.js';
import { lib, kdf, blake2b256 } from './sodium.js';
import { sign, verify, signKeypair } from './sigs.js';
import { msgHeader, msgHeaderParse, HEADER_LEN, ENVELOPE_MAX } from './header.js';

const SIG_LABEL = utf8('liaison-msg-sig-v1');
export const INDEX_NEVER = 0xffffffff; // 2^32 − 1 is never used
export const MAX_AHEAD = 1000;
export const MAX_ADVANCE = 100000;
export const ROTATE_MESSAGES = 100;
export const ROTATE_MS = 7 * 24 * 3600 * 1000;

/** MK_i = crypto_kdf_derive_from_key(32, 1, "lsn-mkey", CK_i). */
export function messageKey(ck) {
  return kdf(1, 'lsn-mkey', need(ck, 32, 'chain key'));
}

/** CK_(i+1) = crypto_kdf_derive_from_key(32, 2, "lsn-ckey", CK_i). */
export function nextChainKey(ck) {
  return kdf(2, 'lsn-ckey', need(ck, 32, 'chain key'));
}

/** A fresh outbound session: S = Ed25519 pair, session_id = S_pk, CK_0 random, index 0. */
export function gsOutboundNew(createdMs = Date.now()) {
  const s = signKeypair();
  return { sessionId: s.publicKey, sessionSk: s.privateKey, ck: lib().randombytes_buf(32), index: 0, createdMs };
}

/** An outbound session from fixed values (test vectors, restoring a stored state). */
export function gsOutboundFrom({ sessionSk, ck, index, createdMs = 0 }) {
  need(sessionSk, 64, 'S_sk');
  return { sessionId: sessionSk.slice(32), sessionSk, ck: Uint8Array.from(need(ck, 32, 'chain key')), index, createdMs };
}

/**
 * One ratchet step: returns { mk, index } (MK_i, i) and leaves the session at
 * (CK_(i+1), i+1), CK_i wiped. The caller stores the new state before
 * sealing. Throws at index 2^32 − 1.
 */
export function gsRatchetStep(out) {
  if (out.index >= INDEX_NEVER) throw new RangeError('session exhausted: rotate');
  const mk = messageKey(out.ck);
  const next = nextChainKey(out.ck);
  const index = out.index;
  wipe(out.ck);
  out.ck = next;
  out.index = index + 1;
  return { mk, index };
}

/** true after 100 messages or 7 days. */
export function gsNeedsRotation(out, nowMs = Date.now()) {
  return out.index >= ROTATE_MESSAGES || nowMs - out.createdMs >= ROTATE_MS;
}

/**
 * Seals plaintext with MK_index: H || nonce || AEAD(MK, nonce, AD = H) ||
 * Ed25519(S_sk, "liaison-msg-sig-v1" || H || nonce || ct). nonce fixed only
 * for test vectors.
 */
export function gsSeal({ channel, sessionSk, index, mk, senderDevice, ts, plaintext }, nonce = null) {
  const s = lib();
  if (index >= INDEX_NEVER) throw new RangeError('index 2^32 − 1 is never used');
  if (184 + plaintext.length > ENVELOPE_MAX) throw new RangeError('message envelope above 65536 bytes');
  const h = msgHeader({ channel, sessionId: sessionSk.slice(32), index, senderDevice, ts });
  const n = nonce ? need(nonce, 24, 'nonce') : s.randombytes_buf(24);
  const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, h, null, n, need(mk, 32, 'MK'));
  const sig = sign(concat(SIG_LABEL, h, n, ct), sessionSk);
  return concat(h, n, ct, sig);
}

/** The state a room_key share carries: the sender's current index and chain key. */
export function gsInboundFromOutbound(out, channel, senderDevice) {
  return { channel, sessionId: out.sessionId, senderDevice, firstIndex: out.index, ckFirst: Uint8Array.from(out.ck) };
}

/** CK_to from CK_from (to >= from, at most 100000 steps); null otherwise. */
export function gsAdvance(ck, from, to) {
  if (to < from || to - from > MAX_ADVANCE) return null;
  let cur = Uint8Array.from(ck);
  for (let i = from; i < to; i++) {
    const n = nextChainKey(cur);
    wipe(cur);
    cur = n;
  }
  return cur;
}

/** true when a share at lower.firstIndex ratchets forward to held's chain key. */
export function gsInboundConsistent(lower, held) {
  const ck = gsAdvance(lower.ckFirst, lower.firstIndex, held.firstIndex);
  if (!ck) return false;
  const ok = equal(ck, held.ckFirst);
  wipe(ck);
  return ok;
}

/**
 * Opens an envelope with an inbound session { channel, sessionId,
 * senderDevice, firstIndex, ckFirst }, which it never changes. Returns
 * { status: 'ok', plaintext, header } or { status } with status one of
 * 'bad_format', 'wrong_session', 'wrong_sender', 'bad_signature',
 * 'before_first_key', 'too_far_ahead', 'decrypt_failed'.
 */
export function gsOpen(env, inb) {
  const h = msgHeaderParse(env);
  if (!h) return { status: 'bad_format' };
  if (!equal(h.channel, inb.channel) || !equal(h.sessionId, inb.sessionId)) return { status: 'wrong_session' };
  if (!equal(h.senderDevice, inb.senderDevice)) return { status: 'wrong_sender' };
  const nonce = env.subarray(HEADER_LEN, HEADER_LEN + 24);
  const ct = env.subarray(HEADER_LEN + 24, env.length - 64);
  const sig = env.subarray(env.length - 64);
  if (!verify(sig, concat(SIG_LABEL, h.header, nonce, ct), h.sessionId)) return { status: 'bad_signature' };
  if (h.index < inb.firstIndex) return { status: 'before_first_key' };
  if (h.index - inb.firstIndex > MAX_AHEAD) return { status: 'too_far_ahead' };
  const ck = gsAdvance(inb.ckFirst, inb.firstIndex, h.index);
  const mk = messageKey(ck);
  wipe(ck);
  try {
    const plaintext = lib().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, h.header, nonce, mk);
    return { status: 'ok', plaintext, header: h };
  } catch {
    return { status: 'decrypt_failed' };
  } finally {
    wipe(mk);
  }
}

/** BLAKE2b-256 of the whole envelope: duplicate detection and the per-sender link. */
export function gsEnvelopeHash(env) {
  return blake2b256(env);
}
