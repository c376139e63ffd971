// Every record the browser keeps besides its device keys — pinned identity
// keys of colleagues, group sessions, messages read, preferences — in the
// IndexedDB store `vault`, each sealed under the local key held by the
// session while unlocked: value = sealItem(local, "vault:" + name,
// JSON), so a record moved to another name, altered or truncated does not
// open (it reads as absent and is reported by the caller). The names are
// in the clear (they carry ids, never content): name them
// "<kind>:<id>[:<id>…]" so that a kind can be listed by prefix.
import { sealItem, openItem, utf8, fromUtf8, wipe } from '../crypto/index.js';
import { tx } from './db.js';
import * as session from './session.js';

const STORE = 'vault';

function localKey() {
  const k = session.key('local');
  if (!k) throw new Error('vault: locked');
  return k;
}

function seal(name, value) {
  const bytes = utf8(JSON.stringify(value));
  try {
    return sealItem(localKey(), `vault:${name}`, bytes);
  } finally {
    wipe(bytes);
  }
}

function open(name, sealed) {
  const bytes = openItem(localKey(), `vault:${name}`, sealed);
  if (!bytes) return undefined;
  try {
    return JSON.parse(fromUtf8(bytes));
  } finally {
    wipe(bytes);
  }
}

/** Stores value (anything JSON can hold) under name. */
export async function put(name, value) {
  const sealed = seal(name, value);
  await tx(STORE, 'readwrite', (s) => s.put(sealed, name));
}

/** Stores many [name, value] pairs in one transaction. */
export async function putMany(pairs) {
  const sealed = pairs.map(([n, v]) => [n, seal(n, v)]);
  await tx(STORE, 'readwrite', (s) => {
    for (const [n, b] of sealed) s.put(b, n);
    return null;
  });
}

/**
 * The value stored under name: undefined when there is none, and
 * {tampered: true} as a thrown VaultError when a record is there but does
 * not open under this key and name.
 */
export async function get(name) {
  const sealed = await tx(STORE, 'readonly', (s) => s.get(name));
  if (sealed === undefined) return undefined;
  const v = open(name, sealed);
  if (v === undefined) throw new VaultError(name);
  return v;
}

/** Every [name, value] whose name starts with prefix, in name order; records that do not open are thrown as a VaultError. */
export async function list(prefix) {
  const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
  const rows = await tx(STORE, 'readonly', (s) => {
    const out = { result: [] };
    const cur = s.openCursor(range);
    cur.onsuccess = () => {
      const c = cur.result;
      if (!c) return;
      out.result.push([c.key, c.value]);
      c.continue();
    };
    return out;
  });
  return rows.map(([n, sealed]) => {
    const v = open(n, sealed);
    if (v === undefined) throw new VaultError(n);
    return [n, v];
  });
}

/** Removes the record name. */
export async function del(name) {
  await tx(STORE, 'readwrite', (s) => s.delete(name));
}

/** Removes every record whose name starts with prefix. */
export async function delPrefix(prefix) {
  await tx(STORE, 'readwrite', (s) => s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
}

/** A record that is there but does not open: altered, moved or from another passphrase. */
export class VaultError extends Error {
  constructor(name) {
    super(`vault record ${name} does not open`);
    this.code = 'storage_local';
    this.record = name;
  }
}
