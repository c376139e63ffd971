// Messages of a channel: fetched, verified, decrypted and kept
// (client/core/thread_recv.c, thread_gaps.c; CRYPTO.md §4 and "Gaps and
// the per-sender link"). Every message that cannot be read keeps its exact
// reason, as the CLI's status and detail (English, as `liaison read
// --json`) and in French for the page. Kept in the vault (msg:…), and in
// memory for the channels opened (eng.threads).
//
//   threadFetch(eng, v)      fetches every new message (pages of 200), the
//                            cut check, retries waiting ones, settles heads;
//                            -> {last_seq, fetched, decrypted, waiting}
//   threadRetry(eng, v)      retries the messages waiting for a key
//   threadDeliver(eng, v, ev)  a pushed `message`: taken alone when it is the
//                            next seq, else a fetch from the last synced one
//   requestMissing(eng, v, minWaitMs)  key requests for messages still waiting
//   cacheOf(eng, ch)         {msgs: Map(seq -> msg), hashes: Set} loaded from the vault
//   receiptMarks(eng, ch)    {delivered, read}: thread_receipt_marks
//   gapsOf(eng, ch, msgs)    the missing seqs, links and truncation, as the CLI
//   rememberSent(eng, v, …)  our own message, kept when the server accepted it
import { fromB64, toB64, toHex, fromUtf8, msgHeaderParse, gsOpen, gsEnvelopeHash, wipe } from '../crypto/index.js';
import * as store from './store.js';
import { N } from './store.js';
import { headNote, settlePending } from './channels.js';
import { inboundGet, inGs, requestKey } from './sessions.js';
import { DETAIL, GS_TEXT } from './texts.js';

export const FETCH_PAGE = 200;
export const KEY_REQUEST_DELAY_MS = 2000;
export const KEY_REQUEST_AGAIN_MS = 3600 * 1000;
export const ANSWER_WAIT_MS = 3000;
export const TOPIC_MAX = 512;
const HEX32 = /^[0-9a-f]{32}$/;
const PENDING = new Set(['waiting', 'withheld', 'unknown_session', 'before_first']);
const REFUSED = new Set(['bad_signature', 'invalid', 'unknown_session', 'undecryptable', 'alarm', 'duplicate', 'damaged']);

export const tick = () => new Promise((r) => setTimeout(r, 0));

// ---- the cache --------------------------------------------------------------------

export async function cacheOf(eng, ch) {
  let c = eng.threads.get(ch);
  if (c && c.loaded) return c;
  if (!c) {
    c = { msgs: new Map(), hashes: new Set(), loaded: false };
    eng.threads.set(ch, c);
  }
  const rec = await store.chanGet(ch);
  const hi = Math.max(rec.last_seq, rec.cut_to || 0);
  if (hi > 0) {
    for (const m of await store.msgRange(ch, 1, hi, tick)) {
      if (!c.msgs.has(m.seq)) c.msgs.set(m.seq, m);
      if (m.env_hash) c.hashes.add(m.env_hash);
    }
  }
  c.loaded = true;
  return c;
}

function keep(c, m, pairs) {
  c.msgs.set(m.seq, m);
  if (m.env_hash) c.hashes.add(m.env_hash);
  pairs.push([N.msg(m.channel, m.seq), m]);
}

function setStatus(m, status, [en, fr]) {
  m.status = status;
  m.detail = en;
  m.detail_fr = fr;
}

// ---- decrypting ---------------------------------------------------------------------

async function seenMsg(eng, sid, index, hash, ch, seq, pairs) {
  const key = N.seen(sid, index);
  eng.seen = eng.seen || new Map();
  let r = eng.seen.get(key);
  if (!r) r = await store.get(key);
  if (!r) {
    r = { hash, channel: ch, seq };
    eng.seen.set(key, r);
    pairs.push([key, r]);
    return { seen: 'new', first: seq };
  }
  eng.seen.set(key, r);
  return { seen: r.hash === hash ? 'duplicate' : 'alarm', first: r.seq };
}

function contentMatches(v, m, obj) {
  return obj && typeof obj === 'object' && !Array.isArray(obj) && typeof obj.type === 'string' &&
    obj.channel === v.channel && obj.sender === m.sender_user;
}

async function noteContent(ch, seq, obj) {
  if (obj.type === 'topic' && typeof obj.topic === 'string' && new TextEncoder().encode(obj.topic).length < TOPIC_MAX) {
    await store.chanUpdate(ch, (c) => {
      if (!c.topic_seq || c.topic_seq <= seq) {
        c.topic = obj.topic;
        c.topic_seq = seq;
      }
    });
  }
}

async function acceptPlain(eng, v, c, m, k, env, plain, pairs) {
  const hash = toHex(gsEnvelopeHash(env));
  const seen = await seenMsg(eng, m.session_id, m.index, hash, v.channel, m.seq, pairs);
  let obj = null;
  try {
    obj = JSON.parse(fromUtf8(plain));
  } catch {
    obj = null;
  }
  const text = obj ? fromUtf8(plain) : null;
  wipe(plain);
  if (seen.seen === 'alarm') return setStatus(m, 'alarm', DETAIL.alarm(m.index, seen.first));
  if (seen.seen === 'duplicate' && seen.first !== m.seq) return setStatus(m, 'duplicate', DETAIL.duplicate(seen.first));
  if (!contentMatches(v, m, obj)) return setStatus(m, 'invalid', DETAIL.content_mismatch());
  const hasLink = Object.prototype.hasOwnProperty.call(obj, 'link');
  if (hasLink && !(typeof obj.link === 'string' && /^[0-9a-f]{64}$/.test(obj.link))) {
    return setStatus(m, 'invalid', DETAIL.bad_link());
  }
  if (await headNote(eng, v, v.channel, obj, 'message', m.sender_user, m.seq) === 'malformed') {
    return setStatus(m, 'invalid', DETAIL.bad_head());
  }
  setStatus(m, 'ok', v.ever.has(m.sender_user) || !v.valid ? ['', ''] : DETAIL.not_in_log());
  await noteContent(v.channel, m.seq, obj);
  if (hasLink) {
    m.prev = obj.link;
    m.prev_missing = !c.hashes.has(obj.link);
  }
  m.plain = text;
  m.shared = k.forwarded && (k.direct_index < 0 || m.index < k.direct_index);
  m.shared_by = k.forwarded_by;
  return null;
}

async function noSession(eng, v, m) {
  const wh = await store.get(N.wh(m.session_id));
  if (wh) {
    return setStatus(m, 'withheld', DETAIL.withheld(eng.personEn(m.sender_user), eng.person(m.sender_user), wh.reason));
  }
  if (v.valid && v.state.history === 'from_join' && v.myJoinTs > 0 && m.ts < v.myJoinTs) {
    return setStatus(m, 'before_first', DETAIL.before_join());
  }
  return setStatus(m, 'waiting', DETAIL.waiting(eng.personEn(m.sender_user), eng.person(m.sender_user)));
}

function gsFailure(v, m, status) {
  if (status === 'bad_signature') return setStatus(m, 'bad_signature', DETAIL.bad_signature());
  if (status === 'before_first_key') return setStatus(m, 'before_first', DETAIL.before_first(v.state && v.state.history === 'from_join'));
  if (status === 'wrong_session') return setStatus(m, 'unknown_session', DETAIL.wrong_session());
  if (status === 'wrong_sender') return setStatus(m, 'unknown_session', DETAIL.wrong_sender());
  return setStatus(m, 'undecryptable', DETAIL[status] ? DETAIL[status]() : [GS_TEXT.decrypt_failed, GS_TEXT.decrypt_failed]);
}

function headerProblem(env) {
  if (env.length < 184) return `envelope of ${env.length} bytes is shorter than the minimum of 184`;
  if (env.length > 65536) return `envelope of ${env.length} bytes is larger than 65536; send documents as attachments`;
  if (env[0] !== 0x4c || env[1] !== 0x53 || env[2] !== 0x4e) return 'envelope does not start with "LSN"';
  return `envelope version ${env[3]} is not supported`;
}

async function decryptInto(eng, v, c, m, pairs) {
  const env = fromB64(m.env);
  const h = msgHeaderParse(env);
  if (!h) return setStatus(m, 'invalid', DETAIL.not_envelope(headerProblem(env)));
  m.session_id = toHex(h.sessionId);
  m.index = h.index;
  if (toHex(h.channel) !== v.channel || toHex(h.senderDevice) !== m.sender_device) {
    return setStatus(m, 'invalid', DETAIL.header_mismatch());
  }
  const k = await inboundGet(m.session_id);
  if (!k) return noSession(eng, v, m);
  if (k.sender_user !== m.sender_user) return setStatus(m, 'unknown_session', DETAIL.other_sender());
  const gs = inGs(k, m.session_id);
  const r = gsOpen(env, gs);
  wipe(gs.ckFirst);
  if (r.status === 'ok') return acceptPlain(eng, v, c, m, k, env, r.plaintext, pairs);
  return gsFailure(v, m, r.status);
}

// ---- taking messages -----------------------------------------------------------------

function parseMessage(o, ch) {
  if (!o || !Number.isSafeInteger(o.seq) || o.seq < 1 || !Number.isSafeInteger(o.ts) || o.ts < 0 ||
    !HEX32.test(o.sender_user) || !HEX32.test(o.sender_device) || typeof o.envelope !== 'string') return null;
  let env;
  try {
    env = fromB64(o.envelope);
  } catch {
    return null;
  }
  return { channel: ch, seq: o.seq, ts: o.ts, sender_user: o.sender_user, sender_device: o.sender_device,
    session_id: null, index: 0, status: '', detail: '', detail_fr: '', plain: null, env: o.envelope,
    env_hash: toHex(gsEnvelopeHash(env)), prev: null, prev_missing: false, shared: false, shared_by: null,
    first_seen: Date.now() };
}

async function take(eng, v, c, o, pairs) {
  const m = parseMessage(o, v.channel);
  if (!m) {
    const e = new Error('the server sent a malformed message');
    e.code = 'protocol';
    throw e;
  }
  const old = c.msgs.get(m.seq);
  if (old && old.status === 'ok') {
    // our own message, cached when sent (or one read before): keep that copy
    if (old.env_hash && old.env_hash !== m.env_hash && !old.renumbered) {
      const [en, fr] = DETAIL.renumbered(m.seq);
      const next = { ...old, detail: en, detail_fr: fr, renumbered: true };
      keep(c, next, pairs);
      return next;
    }
    return old;
  }
  await decryptInto(eng, v, c, m, pairs);
  keep(c, m, pairs);
  return m;
}

async function fetchPage(eng, v, c, r) {
  const reply = await eng.req('messages', { channel: v.channel, after: r.last_seq, limit: FETCH_PAGE });
  const messages = Array.isArray(reply.messages) ? reply.messages : [];
  const more = reply.more === true && messages.length > 0;
  const shown = Number.isSafeInteger(reply.last_seq) ? reply.last_seq : -1;
  const pairs = [];
  let lastTs = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = await take(eng, v, c, messages[i], pairs);
    if (m.seq > r.last_seq) {
      r.last_seq = m.seq;
      r.fetched++;
      if (m.status === 'ok') r.decrypted++;
      lastTs = Math.max(lastTs, m.ts);
    }
    if (i % 20 === 19) await tick(); // never hold the page long
  }
  if (pairs.length) await store.putMany(pairs);
  if (messages.length) {
    await store.chanUpdate(v.channel, (ch) => {
      ch.last_seq = r.last_seq;
      if (lastTs) ch.last_ts = Math.max(ch.last_ts || 0, lastTs);
    });
  }
  return { more, shown };
}

async function retryPending(eng, v, c, r) {
  const pairs = [];
  let n = 0;
  for (const m of [...c.msgs.values()].sort((a, b) => a.seq - b.seq)) {
    if (!m.env || !PENDING.has(m.status)) continue;
    const next = { ...m };
    await decryptInto(eng, v, c, next, pairs);
    keep(c, next, pairs);
    if (next.status === 'ok') r.decrypted++;
    if (next.status === 'waiting') r.waiting++;
    if (++n % 20 === 0) await tick();
  }
  if (pairs.length) await store.putMany(pairs);
}

async function checkCut(ch, synced, shown) {
  if (synced <= 0 || shown < 0 || shown >= synced) return;
  await store.chanUpdate(ch, (c) => {
    c.cut_from = c.cut_from ? Math.min(c.cut_from, shown + 1) : shown + 1;
    c.cut_to = Math.max(c.cut_to || 0, synced);
  });
}

export async function threadFetch(eng, v) {
  const c = await cacheOf(eng, v.channel);
  const rec = await store.chanGet(v.channel);
  const r = { last_seq: rec.last_seq, fetched: 0, decrypted: 0, waiting: 0 };
  let first = true;
  for (let more = true; more;) {
    const p = await fetchPage(eng, v, c, r);
    more = p.more;
    if (first) await checkCut(v.channel, rec.last_seq, p.shown);
    first = false;
  }
  await retryPending(eng, v, c, r);
  await settlePending(eng, v.channel);
  r.waiting = [...c.msgs.values()].filter((m) => m.status === 'waiting').length;
  return r;
}

export async function threadRetry(eng, v) {
  const c = await cacheOf(eng, v.channel);
  const r = { last_seq: 0, fetched: 0, decrypted: 0, waiting: 0 };
  await retryPending(eng, v, c, r);
  return r;
}

export async function threadDeliver(eng, v, ev) {
  const rec = await store.chanGet(v.channel);
  const r = { last_seq: rec.last_seq, fetched: 0, decrypted: 0, waiting: 0, refetched: false };
  if (!Number.isSafeInteger(ev.seq) || ev.seq < 1) return r;
  if (ev.seq <= rec.last_seq) return r; // already synced
  if (ev.seq === rec.last_seq + 1) {
    const c = await cacheOf(eng, v.channel);
    const pairs = [];
    const m = await take(eng, v, c, ev, pairs);
    if (pairs.length) await store.putMany(pairs);
    await store.chanUpdate(v.channel, (ch) => {
      ch.last_seq = m.seq;
      ch.last_ts = Math.max(ch.last_ts || 0, m.ts);
    });
    r.last_seq = m.seq;
    r.fetched = 1;
    r.decrypted = m.status === 'ok' ? 1 : 0;
    r.waiting = m.status === 'waiting' ? 1 : 0;
    await settlePending(eng, v.channel);
    return r;
  }
  const f = await threadFetch(eng, v); // a gap: some event was missed
  f.refetched = true;
  return f;
}

// ---- key requests ------------------------------------------------------------------

export async function requestMissing(eng, v, minWaitMs) {
  const c = await cacheOf(eng, v.channel);
  const now = Date.now();
  let sent = 0;
  const asked = new Set();
  for (const m of c.msgs.values()) {
    if (m.status !== 'waiting' || !m.session_id || now - m.first_seen < minWaitMs || asked.has(m.session_id)) continue;
    const at = await store.get(N.kreq(m.session_id));
    if (at && now - at.at < KEY_REQUEST_AGAIN_MS) continue;
    await requestKey(eng, v.channel, m.sender_user, m.session_id, m.index);
    asked.add(m.session_id);
    sent++;
  }
  return sent;
}

// ---- what we sent ---------------------------------------------------------------------

export async function rememberSent(eng, v, { sid, index, env, plainText, seq, ts }) {
  const c = await cacheOf(eng, v.channel);
  const pairs = [];
  const hash = toHex(gsEnvelopeHash(env));
  await seenMsg(eng, sid, index, hash, v.channel, seq, pairs);
  const m = { channel: v.channel, seq, ts, sender_user: eng.meHex, sender_device: eng.deviceHex, session_id: sid, index,
    status: 'ok', detail: '', detail_fr: '', plain: plainText, env: toB64(env), env_hash: hash, prev: null,
    prev_missing: false, shared: false, shared_by: null, first_seen: Date.now() };
  keep(c, m, pairs);
  await store.putMany(pairs);
  try {
    await noteContent(v.channel, seq, JSON.parse(plainText));
  } catch {
    /* our own JSON */
  }
  return m;
}

/** The hash of this device's latest accepted message in the channel (the next "link"), or null. */
export async function lastOwnHash(eng, ch) {
  const c = await cacheOf(eng, ch);
  let best = null;
  for (const m of c.msgs.values()) {
    if (m.sender_device === eng.deviceHex && m.status === 'ok' && m.env_hash && (!best || m.seq > best.seq)) best = m;
  }
  return best ? best.env_hash : null;
}

// ---- receipts marks and gaps (thread_gaps.c) ------------------------------------------

export function statusRefused(status) {
  return REFUSED.has(status);
}

/** {delivered, read}: the highest N with every message 1..N held and not refused (and readable). */
export function receiptMarksOf(rows, lastSeq) {
  let readableSeen = false;
  let readOpen = true;
  let expect = 1;
  let delivered = 0;
  let read = 0;
  for (const b of rows) {
    if (b.seq < expect) continue;
    if (b.seq > expect || b.seq > lastSeq || b.prev_missing || REFUSED.has(b.status)) break;
    const ok = b.status === 'ok';
    const early = b.status === 'before_first' && !readableSeen;
    readableSeen = readableSeen || ok;
    readOpen = readOpen && (ok || early);
    delivered = b.seq;
    if (readOpen) read = b.seq;
    expect = b.seq + 1;
  }
  return { delivered, read };
}

export async function receiptMarks(eng, ch) {
  const rec = await store.chanGet(ch);
  const c = await cacheOf(eng, ch);
  const rows = [...c.msgs.values()].sort((a, b) => a.seq - b.seq);
  const bound = rec.cut_from > 0 && rec.cut_from <= rec.last_seq ? rec.cut_from - 1 : rec.last_seq;
  return receiptMarksOf(rows, bound);
}

/**
 * What is missing, as the CLI's view_gaps (thread_view.c): items
 * {kind: 'seq', seq, through} before the message they precede (or at the
 * end), {kind: 'truncated', seq, through}, and {kind: 'link', before_seq,
 * sender} for a verified message whose link names a message not held.
 * Returns Map(beforeSeq -> [items]) with key Infinity for the end.
 */
export function gapsOf(rec, rows) {
  const out = new Map();
  const push = (at, item) => {
    if (!out.has(at)) out.set(at, []);
    out.get(at).push(item);
  };
  let prev = 0;
  let cutTold = false;
  const lastSeq = rec.last_seq;
  const gap = (p, next) => {
    const hi = Math.min(next - 1, lastSeq);
    return p >= 0 && p + 1 <= hi ? { kind: 'seq', seq: p + 1, through: hi } : null;
  };
  for (const m of rows) {
    if (rec.cut_from > 0 && !cutTold && m.seq >= rec.cut_from) {
      push(m.seq, { kind: 'truncated', seq: rec.cut_from, through: rec.cut_to });
      cutTold = true;
    }
    const g = gap(prev, m.seq);
    if (g) push(m.seq, g);
    if (m.prev_missing && m.status === 'ok') push(m.seq, { kind: 'link', before_seq: m.seq, sender: m.sender_user });
    if (m.seq > prev) prev = m.seq;
  }
  if (rec.cut_from > 0 && !cutTold) push(Infinity, { kind: 'truncated', seq: rec.cut_from, through: rec.cut_to });
  const g = gap(prev, lastSeq + 1);
  if (g) push(Infinity, g);
  return out;
}
