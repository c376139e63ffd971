// The binary WebSocket frame of one attachment chunk (docs/PROTOCOL.md
// "Binary chunk frames"): a 36-byte header (kind, idem length, reserved,
// request id, attachment id, chunk index; integers big-endian), the
// upload's idempotency key, then the ciphertext as raw bytes. The page's one
// place for this layout: net/client.js sends and reads chunks only through
// these two functions. Pure: bytes in, bytes out.

export const CHUNK_PUT = 0x01; // page → server: attachment_put
export const CHUNK_DATA = 0x02; // server → page: the reply to attachment_get
export const HEADER = 36;
export const IDEM_MAX = 64;
const MAX_SAFE = 2 ** 53 - 1;

function hexToBytes(hex) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/.test(hex)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function setU64(view, at, n) {
  view.setUint32(at, Math.floor(n / 2 ** 32));
  view.setUint32(at + 4, n % 2 ** 32);
}

function getU64(view, at) {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if (hi >= 2 ** 21) return -1; // above 2^53 - 1
  return hi * 2 ** 32 + lo;
}

/**
 * The frame of an attachment_put: {id, attachment (32 hex), index, idem
 * (1–64 ASCII/UTF-8 bytes), data (Uint8Array, at least 1 byte)}. Throws
 * RangeError on a field the server would refuse, so a bug never reaches it.
 */
export function encodePut({ id, attachment, index, idem, data }) {
  const att = hexToBytes(attachment);
  const idemBytes = new TextEncoder().encode(String(idem));
  if (!Number.isSafeInteger(id) || id < 0 || !Number.isSafeInteger(index) || index < 0 ||
      att === null || idemBytes.length < 1 || idemBytes.length > IDEM_MAX ||
      !(data instanceof Uint8Array) || data.length < 1 || /[\u0000-\u001f\u007f]/.test(String(idem))) {
    throw new RangeError('attachment_put: a field is out of range for a binary chunk frame');
  }
  const out = new Uint8Array(HEADER + idemBytes.length + data.length);
  const view = new DataView(out.buffer);
  out[0] = CHUNK_PUT;
  out[1] = idemBytes.length;
  setU64(view, 4, id);
  out.set(att, 12);
  setU64(view, 28, index);
  out.set(idemBytes, HEADER);
  out.set(data, HEADER + idemBytes.length);
  return out;
}

/**
 * A frame from the server: {id, attachment (hex), index, data (Uint8Array,
 * a copy)} for a well-formed chunk (kind 0x02), else null (the page then
 * treats it as it treats an unreadable text frame).
 */
export function decodeChunk(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (b.length < HEADER + 1 || b[0] !== CHUNK_DATA || b[1] !== 0 || b[2] !== 0 || b[3] !== 0) {
    return null;
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const id = getU64(view, 4);
  const index = getU64(view, 28);
  if (id < 0 || index < 0 || id > MAX_SAFE || index > MAX_SAFE) return null;
  return {
    id,
    attachment: bytesToHex(b.subarray(12, 28)),
    index,
    data: b.slice(HEADER),
  };
}
