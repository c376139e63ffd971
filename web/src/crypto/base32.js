// Crockford base32 text form shared by invite codes (15 bytes, 24
// characters) and recovery codes (35 bytes, 56 characters), and the invite
// hash (CRYPTO.md "Invite codes").
import { concat, utf8 } from './bytes.js';
import { blake2b256 } from './sodium.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Base32 of bytes whose bit length is a multiple of 5, most significant first, groups of 4 joined by '-'. */
export function encodeGroups(raw) {
  if ((raw.length * 8) % 5 !== 0) throw new RangeError('length is not a multiple of 5 bits');
  let s = '';
  let acc = 0;
  let bits = 0;
  for (const b of raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  const groups = [];
  for (let i = 0; i < s.length; i += 4) groups.push(s.slice(i, i + 4));
  return groups.join('-');
}

/**
 * Bytes of a lenient spelling (case, '-' and spaces ignored; I, L read as 1,
 * O as 0) that must give exactly nbytes; null for any other character or length.
 */
export function decodeLenient(text, nbytes) {
  if (typeof text !== 'string') return null;
  const nchars = (nbytes * 8) / 5;
  let acc = 0;
  let bits = 0;
  let count = 0;
  const out = new Uint8Array(nbytes);
  let o = 0;
  for (const ch0 of text) {
    if (ch0 === '-' || ch0 === ' ') continue;
    let ch = ch0.toUpperCase();
    if (ch0.length !== 1 || ch0.charCodeAt(0) > 127) return null;
    if (ch === 'I' || ch === 'L') ch = '1';
    else if (ch === 'O') ch = '0';
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    if (++count > nchars) return null;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (count !== nchars) return null;
  return out;
}

/** Text form of a 15-byte invite: 24 characters in six groups of four. */
export function inviteText(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== 15) throw new TypeError('an invite is 15 bytes');
  return encodeGroups(raw);
}

/** The 15 bytes of an invite code, or null when it is not one. */
export function inviteParse(text) {
  return decodeLenient(text, 15);
}

/** What the server stores: BLAKE2b-256("liaison-invite-v1" || raw). */
export function inviteHash(raw) {
  return blake2b256(concat(utf8('liaison-invite-v1'), raw));
}
