// Channels and their signed membership log (client/core/mlog_verify.c,
// channel_ops.c; CRYPTO.md "Membership log (§6)" and "Membership bound
// into messages and key shares"): the whole log fetched and every entry
// verified (its signer a device of the actor certified under the accepted
// identity key, not revoked before the entry, the rules replayed), the log
// compared with what this browser verified before (rollback) and with the
// server's member list; heads carried by messages and key shares checked,
// membership alarms raised, kept and cleared; entries signed and appended.
//
//   chanViewLoad(eng, ch)   -> view {channel, valid, reason, alarm, state
//                              {kind, history, members: [{user, role, since}]},
//                              entries, nVerified, ever: Set, lastDepartureSeq,
//                              myDeparture, myJoinTs, meMember}
//   headNote(eng, v, ch, obj, source, by, msgSeq)  -> 'ok' | 'malformed'
//   settlePending(eng, ch|null)    fetch the logs that pending heads name
//   alarmActive(eng, ch)           French text of the first active alarm, or ''
//   alarmsOf(eng, ch)              every alarm not pending (for the thread view)
//   headJson(v)                    {"seq","hash"} of the last verified entry
//   createChannel(eng, kind, history)   -> channel hex
//   appendEntry(eng, v, action, subject, role) -> seq
import { fromHex, toHex, fromB64, toB64, equal, mlogSigned, mlogHash, mlogSign, mlogVerify,
  mlogHeadParse, ACTION, ROLE, HISTORY, KIND } from '../crypto/index.js';
import { LiaisonError, idemKey } from '../net/client.js';
import * as session from '../store/session.js';
import * as store from './store.js';
import { N } from './store.js';
import { peersLoad, peersDevice } from './peers.js';
import { alarmText } from './texts.js';

const HEX32 = /^[0-9a-f]{32}$/;
export const MAX_MEMBERS = 1000;
const ALARMS_OPEN_MAX = 64;

// ---- entries ------------------------------------------------------------------

function b64n(v, n) {
  try {
    const b = fromB64(v);
    return b.length === n ? b : null;
  } catch {
    return null;
  }
}

function enumName(table, v, field) {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || !(v in table) || table[v] === 0) throw new Error(`field "${field}": unknown value`);
  return v;
}

/** An ENTRY of the wire into {channel, seq, prev, actor, …} (bytes for ids), or throws. */
export function entryFromJson(o) {
  if (!o || typeof o !== 'object') throw new Error('expected an object');
  for (const f of ['channel', 'actor', 'actor_device', 'subject']) {
    if (!HEX32.test(o[f])) throw new Error(`field "${f}" is not an id`);
  }
  if (!Number.isSafeInteger(o.seq) || o.seq < 0 || o.seq > 1e9) throw new Error('field "seq" out of range');
  if (!Number.isSafeInteger(o.ts) || o.ts < 0) throw new Error('field "ts" out of range');
  const action = enumName(ACTION, o.action, 'action');
  if (!action) throw new Error('field "action" is required');
  const sig = b64n(o.sig, 64);
  if (!sig) throw new Error('field "sig" is not 64 bytes of base64');
  let prev = new Uint8Array(0);
  if (o.seq > 0) {
    prev = b64n(o.prev, 32);
    if (!prev) throw new Error('field "prev" is not 32 bytes of base64');
  }
  return {
    channel: fromHex(o.channel), channelHex: o.channel, seq: o.seq, prev,
    actor: fromHex(o.actor), actorHex: o.actor, actorDevice: fromHex(o.actor_device), actorDeviceHex: o.actor_device,
    action, subject: fromHex(o.subject), subjectHex: o.subject,
    role: enumName(ROLE, o.role, 'role'), history: enumName(HISTORY, o.history, 'history'),
    kind: enumName(KIND, o.kind, 'kind'), ts: o.ts, sig,
  };
}

export function entryToJson(e) {
  return {
    channel: e.channelHex, seq: e.seq, prev: e.seq === 0 ? null : toB64(e.prev), actor: e.actorHex,
    actor_device: e.actorDeviceHex, action: e.action, subject: e.subjectHex, role: e.role || null,
    history: e.history || null, kind: e.kind || null, ts: e.ts, sig: toB64(e.sig),
  };
}

// ---- the rules (shared/mlog.c lsn_mlog_apply) -----------------------------------

function newState() {
  return { nextSeq: 0, channel: null, lastHash: null, kind: null, history: null, members: [] };
}

function copyState(s) {
  return { ...s, members: s.members.map((m) => ({ ...m })) };
}

function refuse(why) {
  return { ok: false, code: 'forbidden', why: `membership log entry refused: ${why}` };
}

function applyCreate(st, e) {
  if (e.seq !== 0) return refuse('create is only the first entry');
  if (e.subjectHex !== e.actorHex || e.role !== 'admin') return refuse('the creator must be the subject and an admin');
  if (!e.kind) return refuse('create needs a channel kind');
  if (e.history !== 'shared' && e.history !== 'from_join') return refuse('create needs a history policy');
  st.channel = e.channelHex;
  st.kind = e.kind;
  st.history = e.history;
  st.members.push({ user: e.actorHex, addedBy: e.actorHex, role: 'admin', since: 0 });
  return { ok: true };
}

function applyChange(st, e) {
  const find = (u) => st.members.find((m) => m.user === u);
  const actor = find(e.actorHex);
  const subject = find(e.subjectHex);
  const self = e.actorHex === e.subjectHex;
  const admins = () => st.members.filter((m) => m.role === 'admin').length;
  const drop = (m) => st.members.splice(st.members.indexOf(m), 1);
  if (!actor) return refuse('the actor is not a member of the channel');
  if (e.history || e.kind) return refuse('history and kind are fixed by the create entry');
  switch (e.action) {
    case 'add':
      if (actor.role !== 'admin') return refuse('only a channel admin may add members');
      if (subject) return refuse('the subject is already a member');
      if (e.role !== 'member' && e.role !== 'admin') return refuse('add needs the role member or admin');
      if (st.members.length >= MAX_MEMBERS || (st.kind === 'direct' && st.members.length >= 2)) {
        return refuse(st.kind === 'direct' ? 'a direct channel has two members' : 'the channel is full');
      }
      st.members.push({ user: e.subjectHex, addedBy: e.actorHex, role: e.role, since: e.seq });
      return { ok: true };
    case 'remove':
      if (actor.role !== 'admin') return refuse('only a channel admin may remove members');
      if (!subject || self) return refuse(self ? 'to remove yourself, leave' : 'the subject is not a member');
      if (e.role) return refuse('remove carries no role');
      drop(subject);
      return { ok: true };
    case 'leave':
      if (!self || e.role) return refuse("leave is the actor's own, without a role");
      if (actor.role === 'admin' && admins() === 1 && st.members.length > 1) {
        return refuse('the last admin cannot leave; make another member admin first');
      }
      drop(actor);
      return { ok: true };
    case 'role':
      if (actor.role !== 'admin') return refuse('only a channel admin may change roles');
      if (!subject) return refuse('the subject is not a member');
      if (e.role !== 'member' && e.role !== 'admin') return refuse('role needs member or admin');
      if (subject.role === 'admin' && e.role === 'member' && admins() === 1) {
        return refuse('the last admin cannot step down; make another member admin first');
      }
      subject.role = e.role;
      return { ok: true };
    default:
      return refuse('unknown action');
  }
}

export function applyEntry(st, e) {
  if (e.seq !== st.nextSeq) {
    return { ok: false, code: 'conflict', why: `membership log entry ${e.seq} does not follow entry ${st.nextSeq}; fetch the log and retry` };
  }
  if (e.seq > 0 && e.channelHex !== st.channel) return refuse('the entry belongs to another channel');
  if (e.seq > 0 && !equal(e.prev, st.lastHash)) {
    return { ok: false, code: 'conflict', why: `membership log entry ${e.seq} does not chain to the previous entry; fetch the log and retry` };
  }
  const r = e.action === 'create' ? applyCreate(st, e)
    : (e.seq === 0 ? refuse('the first entry must be create') : applyChange(st, e));
  if (!r.ok) return r;
  st.lastHash = mlogHash(e);
  st.nextSeq = e.seq + 1;
  return r;
}

// ---- the view ----------------------------------------------------------------------

function invalid(v, reason) {
  if (v.valid) {
    v.reason = reason;
    v.valid = false;
  }
  return false;
}

async function checkSigner(eng, v, i) {
  const en = v.entries[i];
  const d = await peersDevice(eng, en.actorHex, en.actorDeviceHex, true);
  const who = eng.person(en.actorHex);
  if (!d) return invalid(v, `l'entrée ${i} du journal a été signée par un appareil qui n'est pas de ${who}`);
  if (!d.chainOk) {
    return invalid(v, `entrée ${i} du journal : l'appareil de ${who} qui l'a signée n'est pas certifié par sa clé ` +
      'd’identité acceptée (clé d’identité changée ?)');
  }
  if (d.revokedAt > 0 && en.ts > d.revokedAt) {
    return invalid(v, `l'entrée ${i} du journal a été signée par un appareil de ${who} après sa révocation`);
  }
  if (!mlogVerify(en, en.sig, d.dk)) return invalid(v, `entrée ${i} du journal : la signature de ${who} ne se vérifie pas`);
  return true;
}

function noteEntry(eng, v, en) {
  if (en.action === 'create' || en.action === 'add') v.ever.add(en.subjectHex);
  if (en.action === 'remove' || en.action === 'leave') {
    v.lastDepartureSeq = en.seq;
    if (en.subjectHex === eng.meHex) v.myDeparture = en;
  }
  if ((en.action === 'add' || en.action === 'create') && en.subjectHex === eng.meHex) {
    v.myDeparture = null;
    v.myJoinTs = en.ts;
  }
}

async function replay(eng, v) {
  await peersLoad(eng, v.entries.map((e) => e.actorHex));
  for (let i = 0; i < v.entries.length && v.valid; i++) {
    const en = v.entries[i];
    if (en.channelHex !== v.channel) invalid(v, `l'entrée ${i} du journal appartient à un autre canal`);
    else if (en.seq !== i) invalid(v, `l'entrée ${i} du journal porte le numéro ${en.seq}`);
    else if (!(await checkSigner(eng, v, i))) continue;
    else {
      const r = applyEntry(v.state, en);
      if (!r.ok) invalid(v, `l'entrée ${i} du journal enfreint les règles (${r.why})`);
      else {
        noteEntry(eng, v, en);
        v.nVerified = i + 1;
      }
    }
  }
}

function checkHistory(v, prev) {
  if (!v.valid || !prev.present || prev.log_seq < 0 || !prev.log_hash) return false;
  const held = fromB64(prev.log_hash);
  if (v.entries.length <= prev.log_seq) {
    invalid(v, `le serveur sert maintenant ${v.entries.length} entrées du journal mais ${prev.log_seq + 1} avaient été ` +
      'vérifiées avant (journal ramené en arrière)');
    return true;
  }
  if (!equal(mlogHash(v.entries[prev.log_seq]), held)) {
    invalid(v, `le serveur a réécrit le journal des membres (l'entrée ${prev.log_seq} diffère de celle vérifiée avant)`);
    return true;
  }
  return false;
}

function checkMembers(eng, v, members) {
  let listed = 0;
  for (const m of Array.isArray(members) ? members : []) {
    const u = m && m.user;
    eng.remember(u);
    if (!u || !HEX32.test(u.id)) continue;
    listed++;
    const lm = v.state.members.find((x) => x.user === u.id);
    const who = eng.person(u.id);
    if (v.valid && !lm) {
      invalid(v, `le serveur présente ${who} comme membre, mais le journal des membres signé ne le dit pas ` +
        '(ajouté en dehors du journal)');
    } else if (v.valid && m.role !== lm.role) {
      invalid(v, `le serveur donne à ${who} un autre rôle que le journal signé`);
    }
  }
  if (v.valid && listed !== v.state.members.length) {
    invalid(v, `le serveur présente ${listed} membres mais le journal signé en a ${v.state.members.length}`);
  }
}

async function fetchMembers(eng, v) {
  let reply;
  try {
    reply = await eng.req('channel_members', { channel: v.channel });
  } catch (e) {
    if (e.code === 'forbidden' || e.code === 'not_found') return; // a former member
    throw e;
  }
  v.members = reply.members || [];
  checkMembers(eng, v, v.members);
}

// ---- alarms --------------------------------------------------------------------------

async function alarmsGet(ch) {
  return (await store.get(N.alarms(ch))) || { next: 1, list: [] };
}

async function alarmNote(ch, a) {
  const r = await alarmsGet(ch);
  const open = r.list.filter((x) => x.state !== 'cleared');
  if (open.some((x) => x.head_seq === a.head_seq && x.head_hash === a.head_hash)) return false;
  if (open.length >= ALARMS_OPEN_MAX) return false;
  const now = Date.now();
  r.list.push({ id: r.next, source: a.source, head_seq: a.head_seq, head_hash: a.head_hash, by_user: a.by_user || null,
    msg_seq: a.msg_seq || 0, state: a.state, noted_at: now, raised_at: a.state === 'active' ? now : 0, cleared_at: 0 });
  r.next += 1;
  await store.put(N.alarms(ch), r);
  return true;
}

export function viewHasHead(v, seq, hashB64) {
  if (seq < 0 || seq >= v.nVerified) return false;
  return toB64(mlogHash(v.entries[seq])) === hashB64;
}

export function headJson(v) {
  if (!v.nVerified) return null;
  const e = v.entries[v.nVerified - 1];
  return { seq: e.seq, hash: toB64(mlogHash(e)) };
}

async function settleAlarms(eng, v) {
  const r = await alarmsGet(v.channel);
  let changed = false;
  const now = Date.now();
  for (const a of [...r.list]) {
    if (a.state === 'cleared') continue;
    const found = viewHasHead(v, a.head_seq, a.head_hash);
    const who = a.by_user ? eng.person(a.by_user) : 'quelqu’un';
    if (a.state === 'pending' && found) {
      r.list.splice(r.list.indexOf(a), 1);
      changed = true;
      continue;
    }
    if (found) {
      a.state = 'cleared';
      a.cleared_at = now;
      changed = true;
      eng.warn(`le serveur montre de nouveau le changement de membres n° ${a.head_seq} : l'alarme est levée (${alarmText(a, who)})`);
      continue;
    }
    if (a.state === 'pending') {
      a.state = 'active';
      a.raised_at = now;
      changed = true;
    }
    if (!v.alarm) invalid(v, `alarme de membres : ${alarmText(a, who)}`);
    v.alarm = true;
  }
  if (changed) await store.put(N.alarms(v.channel), r);
}

async function noteRollback(eng, v, prev) {
  await alarmNote(v.channel, { source: 'rollback', head_seq: prev.log_seq, head_hash: prev.log_hash, state: 'active' });
}

/**
 * The head in obj.mlog (a message's or a share's): nothing to do when
 * absent or found in the verified log; 'malformed' when malformed; else
 * kept pending until the log is fetched again (settlePending).
 */
export async function headNote(eng, v, ch, obj, source, by, msgSeq = 0) {
  if (!Object.prototype.hasOwnProperty.call(obj, 'mlog')) return 'ok';
  const h = mlogHeadParse(obj.mlog);
  if (!h) return 'malformed';
  const hash = toB64(h.hash);
  if (v && viewHasHead(v, h.seq, hash)) return 'ok';
  if (!v) {
    const c = await store.chanGet(ch);
    if (c.present && c.log_hash && c.log_seq === h.seq && c.log_hash === hash) return 'ok';
  }
  await alarmNote(ch, { source, head_seq: h.seq, head_hash: hash, by_user: by, msg_seq: msgSeq, state: 'pending' });
  return 'ok';
}

export async function settlePending(eng, ch = null) {
  const rows = ch ? [[N.alarms(ch), await alarmsGet(ch)]] : await store.list('alarms:');
  for (const [name, r] of rows) {
    if (!r.list.some((a) => a.state === 'pending')) continue;
    const c = name.slice('alarms:'.length);
    try {
      await chanViewLoad(eng, c);
    } catch (e) {
      if (e.code !== 'forbidden' && e.code !== 'not_found') throw e;
      const again = await alarmsGet(c);
      again.list = again.list.filter((a) => a.state !== 'pending');
      await store.put(N.alarms(c), again);
    }
  }
}

export async function alarmActive(eng, ch) {
  const r = await alarmsGet(ch);
  const a = r.list.find((x) => x.state === 'active');
  return a ? alarmText(a, a.by_user ? eng.person(a.by_user) : 'quelqu’un') : '';
}

/** Alarms to show (active and cleared), with their French and English texts. */
export async function alarmsOf(eng, ch) {
  const r = await alarmsGet(ch);
  return r.list.filter((a) => a.state !== 'pending').map((a) => {
    const who = a.by_user ? eng.person(a.by_user) : 'someone';
    return { ...a, text: alarmText(a, who, true), text_fr: alarmText(a, a.by_user ? eng.person(a.by_user) : 'quelqu’un') };
  });
}

// ---- loading ---------------------------------------------------------------------------

export async function chanViewLoad(eng, ch) {
  const v = { channel: ch, valid: true, reason: '', alarm: false, state: newState(), entries: [], nVerified: 0,
    ever: new Set(), lastDepartureSeq: -1, myDeparture: null, myJoinTs: 0, members: null, meMember: false };
  const prev = await store.chanGet(ch);
  const reply = await eng.req('channel_log', { channel: ch });
  const entries = Array.isArray(reply.entries) ? reply.entries : [];
  for (let i = 0; i < entries.length && v.valid; i++) {
    try {
      v.entries.push(entryFromJson(entries[i]));
    } catch (e) {
      invalid(v, `l'entrée ${i} du journal des membres est mal formée (${e.message})`);
    }
  }
  if (v.valid && entries.length === 0) invalid(v, 'le serveur a envoyé un journal des membres vide');
  if (v.valid) await replay(eng, v);
  if (checkHistory(v, prev)) await noteRollback(eng, v, prev);
  await settleAlarms(eng, v);
  await fetchMembers(eng, v);
  if (v.valid) await peersLoad(eng, v.state.members.map((m) => m.user));
  const c = { ...prev, valid: v.valid, reason: v.valid ? '' : v.reason };
  if (v.valid) {
    const last = v.entries[v.entries.length - 1];
    c.log_seq = v.entries.length - 1;
    c.log_hash = toB64(mlogHash(last));
    c.kind = v.state.kind;
    c.history = v.state.history;
    c.members = v.state.members.map((m) => m.user);
  }
  await store.chanPut(ch, c);
  v.meMember = v.valid && v.state.members.some((m) => m.user === eng.meHex);
  v.kind = v.state.kind || prev.kind;
  v.history = v.state.history || prev.history;
  eng.views.set(ch, v);
  return v;
}

/** The view loaded in this session, else loaded now. */
export async function chanView(eng, ch) {
  return eng.views.get(ch) || chanViewLoad(eng, ch);
}

// ---- appending -----------------------------------------------------------------------

function signEntry(eng, fields) {
  const dk = session.key('dk');
  if (!dk) throw new LiaisonError('bad_passphrase', 'Verrouillé : déverrouillez pour continuer.');
  const e = { ...fields, actor: fromHex(eng.meHex), actorHex: eng.meHex, actorDevice: fromHex(eng.deviceHex),
    actorDeviceHex: eng.deviceHex, ts: Date.now() };
  e.channel = fromHex(e.channelHex);
  e.subject = fromHex(e.subjectHex);
  e.sig = mlogSign(e, dk);
  return e;
}

/** channel_create with a signed create entry; returns the new channel's id. */
export async function createChannel(eng, kind, history) {
  const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const e = signEntry(eng, { channelHex: id, seq: 0, prev: new Uint8Array(0), action: 'create', subjectHex: eng.meHex,
    role: 'admin', history, kind });
  await eng.req('channel_create', { idem: idemKey(), entry: entryToJson(e) });
  return id;
}

/** Appends add/remove/leave/role (chan_append): checked locally, retried once on a stale log. */
export async function appendEntry(eng, v, action, subject, role) {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) {
      v = await chanViewLoad(eng, v.channel);
      if (!v.valid) throw new LiaisonError('bad_signature', `Canal INVALIDE : ${v.reason} (bad_signature)`);
    }
    const last = v.entries[v.entries.length - 1];
    const e = signEntry(eng, { channelHex: v.channel, seq: v.entries.length, prev: mlogHash(last), action,
      subjectHex: subject, role: role || null, history: null, kind: null });
    const r = applyEntry(copyState(v.state), e);
    if (!r.ok && r.code === 'forbidden') throw new LiaisonError('forbidden', `${r.why} ; rien n'a été changé (forbidden)`);
    try {
      await eng.req('channel_append', { idem: idemKey(), entry: entryToJson(e) });
      return e.seq;
    } catch (err) {
      if (err.code !== 'conflict' || attempt > 0) throw err;
    }
  }
  return -1;
}

export { mlogSigned };
