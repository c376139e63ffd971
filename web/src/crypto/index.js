// Liaison's cryptography for the browser: every construction of
// docs/CRYPTO.md, byte for byte, on libsodium.js. await ready() first.
export { ready } from './sodium.js';
export { blake2b256, kdf, x25519Public, x25519 } from './sodium.js';
export * from './bytes.js';
export * from './sigs.js';
export * from './base32.js';
export * from './mlog.js';
export * from './header.js';
export * from './keyshare.js';
export * from './group.js';
export * from './link.js';
export * from './attach.js';
export * from './backup.js';
export * from './fingerprint.js';
export * from './localkey.js';
