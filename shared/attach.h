/* attach.h — attachment encryption (CRYPTO.md §8): discharge letters,
 * prescriptions, PDFs. crypto_secretstream_xchacha20poly1305 under a fresh key
 * per file, 64 KiB plaintext chunks, TAG_FINAL on the last (so truncation is
 * detected), the 16-byte attachment id as additional data on every chunk (so a
 * blob cannot be passed off as another attachment). The blob the server
 * stores is the ciphertext chunks concatenated (the 24-byte stream header
 * travels with the key inside the encrypted message, as does the BLAKE2b-256
 * of the blob).
 *
 * The two state structures embed libsodium states that need 64-byte
 * alignment: declare them on the stack or allocate with
 * aligned_alloc(alignof(struct lsn_attach_enc), sizeof ...). They hold the
 * file key: lsn_attach_enc_final / lsn_attach_dec_finish wipe them. */
#ifndef LSN_ATTACH_H
#define LSN_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "ident.h"

#define LSN_ATTACH_CHUNK    65536
#define LSN_ATTACH_CHUNK_CT (LSN_ATTACH_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)
#define LSN_ATTACH_KEY_BYTES    32
#define LSN_ATTACH_HEADER_BYTES 24
#define LSN_ATTACH_HASH_BYTES   32

struct lsn_attach_enc {
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state hash;   /* running BLAKE2b-256 over ciphertext chunks */
	uint8_t id[LSN_ID_BYTES];
	bool finished;                   /* the final chunk was produced */
};

struct lsn_attach_dec {
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state hash;   /* running BLAKE2b-256 over ciphertext chunks */
	uint8_t id[LSN_ID_BYTES];
	bool final_seen;                 /* TAG_FINAL authenticated */
	bool failed;                     /* a chunk was refused: the file is bad */
};

/* Fresh random key and stream header for the attachment `id`. */
void lsn_attach_enc_init(struct lsn_attach_enc *e, const uint8_t id[LSN_ID_BYTES],
			 uint8_t key_out[LSN_ATTACH_KEY_BYTES],
			 uint8_t header_out[LSN_ATTACH_HEADER_BYTES]);
/* Same with key and header given: for test vectors only (a header must never
 * be reused under a key). Produces exactly the stream libsodium's
 * init_push would produce had it drawn that header. */
void lsn_attach_enc_init_det(struct lsn_attach_enc *e, const uint8_t id[LSN_ID_BYTES],
			     const uint8_t key[LSN_ATTACH_KEY_BYTES],
			     const uint8_t header[LSN_ATTACH_HEADER_BYTES]);
/* Encrypt one chunk into out (room for len + ABYTES, at most
 * LSN_ATTACH_CHUNK_CT). Every chunk but the last holds exactly
 * LSN_ATTACH_CHUNK bytes; the last (last = true, TAG_FINAL) holds 0 to
 * LSN_ATTACH_CHUNK. 0 on success; -1 on a wrong length or a chunk after the
 * last. */
int lsn_attach_enc_chunk(struct lsn_attach_enc *e, const uint8_t *plain, size_t len, bool last,
			 uint8_t *out, size_t *out_len);
/* BLAKE2b-256 of all ciphertext chunks concatenated; wipes state. */
void lsn_attach_enc_final(struct lsn_attach_enc *e, uint8_t hash[LSN_ATTACH_HASH_BYTES]);

/* 0 on success; -1 if the header is not a valid stream header. */
int lsn_attach_dec_init(struct lsn_attach_dec *d, const uint8_t id[LSN_ID_BYTES],
			const uint8_t key[LSN_ATTACH_KEY_BYTES],
			const uint8_t header[LSN_ATTACH_HEADER_BYTES]);
/* Decrypt one ciphertext chunk (ABYTES to LSN_ATTACH_CHUNK_CT bytes; every
 * chunk but the final one exactly LSN_ATTACH_CHUNK_CT) into out (room for
 * len - ABYTES). -1 on forgery/wrong id/wrong key/reordering, a short
 * non-final chunk, an unexpected tag, or a chunk after final; after any -1
 * the decoder stays failed. Sets *final when TAG_FINAL is seen. */
int lsn_attach_dec_chunk(struct lsn_attach_dec *d, const uint8_t *ct, size_t len,
			 uint8_t *out, size_t *out_len, bool *final);
/* true only when TAG_FINAL was seen (truncation is detected), no chunk failed,
 * and the running hash equals expected. Wipes state. Whatever the result,
 * plaintext already written out must be discarded unless this returns true. */
bool lsn_attach_dec_finish(struct lsn_attach_dec *d, const uint8_t expected_hash[LSN_ATTACH_HASH_BYTES]);

/* Total ciphertext bytes (without the 24-byte header) and chunk count (chunks
 * may be NULL) for a file of plain_size bytes; an empty file is one final
 * chunk of 17 bytes. */
size_t lsn_attach_ct_size(uint64_t plain_size, size_t *chunks);

#endif
