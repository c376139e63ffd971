// The message header H, the only part of a group message the server reads
// (CRYPTO.md "Message header (§4, what the server reads)").
import { concat, u32, u64, need, readU32, readU64, equal } from './bytes.js';

export const HEADER_LEN = 80;
export const ENVELOPE_MAX = 65536;
const MAGIC = new Uint8Array([0x4c, 0x53, 0x4e, 0x01]); // "LSN" 01

/** H = "LSN" || 0x01 || channel(16) || session_id(32) || u32(index) || sender_device(16) || u64(ts). */
export function msgHeader({ channel, sessionId, index, senderDevice, ts }) {
  return concat(MAGIC, need(channel, 16, 'channel'), need(sessionId, 32, 'session_id'), u32(index),
    need(senderDevice, 16, 'sender_device'), u64(ts));
}

/**
 * Parses the header of an envelope (H || nonce || ct || sig): magic,
 * version, length bounds. Returns the fields or null (bad format).
 */
export function msgHeaderParse(env) {
  if (!(env instanceof Uint8Array)) return null;
  // 80 header + 24 nonce + 16 tag + 64 sig: the shortest envelope
  if (env.length < HEADER_LEN + 24 + 16 + 64 || env.length > ENVELOPE_MAX) return null;
  if (!equal(env.subarray(0, 4), MAGIC)) return null;
  return {
    channel: env.slice(4, 20),
    sessionId: env.slice(20, 52),
    index: readU32(env, 52),
    senderDevice: env.slice(56, 72),
    ts: readU64(env, 72),
    header: env.slice(0, HEADER_LEN),
  };
}
