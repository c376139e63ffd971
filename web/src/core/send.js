// Sending (client/core/thread_send.c, cmd_send.c): every send first
// processes the to-device queue, verifies the membership log again,
// fetches the channel's new messages (their membership heads checked) and
// refuses on an active membership alarm, an INVALID channel, or when this
// user is not a member; then the outbound session is readied (rotated after
// 100 messages, 7 days, a departure, a revoked or no longer trusted
// recipient device) and shared with every verified device of every member,
// the ratchet step is stored BEFORE the envelope is sealed and sent, and
// the message is kept (so our own history reads back).
//
//   sendContent(ctx, channelHex, content) -> {seq, ts}
//     content: the plaintext object without channel/sender/link/mlog (added
//     here, as thread_send.c's plaintext()), e.g. {type: 'text', body}.
//     Throws a LiaisonError with a French message on any refusal.
import { toB64, fromHex, utf8, wipe, gsRatchetStep, gsSeal } from '../crypto/index.js';
import { LiaisonError, idemKey } from '../net/client.js';
import { engine } from './engine.js';
import * as store from './store.js';
import { chanViewLoad, settlePending, alarmActive, headJson } from './channels.js';
import { peersLoad } from './peers.js';
import { outboundGet, outboundPut, outboundNew, outGs, sidOf, rotationReason, shareOutbound } from './sessions.js';
import { syncToDevice } from './sync.js';
import { threadFetch, rememberSent, lastOwnHash } from './thread.js';

export const TEXT_MAX = 32 * 1024;

function refuse(code, text) {
  return new LiaisonError(code, `${text} (${code})`);
}

function invalidError(v) {
  return refuse('bad_signature', `Non envoyé : canal INVALIDE : ${v.reason} ; aucune clé n'y est partagée`);
}

async function readySession(eng, v) {
  await peersLoad(eng, v.state.members.map((m) => m.user), true);
  let o = await outboundGet(v.channel);
  const why = o ? await rotationReason(eng, v, o) : '';
  if (!o || why) o = await outboundNew(eng, v);
  await shareOutbound(eng, v, o);
  return o;
}

export async function sendIn(eng, ch, content) {
  if (!content || typeof content !== 'object' || Array.isArray(content) || typeof content.type !== 'string') {
    throw refuse('bad_request', 'Contenu de message invalide : il faut un objet avec un type');
  }
  await syncToDevice(eng);
  let v = await chanViewLoad(eng, ch);
  if (!v.valid && !v.alarm) throw invalidError(v);
  await threadFetch(eng, v);
  await settlePending(eng, ch);
  const alarm = await alarmActive(eng, ch);
  if (alarm) {
    throw refuse('bad_signature', `Non envoyé, alarme d'appartenance : ${alarm} ; aucune clé n'est partagée ici ` +
      'avant que le serveur le remontre : prévenez votre administrateur');
  }
  v = eng.views.get(ch) || v;
  if (!v.valid) throw invalidError(v);
  if (!v.meMember) {
    throw refuse('forbidden', 'Vous n’êtes pas membre de ce fil : demandez à l’un de ses administrateurs de vous ajouter');
  }
  const now = Date.now();
  const plain = { ...content, channel: ch, sender: eng.meHex };
  delete plain.link;
  const link = await lastOwnHash(eng, ch);
  if (link) plain.link = link;
  const head = headJson(v);
  if (head) plain.mlog = head;
  const text = JSON.stringify(plain);
  const bytes = utf8(text);
  if (bytes.length > TEXT_MAX + 1024) {
    throw refuse('too_large', `Message trop long (au plus ${TEXT_MAX} octets de texte) : envoyez les documents en pièce jointe`);
  }
  const o = await readySession(eng, v);
  const sid = sidOf(o);
  // CRYPTO §4: the ratchet step is stored before the envelope leaves
  const gs = outGs(o);
  const { mk, index } = gsRatchetStep(gs);
  await outboundPut(ch, { ...o, ck: toB64(gs.ck), index: gs.index, sent: o.sent + 1 });
  let env;
  try {
    env = gsSeal({ channel: fromHex(ch), sessionSk: gs.sessionSk, index, mk, senderDevice: fromHex(eng.deviceHex), ts: now,
      plaintext: bytes });
  } catch {
    throw refuse('too_large', `Message trop long (au plus ${TEXT_MAX} octets) : envoyez les documents en pièce jointe`);
  } finally {
    wipe(mk);
    wipe(gs.ck);
    wipe(gs.sessionSk);
    wipe(bytes);
  }
  const reply = await eng.req('send', { idem: idemKey(), channel: ch, envelope: toB64(env) });
  if (!Number.isSafeInteger(reply.seq) || reply.seq < 1 || !Number.isSafeInteger(reply.ts)) {
    throw refuse('protocol', 'La réponse du serveur à l’envoi est mal formée');
  }
  await rememberSent(eng, v, { sid, index, env, plainText: text, seq: reply.seq, ts: reply.ts });
  await store.chanUpdate(ch, (c) => {
    if (c.seen_seq >= reply.seq - 1) c.seen_seq = Math.max(c.seen_seq, reply.seq);
    c.last_ts = Math.max(c.last_ts || 0, reply.ts);
  });
  eng.emit({ type: 'messages', channel: ch });
  return { seq: reply.seq, ts: reply.ts };
}

export async function sendContent(ctx, channelHex, content) {
  const eng = engine(ctx);
  return eng.run(() => sendIn(eng, channelHex, content));
}

