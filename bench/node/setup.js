// setup.js — the bench users, from nothing to logged-in members of case
// channels (docs/PROTOCOL.md "Enrolment", "Session", "Channels and the
// membership log"; docs/CRYPTO.md §1 and §6):
//   1. every invite at once: `liaisond --data-dir D invite --csv FILE --json`
//   2. per user: IK, DK, AK; connect; enrol (IK signs DK, DK signs AK);
//      challenge; login (DK signs the login string; "batch" as asked)
//   3. per channel of `size` users: the first creates it (signed create
//      entry, seq 0), then adds each other member (signed add entries, each
//      chained to the previous one by BLAKE2b-256 of its signed bytes).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as C from './crypto.js';
import { Conn } from './conn.js';

/** An RPPS number: 11 digits whose last is the Luhn check digit. */
export function rpps(n) {
  const body = `2${String(n % 1e9).padStart(9, '0')}`;  // 10 digits, unique per n < 1e9
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let d = Number(body[9 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** Issues n invites in one run of liaisond; returns their codes. */
export function invites(o, n) {
  const sheet = path.join(o.dataDir, `node-bench-invites-${process.pid}.csv`);
  let csv = 'name,profession,rpps,org,roles\n';
  // a random block of RPPS numbers, so runs on the same data directory differ
  const base = Math.floor(Math.random() * (1e9 - n));
  for (let i = 0; i < n; i++) csv += `Node Bench ${i},gp,${rpps(base + i)},${o.org},member\n`;
  writeFileSync(sheet, csv);
  const out = execFileSync(o.liaisond, ['--data-dir', o.dataDir, '--synchronous', 'normal',
    'invite', '--csv', sheet, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const list = JSON.parse(out);
  if (list.length !== n) throw new Error(`invite --csv gave ${list.length} codes for ${n}`);
  return list.map((r) => r.code);
}

function check(reply, what) {
  if (!reply.ok) throw new Error(`${what}: ${JSON.stringify(reply.error)}`);
  return reply;
}

/** Enrols and logs in one user on a fresh connection. */
async function enrolUser(o, code) {
  const u = {
    user: C.random(16), device: C.random(16), akId: C.random(16),
    ik: C.keypair(), dk: C.keypair(), ak: C.sodium.crypto_kx_seed_keypair(C.random(32)),
  };
  u.conn = new Conn(o.url, o.ca, o.serverName);
  await u.conn.open();
  const ts = Date.now();
  check(await u.conn.request('enrol', {
    idem: `enrol-${C.hex(C.random(8))}`, code, user: C.hex(u.user), device: C.hex(u.device),
    device_name: 'node-bench', ik: C.b64(u.ik.publicKey), dk: C.b64(u.dk.publicKey), dk_ts: ts,
    dk_sig: C.b64(C.sign(u.ik.privateKey, C.devCert(u.user, u.device, u.dk.publicKey, ts))),
    ak_id: C.hex(u.akId), ak: C.b64(u.ak.publicKey), ak_ts: ts,
    ak_sig: C.b64(C.sign(u.dk.privateKey, C.akCert(u.device, u.akId, u.ak.publicKey, ts))),
  }), 'enrol');
  const ch = check(await u.conn.request('challenge'), 'challenge');
  const challenge = new Uint8Array(Buffer.from(ch.challenge, 'base64'));
  const sig = C.sign(u.dk.privateKey, C.loginString(u.conn.hello.server, u.user, u.device, challenge));
  const login = check(await u.conn.request('login', {
    user: C.hex(u.user), device: C.hex(u.device), sig: C.b64(sig), batch: o.batch,
  }), 'login');
  u.batch = login.batch === true;
  return u;
}

/** Signs a membership-log entry for actor u. */
function entry(u, channel, seq, prev, action, subject, role, history, kind) {
  const e = {
    channel: C.hex(channel), seq, prev, actor: C.hex(u.user), actor_device: C.hex(u.device),
    action, subject: C.hex(subject), role, history, kind, ts: Date.now(),
  };
  const signed = C.mlogSigned(e);
  e.sig = C.b64(C.sign(u.dk.privateKey, signed));
  return { e, hash: C.b64(C.blake2b256(signed)) };
}

/** Creates one case channel of the given users (the first is its admin). */
async function makeChannel(users) {
  const a = users[0];
  const channel = C.random(16);
  let { e, hash } = entry(a, channel, 0, null, 'create', a.user, 'admin', 'shared', 'case');
  check(await a.conn.request('channel_create', { idem: C.hex(C.random(16)), entry: e }), 'channel_create');
  for (let i = 1; i < users.length; i++) {
    ({ e, hash } = entry(a, channel, i, hash, 'add', users[i].user, 'member', null, null));
    check(await a.conn.request('channel_append', { idem: C.hex(C.random(16)), entry: e }), 'channel_append');
  }
  const ch = { id: channel, members: users, logSeq: users.length - 1, logHash: hash };
  for (const u of users) u.channel = ch;
  return ch;
}

/** Runs fn over items with at most `width` in flight. */
async function pool(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/** Everything: returns { users, channels }. */
export async function setup(o) {
  const t = [performance.now()];
  const codes = invites(o, o.users);
  t.push(performance.now());
  const users = await pool(codes, 64, (code) => enrolUser(o, code));
  t.push(performance.now());
  const groups = [];
  for (let i = 0; i < users.length; i += o.channelSize) groups.push(users.slice(i, i + o.channelSize));
  const channels = await pool(groups, 64, makeChannel);
  t.push(performance.now());
  const s = (i) => (t[i + 1] - t[i]) / 1000;
  return { users, channels, times: { invites_s: s(0), enrol_login_s: s(1), channels_s: s(2) } };
}
