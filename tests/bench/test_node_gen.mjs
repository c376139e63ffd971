#!/usr/bin/env node
// test_node_gen.mjs — the second load generator (bench/node) speaks the
// protocol right: its constructions give docs/CRYPTO.md's vectors (login
// signature, membership-log entries, the message envelope), and a few
// seconds of W1 and of W2 against a real liaisond started here (10 users in
// 2 channels of 5) end with every message acknowledged, no error, and
// every message delivered to its 4 other members exactly once. Prints TAP.
//
// Usage: node tests/bench/test_node_gen.mjs SOURCE_ROOT
// Needs: $LIAISOND, $LSN_CERTS (meson sets both) and bench/node/node_modules
// ("cd bench/node && npm ci"); a missing one is a failure, never a skip.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(process.argv[2] || '.');
const PLAN = 10;
let n = 0, failed = 0;
function tap(ok, name, detail = '') {
  n += 1;
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!ok && detail) for (const l of String(detail).split('\n')) console.log(`# ${l}`);
}
function bail(why) {
  while (n < PLAN) tap(false, `not run: ${why}`);
  process.exit(1);
}
console.log(`1..${PLAN}`);

if (!existsSync(path.join(root, 'bench/node/node_modules/ws'))) bail('bench/node/node_modules missing: cd bench/node && npm ci');
const C = await import(path.join(root, 'bench/node/crypto.js'));
await C.ready();

// ---- the document's vectors ----
const doc = readFileSync(path.join(root, 'docs/CRYPTO.md'), 'utf8');
const pick = (re, what) => { const m = re.exec(doc); if (!m) bail(`CRYPTO.md: ${what} not found`); return m[1]; };
const range = (a, b) => Uint8Array.from({ length: b - a + 1 }, (_, i) => a + i);
const seed = range(0x00, 0x1f);
const kp = C.sodium.crypto_sign_seed_keypair(seed);
const user = range(0xa0, 0xaf), device = range(0xb0, 0xbf), challenge = range(0x80, 0x9f);

const loginSig = pick(/\| login \| `([0-9a-f]{128})` \|/, 'login signature');
tap(C.hex(C.sign(kp.privateKey, C.loginString('localhost', user, device, challenge))) === loginSig,
  'login string signed with DK gives the CRYPTO.md signature');

const e0bytes = pick(/\| e0 = create[^|]*\| `([0-9a-f]+)` \|/, 'e0 signed bytes');
const e0hash = pick(/\| BLAKE2b-256\(e0\) \| `([0-9a-f]{64})` \|/, 'e0 hash');
const e1sig = pick(/\| signature of e1 \| `([0-9a-f]{128})` \|/, 'e1 signature');
const e0 = { channel: C.hex(range(0xd0, 0xdf)), seq: 0, prev: null, actor: C.hex(user), actor_device: C.hex(device),
  action: 'create', subject: C.hex(user), role: 'admin', history: 'shared', kind: 'case', ts: 1763900000000 };
const s0 = C.mlogSigned(e0);
tap(C.hex(s0) === e0bytes && C.hex(C.blake2b256(s0)) === e0hash,
  'membership-log create entry: signed bytes and hash as CRYPTO.md §6');
const e1 = { ...e0, seq: 1, prev: C.b64(C.blake2b256(s0)), action: 'add', subject: C.hex(range(0xe0, 0xef)),
  role: 'member', history: null, kind: null, ts: 1763900001000 };
tap(C.hex(C.sign(kp.privateKey, C.mlogSigned(e1))) === e1sig,
  'membership-log add entry chained to the create entry: signature as CRYPTO.md §6');

const envHash = pick(/BLAKE2b-256 of the envelope \(duplicate detection\):\s*`([0-9a-f]{64})`/, 'envelope hash');
const sess = C.newSession(range(0x20, 0x3f), range(0x40, 0x5f));
C.seal(sess, range(0xf0, 0xff), device, 1763900000000, new Uint8Array(1));  // index 0
const env = C.seal(sess, range(0xf0, 0xff), device, 1763900000000,
  new TextEncoder().encode('Sortie prevue demain 10h, ordonnance jointe.'), range(0x80, 0x97));
tap(env.length === 228 && C.hex(C.blake2b256(env)) === envHash,
  'message envelope at index 1 (header, nonce, ct, sig) as CRYPTO.md §4');

// ---- a real liaisond ----
const liaisond = process.env.LIAISOND, certs = process.env.LSN_CERTS;
if (!liaisond || !certs) bail('LIAISOND and LSN_CERTS must be set (meson test sets them)');
const tmp = mkdtempSync(path.join(tmpdir(), 'lsn-nodegen-'));
const data = path.join(tmp, 'data');
let server = null;
process.on('exit', () => { if (server) server.kill('SIGTERM'); rmSync(tmp, { recursive: true, force: true }); });
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
try {
  execFileSync(liaisond, ['--data-dir', data, 'init'], { stdio: 'pipe' });
  execFileSync(liaisond, ['--data-dir', data, 'org', 'add', '--name', 'CPTS Bench', '--finess', '450000005',
    '--kind', 'cpts'], { stdio: 'pipe' });
} catch (e) { bail(`liaisond init: ${e.stderr || e.message}`); }
writeFileSync(path.join(tmp, 'test.conf'), 'conn_unauth_per_addr = 1000\n');
server = spawn(liaisond, ['--config', path.join(tmp, 'test.conf'), '--data-dir', data, '--port', String(port),
  '--listen', '127.0.0.1', '--cert', path.join(certs, 'server.crt'), '--key', path.join(certs, 'server.key'),
  '--server-name', 'localhost', '--synchronous', 'full', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d; });
// wait for the port
for (let i = 0; ; i++) {
  const up = await new Promise((resolve) => {
    const s = createServer(); s.once('error', () => resolve(true)); s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
  if (up) break;
  if (i > 100 || server.exitCode !== null) bail(`liaisond did not start: ${serverLog}`);
  await new Promise((r) => setTimeout(r, 100));
}

function gen(args) {
  const base = ['--port', String(port), '--ca', path.join(certs, 'ca.crt'), '--liaisond', liaisond,
    '--data-dir', data, '--server-pid', String(server.pid), '--users', '10', '--json'];
  try {
    return { rc: 0, out: JSON.parse(execFileSync(process.execPath, [path.join(root, 'bench/node/bench.mjs'), ...base, ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 })) };
  } catch (e) {
    let out = null;
    try { out = JSON.parse(e.stdout); } catch { /* no result */ }
    return { rc: e.status, out, err: `${e.stderr || e.message}` };
  }
}

// W1: 40 msg/s for 3 s, 10 users in 2 channels of 5
const w1 = gen(['--workload', 'busy', '--rate', '40', '--duration', '3']);
const b = w1.out && w1.out.busy;
tap(w1.rc === 0 && b && b.sent === 120 && b.acked === b.sent,
  'W1: every one of the 120 sends acknowledged', b ? JSON.stringify({ sent: b.sent, acked: b.acked }) : w1.err);
tap(b && b.errors === 0 && b.lostAcks === 0 && b.closed === 0,
  'W1: no error reply, no lost reply, no closed connection', b ? JSON.stringify({ errors: b.errors, codes: b.errorCodes, closed: b.closed }) : '');
tap(b && b.delivered === b.sent * 4 && b.lostDeliv === 0 && b.dup === 0,
  'W1: every message delivered once to each of its 4 other members', b ? JSON.stringify({ delivered: b.delivered, dup: b.dup }) : '');
tap(b && b.ack.n === b.sent && b.deliv.n === b.sent * 4 && b.ack.p50 > 0 && b.ack.max >= b.ack.p99 &&
  b.serverCpu_s > 0 && w1.out.batch === true,
  'W1: a latency for every ack and delivery, server CPU read from /proc, batch on', b ? JSON.stringify({ ack: b.ack, cpu: b.serverCpu_s }) : '');
// W2: steps 50 then 100 msg/s (a lenient p99 limit: this checks the steps, not the machine)
const w2 = gen(['--workload', 'saturation', '--rate-start', '50', '--rate-factor', '2', '--rate-max', '100',
  '--step-duration', '2', '--warmup', '1', '--p99-limit-ms', '2000']);
const st = (w2.out && w2.out.steps) || [];
// whether a step passes depends on the machine's load (its p99, the rate
// the generator achieved): checked here is that every step loses nothing,
// that a passing first step is followed by the second, and that the report
// names the highest step that passed
tap(st.length >= 1 && st.length === (st[0].pass ? 2 : 1) &&
  st.every((s) => s.sent > 0 && s.acked === s.sent && s.delivered === s.sent * 4),
'W2: each step run has every send acknowledged and delivered 4 times (the second after a passing first)',
w2.err || JSON.stringify(st.map((s) => [s.offered, s.sent, s.acked, s.delivered, s.pass])));
const passing = st.filter((s) => s.pass).map((s) => s.offered);
tap(w2.out && (w2.out.highest_passing || 0) === (passing.length ? Math.max(...passing) : 0),
  'W2: the highest passing step is reported', JSON.stringify([w2.out && w2.out.highest_passing, passing]));
process.exit(failed ? 1 : 0);
