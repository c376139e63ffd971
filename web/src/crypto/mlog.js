// Membership log entries (CRYPTO.md "Membership log (§6)") and the
// membership head bound into messages and key shares ("Membership bound
// into messages and key shares").
import { concat, lp, u64, utf8, need, toB64, fromB64 } from './bytes.js';
import { blake2b256 } from './sodium.js';
import { sign, verify } from './sigs.js';

export const ACTION = Object.freeze({ create: 1, add: 2, remove: 3, leave: 4, role: 5 });
export const ROLE = Object.freeze({ none: 0, member: 1, admin: 2 });
export const HISTORY = Object.freeze({ none: 0, shared: 1, from_join: 2 });
export const KIND = Object.freeze({ none: 0, case: 1, circle: 2, team: 3, direct: 4 });

function code(table, v, what) {
  const n = typeof v === 'number' ? v : table[v];
  if (!Object.values(table).includes(n)) throw new RangeError(`unknown ${what}: ${v}`);
  return n;
}

/**
 * signed(entry) = "liaison-mlog-v1" || 0x01 || LP(channel) || u64(seq) || LP(prev)
 *   || LP(actor) || LP(actor_device) || action(1) || LP(subject) || role(1)
 *   || history(1) || kind(1) || u64(ts)
 * entry: { channel, seq, prev (empty at seq 0), actor, actorDevice, action,
 *          subject, role, history, kind, ts }; action/role/history/kind by
 *          name or code.
 */
export function mlogSigned(e) {
  const prev = e.prev ?? new Uint8Array(0);
  if (e.seq === 0 || e.seq === 0n) {
    if (prev.length !== 0) throw new RangeError('prev must be empty at seq 0');
  } else {
    need(prev, 32, 'prev');
  }
  return concat(utf8('liaison-mlog-v1'), [1], lp(need(e.channel, 16, 'channel')), u64(e.seq), lp(prev),
    lp(need(e.actor, 16, 'actor')), lp(need(e.actorDevice, 16, 'actor_device')),
    [code(ACTION, e.action, 'action')], lp(need(e.subject, 16, 'subject')),
    [code(ROLE, e.role ?? 0, 'role')], [code(HISTORY, e.history ?? 0, 'history')],
    [code(KIND, e.kind ?? 0, 'kind')], u64(e.ts));
}

/** BLAKE2b-256 of an entry's signed bytes: the next entry's prev, the head's hash. */
export function mlogHash(e) {
  return blake2b256(mlogSigned(e));
}

/** sig = Ed25519(DK_actor, signed(entry)). */
export function mlogSign(e, dkSecret) {
  return sign(mlogSigned(e), dkSecret);
}

/** true when sig is the actor device's signature of the entry. */
export function mlogVerify(e, sig, dkPk) {
  return verify(sig, mlogSigned(e), dkPk);
}

/** The head {"seq":N,"hash":B64} of a log whose last entry is e, as compact JSON. */
export function mlogHeadJson(e) {
  return JSON.stringify({ seq: Number(e.seq), hash: toB64(mlogHash(e)) });
}

/**
 * Parses a head (object or JSON text): exactly the members seq (integer in
 * 0 … 2^53−1) and hash (base64 of 32 bytes). Returns { seq, hash } or null
 * when malformed.
 */
export function mlogHeadParse(v) {
  let o = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
  const keys = Object.keys(o);
  if (keys.length !== 2 || !keys.includes('seq') || !keys.includes('hash')) return null;
  if (!Number.isSafeInteger(o.seq) || o.seq < 0) return null;
  let hash;
  try {
    hash = fromB64(o.hash);
  } catch {
    return null;
  }
  if (hash.length !== 32) return null;
  return { seq: o.seq, hash };
}
