// WebSocket client of docs/PROTOCOL.md: subprotocol liaison.v1 on the page's
// own origin, the hello event (server name, challenge, max_frame), requests
// with ids and exactly one reply each, events, coalesced batches unpacked,
// and errors turned into French "ce qui ne va pas : que faire" with the
// protocol's code kept.
import { frenchError } from './errors.js';

export const SUBPROTOCOL = 'liaison.v1';
export const REQUEST_TIMEOUT_MS = 30000;

/** wss://host:port/ of the page (the browser client talks only to the origin it came from). */
export function sameOriginUrl(loc = globalThis.location) {
  return `wss://${loc.host}/`;
}

/** A refused request or a broken connection: code (protocol's or ours) and a French message. */
export class LiaisonError extends Error {
  constructor(code, message, detail = null) {
    super(message);
    this.name = 'LiaisonError';
    this.code = code;
    this.detail = detail; // the server's English message, kept for diagnostics
  }
}

function fail(code, serverMessage) {
  return new LiaisonError(code, frenchError(code, serverMessage), serverMessage || null);
}

export class Connection {
  /** Opens the WebSocket and resolves once the server's hello has arrived. */
  static open(url = sameOriginUrl(), { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url, SUBPROTOCOL);
      } catch (e) {
        reject(fail('network', e.message));
        return;
      }
      const conn = new Connection(ws);
      const timer = setTimeout(() => {
        ws.close();
        reject(fail('timeout', 'no hello from the server'));
      }, timeoutMs);
      conn._onHello = (hello) => {
        clearTimeout(timer);
        if (ws.protocol !== SUBPROTOCOL || hello.protocol !== 1 || typeof hello.server !== 'string') {
          ws.close();
          reject(fail('protocol', `unexpected hello (subprotocol ${ws.protocol}, protocol ${hello.protocol})`));
          return;
        }
        resolve(conn);
      };
      conn._onEarlyClose = (code, reason) => {
        clearTimeout(timer);
        reject(fail(code === 4029 ? 'too_many_unauth' : 'network', reason || `closed (${code})`));
      };
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.hello = null;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.listeners = new Map(); // event name -> Set of functions
    this.closed = false;
    ws.addEventListener('message', (e) => this._message(e.data));
    ws.addEventListener('close', (e) => this._close(e.code, e.reason));
    ws.addEventListener('error', () => {}); // the close event follows and says it
  }

  get serverName() {
    return this.hello ? this.hello.server : null;
  }

  get challenge() {
    return this.hello ? this.hello.challenge : null;
  }

  /** Calls fn(event object) for each event named name ("*" for all); returns the unsubscribe function. */
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  /** Sends {id, op, ...fields}; resolves with the reply on ok, rejects with a LiaisonError. */
  request(op, fields = {}, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    if (this.closed) return Promise.reject(fail('network', 'connection closed'));
    const id = this.nextId++;
    const frame = JSON.stringify({ ...fields, id, op });
    if (this.hello && frame.length > this.hello.max_frame) {
      return Promise.reject(fail('too_large', `frame of ${frame.length} bytes`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(fail('timeout', `no reply to ${op}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(frame);
    });
  }

  close() {
    if (!this.closed) this.ws.close(1000);
  }

  _message(data) {
    if (typeof data !== 'string') return; // the server sends text frames only
    let obj;
    try {
      obj = JSON.parse(data);
    } catch {
      return;
    }
    if (obj && Array.isArray(obj.batch) && Object.keys(obj).length === 1) {
      for (const f of obj.batch) this._frame(f);
    } else {
      this._frame(obj);
    }
  }

  _frame(obj) {
    if (!obj || typeof obj !== 'object') return;
    if (typeof obj.ev === 'string') {
      if (obj.ev === 'hello') {
        this.hello = obj;
        if (this._onHello) {
          const f = this._onHello;
          this._onHello = null;
          f(obj);
        }
      }
      for (const key of [obj.ev, '*']) {
        for (const fn of this.listeners.get(key) || []) fn(obj);
      }
      return;
    }
    const p = this.pending.get(obj.id);
    if (!p) return; // a reply with id null (too_large, bad_json) belongs to no pending request
    this.pending.delete(obj.id);
    clearTimeout(p.timer);
    if (obj.ok === true) {
      p.resolve(obj);
    } else {
      const err = obj.error || {};
      const e = fail(typeof err.code === 'string' ? err.code : 'protocol', err.message || '');
      if (typeof err.retry_after_ms === 'number') e.retryAfterMs = err.retry_after_ms;
      p.reject(e);
    }
  }

  _close(code, reason) {
    this.closed = true;
    if (this._onHello) {
      this._onHello = null;
      if (this._onEarlyClose) this._onEarlyClose(code, reason);
    }
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(fail(code === 1001 ? 'shutting_down' : 'network', reason || `closed (${code})`));
    }
    this.pending.clear();
    for (const fn of this.listeners.get('close') || []) fn({ ev: 'close', code, reason });
  }
}

/** 32 random hex characters, as the CLI's idempotency keys. */
export function idemKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
