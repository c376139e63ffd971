// The browser's end-to-end messaging core (issue 15 item 3): what the views
// and the other helpers call. Everything runs through the connection's
// engine (core/engine.js), one operation at a time, as the CLI's commands.
//
//   sendContent(ctx, channelHex, content) -> {seq, ts}            (send.js)
//   messageAt(ctx, channelHex, seq) -> {seq, ts, sender, senderName, content,
//       status, code, verified}: status 'ok', or why it is not readable (French);
//       code: the CLI's status (ok, waiting, bad_signature, …); fetched first
//       when this browser does not hold that seq yet; null if the server has none
//   threadList(ctx) -> [{channel, kind, history, member, role, last_seq, topic,
//       unread, last_ts, valid, reason, others: [user]}]
//   refreshThreads(ctx) fetches the channels with new messages (then emits 'messages')
//   openThread(ctx, channelHex) -> model (below): to-device queue, log verified,
//       new messages fetched and decrypted, receipts sent, receipts loaded
//   threadModel(ctx, channelHex) -> {channel, view, rec, msgs, receipts, alarms, gaps}
//       from what is held (no network)
//   markSeen(ctx, channelHex, seq)  the thread was shown up to seq (unread counts)
//   createThread(ctx, {kind, history, topic, members: [user hex]}) -> channel hex
//   searchPeople(ctx, q) -> [USER] (directory_search)
//   subscribe(ctx, fn) -> unsubscribe: fn({type: 'messages'|'incoming'|'receipt'|'channel'|'keys', channel, …})
//       ('incoming': a colleague's new message arrived live; the UI decides how to say it)
import { LiaisonError } from '../net/client.js';
import { engine, setHooks } from './engine.js';
import * as store from './store.js';
import { chanView, chanViewLoad, appendEntry, createChannel, alarmsOf } from './channels.js';
import { forget } from './peers.js';
import { outboundGet, shareOutbound, shareHistory } from './sessions.js';
import { syncToDevice, syncToDeviceEvent } from './sync.js';
import { threadFetch, threadRetry, threadDeliver, requestMissing, cacheOf, gapsOf, KEY_REQUEST_DELAY_MS,
  ANSWER_WAIT_MS } from './thread.js';
import { sendReceipts, loadReceipts, applyReceipt, receiptUsers } from './receipts.js';
import { sendContent, sendIn } from './send.js';

export { sendContent, engine, receiptUsers, applyReceipt };

// ---- events -------------------------------------------------------------------------

async function retryChannels(eng, channels) {
  for (const ch of channels) {
    const v = await chanView(eng, ch);
    const r = await threadRetry(eng, v);
    if (eng.open === ch) await sendReceipts(eng, v);
    if (r.decrypted) eng.emit({ type: 'messages', channel: ch });
  }
}

setHooks({
  onEvent(eng, ev) {
    const fail = (e) => eng.warn(`mise à jour impossible : ${e && e.message}`);
    switch (ev.ev) {
      case 'to_device':
        eng.run(async () => {
          const ss = await syncToDeviceEvent(eng, ev);
          await retryChannels(eng, [...ss.channels].filter((c) => eng.threads.has(c)));
        }).catch(fail);
        break;
      case 'message':
        if (typeof ev.channel !== 'string') return;
        eng.run(async () => {
          const v = await chanView(eng, ev.channel);
          const r = await threadDeliver(eng, v, ev);
          // our own message needs no receipt: the next one from a colleague covers it
          if (eng.open === ev.channel && ev.sender_user !== eng.meHex) await sendReceipts(eng, v);
          eng.emit({ type: 'messages', channel: ev.channel });
          if (r.fetched && ev.sender_user !== eng.meHex) eng.emit({ type: 'incoming', channel: ev.channel });
          if (r.waiting) scheduleChase(eng, ev.channel);
        }).catch(fail);
        break;
      case 'receipt':
        eng.emit({ type: 'receipt', channel: ev.channel, user: ev.user, kind: ev.kind, seq: ev.seq });
        break;
      case 'channel_log':
        if (typeof ev.channel !== 'string') return;
        eng.views.delete(ev.channel);
        eng.run(async () => {
          await chanViewLoad(eng, ev.channel);
          eng.emit({ type: 'channel', channel: ev.channel });
        }).catch(fail);
        break;
      case 'device_list':
        if (typeof ev.user === 'string') forget(eng, ev.user);
        eng.emit({ type: 'keys', user: ev.user });
        break;
      default:
    }
  },
});

/**
 * Messages still waiting for a key (thread_fetch_chase): the key usually
 * arrives on its own (a pushed to_device); after 2 s without it, ask the
 * sender's devices (key_request, at most once an hour per session), and
 * look again when the answers may be there.
 */
function scheduleChase(eng, ch) {
  if (eng.chasing && eng.chasing.has(ch)) return;
  eng.chasing = eng.chasing || new Set();
  eng.chasing.add(ch);
  setTimeout(() => {
    eng.run(async () => {
      const v = await chanView(eng, ch);
      await syncToDevice(eng);
      await threadRetry(eng, v);
      const sent = await requestMissing(eng, v, KEY_REQUEST_DELAY_MS);
      eng.emit({ type: 'messages', channel: ch });
      if (sent) {
        setTimeout(() => eng.run(async () => {
          await syncToDevice(eng);
          await threadRetry(eng, v);
          eng.emit({ type: 'messages', channel: ch });
        }).catch(() => {}), ANSWER_WAIT_MS);
      }
    }).catch(() => {}).finally(() => eng.chasing.delete(ch));
  }, KEY_REQUEST_DELAY_MS);
}

// ---- the API ------------------------------------------------------------------------

export function subscribe(ctx, fn) {
  return engine(ctx).subscribe(fn);
}

export async function threadList(ctx) {
  const eng = engine(ctx);
  return eng.run(async () => {
    const reply = await eng.req('channels', {});
    const out = [];
    for (const c of Array.isArray(reply.channels) ? reply.channels : []) {
      if (!c || typeof c.channel !== 'string') continue;
      const rec = await store.chanGet(c.channel);
      await eng.loadPersons(rec.members || []);
      const lastSeq = Number(c.last_seq) || 0;
      out.push({
        channel: c.channel, kind: c.kind, history: c.history, member: c.member === true, role: c.role,
        last_seq: lastSeq, created_at: c.created_at, topic: rec.topic, synced: rec.last_seq,
        unread: c.member === true ? Math.max(0, lastSeq - rec.seen_seq) : 0,
        last_ts: rec.last_ts || c.created_at || 0, valid: rec.valid, reason: rec.reason,
        others: (rec.members || []).filter((u) => u !== eng.meHex),
      });
    }
    out.sort((a, b) => b.last_ts - a.last_ts);
    return out;
  });
}

export async function refreshThreads(ctx, list) {
  const eng = engine(ctx);
  return eng.run(async () => {
    await syncToDevice(eng);
    for (const t of list) {
      if (t.synced >= t.last_seq && t.others.length) continue;
      try {
        const v = await chanViewLoad(eng, t.channel);
        await threadFetch(eng, v);
      } catch (e) {
        eng.warn(`fil ${t.channel.slice(0, 8)} : ${e.message}`);
      }
    }
    eng.emit({ type: 'messages', channel: null });
  });
}

async function modelIn(eng, ch) {
  const rec = await store.chanGet(ch);
  const c = await cacheOf(eng, ch);
  const msgs = [...c.msgs.values()].sort((a, b) => a.seq - b.seq);
  const view = eng.views.get(ch) || null;
  if (view) await eng.loadPersons(view.state.members.map((m) => m.user));
  await eng.loadPersons([...new Set(msgs.map((m) => m.sender_user))]);
  return { channel: ch, view, rec, msgs, receipts: eng.receipts.get(ch) || [], alarms: await alarmsOf(eng, ch),
    gaps: gapsOf(rec, msgs), warnings: eng.warnings.slice(-5) };
}

export async function threadModel(ctx, ch) {
  const eng = engine(ctx);
  return eng.run(() => modelIn(eng, ch));
}

export async function openThread(ctx, ch) {
  const eng = engine(ctx);
  eng.receipts = eng.receipts || new Map();
  const model = await eng.run(async () => {
    eng.open = ch;
    await syncToDevice(eng);
    const v = await chanViewLoad(eng, ch);
    const r = await threadFetch(eng, v);
    await sendReceipts(eng, v);
    eng.receipts.set(ch, await loadReceipts(eng, ch));
    if (r.waiting) scheduleChase(eng, ch);
    return modelIn(eng, ch);
  });
  return model;
}

export function closeThread(ctx, ch) {
  const eng = engine(ctx);
  if (eng.open === ch) eng.open = null;
}

export async function markSeen(ctx, ch, seq) {
  const eng = engine(ctx);
  return eng.run(() => store.chanUpdate(ch, (c) => {
    if (seq > c.seen_seq) c.seen_seq = seq;
  }));
}

export async function messageAt(ctx, ch, seq) {
  const eng = engine(ctx);
  return eng.run(async () => {
    let c = await cacheOf(eng, ch);
    if (!c.msgs.has(seq)) {
      const v = await chanView(eng, ch);
      await threadFetch(eng, v);
      c = await cacheOf(eng, ch);
    }
    const m = c.msgs.get(seq);
    if (!m) return null;
    let content = null;
    try {
      content = m.plain ? JSON.parse(m.plain) : null;
    } catch {
      content = null;
    }
    const ok = m.status === 'ok' && content !== null;
    return { seq: m.seq, ts: m.ts, sender: m.sender_user, senderName: eng.person(m.sender_user), content,
      status: ok ? 'ok' : (m.detail_fr || m.status), code: m.status, verified: m.status === 'ok', detail: m.detail };
  });
}

export async function searchPeople(ctx, q) {
  const eng = engine(ctx);
  const reply = await eng.req('directory_search', { q, limit: 20 });
  const users = Array.isArray(reply.users) ? reply.users : [];
  for (const u of users) eng.remember(u);
  return users;
}

/**
 * A new thread, as `liaison channel create --kind K --history H --topic T`
 * then `liaison channel add` for each colleague: the signed create entry,
 * the topic as the first (encrypted) message, each member added by a signed
 * entry and given the history (when shared) and the current session.
 */
export async function createThread(ctx, { kind = 'team', history = 'shared', topic = '', members = [] }) {
  const eng = engine(ctx);
  return eng.run(async () => {
    const ch = await createChannel(eng, kind, history);
    if (topic) await sendIn(eng, ch, { type: 'topic', topic });
    for (const user of members) {
      if (user === eng.meHex) continue;
      let v = await chanViewLoad(eng, ch);
      if (!v.valid) throw new LiaisonError('bad_signature', `Canal INVALIDE : ${v.reason} (bad_signature)`);
      await appendEntry(eng, v, 'add', user, 'member');
      v = await chanViewLoad(eng, ch);
      if (!v.valid) throw new LiaisonError('bad_signature', `Canal INVALIDE : ${v.reason} (bad_signature)`);
      if (v.state.history === 'shared') await shareHistory(eng, v, user);
      const o = await outboundGet(ch);
      if (o) await shareOutbound(eng, v, o);
    }
    await chanViewLoad(eng, ch);
    eng.emit({ type: 'channel', channel: ch });
    return ch;
  });
}
