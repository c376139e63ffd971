// The to-device queue (client/core/sync.c): every key share addressed to
// this browser is authenticated (a key-share envelope from the device the
// server names, that device's chain verified under the sender's accepted
// identity key, sealed to this browser's agreement key), replays dropped by
// share id, and then: room_key merged into the inbound sessions (its
// membership head noted), key_request answered as the CLI answers it (only
// to a verified current member, from the index they may have), withheld
// notices kept. The queue is acknowledged up to what was processed.
//
//   syncToDevice(eng)        fetches and processes the whole queue
//   syncToDeviceEvent(eng, ev)  one pushed `to_device` entry
// Both return {entries, keys, rejected, answered, refused, withheld}.
import { fromB64, fromHex, toHex, fromUtf8, ksParse, ksOpen, wipe } from '../crypto/index.js';
import * as session from '../store/session.js';
import * as store from './store.js';
import { N } from './store.js';
import { peersDevice, blocked, changedText } from './peers.js';
import { headNote, chanViewLoad, settlePending } from './channels.js';
import { inboundGet, inboundMerge, shareSessionTo, sharedMinIndex } from './sessions.js';

const FETCH_LIMIT = 100;
const HEX32 = /^[0-9a-f]{32}$/;

const KS_TEXT = {
  bad_format: 'the key share is malformed',
  not_for_me: 'the key share is addressed to another device',
  bad_signature: 'the key share is not signed by the device it claims',
  decrypt_failed: 'the key share does not decrypt with our agreement key',
};

function stats() {
  return { entries: 0, keys: 0, rejected: 0, answered: 0, refused: 0, withheld: 0, first: '' };
}

function reject(eng, ss, from, why) {
  ss.rejected++;
  if (!ss.first) ss.first = `${eng.person(from.user)} : ${why}`;
}

function b64n(v, n) {
  try {
    const b = fromB64(v);
    return b.length === n ? b : null;
  } catch {
    return null;
  }
}

async function openShare(eng, ss, from, body) {
  const parsed = ksParse(body);
  if (!parsed || toHex(parsed.userA) !== from.user || toHex(parsed.devA) !== from.device) {
    reject(eng, ss, from, 'not a key-share envelope from the device the server names');
    return null;
  }
  const d = await peersDevice(eng, from.user, from.device, false);
  const pr = eng.peers.get(from.user);
  if (pr && !pr.trusted && !pr.me) {
    reject(eng, ss, from, changedText(eng, pr));
    return null;
  }
  if (!d || !d.chainOk || !pr || !pr.trusted) {
    reject(eng, ss, from, 'the sending device does not verify');
    return null;
  }
  const held = toHex(parsed.akIdB) === eng.record.ak_id;
  const akSk = session.key('ak');
  const me = { user: fromHex(eng.meHex), device: fromHex(eng.deviceHex) };
  const ak = held && akSk ? { publicKey: eng.record.ak_pk, privateKey: akSk }
    : { publicKey: new Uint8Array(32), privateKey: new Uint8Array(32) };
  let r;
  try {
    r = ksOpen(body, { me, dkPkA: d.dk, ak });
  } catch {
    r = { status: 'decrypt_failed' }; // the key exchange refused the stand-in key: signature already checked
  }
  if (r.status !== 'ok') {
    reject(eng, ss, from, r.status === 'decrypt_failed' && !held ? 'sealed for an agreement key this device never had'
      : KS_TEXT[r.status] || r.status);
    return null;
  }
  const shareId = toHex(parsed.shareId);
  if (await store.get(N.share(shareId))) {
    ss.rejected++; // a replay: already acted on once
    wipe(r.plaintext);
    return null;
  }
  await store.put(N.share(shareId), { at: Date.now() });
  let plain = null;
  try {
    plain = JSON.parse(fromUtf8(r.plaintext));
  } catch {
    plain = null;
  }
  wipe(r.plaintext);
  if (!plain || typeof plain !== 'object' || Array.isArray(plain)) {
    reject(eng, ss, from, 'its content is not JSON');
    return null;
  }
  return plain;
}

function parseRoomKey(p, from) {
  const sid = b64n(p.session_id, 32);
  const ck = b64n(p.chain_key, 32);
  const opt = (v) => v === undefined || typeof v === 'boolean';
  if (!HEX32.test(p.channel) || !sid || !ck || !Number.isSafeInteger(p.index) || p.index < 0 || p.index > 0xfffffffe ||
    !opt(p.history) || !opt(p.forwarded) || !HEX32.test(p.sender_user) || !HEX32.test(p.sender_device)) return null;
  const forwarded = p.forwarded === true;
  return {
    sid: toHex(sid),
    k: { channel: p.channel, sender_user: p.sender_user, sender_device: p.sender_device, first_index: p.index,
      ck: p.chain_key, forwarded, forwarded_by: from.user, via_device: from.device, direct_index: forwarded ? -1 : p.index,
      history: p.history === true, received_at: Date.now() },
  };
}

async function takeRoomKey(eng, ss, from, p) {
  const rk = parseRoomKey(p, from);
  if (!rk) return reject(eng, ss, from, 'a malformed room key');
  if (!rk.k.forwarded && (rk.k.sender_user !== from.user || rk.k.sender_device !== from.device)) {
    return reject(eng, ss, from, 'a room key that claims another sender without being forwarded');
  }
  if (await headNote(eng, null, rk.k.channel, p, 'key_share', from.user, 0) === 'malformed') {
    return reject(eng, ss, from, 'a room key whose membership-log head is malformed');
  }
  const { kept, conflict } = await inboundMerge(rk.sid, rk.k);
  if (conflict) reject(eng, ss, from, 'it contradicts a session key we already hold (possible forgery)');
  if (kept) {
    ss.keys++;
    ss.channels.add(rk.k.channel);
  }
  return null;
}

async function answerRequest(eng, ss, from, p, views) {
  const sid = b64n(p.session_id, 32);
  if (!HEX32.test(p.channel) || !sid) return reject(eng, ss, from, 'a malformed key request');
  const sidHex = toHex(sid);
  const k = await inboundGet(sidHex);
  if (!k || k.channel !== p.channel) return null; // not ours to give
  let v = views.get(p.channel);
  if (!v) {
    v = await chanViewLoad(eng, p.channel);
    views.set(p.channel, v);
  }
  const pr = eng.peers.get(from.user);
  let index = -1;
  if (v.valid) {
    if (v.state.history === 'shared') index = k.first_index;
    else {
      const min = await sharedMinIndex(sidHex, from.user);
      index = min < 0 ? -1 : Math.max(min, k.first_index);
    }
  }
  if (index < 0 || !v.state.members.some((m) => m.user === from.user) || !pr || blocked(eng, pr)) {
    ss.refused++;
    return null;
  }
  await shareSessionTo(eng, v, sidHex, k, index, from.user, from.device);
  ss.answered++;
  return null;
}

async function takeWithheld(eng, ss, from, p) {
  const sid = b64n(p.session_id, 32);
  if (!HEX32.test(p.channel) || !sid || typeof p.reason !== 'string' || p.reason.length > 200) {
    return reject(eng, ss, from, 'a malformed withheld notice');
  }
  ss.withheld++;
  await store.put(N.wh(toHex(sid)), { channel: p.channel, user: from.user, reason: p.reason });
  ss.channels.add(p.channel);
  return null;
}

async function processEntry(eng, ss, msg, views) {
  if (!msg || !HEX32.test(msg.sender_user) || !HEX32.test(msg.sender_device) || typeof msg.body !== 'string') return;
  ss.entries++;
  const from = { user: msg.sender_user, device: msg.sender_device };
  const body = (() => {
    try {
      return fromB64(msg.body);
    } catch {
      return null;
    }
  })();
  if (!body) return reject(eng, ss, from, 'its body is not base64');
  const plain = await openShare(eng, ss, from, body);
  if (!plain) return null;
  if (plain.type === 'room_key') return takeRoomKey(eng, ss, from, plain);
  if (plain.type === 'key_request') return answerRequest(eng, ss, from, plain, views);
  if (plain.type === 'room_key_withheld') return takeWithheld(eng, ss, from, plain);
  return null;
}

async function processList(eng, ss, messages) {
  const done = await store.setting('to_device_cursor', 0);
  let upto = -1;
  const views = new Map();
  for (const msg of messages) {
    const id = msg && msg.id;
    if (Number.isSafeInteger(id) && id <= done) continue;
    await processEntry(eng, ss, msg, views);
    if (Number.isSafeInteger(id) && id > upto) upto = id;
  }
  if (upto >= 0) {
    await store.setSetting('to_device_cursor', Math.max(done, upto));
    await eng.req('to_device_ack', { upto });
  }
}

function finish(eng, ss) {
  if (ss.rejected === 1 && ss.first) eng.warn(`partage de clé ignoré : ${ss.first}`);
  else if (ss.rejected > 1 && ss.first) eng.warn(`${ss.rejected} partages de clé ignorés (le premier : ${ss.first})`);
}

export async function syncToDevice(eng) {
  const ss = stats();
  ss.channels = new Set();
  for (let more = true; more;) {
    const after = await store.setting('to_device_cursor', 0);
    const reply = await eng.req('to_device_fetch', { after, limit: FETCH_LIMIT });
    const messages = Array.isArray(reply.messages) ? reply.messages : [];
    more = reply.more === true && messages.length > 0;
    await processList(eng, ss, messages);
  }
  finish(eng, ss);
  await settlePending(eng, null);
  return ss;
}

export async function syncToDeviceEvent(eng, ev) {
  const ss = stats();
  ss.channels = new Set();
  await processList(eng, ss, [ev]);
  finish(eng, ss);
  await settlePending(eng, null);
  return ss;
}

