// The binary chunk frame of docs/PROTOCOL.md "Binary chunk frames", the
// browser's port of shared/chunk_frame.c: a 36-byte header (kind, idem
// length, two reserved zero bytes, id, attachment, index; integers
// big-endian), the idem key of an upload, then the chunk's ciphertext.
//
//   const frame = encodePut({ id, attachment, index, idem, data });  // Uint8Array
//   const f = decodeChunk(arrayBuffer);   // {id, attachment, index, data} or null
//
// The decoder bounds every read by the frame's length and refuses what the
// C decoder refuses (returns null); data is a view into the frame.

export const HEADER = 36;
export const IDEM_MAX = 64;
export const KIND_PUT = 0x01;
export const KIND_CHUNK = 0x02;
const ID_MAX = 2 ** 53 - 1;

function putU64(view, off, n) {
  view.setUint32(off, Math.floor(n / 2 ** 32));
  view.setUint32(off + 4, n % 2 ** 32);
}

/** A number from 8 big-endian bytes, or -1 above 2^53 - 1. */
function getU64(view, off) {
  const hi = view.getUint32(off);
  const lo = view.getUint32(off + 4);
  return hi >= 2 ** 21 ? -1 : hi * 2 ** 32 + lo;
}

function hexBytes(hex) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/.test(hex)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * attachment_put as a binary frame: id and index integers in 0…2^53−1,
 * attachment 32 lowercase hex characters, idem 1–64 bytes of text, data a
 * non-empty Uint8Array. null when a field is out of range.
 */
export function encodePut({ id, attachment, index, idem, data }) {
  const key = new TextEncoder().encode(String(idem));
  const att = hexBytes(attachment);
  if (!att || key.length < 1 || key.length > IDEM_MAX || !(data instanceof Uint8Array) ||
      data.length < 1 || !Number.isSafeInteger(id) || id < 0 || id > ID_MAX ||
      !Number.isSafeInteger(index) || index < 0 || index > ID_MAX) {
    return null;
  }
  const frame = new Uint8Array(HEADER + key.length + data.length);
  const view = new DataView(frame.buffer);
  frame[0] = KIND_PUT;
  frame[1] = key.length;
  putU64(view, 4, id);
  frame.set(att, 12);
  putU64(view, 28, index);
  frame.set(key, HEADER);
  frame.set(data, HEADER + key.length);
  return frame;
}

/** A chunk reply (kind 0x02) from an ArrayBuffer: {id, attachment (hex), index, data}, or null. */
export function decodeChunk(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength <= HEADER) return null;
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes[0] !== KIND_CHUNK || bytes[1] !== 0 || bytes[2] !== 0 || bytes[3] !== 0) return null;
  const id = getU64(view, 4);
  const index = getU64(view, 28);
  if (id < 0 || index < 0) return null;
  const attachment = Array.from(bytes.subarray(12, 28), (x) => x.toString(16).padStart(2, '0'))
    .join('');
  return { id, attachment, index, data: bytes.subarray(HEADER) };
}
