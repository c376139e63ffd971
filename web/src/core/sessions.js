// Group sessions kept in the vault and shared through the to-device queue
// (client/store/local_sessions.c, client/core/keyshare_send.c; CRYPTO.md
// §3, §4): this device's outbound session per channel, every inbound
// session it holds (the key at the earliest index it was given), to which
// devices each session went, and the key shares it seals: room_key to every
// verified device of every member of the verified log (withheld notices to
// the blocked), history to a newcomer, one session to one device (answers
// to key requests), and key requests.
//
//   inboundGet(sid) / inboundPut(sid, k) / inboundMerge(k) -> {kept, conflict}
//   inGs(k)                      the gsOpen form of a stored inbound session
//   outboundGet(ch) / outboundPut(ch, o) / outboundNew(eng, v)
//   shareOutbound(eng, v, o)     -> count shared
//   rotationReason(eng, v, o)    '' or why a new session is needed
//   shareHistory(eng, v, user)   -> count forwarded
//   shareSessionTo(eng, v, k, index, user, device)
//   requestKey(eng, ch, senderUser, sid, index)
import { fromB64, toB64, fromHex, toHex, utf8, wipe, ksSeal, gsOutboundNew, gsOutboundFrom, gsInboundConsistent,
  gsAdvance, gsNeedsRotation, ROTATE_MESSAGES } from '../crypto/index.js';
import { idemKey, LiaisonError } from '../net/client.js';
import * as session from '../store/session.js';
import * as store from './store.js';
import { N } from './store.js';
import { peersLoad, peersDevice, blocked, changedText } from './peers.js';
import { headJson } from './channels.js';

const BATCH_ENTRIES = 200;
const BATCH_BYTES = 160 * 1024;

// ---- inbound ---------------------------------------------------------------------

export const inboundGet = (sid) => store.get(N.inb(sid));
export const inboundPut = (sid, k) => store.put(N.inb(sid), k);

/** sid: the session id as 64 hex characters (as in the record names). */
export function inGs(k, sid) {
  return { channel: fromHex(k.channel), sessionId: fromHex(sid),
    senderDevice: fromHex(k.sender_device), firstIndex: k.first_index, ckFirst: fromB64(k.ck) };
}

/** Merges a received key (local_inbound_merge): new, lower index (if consistent), or nothing. */
export async function inboundMerge(sid, k) {
  const old = await inboundGet(sid);
  if (!old) {
    await inboundPut(sid, k);
    return { kept: true, conflict: false };
  }
  const same = old.channel === k.channel && old.sender_device === k.sender_device && old.sender_user === k.sender_user;
  let direct = old.direct_index;
  if (k.direct_index >= 0 && (direct < 0 || k.direct_index < direct)) direct = k.direct_index;
  const a = inGs(old, sid);
  const b = inGs(k, sid);
  const [lo, hi] = a.firstIndex <= b.firstIndex ? [a, b] : [b, a];
  const consistent = same && gsInboundConsistent(lo, hi);
  wipe(a.ckFirst);
  wipe(b.ckFirst);
  if (!consistent) return { kept: false, conflict: true };
  if (k.first_index < old.first_index) {
    await inboundPut(sid, { ...k, direct_index: direct });
    return { kept: true, conflict: false };
  }
  if (direct !== old.direct_index) await inboundPut(sid, { ...old, direct_index: direct });
  return { kept: false, conflict: false };
}

// ---- outbound ----------------------------------------------------------------------

export const outboundGet = (ch) => store.get(N.outb(ch));
export const outboundPut = (ch, o) => store.put(N.outb(ch), o);

export function outGs(o) {
  return gsOutboundFrom({ sessionSk: fromB64(o.sk), ck: fromB64(o.ck), index: o.index, createdMs: o.created_ms });
}

export function sidOf(o) {
  return toHex(fromB64(o.sk).slice(32));
}

/** A fresh outbound session and its inbound copy (we read our own messages, and forward it as history). */
export async function outboundNew(eng, v) {
  const gs = gsOutboundNew(Date.now());
  const sid = toHex(gs.sessionId);
  const o = { sk: toB64(gs.sessionSk), ck: toB64(gs.ck), index: 0, created_ms: gs.createdMs,
    created_log_seq: v.entries.length - 1, sent: 0, rotate: '' };
  const k = { channel: v.channel, sender_user: eng.meHex, sender_device: eng.deviceHex, first_index: 0, ck: toB64(gs.ck),
    forwarded: false, forwarded_by: eng.meHex, via_device: eng.deviceHex, direct_index: 0, history: false,
    received_at: Date.now() };
  await store.putMany([[N.outb(v.channel), o], [N.inb(sid), k]]);
  wipe(gs.sessionSk);
  wipe(gs.ck);
  return o;
}

export async function markRotate(ch, why) {
  const o = await outboundGet(ch);
  if (o) await outboundPut(ch, { ...o, rotate: why });
}

// ---- shared_with -------------------------------------------------------------------------

async function sharedState(sid, device) {
  const r = await store.get(N.shw(sid, device));
  return r ? r.idx : -2; // -2 none, -1 withheld, else the index
}

async function sharedMinIndex(sid, user) {
  const rows = await store.list(N.shwPrefix(sid));
  let min = -1;
  for (const [, r] of rows) if (r.user === user && r.idx >= 0 && (min < 0 || r.idx < min)) min = r.idx;
  return min;
}

export { sharedMinIndex };

// ---- batches of key shares -------------------------------------------------------------

function newBatch() {
  return { messages: [], bytes: 0, pend: [] };
}

async function flush(eng, b) {
  if (b.messages.length === 0) return;
  const reply = await eng.req('to_device_send', { idem: idemKey(), messages: b.messages, partial: true });
  const refused = new Set();
  for (const r of Array.isArray(reply.refused) ? reply.refused : []) if (Number.isInteger(r.index)) refused.add(r.index);
  if (refused.size > 0) {
    const first = reply.refused[0] && reply.refused[0].message;
    eng.warn(`le serveur n'a pas mis en file ${refused.size} partage(s) de clé : ${first || '?'}`);
  }
  const rows = [];
  for (const p of b.pend) {
    if (refused.has(p.msg)) continue;
    const old = await store.get(N.shw(p.sid, p.device));
    // a device given the session twice keeps the lower index
    const idx = old && old.idx >= 0 && p.state >= 0 ? Math.min(old.idx, p.state) : p.state;
    rows.push([N.shw(p.sid, p.device), { user: p.user, idx, shared_at: Date.now() }]);
  }
  if (rows.length) await store.putMany(rows);
  b.messages = [];
  b.bytes = 0;
  b.pend = [];
}

async function add(eng, b, user, d, plain, rec) {
  const dk = session.key('dk');
  if (!dk) throw new LiaisonError('bad_passphrase', 'Verrouillé : déverrouillez pour continuer.');
  const text = utf8(JSON.stringify(plain));
  const env = ksSeal({ userA: fromHex(eng.meHex), devA: fromHex(eng.deviceHex), userB: fromHex(user),
    devB: fromHex(d.id), akIdB: fromHex(d.akId), akPkB: d.ak, dkSecretA: dk, plaintext: text });
  wipe(text);
  b.messages.push({ user, device: d.id, body: toB64(env) });
  b.bytes += Math.ceil(env.length * 4 / 3) + 120;
  if (rec) b.pend.push({ ...rec, msg: b.messages.length - 1 });
  if (b.messages.length >= BATCH_ENTRIES || b.bytes >= BATCH_BYTES) await flush(eng, b);
}

// ---- plaintexts ---------------------------------------------------------------------------

function roomKeyJson({ channel, sid, index, ck, senderUser, senderDevice }, history, forwarded, head) {
  const o = { type: 'room_key', channel, session_id: toB64(fromHex(sid)), index, chain_key: toB64(ck), history,
    forwarded, sender_user: senderUser, sender_device: senderDevice };
  if (head) o.mlog = head;
  return o;
}

function withheldJson(channel, sid, reason) {
  return { type: 'room_key_withheld', channel, session_id: toB64(fromHex(sid)), reason };
}

// ---- outbound sharing ---------------------------------------------------------------------

function warnBlocked(eng, pr, why) {
  if (pr.warned) return;
  pr.warned = true;
  if (!pr.me && !pr.trusted) eng.warn(`ATTENTION : ${changedText(eng, pr)}`);
  else eng.warn(`ATTENTION : aucune clé partagée avec ${eng.person(pr.user)} : ${why}`);
}

export async function shareOutbound(eng, v, o) {
  if (!v.valid) throw new LiaisonError('bad_signature', `Canal INVALIDE : ${v.reason} (bad_signature)`);
  const sid = sidOf(o);
  const ck = fromB64(o.ck);
  const base = { channel: v.channel, sid, index: o.index, ck, senderUser: eng.meHex, senderDevice: eng.deviceHex };
  const b = newBatch();
  let count = 0;
  for (const m of v.state.members) {
    const pr = eng.peers.get(m.user);
    if (!pr) continue;
    const why = blocked(eng, pr);
    if (why) warnBlocked(eng, pr, why);
    for (const d of pr.devices) {
      if (d.id === eng.deviceHex || !d.chainOk) continue;
      const state = await sharedState(sid, d.id);
      let plain = null;
      const rec = { sid, user: pr.user, device: d.id, state: 0 };
      if (why && state === -2) {
        rec.state = -1;
        plain = withheldJson(v.channel, sid, why);
      } else if (!why && state < 0) {
        rec.state = o.index;
        plain = roomKeyJson(base, false, false, headJson(v));
        count++;
      }
      if (plain) await add(eng, b, pr.user, d, plain, rec);
    }
  }
  await flush(eng, b);
  wipe(ck);
  return count;
}

async function checkRecipients(eng, v, o) {
  const sid = sidOf(o);
  const rows = await store.list(N.shwPrefix(sid));
  for (const [name, r] of rows) {
    if (r.idx < 0) continue;
    const device = name.slice(N.shwPrefix(sid).length);
    const pr = eng.peers.get(r.user);
    if (!pr || !v.state.members.some((m) => m.user === r.user)) continue;
    const active = pr.devices.some((d) => d.id === device && d.chainOk);
    if (!active) return `a device of ${eng.person(r.user)} was revoked or no longer verifies`;
    const why = blocked(eng, pr);
    if (why) return `${eng.person(r.user)}: ${why}`;
  }
  return '';
}

export async function rotationReason(eng, v, o) {
  if (o.rotate) return o.rotate;
  if (v.lastDepartureSeq > o.created_log_seq) return 'a member left or was removed';
  if (o.sent >= ROTATE_MESSAGES || gsNeedsRotation({ index: o.index, createdMs: o.created_ms }, Date.now())) {
    return `the session reached ${ROTATE_MESSAGES} messages or 7 days`;
  }
  return checkRecipients(eng, v, o);
}

// ---- history, single shares, requests --------------------------------------------------------

export async function shareHistory(eng, v, newcomer) {
  await peersLoad(eng, [newcomer], true);
  const pr = eng.peers.get(newcomer);
  if (!pr) return 0;
  const why = blocked(eng, pr);
  if (why) {
    warnBlocked(eng, pr, why);
    return 0;
  }
  const rows = (await store.list('inb:')).filter(([, k]) => k.channel === v.channel)
    .sort((x, y) => x[1].received_at - y[1].received_at);
  const b = newBatch();
  for (const [name, k] of rows) {
    const sid = name.slice(4);
    const plain = roomKeyJson({ channel: v.channel, sid, index: k.first_index, ck: fromB64(k.ck), senderUser: k.sender_user,
      senderDevice: k.sender_device }, true, true, headJson(v));
    for (const d of pr.devices) if (d.chainOk) await add(eng, b, pr.user, d, plain, null);
  }
  await flush(eng, b);
  return rows.length;
}

export async function shareSessionTo(eng, v, sid, k, index, user, device) {
  const d = await peersDevice(eng, user, device, false);
  if (!d || !d.chainOk) return;
  const ck = gsAdvance(fromB64(k.ck), k.first_index, index);
  if (!ck) return;
  const own = k.sender_device === eng.deviceHex;
  const plain = roomKeyJson({ channel: k.channel, sid, index, ck, senderUser: k.sender_user, senderDevice: k.sender_device },
    !own, !own, headJson(v));
  wipe(ck);
  const b = newBatch();
  await add(eng, b, user, d, plain, null);
  await flush(eng, b);
}

export async function requestKey(eng, ch, senderUser, sid, index) {
  await peersLoad(eng, [senderUser]);
  const pr = eng.peers.get(senderUser);
  if (!pr) return;
  const plain = { type: 'key_request', channel: ch, session_id: toB64(fromHex(sid)), index };
  const b = newBatch();
  for (const d of pr.devices) if (d.chainOk && d.id !== eng.deviceHex) await add(eng, b, pr.user, d, plain, null);
  await flush(eng, b);
  await store.put(N.kreq(sid), { channel: ch, at: Date.now() });
}
