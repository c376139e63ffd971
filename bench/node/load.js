// load.js — the measured part: envelopes sealed and send frames built
// before the window (docs/CRYPTO.md §4 group sessions, PROTOCOL.md `send`),
// then sent at a fixed open-loop rate, every user in turn, whatever the
// state of earlier requests. Per message: ack latency (send -> the reply,
// sent by the server after commit) and delivery latency (send -> the
// `message` event at each other member; the sender's own echo is counted
// apart). A message is recognised in an event by its header's session id
// and index (each pre-sealed envelope is unique).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as C from './crypto.js';
import { Lat, procCpu, procWait, selfCpu } from './stats.js';

const SESSION_MAX = 100;   // §4: sessions rotate after 100 messages
// base64 characters 28..76 hold envelope bytes 21..57: most of session_id
// (20..52) and the whole index (52..56)
const keyOf = (b64env) => b64env.slice(28, 76);

/** Attaches the reply and event handlers of the load to every user. */
export function attach(users, state) {
  for (const u of users) {
    u.inflight = new Map();
    u.deviceHex = C.hex(u.device);
    u.conn.onReply = (f, now) => {
      const m = u.inflight.get(f.id);
      if (!m) { state.stray += 1; return; }
      u.inflight.delete(f.id);
      m.ackAt = now;
      if (f.ok) m.acked = true;
      else { m.error = f.error ? f.error.code : '?'; state.errorCodes[m.error] = (state.errorCodes[m.error] || 0) + 1; }
      if (state.phase) state.phase.onAck(m, now);
    };
    u.conn.onEvent = (f, now) => {
      if (f.ev !== 'message') return;
      const m = state.byKey.get(keyOf(f.envelope));
      if (!m) { state.stray += 1; return; }
      if (f.sender_device === u.deviceHex) { m.echo += 1; return; }
      m.deliv += 1;
      if (state.phase) state.phase.onDeliv(m, now);
    };
  }
}

/** Seals n messages of msgSize bytes from users in turn; builds their frames. */
export function prepare(users, n, msgSize, state) {
  const msgs = new Array(n);
  const ptLen = msgSize - C.ENVELOPE_OVERHEAD;
  for (let k = 0; k < n; k++) {
    const u = users[state.turn++ % users.length];
    if (!u.session || u.session.index >= SESSION_MAX) u.session = C.newSession();
    const ch = u.channel;
    const head = JSON.stringify({ type: 'text', channel: C.hex(ch.id), sender: C.hex(u.user),
      mlog: { seq: ch.logSeq, hash: ch.logHash }, body: '' });
    const pad = Math.max(0, ptLen - head.length);
    const pt = head.replace('"body":""', `"body":"${'x'.repeat(pad)}"`);
    const env = C.b64(C.seal(u.session, ch.id, u.device, Date.now(), new TextEncoder().encode(pt)));
    const id = u.conn.takeId();
    const frame = JSON.stringify({ id, op: 'send', idem: C.hex(C.random(16)),
      channel: C.hex(ch.id), envelope: env });
    const m = { u, id, frame, key: keyOf(env), others: ch.members.length - 1,
      due: 0, sentAt: 0, ackAt: 0, acked: false, error: null, deliv: 0, echo: 0, measured: false };
    state.byKey.set(m.key, m);
    msgs[k] = m;
  }
  return msgs;
}

/** Sends msgs at rate/s: warmup s unmeasured, then measure s; waits for
 *  every reply and delivery (at most drain s). Resolves with the figures. */
export function run(msgs, rate, warmup, measure, drain, o, state) {
  return new Promise((resolve) => {
    const ack = new Lat(), deliv = new Lat(), lag = new Lat();
    // acks of messages that left on time (send lag < 5 ms) and of late ones
    // (sent in a burst after a stall of the generator): the tail's cause
    const ackOnTime = new Lat(), ackLate = new Lat();
    const t0 = performance.now();
    const mStart = t0 + warmup * 1000, mEnd = mStart + measure * 1000;
    const n = Math.min(msgs.length, Math.round(rate * (warmup + measure)));
    const nWarm = Math.round(rate * warmup);
    let sent = 0, pendingAcks = 0, pendingDeliv = 0, acksInWindow = 0;
    let srv0 = null, gen0 = null, srv1 = null, gen1 = null, tEnd = 0, wait0 = [null, null];
    const gen00 = selfCpu();
    // how long the generator's own event loop was blocked (its GC, parsing):
    // a delay here is added to the latencies it measures
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    state.phase = {
      onAck(m, now) {
        pendingAcks -= 1;
        if (m.acked) pendingDeliv += m.others - m.deliv;
        if (now >= mStart && now < mEnd) acksInWindow += 1;
        if (m.measured && m.acked) {
          ack.add(now - m.sentAt);
          (m.sentAt - m.due < 5 ? ackOnTime : ackLate).add(now - m.sentAt);
        }
        maybeDone();
      },
      onDeliv(m, now) {
        if (m.deliv > m.others) { state.dup += 1; return; }
        if (m.acked) pendingDeliv -= 1;
        if (m.measured) deliv.add(now - m.sentAt);
        maybeDone();
      },
    };
    function tick() {
      const now = performance.now();
      if (srv0 === null && now >= mStart) {
        srv0 = procCpu(o.serverPid); gen0 = selfCpu();
        wait0 = [procWait(o.serverPid), procWait()];
      }
      const due = Math.min(n, Math.floor(((now - t0) * rate) / 1000));
      while (sent < due) {
        const m = msgs[sent];
        m.due = t0 + ((sent + 1) * 1000) / rate;   // message k is due once (k+1)/rate s passed
        m.sentAt = performance.now();
        m.measured = sent >= nWarm;   // by schedule: the first rate x warmup are not
        if (m.measured) lag.add(m.sentAt - m.due);
        m.u.inflight.set(m.id, m);
        m.u.conn.sendRaw(m.frame);
        pendingAcks += 1;
        sent += 1;
      }
      if (sent < n) { setTimeout(tick, 1); return; }
      if (!tEnd) {
        tEnd = performance.now();
        setTimeout(finish, drain * 1000);
      }
      maybeDone();
    }
    function maybeDone() {
      if (sent === n && tEnd && pendingAcks === 0 && pendingDeliv <= 0) finish();
    }
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      srv1 = procCpu(o.serverPid);
      gen1 = selfCpu();
      const wait1 = [procWait(o.serverPid), procWait()];
      loop.disable();
      state.phase = null;
      const tDone = performance.now();
      const win = Math.min(mEnd, tEnd) - mStart;
      let acked = 0, errors = 0, lostAcks = 0, lostDeliv = 0, delivered = 0;
      for (let k = 0; k < n; k++) {
        const m = msgs[k];
        if (m.acked) { acked += 1; lostDeliv += Math.max(0, m.others - m.deliv); delivered += Math.min(m.deliv, m.others); }
        else if (m.error) errors += 1;
        else lostAcks += 1;
      }
      const srvCpu = srv0 !== null && srv1 !== null ? srv1 - srv0 : null;
      const measuredMsgs = ack.n;
      resolve({
        offered: rate, sent: n, acked, errors, lostAcks, lostDeliv, delivered,
        achieved: acksInWindow / (win / 1000),
        ack: ack.summary(), deliv: deliv.summary(), sendLag: lag.summary(),
        ackOnTime: ackOnTime.summary(), ackLate: ackLate.summary(),
        loopDelay: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
        window_s: win / 1000, total_s: (tDone - t0) / 1000,
        serverCpu_s: srvCpu,
        serverCpuPct: srvCpu !== null ? (100 * srvCpu) / ((tDone - mStart) / 1000) : null,
        serverCpuPerMsg_ms: srvCpu !== null && measuredMsgs ? (1000 * srvCpu) / measuredMsgs : null,
        genCpuPct: (100 * (gen1 - gen0)) / ((tDone - mStart) / 1000),
        // seconds runnable but not running, from the window's start (schedstat)
        serverWait_s: wait0[0] !== null && wait1[0] !== null ? wait1[0] - wait0[0] : null,
        genWait_s: wait0[1] !== null && wait1[1] !== null ? wait1[1] - wait0[1] : null,
        genCpuPhasePct: (100 * (gen1 - gen00)) / ((tDone - t0) / 1000),
      });
    }
    tick();
  });
}
