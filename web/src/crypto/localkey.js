// The local key (CRYPTO.md "Local profile (§7, device side)"): Argon2id of
// the passphrase with the CLI profile's parameters (OPSLIMIT_INTERACTIVE,
// MEMLIMIT_INTERACTIVE), the database subkey, and items sealed under it
// with the item's name in the AD. The browser seals its keys for IndexedDB
// with these same functions.
import { concat, utf8, need } from './bytes.js';
import { lib, kdf } from './sodium.js';

export const LOCAL_OPSLIMIT = 2; // crypto_pwhash_OPSLIMIT_INTERACTIVE
export const LOCAL_MEMLIMIT = 67108864; // crypto_pwhash_MEMLIMIT_INTERACTIVE, 64 MiB

/** crypto_pwhash(32, passphrase, salt(16), opslimit, memlimit, ALG_ARGON2ID13). */
export function localKey(passphrase, salt, opslimit = LOCAL_OPSLIMIT, memlimit = LOCAL_MEMLIMIT) {
  const s = lib();
  return s.crypto_pwhash(32, passphrase, need(salt, 16, 'salt'), opslimit, memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
}

/** A fresh 16-byte salt. */
export function localSalt() {
  return lib().randombytes_buf(16);
}

/** Database key = crypto_kdf_derive_from_key(32, 1, "lsnprfdb", local_key). */
export function databaseKey(local) {
  return kdf(1, 'lsnprfdb', need(local, 32, 'local key'));
}

function itemAd(name) {
  return concat(utf8('liaison-local-v1'), utf8(name));
}

/** nonce(24) || AEAD(local_key, nonce, AD = "liaison-local-v1" || item_name, secret). */
export function sealItem(local, name, secret, nonce = null) {
  const s = lib();
  const n = nonce ? need(nonce, 24, 'nonce') : s.randombytes_buf(24);
  return concat(n, s.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, itemAd(name), null, n, need(local, 32, 'local key')));
}

/** The secret of a sealed item, or null (wrong passphrase, another item name, altered or truncated). */
export function openItem(local, name, sealed) {
  if (!(sealed instanceof Uint8Array) || sealed.length < 24 + 16) return null;
  try {
    return lib().crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(24), itemAd(name),
      sealed.subarray(0, 24), local);
  } catch {
    return null;
  }
}
