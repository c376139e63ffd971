// The browser's IndexedDB database `liaison`, opened in one place: its
// version and object stores. `device` holds this browser's device record
// (store/keystore.js); `vault` holds every other record, each sealed under
// the local key (store/vault.js). Records are added by name; no store
// knows another's layout.
const DB_NAME = 'liaison';
const DB_VERSION = 2;
export const STORES = ['device', 'vault'];

export function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const name of STORES) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('indexeddb blocked'));
  });
}

/**
 * Runs fn(objectStore) in one transaction of store `store`; resolves with
 * the result of the request fn returns (or undefined) once committed.
 */
export async function tx(store, mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const req = fn(t.objectStore(store));
      t.oncomplete = () => resolve(req ? req.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}
