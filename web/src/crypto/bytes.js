// Byte helpers shared by the CRYPTO.md constructions: LP(), u64, u32,
// concatenation, hex and UTF-8. Pure JavaScript, no libsodium.

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string (labels are ASCII). */
export function utf8(s) {
  return enc.encode(s);
}

/** String of UTF-8 bytes; throws on invalid UTF-8. */
export function fromUtf8(b) {
  return dec.decode(b);
}

/** Concatenation of byte arrays (Uint8Array or arrays of numbers). */
export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** LP(x): 2-byte big-endian length of x, then x. */
export function lp(x) {
  if (x.length > 0xffff) throw new RangeError('LP: value longer than 65535 bytes');
  return concat([x.length >> 8, x.length & 0xff], x);
}

/** u32(n): 4 bytes big-endian. */
export function u32(n) {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('u32 out of range');
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** u64(t): 8 bytes big-endian, from a Number (<= 2^53 - 1) or a BigInt. */
export function u64(t) {
  let v = BigInt(t);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError('u64 out of range');
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Reads a u32 big-endian at offset o. */
export function readU32(b, o) {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

/** Reads a u64 big-endian at offset o, as a BigInt. */
export function readU64(b, o) {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[o + i]);
  return v;
}

/** Lowercase hex of bytes. */
export function toHex(b) {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** Bytes of a hex string (even length, [0-9a-fA-F]); throws otherwise. */
export function fromHex(h) {
  if (typeof h !== 'string' || h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) {
    throw new TypeError('not a hex string');
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}

/** Constant-time equality of two byte arrays of the same length. */
export function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Overwrites a byte array with zeros (the JS stand-in for sodium_memzero). */
export function wipe(b) {
  if (b) b.fill(0);
}

/** Checks that x is a Uint8Array of exactly n bytes; returns it. */
export function need(x, n, what) {
  if (!(x instanceof Uint8Array) || x.length !== n) {
    throw new TypeError(`${what} must be ${n} bytes`);
  }
  return x;
}

/** Standard base64 with padding (the JSON fields B64). */
export function toB64(b) {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** Bytes of standard base64 with padding; throws on anything else. */
export function fromB64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new TypeError('not standard base64');
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toB64(out) !== s) throw new TypeError('not canonical base64');
  return out;
}
