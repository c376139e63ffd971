// The device's keys in IndexedDB, sealed under the passphrase: the local key
// is Argon2id of the passphrase with the CLI profile's parameters
// (crypto/localkey.js, CRYPTO.md "Local profile"), and each secret key is a
// sealed item (nonce || XChaCha20-Poly1305, AD = "liaison-local-v1" || name).
// Stored in the clear: the salt, the ids (user, device, AK id), the server
// name, the device name and the public keys — what the server publishes
// anyway. The secret keys exist unsealed only in memory (store/session.js).
import { localKey, localSalt, sealItem, openItem, wipe } from '../crypto/index.js';
import { tx as dbTx } from './db.js';

const tx = (mode, fn) => dbTx(STORE, mode, fn);

const STORE = 'device';
const RECORD = 'this-device';
export const RECORD_VERSION = 1;
// the sealed items and their names (the AD binds each to its role)
export const ITEMS = ['ik', 'dk', 'ak'];

/** The stored record of this browser's device (public part and sealed items), or null. */
export async function loadRecord() {
  const r = await tx('readonly', (s) => s.get(RECORD));
  return r && r.version === RECORD_VERSION ? r : null;
}

/**
 * Seals secrets {ik, dk, ak} under the passphrase: returns the record to
 * save (salt, sealed items, the public fields given). Argon2id takes about
 * a second; the local key is kept in secrets.local (the session holds it
 * to seal the vault's records, and wipes it with the others).
 */
export function sealRecord(passphrase, secrets, pub) {
  const salt = localSalt();
  const key = localKey(passphrase, salt);
  const sealed = {};
  for (const name of ITEMS) sealed[name] = sealItem(key, name, secrets[name]);
  secrets.local = key;
  return { version: RECORD_VERSION, salt, sealed, ...pub };
}

export async function saveRecord(record) {
  await tx('readwrite', (s) => s.put(record, RECORD));
}

/**
 * The secrets {ik, dk, ak, local} of a record, or null when the passphrase
 * does not open them (wrong passphrase, or an altered record: the AEAD
 * cannot tell the two apart, and neither can an attacker who guesses
 * offline). `local` is the local key itself: the session keeps it to seal
 * and open the vault's records (store/vault.js) while unlocked.
 */
export function openRecord(record, passphrase) {
  const key = localKey(passphrase, record.salt);
  const out = {};
  for (const name of ITEMS) {
    const v = openItem(key, name, record.sealed[name]);
    if (!v) {
      for (const k of Object.keys(out)) wipe(out[k]);
      wipe(key);
      return null;
    }
    out[name] = v;
  }
  out.local = key;
  return out;
}

/** Removes this browser's device (the keys are lost: the account needs a new invite). */
export async function forget() {
  await tx('readwrite', (s) => s.delete(RECORD));
}
