// The end-to-end state of one logged-in connection, shared by every view:
// the CLI runs one command at a time against its profile; the page runs
// one core operation at a time (run()), so that two operations never
// interleave their reads and writes of the vault (the CLI's transactions).
// Holds in memory only what the CLI holds for one command: colleagues' keys
// as fetched (peers), the verified channel views, names, and a cache of the
// messages of the channels opened (all of it also in the vault).
//
//   engine(ctx)          the engine of ctx.conn (created on first use; the
//                        server's events to_device, message, receipt,
//                        channel_log, device_list are handled from then on,
//                        whatever view is shown)
//   eng.run(fn)          runs fn() after every operation already queued
//   eng.subscribe(fn)    fn({type, channel, ...}) after a change: 'messages',
//                        'receipt', 'channel', 'keys'; returns unsubscribe
//   eng.person(user)     "Nom (profession)" as the CLI's e2e_person
import * as store from './store.js';
import { N } from './store.js';
import { PROFESSION_FR } from './texts.js';

const engines = new WeakMap();
let hooks = null; // set by index.js: {onEvent(eng, ev)}

export function setHooks(h) {
  hooks = h;
}

export function engine(ctx) {
  let eng = engines.get(ctx.conn);
  if (eng) return eng;
  eng = makeEngine(ctx);
  engines.set(ctx.conn, eng);
  return eng;
}

function makeEngine(ctx) {
  const conn = ctx.conn;
  let tail = Promise.resolve();
  const listeners = new Set();
  const eng = {
    conn,
    record: ctx.record,
    me: ctx.me,
    meHex: ctx.me.user.id,
    deviceHex: ctx.me.device.id,
    peers: new Map(), // user hex -> peer (peers.js)
    views: new Map(), // channel hex -> verified view (channels.js)
    persons: new Map(), // user hex -> {name, profession, profession_label, rpps}
    threads: new Map(), // channel hex -> {msgs: Map(seq -> msg), hashes: Set, from}
    receipts: new Map(), // channel hex -> [{user, delivered, read}] of the threads opened
    seen: new Map(), // seen:<sid>:<index> records read this session
    open: null, // the channel shown in the thread view (receipts follow live messages)
    warnings: [],
    strict: false,
    /** conn.request: every request of the core goes through here. */
    req(op, fields = {}) {
      return conn.request(op, fields);
    },
    run(fn) {
      const p = tail.then(fn);
      tail = p.catch(() => {});
      return p;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    emit(change) {
      for (const fn of [...listeners]) {
        try {
          fn(change);
        } catch {
          /* a view's refresh failing is the view's to show */
        }
      }
    },
    warn(text) {
      eng.warnings.push(text);
      if (eng.warnings.length > 50) eng.warnings.shift();
    },
    remember(user) {
      if (!user || typeof user.id !== 'string') return;
      const p = { name: user.name || '', profession: user.profession || '',
        profession_label: user.profession_label || '', rpps: user.rpps || null };
      const old = eng.persons.get(user.id);
      eng.persons.set(user.id, p);
      if (!old || old.name !== p.name || old.profession !== p.profession) {
        store.put(N.person(user.id), p).catch(() => {});
      }
    },
    async loadPersons(users) {
      for (const u of users) {
        if (eng.persons.has(u)) continue;
        const p = await store.get(N.person(u));
        if (p) eng.persons.set(u, p);
      }
    },
    person(user) {
      const p = eng.persons.get(user);
      if (p && p.name) {
        const label = p.profession_label || PROFESSION_FR[p.profession] || p.profession;
        return label ? `${p.name} (${label})` : p.name;
      }
      return `utilisateur ${String(user).slice(0, 8)}`;
    },
    /** The same in the CLI's own words (its per-message details are English). */
    personEn(user) {
      const p = eng.persons.get(user);
      if (p && p.name) {
        const label = PROFESSION_FR[p.profession] || p.profession_label || p.profession;
        return label ? `${p.name} (${label})` : p.name;
      }
      return `user ${String(user).slice(0, 8)}`;
    },
    name(user) {
      const p = eng.persons.get(user);
      return p && p.name ? p.name : `utilisateur ${String(user).slice(0, 8)}`;
    },
  };
  eng.remember(ctx.me.user);
  // what was decrypted stays in memory only while this connection lives
  // (a lock or a lost connection ends it)
  conn.on('close', () => {
    store.forgetCache();
    for (const m of [eng.threads, eng.persons, eng.views, eng.peers, eng.receipts, eng.seen]) m.clear();
  });
  for (const ev of ['to_device', 'message', 'receipt', 'channel_log', 'device_list']) {
    conn.on(ev, (e) => {
      if (hooks) hooks.onEvent(eng, e);
    });
  }
  return eng;
}
