// Attachments (CRYPTO.md "Attachments (§8)"): secretstream XChaCha20-Poly1305
// in chunks of exactly 65536 bytes (the last 0 to 65536), AD = the 16-byte
// attachment id, TAG_MESSAGE on every chunk but the last, TAG_FINAL on the
// last; the blob is the ciphertext chunks without the header; its hash is
// BLAKE2b-256(blob).
import { need, equal, wipe } from './bytes.js';
import { lib } from './sodium.js';

export const CHUNK = 65536;
export const CHUNK_OVERHEAD = 17;
export const MAX_FILE = 50 * 1024 * 1024;
const TAG_MESSAGE = 0;
const TAG_FINAL = 3;

/** Blob size for n plaintext bytes: n + 17 × max(1, ⌈n / 65536⌉). */
export function attachCtSize(n) {
  return n + CHUNK_OVERHEAD * Math.max(1, Math.ceil(n / CHUNK));
}

/** A fresh file key (crypto_secretstream_xchacha20poly1305_keygen). */
export function attachKeygen() {
  return lib().crypto_secretstream_xchacha20poly1305_keygen();
}

/**
 * Encryptor for one file: { header, push(chunk, isFinal) → ciphertext chunk,
 * hash() → BLAKE2b-256 of the chunks pushed so far }. det fixes the header
 * (test vectors only: the push state is derived with init_pull, which
 * libsodium derives from key and header identically).
 */
export function attachEncInit(key, attachmentId, detHeader = null) {
  const s = lib();
  need(key, 32, 'attachment key');
  need(attachmentId, 16, 'attachment id');
  let state;
  let header;
  if (detHeader) {
    header = Uint8Array.from(need(detHeader, 24, 'stream header'));
    state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  } else {
    const r = s.crypto_secretstream_xchacha20poly1305_init_push(key);
    state = r.state;
    header = r.header;
  }
  const h = s.crypto_generichash_init(null, 32);
  let done = false;
  return {
    header,
    push(chunk, isFinal) {
      if (done) throw new Error('attachment already finished');
      if (chunk.length > CHUNK || (!isFinal && chunk.length !== CHUNK)) {
        throw new RangeError('every chunk but the last is exactly 65536 bytes');
      }
      const c = s.crypto_secretstream_xchacha20poly1305_push(state, chunk, attachmentId,
        isFinal ? TAG_FINAL : TAG_MESSAGE);
      s.crypto_generichash_update(h, c);
      if (isFinal) done = true;
      return c;
    },
    hash() {
      if (!done) throw new Error('attachment not finished');
      return s.crypto_generichash_final(h, 32);
    },
  };
}

/** Encrypts a whole file in memory: { header, chunks, blob, hash }. */
export function attachEncrypt(plain, key, attachmentId, detHeader = null) {
  if (plain.length > MAX_FILE) throw new RangeError('attachment above 50 MiB');
  const enc = attachEncInit(key, attachmentId, detHeader);
  const chunks = [];
  let o = 0;
  do {
    const n = Math.min(CHUNK, plain.length - o);
    const isFinal = o + n >= plain.length;
    chunks.push(enc.push(plain.subarray(o, o + n), isFinal));
    o += n;
  } while (o < plain.length);
  const blob = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    blob.set(c, p);
    p += c.length;
  }
  return { header: enc.header, chunks, blob, hash: enc.hash() };
}

/**
 * Decryptor: pull(chunk) → plaintext or null (refused; the reader then
 * stays failed), finish(expectedHash) → true only when the final chunk was
 * seen, nothing was refused and the hash matches. Plaintext returned before
 * finish() is true must be discarded.
 */
export function attachDecInit(key, header, attachmentId) {
  const s = lib();
  need(key, 32, 'attachment key');
  need(header, 24, 'stream header');
  need(attachmentId, 16, 'attachment id');
  const state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  const h = s.crypto_generichash_init(null, 32);
  let failed = false;
  let final = false;
  return {
    pull(chunk) {
      if (failed || final || chunk.length < CHUNK_OVERHEAD || chunk.length > CHUNK + CHUNK_OVERHEAD) {
        failed = true;
        return null;
      }
      const r = s.crypto_secretstream_xchacha20poly1305_pull(state, chunk, attachmentId);
      if (!r || (r.tag !== TAG_MESSAGE && r.tag !== TAG_FINAL) ||
          (r.tag === TAG_MESSAGE && chunk.length !== CHUNK + CHUNK_OVERHEAD)) {
        failed = true;
        return null;
      }
      s.crypto_generichash_update(h, chunk);
      if (r.tag === TAG_FINAL) final = true;
      return r.message;
    },
    finish(expectedHash) {
      if (failed || !final) return false;
      const got = s.crypto_generichash_final(h, 32);
      const ok = equal(got, expectedHash);
      wipe(got);
      return ok;
    },
  };
}

/** Decrypts a whole blob in memory; the plaintext or null. */
export function attachDecrypt(blob, key, header, attachmentId, expectedHash) {
  const dec = attachDecInit(key, header, attachmentId);
  const parts = [];
  let o = 0;
  do {
    const n = Math.min(CHUNK + CHUNK_OVERHEAD, blob.length - o);
    const m = dec.pull(blob.subarray(o, o + n));
    if (!m) return null;
    parts.push(m);
    o += n;
  } while (o < blob.length);
  if (!dec.finish(expectedHash)) return null;
  const out = new Uint8Array(parts.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of parts) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
