// Fingerprint and safety number (CRYPTO.md "Fingerprint and safety number (§2)").
import { concat, lp, utf8, need } from './bytes.js';
import { blake2b256 } from './sodium.js';

/**
 * 30 digits: h_1 = BLAKE2b-256("liaison-fpr-v1" || LP(user) || LP(rpps) || IK_pk),
 * h_(k+1) = BLAKE2b-256(h_k || IK_pk) up to h_5200, then six 5-digit groups of
 * (5 bytes big-endian) mod 100000. rpps is ASCII digits or ''; '' is returned
 * for an rpps longer than 64 bytes.
 */
export function fingerprint(user, rpps, ikPk) {
  need(user, 16, 'user');
  need(ikPk, 32, 'IK_pk');
  const r = utf8(rpps);
  if (r.length > 64) return '';
  let h = blake2b256(concat(utf8('liaison-fpr-v1'), lp(user), lp(r), ikPk));
  const buf = new Uint8Array(64);
  buf.set(ikPk, 32);
  for (let k = 1; k < 5200; k++) {
    buf.set(h, 0);
    h = blake2b256(buf);
  }
  let out = '';
  for (let c = 0; c < 6; c++) {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 256 + h[5 * c + i];
    out += String(v % 100000).padStart(5, '0');
  }
  return out;
}

/** The two fingerprints, lower user id first (bytewise), in 12 groups of 5 joined by spaces. */
export function safetyNumber(userA, fprA, userB, fprB) {
  let cmp = 0;
  for (let i = 0; i < 16 && cmp === 0; i++) cmp = userA[i] - userB[i];
  const digits = cmp <= 0 ? fprA + fprB : fprB + fprA;
  const groups = [];
  for (let i = 0; i < digits.length; i += 5) groups.push(digits.slice(i, i + 5));
  return groups.join(' ');
}
