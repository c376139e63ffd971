#!/usr/bin/env node
// bench.mjs — liaison-bench-node: a second load generator for liaisond,
// written from docs/PROTOCOL.md and docs/CRYPTO.md only (Node, the npm `ws`
// package, libsodium.js), so the figures can be checked by a client that is
// not liaison-bench. Workloads (docs/PERFORMANCE.md, issue 17):
//   busy        W1: --rate msg/s for --duration s, open loop
//   saturation  W2: steps from --rate-start, x --rate-factor (or + --rate-step),
//               --warmup s + --step-duration s measured each, until a step
//               fails (ack p99 >= --p99-limit-ms, a loss, an error, or under
//               95 % of the offered rate achieved) or --rate-max.
// Setup (not measured): invites, enrol, login, channels (setup.js); every
// envelope of a step is sealed and signed before the step starts (load.js).
// Usage: node bench/node/bench.mjs --help
import { readFileSync } from 'node:fs';
import * as C from './crypto.js';
import { setup } from './setup.js';
import { attach, prepare, run } from './load.js';
import { procRss, allowedCpus } from './stats.js';

const HELP = `usage: node bench.mjs --port P --ca FILE --liaisond BIN --data-dir DIR --server-pid PID
  [--workload busy|saturation] [--users 100] [--channel-size 5] [--msg-size 512]
  [--rate 200] [--duration 10]                                    (busy)
  [--rate-start 250] [--rate-factor 2] [--rate-step 0] [--rate-max 2000]
  [--step-duration 3] [--warmup 1] [--p99-limit-ms 50]            (saturation)
  [--drain 15] [--org 450000005] [--server-name localhost] [--host 127.0.0.1]
  [--no-batch] [--json] [--quiet]
Exit status 0 when every message was acknowledged and delivered, else 1.`;

function parse(argv) {
  const o = {
    workload: 'busy', users: 100, channelSize: 5, msgSize: 512, rate: 200, duration: 10,
    rateStart: 250, rateFactor: 2, rateStep: 0, rateMax: 2000, stepDuration: 3, warmup: 1,
    p99LimitMs: 50, drain: 15, org: '450000005', serverName: 'localhost', host: '127.0.0.1',
    batch: true, json: false, quiet: false,
  };
  const num = new Set(['users', 'channelSize', 'msgSize', 'rate', 'duration', 'rateStart',
    'rateFactor', 'rateStep', 'rateMax', 'stepDuration', 'warmup', 'p99LimitMs', 'drain',
    'port', 'serverPid']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0); }
    if (a === '--no-batch') { o.batch = false; continue; }
    if (a === '--json') { o.json = true; continue; }
    if (a === '--quiet') { o.quiet = true; continue; }
    if (!a.startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${a}\n${HELP}`);
    const k = a.slice(2).replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
    const v = argv[++i];
    if (num.has(k)) { if (!Number.isFinite(Number(v))) throw new Error(`${a}: not a number`); o[k] = Number(v); }
    else o[k] = v;
  }
  for (const k of ['port', 'ca', 'liaisond', 'dataDir', 'serverPid'])
    if (o[k] === undefined) throw new Error(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required\n${HELP}`);
  if (o.msgSize < C.ENVELOPE_OVERHEAD + 200 || o.msgSize > 65536) throw new Error('--msg-size: 384..65536');
  return o;
}

const say = (o, s) => { if (!o.quiet && !o.json) console.log(s); };
const f1 = (x) => (x === null || x === undefined ? '-' : x.toFixed(1));
const f2 = (x) => (x === null || x === undefined ? '-' : x.toFixed(2));
const f3 = (x) => (x === null || x === undefined ? '-' : x.toFixed(3));

function passes(r, o) {
  return r.ack.p99 < o.p99LimitMs && r.errors === 0 && r.lostAcks === 0 && r.lostDeliv === 0 &&
    r.achieved >= 0.95 * r.offered;
}

function frameCounts(users) {
  let frames = 0, batches = 0, batched = 0, closed = 0;
  for (const u of users) {
    frames += u.conn.frames; batches += u.conn.batches; batched += u.conn.batched;
    if (u.conn.closed !== null) closed += 1;
  }
  return { frames, batches, batched, closed };
}

async function main() {
  const o = parse(process.argv.slice(2));
  o.url = `wss://${o.host}:${o.port}/`;
  o.ca = readFileSync(o.ca);
  await C.ready();
  const rss0 = procRss(o.serverPid);
  const t0 = performance.now();
  const { users, channels, times } = await setup(o);
  const setupS = (performance.now() - t0) / 1000;
  const batchOn = users.every((u) => u.batch);
  say(o, `liaison-bench-node (Node ${process.version}, ws, libsodium.js): ${users.length} users in ` +
    `${channels.length} channels of ${o.channelSize}, set up in ${setupS.toFixed(1)} s ` +
    `(invites ${times.invites_s.toFixed(1)}, enrol+login ${times.enrol_login_s.toFixed(1)}, channels ${times.channels_s.toFixed(1)}); ` +
    `batch ${batchOn ? 'on' : 'off'}; ${o.msgSize}-byte sealed envelopes`);
  say(o, `CPUs: server ${allowedCpus(o.serverPid)}, generator ${allowedCpus()}`);
  const state = { byKey: new Map(), turn: 0, dup: 0, stray: 0, errorCodes: {}, phase: null };
  attach(users, state);
  const out = { generator: 'node', node: process.version, params: { ...o, ca: undefined, url: undefined },
    setup_s: setupS, setup: times, batch: batchOn, cpus: { server: allowedCpus(o.serverPid), generator: allowedCpus() } };
  let ok = true;

  if (o.workload === 'busy') {
    const n = Math.round(o.rate * o.duration);
    const ts = performance.now();
    const msgs = prepare(users, n, o.msgSize, state);
    say(o, `${n} envelopes sealed and signed in ${((performance.now() - ts) / 1000).toFixed(1)} s (before the window)`);
    const r = await run(msgs, o.rate, 0, o.duration, o.drain, o, state);
    r.rssKiB = procRss(o.serverPid);
    r.rssPerConnKiB = r.rssKiB && rss0 ? (r.rssKiB - rss0) / users.length : null;
    Object.assign(r, frameCounts(users), { dup: state.dup, errorCodes: state.errorCodes });
    out.busy = r;
    ok = r.errors === 0 && r.lostAcks === 0 && r.lostDeliv === 0 && r.dup === 0;
    say(o, `W1 busy: ${o.rate} msg/s offered for ${o.duration} s, ${r.achieved.toFixed(0)} msg/s acked in the window`);
    say(o, `  sent ${r.sent}, acked ${r.acked}, errors ${r.errors}${r.errors ? ' ' + JSON.stringify(r.errorCodes) : ''}, ` +
      `lost acks ${r.lostAcks}, delivered ${r.delivered} of ${r.acked * (o.channelSize - 1)}, lost deliveries ${r.lostDeliv}, duplicates ${r.dup}`);
    say(o, `  ack latency ms       p50 ${f2(r.ack.p50)}  p99 ${f2(r.ack.p99)}  p99.9 ${f2(r.ack.p999)}  max ${f2(r.ack.max)}`);
    say(o, `  delivery latency ms  p50 ${f2(r.deliv.p50)}  p99 ${f2(r.deliv.p99)}  p99.9 ${f2(r.deliv.p999)}  max ${f2(r.deliv.max)}`);
    say(o, `  send lag ms (due -> sent) p50 ${f2(r.sendLag.p50)}  p99 ${f2(r.sendLag.p99)}  max ${f2(r.sendLag.max)}; ` +
      `generator event-loop delay ms p50 ${f2(r.loopDelay.p50)}  p99 ${f2(r.loopDelay.p99)}  max ${f2(r.loopDelay.max)}`);
    say(o, `  ack p99 of messages sent on time (lag < 5 ms): ${f2(r.ackOnTime.p99)} (${r.ackOnTime.n}); ` +
      `sent late: ${f2(r.ackLate.p99)} (${r.ackLate.n})`);
    say(o, `  server CPU ${f1(r.serverCpuPct)} % of one core, ${f3(r.serverCpuPerMsg_ms)} ms per message; ` +
      `RSS ${r.rssKiB} KiB (${f1(r.rssPerConnKiB)} KiB/conn); generator CPU ${f1(r.genCpuPct)} %`);
    say(o, `  waiting for a CPU (runnable, not running; other processes of the machine) over ${f1(r.total_s)} s: ` +
      `server ${f2(r.serverWait_s)} s, generator ${f2(r.genWait_s)} s`);
    say(o, `  frames received ${r.frames}, of which ${r.batches} coalesced carrying ${r.batched}; closed connections ${r.closed}`);
  } else if (o.workload === 'saturation') {
    out.steps = [];
    let best = 0;
    say(o, `W2 saturation: ${o.warmup} s warm-up + ${o.stepDuration} s measured per step, pass = ack p99 < ${o.p99LimitMs} ms, no loss, no error, >= 95 % achieved`);
    say(o, `${'offered'.padStart(8)} ${'achieved'.padStart(8)} ${'ack p50'.padStart(8)} ${'ack p99'.padStart(8)} ${'p99.9'.padStart(8)} ` +
      `${'max'.padStart(8)} ${'deliv p99'.padStart(9)} ${'lost'.padStart(5)} ${'err'.padStart(4)} ${'srv %'.padStart(6)} ${'ms/msg'.padStart(7)} ${'gen %'.padStart(6)} ${'lag p99'.padStart(7)} ${'loop p99'.padStart(8)} ${'srv wait'.padStart(8)} ${'p99 on time (n)'.padStart(16)} ${'p99 late (n)'.padStart(16)}  verdict`);
    for (let rate = o.rateStart; rate <= o.rateMax;
      rate = o.rateStep > 0 ? rate + o.rateStep : Math.round(rate * o.rateFactor)) {
      const n = Math.round(rate * (o.warmup + o.stepDuration));
      state.byKey.clear();
      const msgs = prepare(users, n, o.msgSize, state);
      const r = await run(msgs, rate, o.warmup, o.stepDuration, o.drain, o, state);
      Object.assign(r, frameCounts(users));
      r.pass = passes(r, o) && r.closed === 0;
      out.steps.push(r);
      say(o, `${String(rate).padStart(8)} ${r.achieved.toFixed(0).padStart(8)} ${f2(r.ack.p50).padStart(8)} ${f2(r.ack.p99).padStart(8)} ` +
        `${f2(r.ack.p999).padStart(8)} ${f2(r.ack.max).padStart(8)} ${f2(r.deliv.p99).padStart(9)} ${String(r.lostAcks + r.lostDeliv).padStart(5)} ` +
        `${String(r.errors).padStart(4)} ${f1(r.serverCpuPct).padStart(6)} ${f3(r.serverCpuPerMsg_ms).padStart(7)} ${f1(r.genCpuPct).padStart(6)} ${f2(r.sendLag.p99).padStart(7)} ${f2(r.loopDelay.p99).padStart(8)} ${f2(r.serverWait_s).padStart(8)} ${`${f2(r.ackOnTime.p99)} (${r.ackOnTime.n})`.padStart(16)} ${`${f2(r.ackLate.p99)} (${r.ackLate.n})`.padStart(16)}  ${r.pass ? 'pass' : 'FAIL'}`);
      if (!r.pass) break;
      best = rate;
      if (o.rateStep <= 0 && o.rateFactor <= 1) break;
    }
    out.highest_passing = best;
    say(o, `highest durable rate: ${best} msg/s (ack p99 < ${o.p99LimitMs} ms, no loss)`);
    const fc = frameCounts(users);
    say(o, `frames received ${fc.frames}, of which ${fc.batches} coalesced carrying ${fc.batched}`);
    ok = best > 0;
  } else {
    throw new Error(`unknown workload ${o.workload} (busy, saturation)`);
  }
  if (o.json) console.log(JSON.stringify(out));
  for (const u of users) u.conn.close();
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.error(`liaison-bench-node: ${e.stack || e}`); process.exit(2); });
