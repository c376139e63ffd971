// The per-sender link (CRYPTO.md "Gaps and the per-sender link"): each group
// message plaintext names the same device's previous accepted message in
// the channel by the BLAKE2b-256 of its envelope, as 64 lowercase hex.
import { toHex } from './bytes.js';
import { gsEnvelopeHash } from './group.js';

/** The "link" value a device's next message carries after envelope prev. */
export function linkOf(prevEnvelope) {
  return toHex(gsEnvelopeHash(prevEnvelope));
}

/** true when v is a well-formed link (present links that are not make the message invalid). */
export function linkValid(v) {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}

/**
 * The link check of a received plaintext object: 'none' (first message of
 * the device, no link), 'invalid' (malformed), 'found' (held(hex) is true)
 * or 'missing' (withheld or deleted by the server).
 */
export function linkCheck(plain, held) {
  if (!Object.prototype.hasOwnProperty.call(plain, 'link')) return 'none';
  if (!linkValid(plain.link)) return 'invalid';
  return held(plain.link) ? 'found' : 'missing';
}
