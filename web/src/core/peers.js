// Colleagues' identity and device keys (client/core/peers.c): `keys` for
// many users at once, each user's identity key pinned or compared
// (store/pins.js, trust on first use), each device's certificate chain
// IK → DK → AK verified under the accepted key (or under the server's key
// if it was accepted before). A device whose chain fails is never shared
// with; a user whose key changed is "blocked" until accepted.
//
//   peersLoad(eng, users, refresh)       fetches what is not cached (all with refresh)
//   peersDevice(eng, user, device, includeRevoked)  one device, or null
//   blocked(eng, peer)                   '' or why nothing is shared with them
//   changedText(eng, peer)               the warning the CLI prints
import { fromB64, fromHex, toHex, equal, devCert, akCert, verify } from '../crypto/index.js';
import * as pins from '../store/pins.js';

const PER_REQUEST = 200;
const HEX32 = /^[0-9a-f]{32}$/;

function b64n(v, n) {
  try {
    const b = fromB64(v);
    return b.length === n ? b : null;
  } catch {
    return null;
  }
}

const isInt = (v) => Number.isSafeInteger(v) && v >= 0;

/** A DEVICE object of a reply, chain not checked; null when malformed. */
function parseDevice(o) {
  if (!o || typeof o !== 'object' || !HEX32.test(o.id) || !HEX32.test(o.ak_id)) return null;
  const d = { id: o.id, name: typeof o.name === 'string' ? o.name.slice(0, 64) : '',
    dk: b64n(o.dk, 32), dkTs: o.dk_ts, dkSig: b64n(o.dk_sig, 64), akId: o.ak_id, ak: b64n(o.ak, 32),
    akTs: o.ak_ts, akSig: b64n(o.ak_sig, 64),
    revokedAt: o.revoked_at === null || o.revoked_at === undefined ? 0 : o.revoked_at, chainOk: false };
  if (!d.dk || !d.dkSig || !d.ak || !d.akSig || !isInt(d.dkTs) || !isInt(d.akTs) || !isInt(d.revokedAt)) return null;
  return d;
}

function chainVerifies(user, d, ik) {
  return verify(d.dkSig, devCert(fromHex(user), fromHex(d.id), d.dk, d.dkTs), ik) &&
    verify(d.akSig, akCert(fromHex(d.id), fromHex(d.akId), d.ak, d.akTs), d.dk);
}

async function verifyDevice(eng, pr, d) {
  const accepted = pr.me ? eng.record.ik_pk : fromHex(pr.pin.ik);
  d.chainOk = chainVerifies(pr.user, d, accepted);
  if (!d.chainOk && !pr.me && !equal(accepted, pr.serverIk) && await pins.known(pr.user, pr.serverIk)) {
    d.chainOk = chainVerifies(pr.user, d, pr.serverIk);
  }
}

async function takeUser(eng, o) {
  if (!o || !HEX32.test(o.user)) throw new Error('keys: malformed user');
  const serverIk = b64n(o.ik, 32);
  if (!serverIk) throw new Error('keys: unusable identity key');
  const pr = { user: o.user, serverIk, rpps: typeof o.rpps === 'string' ? o.rpps : '', me: o.user === eng.meHex,
    pin: null, trusted: false, devices: [], warned: false };
  if (pr.me) {
    pr.trusted = equal(serverIk, eng.record.ik_pk);
    pr.pin = { ik: toHex(eng.record.ik_pk), verified: true, changed_ik: null };
  } else {
    pr.pin = await pins.observe(pr.user, pr.rpps || null, serverIk);
    pr.trusted = !pr.pin.changed_ik;
  }
  for (const obj of Array.isArray(o.devices) ? o.devices : []) {
    const d = parseDevice(obj);
    if (!d) continue; // malformed: never shared with
    await verifyDevice(eng, pr, d);
    pr.devices.push(d);
  }
  eng.peers.set(pr.user, pr);
}

export async function peersLoad(eng, users, refresh = false) {
  const want = [...new Set(users)].filter((u) => refresh || !eng.peers.has(u));
  for (let off = 0; off < want.length; off += PER_REQUEST) {
    const reply = await eng.req('keys', { users: want.slice(off, off + PER_REQUEST) });
    for (const o of Array.isArray(reply.users) ? reply.users : []) await takeUser(eng, o);
  }
}

async function loadRevoked(eng, pr, device) {
  const reply = await eng.req('devices', { user: pr.user });
  for (const obj of Array.isArray(reply.devices) ? reply.devices : []) {
    const d = parseDevice(obj);
    if (!d || d.id !== device) continue;
    await verifyDevice(eng, pr, d);
    pr.devices.push(d);
    return d;
  }
  return null;
}

export async function peersDevice(eng, user, device, includeRevoked = false) {
  if (!eng.peers.has(user)) await peersLoad(eng, [user]);
  const pr = eng.peers.get(user);
  if (!pr) return null;
  const d = pr.devices.find((x) => x.id === device);
  if (d) return d;
  return includeRevoked ? loadRevoked(eng, pr, device) : null;
}

export function blocked(eng, pr) {
  if (pr.me) return pr.trusted ? '' : 'the server shows another identity key for your own account';
  if (!pr.trusted) return 'their identity key changed';
  if (eng.strict && !pr.pin.verified) return 'not verified by safety number (strict mode)';
  return '';
}

/** French: why a colleague is blocked, and what to do (peers_changed_text). */
export function changedText(eng, pr) {
  const when = pr.pin && pr.pin.changed_at ? new Date(pr.pin.changed_at).toLocaleString('fr-FR') : 'récemment';
  return `la clé d'identité de ${eng.person(pr.user)} a changé (constaté le ${when}) : un nouvel appareil après ` +
    'une perte, ou quelqu’un qui se fait passer pour cette personne ; rien ne lui est partagé tant que vous ' +
    'ne l’avez pas appelée pour comparer le numéro de sécurité (liaison verify, puis --accept)';
}

export function forget(eng, user) {
  eng.peers.delete(user);
}
