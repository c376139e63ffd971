// What the browser keeps of the end-to-end threads, in the sealed vault
// (store/vault.js), as the CLI's client/store/local_messages.c,
// local_sessions.c and local_alarm.c keep it in the profile database.
// Record names carry ids and numbers only, never content:
//
//   chan:<channel>              the channel's verified position and local state:
//                               {log_seq, log_hash, valid, reason, kind, history,
//                                last_seq, cut_from, cut_to, topic, topic_seq,
//                                seen_seq, last_ts}
//   msg:<channel>:<seq, 12 digits>  one message: {seq, ts, sender_user, sender_device,
//                               session_id, index, status, detail, detail_fr, plain
//                               (the decrypted JSON text, or null), env (base64),
//                               env_hash, prev, prev_missing, shared, shared_by,
//                               first_seen}
//   inb:<session id hex>        an inbound group session: {channel, sender_user,
//                               sender_device, first_index, ck (base64), forwarded,
//                               forwarded_by, via_device, direct_index, history,
//                               received_at}
//   outb:<channel>              this device's outbound session: {sk (base64 S_sk),
//                               ck, index, created_ms, created_log_seq, sent, rotate}
//   shw:<session id>:<device>   to whom a session was given: {user, idx, shared_at}
//                               (idx -1: told it is withheld)
//   seen:<session id>:<index>   {hash, channel, seq}: duplicate / index-reuse check
//   share:<share id hex>        {at}: key shares already acted on (replays dropped)
//   wh:<session id>             {channel, user, reason}: a withheld notice received
//   kreq:<session id>           {channel, at}: when this device last asked for a key
//   alarms:<channel>            {next, list: [{id, source, head_seq, head_hash,
//                               by_user, msg_seq, state, noted_at, raised_at,
//                               cleared_at}]}: membership alarms
//   person:<user>               {name, profession, profession_label, rpps}
//   set:to_device_cursor        {v}: the to-device queue's last processed id
import * as vault from '../store/vault.js';

export const pad = (n) => String(n).padStart(12, '0');

export const N = {
  chan: (ch) => `chan:${ch}`,
  msg: (ch, seq) => `msg:${ch}:${pad(seq)}`,
  msgPrefix: (ch) => `msg:${ch}:`,
  inb: (sid) => `inb:${sid}`,
  outb: (ch) => `outb:${ch}`,
  shw: (sid, dev) => `shw:${sid}:${dev}`,
  shwPrefix: (sid) => `shw:${sid}:`,
  seen: (sid, idx) => `seen:${sid}:${pad(idx)}`,
  share: (id) => `share:${id}`,
  wh: (sid) => `wh:${sid}`,
  kreq: (sid) => `kreq:${sid}`,
  alarms: (ch) => `alarms:${ch}`,
  person: (u) => `person:${u}`,
  setting: (k) => `set:${k}`,
};

// A write-through cache of the small records (everything but messages and
// the seen index, which core/thread.js caches per channel): a send reads
// the channel, alarm and session records many times. This tab is the only
// writer it knows of (two tabs of one browser each keep their own cache;
// the records they both write are the channel's position and the to-device
// cursor, and a stale one is corrected by the next fetch).
const cache = new Map();
const cached = (name) => !name.startsWith('msg:') && !name.startsWith('seen:');
const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

export async function get(name) {
  if (cached(name) && cache.has(name)) return clone(cache.get(name));
  const v = await vault.get(name);
  if (cached(name)) cache.set(name, clone(v));
  return v;
}

export async function put(name, v) {
  if (cached(name) && cache.has(name) && JSON.stringify(cache.get(name)) === JSON.stringify(v)) return;
  await vault.put(name, v);
  if (cached(name)) cache.set(name, clone(v));
}

export async function putMany(pairs) {
  if (!pairs.length) return;
  await vault.putMany(pairs);
  for (const [n, v] of pairs) if (cached(n)) cache.set(n, clone(v));
}

export const list = (prefix) => vault.list(prefix);

export async function del(name) {
  await vault.del(name);
  cache.delete(name);
}

/** Forgets the cache (on lock: the next session reads the vault again). */
export function forgetCache() {
  cache.clear();
}

/** The channel's local record (defaults when none). */
export async function chanGet(ch) {
  const c = await get(N.chan(ch));
  return {
    present: !!c, log_seq: -1, log_hash: null, valid: true, reason: '', kind: null, history: null,
    last_seq: 0, cut_from: 0, cut_to: 0, topic: null, topic_seq: 0, seen_seq: 0, last_ts: 0,
    ...(c || {}),
  };
}

export async function chanPut(ch, c) {
  const { present, ...rest } = c;
  await put(N.chan(ch), rest);
}

/** Reads, changes (fn(record) mutates it) and writes back the channel record. */
export async function chanUpdate(ch, fn) {
  const c = await chanGet(ch);
  fn(c);
  await chanPut(ch, c);
  return c;
}

export async function setting(k, dflt) {
  const v = await get(N.setting(k));
  return v === undefined ? dflt : v.v;
}

export async function setSetting(k, v) {
  await put(N.setting(k), { v });
}

/**
 * The messages of a channel with seq in [from, to], in seq order, read in
 * slices of 100 (one vault prefix each) so that a long thread never holds
 * the page for long; yields to the page between slices.
 */
export async function msgRange(ch, from, to, yieldFn = null) {
  const out = [];
  const lo = Math.max(0, Math.floor(from / 100));
  const hi = Math.floor(to / 100);
  for (let k = lo; k <= hi; k++) {
    const prefix = `${N.msgPrefix(ch)}${pad(k * 100).slice(0, 10)}`;
    const rows = await vault.list(prefix);
    for (const [, m] of rows) if (m.seq >= from && m.seq <= to) out.push(m);
    if (yieldFn) await yieldFn();
  }
  return out;
}
