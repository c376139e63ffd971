// conn.js — one liaison.v1 connection (docs/PROTOCOL.md "Transport",
// "Frames"): a TLS WebSocket with the liaison.v1 subprotocol, requests with
// client-chosen ids whose replies resolve promises, coalesced
// {"batch":[...]} frames unpacked into the frames they carry, events handed
// to onEvent. The hot path (send of a pre-built frame, onReply) avoids
// promises: a reply whose id has a registered handler calls it directly.
import WebSocket from 'ws';

export class Conn {
  constructor(url, ca, serverName) {
    this.url = url;
    this.ca = ca;
    this.serverName = serverName;
    this.nextId = 1;
    this.pending = new Map();  // id -> resolve (setup requests)
    this.onReply = null;       // (frame, now) for ids not in pending (the load)
    this.onEvent = null;       // (frame, now)
    this.hello = null;
    this.closed = null;        // close code once closed
    this.frames = 0;           // WebSocket frames received
    this.batches = 0;          // of which coalesced
    this.batched = 0;          // frames carried by them
  }

  /** Opens the connection; resolves with the hello event. */
  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, 'liaison.v1', {
        ca: this.ca, servername: this.serverName, perMessageDeflate: false,
        maxPayload: 1 << 26,
      });
      this.ws = ws;
      ws.on('message', (data) => {
        const now = performance.now();
        this.frames += 1;
        const f = JSON.parse(data.toString('utf8'));
        if (Array.isArray(f.batch)) {
          this.batches += 1;
          this.batched += f.batch.length;
          for (const g of f.batch) this.dispatch(g, now, resolve);
        } else {
          this.dispatch(f, now, resolve);
        }
      });
      ws.on('error', (e) => { if (!this.hello) reject(e); });
      ws.on('close', (code) => {
        this.closed = code;
        if (!this.hello) reject(new Error(`closed ${code} before hello`));
        for (const r of this.pending.values()) r({ ok: false, error: { code: 'closed' } });
        this.pending.clear();
      });
    });
  }

  dispatch(f, now, resolveHello) {
    if (f.ev !== undefined) {
      if (f.ev === 'hello' && !this.hello) { this.hello = f; resolveHello(f); return; }
      if (this.onEvent) this.onEvent(f, now);
      return;
    }
    const r = this.pending.get(f.id);
    if (r) { this.pending.delete(f.id); r(f); return; }
    if (this.onReply) this.onReply(f, now);
  }

  /** A setup request: resolves with its reply. */
  request(op, fields = {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ id, op, ...fields }));
    });
  }

  /** Reserves an id for a frame built ahead of time (the load). */
  takeId() { return this.nextId++; }

  /** Sends a frame built ahead of time. */
  sendRaw(text) { this.ws.send(text); }

  close() { if (this.ws) this.ws.terminate(); }
}
