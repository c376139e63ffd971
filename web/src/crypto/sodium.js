// The one place that loads libsodium.js (libsodium-wrappers-sumo: the sumo
// build has crypto_pwhash/Argon2id, crypto_kdf and secretstream). Every
// construction calls lib() after ready() resolved.
import sodiumLib from 'libsodium-wrappers-sumo';

let loaded = null;
let isReady = false;

/** Resolves once libsodium is initialised; call before any other function. */
export async function ready() {
  if (!loaded) {
    loaded = sodiumLib.ready.then(() => {
      isReady = true;
      return sodiumLib;
    });
  }
  return loaded;
}

/** The initialised libsodium object; throws if ready() has not resolved. */
export function lib() {
  if (!isReady) throw new Error('libsodium not ready: await ready() first');
  return sodiumLib;
}

/** BLAKE2b-256, unkeyed (crypto_generichash with 32 bytes). */
export function blake2b256(data) {
  return lib().crypto_generichash(32, data, null);
}

/**
 * crypto_kdf_derive_from_key(32, id, ctx, key): keyed BLAKE2b-256, salt = id
 * as 8 little-endian bytes then 8 zero bytes, personal = ctx then 8 zeros.
 */
export function kdf(subkeyId, ctx, key) {
  if (ctx.length !== 8) throw new TypeError('kdf context must be 8 characters');
  return lib().crypto_kdf_derive_from_key(32, subkeyId, ctx, key);
}

/** X25519 public key of a 32-byte secret key (crypto_scalarmult_base). */
export function x25519Public(sk) {
  return lib().crypto_scalarmult_base(sk);
}

/** X25519(sk, pk), the raw shared point (crypto_scalarmult). */
export function x25519(sk, pk) {
  return lib().crypto_scalarmult(sk, pk);
}
