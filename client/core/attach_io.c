/* attach_io.c — encrypt and upload a document chunk by chunk, and download
 * and decrypt it back (attach_io.h). Nothing but ciphertext leaves the
 * device; a download is written to FILE.part and renamed only once the
 * final tag and the hash check out. */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "attach.h"
#include "attach_io.h"
#include "local.h"
#include "wire.h"

#define ATTACH_MAX_BYTES (50LL * 1024 * 1024)

/* ---- progress -------------------------------------------------------------- */

static void
progress(struct e2e *e, const char *what, const char *name, uint64_t done, uint64_t total)
{
	if (e->progress.fn)
		e->progress.fn(e->progress.arg, what, name, done, total);
}

static const char *
mime_of(const char *name)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {{".pdf", "application/pdf"}, {".txt", "text/plain"}, {".png", "image/png"},
		     {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".xml", "application/xml"}, {".json", "application/json"},
		     {".odt", "application/vnd.oasis.opendocument.text"},
		     {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].mime;
	return "application/octet-stream";
}

/* ---- upload ------------------------------------------------------------------ */

struct upload {
	struct e2e *e;
	uint8_t id[LSN_ID_BYTES];
	uint8_t key[LSN_ATTACH_KEY_BYTES];
	uint8_t header[LSN_ATTACH_HEADER_BYTES];
	uint8_t hash[LSN_ATTACH_HASH_BYTES];
	uint64_t size;
	size_t chunks;
	const char *name;
};

/* One chunk up: in a binary frame when the server agreed at login, else
 * JSON with base64 (link_chunk_put). */
static enum lsn_err
put_chunk(struct upload *u, size_t index, const uint8_t *ct, size_t len, struct lsn_status *st)
{
	char idem[33];
	e2e_idem(idem);
	struct e2e_retry r = {0};
	enum lsn_err err;
	do   /* a retried put carries the same idem key (e2e_retry) */
		err = link_chunk_put(u->e->s.link, idem, u->id, (int64_t)index, ct, len, st);
	while (err != LSN_OK && e2e_retry(u->e, err, st, &r));
	return err;
}

/* Encrypt f chunk by chunk and upload each. */
static enum lsn_err
upload_chunks(struct upload *u, FILE *f, struct lsn_status *st)
{
	alignas(64) struct lsn_attach_enc enc;
	uint8_t *plain = malloc(LSN_ATTACH_CHUNK), *ct = malloc(LSN_ATTACH_CHUNK_CT);
	enum lsn_err err = plain && ct ? LSN_OK : lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	lsn_attach_enc_init(&enc, u->id, u->key, u->header);
	uint64_t done = 0;
	for (size_t i = 0; i < u->chunks && err == LSN_OK; i++) {
		bool last = i + 1 == u->chunks;
		size_t want = last ? (size_t)(u->size - done) : LSN_ATTACH_CHUNK, len = 0;
		if (fread(plain, 1, want, f) != want) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot read %s: it changed while being "
				       "sent; retry", u->name);
			break;
		}
		if (lsn_attach_enc_chunk(&enc, plain, want, last, ct, &len) != 0)
			err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot encrypt %s", u->name);
		if (err == LSN_OK)
			err = put_chunk(u, i, ct, len, st);
		done += want;
		progress(u->e, "Sending", u->name, done, u->size);
	}
	lsn_attach_enc_final(&enc, u->hash);
	if (plain)
		sodium_memzero(plain, LSN_ATTACH_CHUNK);
	free(plain);
	free(ct);
	return err;
}

static enum lsn_err
begin_and_finish(struct upload *u, const struct chan_view *v, FILE *f, struct lsn_status *st)
{
	size_t ct_size = lsn_attach_ct_size(u->size, &u->chunks);
	json_t *reply = NULL;
	enum lsn_err err = e2e_write(u->e, "attachment_begin",
				     json_pack("{s:o, s:o, s:I, s:I}", "attachment", wire_id(u->id),
					       "channel", wire_id(v->channel), "size",
					       (json_int_t)ct_size, "chunks", (json_int_t)u->chunks),
				     &reply, st);
	json_decref(reply);
	reply = NULL;   /* a failed upload must not free it twice below */
	if (err == LSN_OK)
		err = upload_chunks(u, f, st);
	if (err == LSN_OK)
		err = e2e_write(u->e, "attachment_finish",
				json_pack("{s:o, s:o}", "attachment", wire_id(u->id), "hash",
					  wire_b64(u->hash, sizeof u->hash)), &reply, st);
	json_decref(reply);
	return err;
}

/* Encrypt and upload size bytes read from f under the name name. */
static enum lsn_err
upload_stream(struct e2e *e, const struct chan_view *v, FILE *f, uint64_t size, const char *name,
	      const char *mime, const char *caption, json_t **content, struct lsn_status *st)
{
	struct upload u = {.e = e, .size = size, .name = name};
	lsn_id_random(u.id);
	enum lsn_err err = begin_and_finish(&u, v, f, st);
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(u.id, hex);
	if (err == LSN_OK)
		*content = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:s}", "type",
				     "file", "attachment", hex, "name", u.name, "mime",
				     mime ? mime : mime_of(u.name), "size", (json_int_t)u.size,
				     "chunks", (json_int_t)u.chunks, "key",
				     wire_b64(u.key, sizeof u.key), "header",
				     wire_b64(u.header, sizeof u.header), "hash",
				     wire_b64(u.hash, sizeof u.hash), "caption",
				     caption ? caption : "");
	sodium_memzero(&u, sizeof u);
	return err;
}

enum lsn_err
attach_upload(struct e2e *e, const struct chan_view *v, const char *path, const char *caption,
	      json_t **content, struct lsn_status *st)
{
	*content = NULL;
	if (!v->valid)
		return lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s; no keys are "
				"shared in it", v->reason);
	struct stat sb;
	FILE *f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (f)
			fclose(f);
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "cannot read the file %s: %s", path,
				f ? "not a regular file" : strerror(errno));
	}
	if (sb.st_size > ATTACH_MAX_BYTES) {
		fclose(f);
		return lsn_fail(st, LSN_ERR_TOO_LARGE, "%s is larger than 50 MiB; send a smaller "
				"document", path);
	}
	const char *slash = strrchr(path, '/');
	enum lsn_err err = upload_stream(e, v, f, (uint64_t)sb.st_size, slash ? slash + 1 : path,
					 NULL, caption, content, st);
	fclose(f);
	return err;
}

enum lsn_err
attach_upload_mem(struct e2e *e, const struct chan_view *v, const char *name, const char *mime,
		  const void *data, size_t len, json_t **content, struct lsn_status *st)
{
	*content = NULL;
	if (!v->valid)
		return lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s; no keys are "
				"shared in it", v->reason);
	if (len == 0 || len > ATTACH_MAX_BYTES)
		return lsn_fail(st, LSN_ERR_TOO_LARGE, "a document of %zu bytes cannot be attached "
				"(1 byte to 50 MiB)", len);
	FILE *f = fmemopen((void *)data, len, "rb");
	if (f == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot read the document: %s", strerror(errno));
	enum lsn_err err = upload_stream(e, v, f, len, name, mime, "", content, st);
	fclose(f);
	return err;
}

/* ---- download ------------------------------------------------------------------ */

struct find_file {
	const char *hex;
	json_t *found;
};

static bool
match_file(void *arg, struct local_msg *m)
{
	struct find_file *ff = arg;
	json_t *obj = m->plain ? json_loads(m->plain, 0, NULL) : NULL;
	const char *type = json_string_value(json_object_get(obj, "type"));
	json_t *file = obj;
	/* a discharge notice carries its letter as a file object (notice.h) */
	if (type && strcmp(type, "discharge_notice") == 0)
		file = json_object_get(obj, "letter");
	/* a reconciliation or a circle copy too large for a message points at
	 * its attachment with "document" (concil_thread.h) */
	else if (type && json_is_object(json_object_get(obj, "document")))
		file = json_object_get(obj, "document");
	else if (type == NULL || strcmp(type, "file") != 0)
		file = NULL;
	const char *id = json_string_value(json_object_get(file, "attachment"));
	if (id && strcmp(id, ff->hex) == 0) {
		json_decref(ff->found);
		ff->found = json_incref(file); /* the latest message naming it wins */
	}
	json_decref(obj);
	return true;
}

/* The file message that carries the key of attachment id. */
static enum lsn_err
find_key(struct e2e *e, const uint8_t id[LSN_ID_BYTES], json_t **file, struct lsn_status *st)
{
	uint8_t channel[LSN_ID_BYTES];
	char hex[LSN_ID_HEX + 1];
	json_t *reply = NULL;
	lsn_id_to_hex(id, hex);
	enum lsn_err err = e2e_read(e, "attachment_info", json_pack("{s:o}", "attachment",
								     wire_id(id)), &reply, st);
	if (err == LSN_OK && wire_get_id(reply, "channel", true, channel, NULL, st) != LSN_OK)
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server's attachment_info is malformed");
	if (err == LSN_OK && !json_is_true(json_object_get(reply, "complete")))
		err = lsn_fail(st, LSN_ERR_NOT_FOUND, "this attachment was never completely "
			       "uploaded; ask the sender to send it again");
	json_decref(reply);
	struct find_file ff = {hex, NULL};
	if (err == LSN_OK)
		err = local_msg_each(e->p, channel, 0, match_file, &ff, st);
	if (err == LSN_OK && ff.found == NULL)
		err = lsn_fail(st, LSN_ERR_NOT_FOUND, "no message you can read carries the key of "
			       "this attachment; run liaison read on its channel first");
	*file = ff.found;
	return err;
}

struct download {
	uint8_t id[LSN_ID_BYTES];
	uint8_t key[LSN_ATTACH_KEY_BYTES];
	uint8_t header[LSN_ATTACH_HEADER_BYTES];
	uint8_t hash[LSN_ATTACH_HASH_BYTES];
	int64_t size, chunks;
	const char *name;
};

static bool
parse_file(json_t *file, struct download *d)
{
	struct lsn_status st;
	return wire_get_b64(file, "key", true, d->key, sizeof d->key, &st) == LSN_OK &&
	       wire_get_b64(file, "header", true, d->header, sizeof d->header, &st) == LSN_OK &&
	       wire_get_b64(file, "hash", true, d->hash, sizeof d->hash, &st) == LSN_OK &&
	       wire_get_int(file, "size", true, 0, ATTACH_MAX_BYTES, &d->size, &st) == LSN_OK &&
	       wire_get_int(file, "chunks", true, 1, 1 << 20, &d->chunks, &st) == LSN_OK &&
	       wire_get_str(file, "name", true, 255, &d->name, &st) == LSN_OK;
}

static enum lsn_err
get_chunk(struct e2e *e, const struct download *d, int64_t index, uint8_t *ct, size_t *len,
	  struct lsn_status *st)
{
	struct e2e_retry r = {0};
	enum lsn_err err;
	do
		err = link_chunk_get(e->s.link, d->id, index, ct, LSN_ATTACH_CHUNK_CT, len, st);
	while (err != LSN_OK && e2e_retry(e, err, st, &r));
	return err;
}

/* Fetch, decrypt and write every chunk to out. */
static enum lsn_err
download_chunks(struct e2e *e, struct download *d, FILE *out, struct lsn_status *st)
{
	alignas(64) struct lsn_attach_dec dec;
	uint8_t *ct = malloc(LSN_ATTACH_CHUNK_CT), *plain = malloc(LSN_ATTACH_CHUNK);
	enum lsn_err err = ct && plain ? LSN_OK : lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (lsn_attach_dec_init(&dec, d->id, d->key, d->header) != 0)
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "the attachment's key is unusable");
	uint64_t done = 0;
	for (int64_t i = 0; i < d->chunks && err == LSN_OK; i++) {
		size_t len = 0, plain_len = 0;
		bool final = false;
		err = get_chunk(e, d, i, ct, &len, st);
		if (err == LSN_OK &&
		    lsn_attach_dec_chunk(&dec, ct, len, plain, &plain_len, &final) != 0)
			err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "chunk %lld does not decrypt: the "
				       "file was altered or belongs to another message",
				       (long long)i);
		if (err == LSN_OK && fwrite(plain, 1, plain_len, out) != plain_len)
			err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot write: %s", strerror(errno));
		done += plain_len;
		progress(e, "Receiving", d->name, done, (uint64_t)d->size);
	}
	bool whole = lsn_attach_dec_finish(&dec, d->hash);
	if (err == LSN_OK && !whole)
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "the file is incomplete or altered (its "
			       "end or its hash does not check out); nothing was saved");
	if (plain)
		sodium_memzero(plain, LSN_ATTACH_CHUNK);
	free(plain);
	free(ct);
	return err;
}

enum lsn_err
attach_download(struct e2e *e, const uint8_t id[LSN_ID_BYTES], const char *out_path,
		char *saved, size_t saved_len, struct lsn_status *st)
{
	json_t *file = NULL;
	struct download d;
	memset(&d, 0, sizeof d);
	memcpy(d.id, id, LSN_ID_BYTES);
	enum lsn_err err = find_key(e, id, &file, st);
	if (err == LSN_OK && !parse_file(file, &d))
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the message carrying this attachment is "
			       "malformed");
	const char *base = d.name ? strrchr(d.name, '/') : NULL;
	base = base ? base + 1 : d.name;
	if (err == LSN_OK && !out_path &&
	    (base == NULL || base[0] == '.' || !lsn_display_text_valid(base, 255)))
		err = lsn_fail(st, LSN_ERR_BAD_REQUEST, "the attachment has no usable file name; "
			       "give one with -o FILE");
	char part[4200];
	if (err == LSN_OK) {
		snprintf(saved, saved_len, "%s", out_path ? out_path : base);
		snprintf(part, sizeof part, "%s.part", saved);
		if (access(saved, F_OK) == 0)
			err = lsn_fail(st, LSN_ERR_CONFLICT, "%s exists; choose another name with -o "
				       "FILE", saved);
	}
	FILE *out = err == LSN_OK ? fopen(part, "wbx") : NULL;
	if (err == LSN_OK && out == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot create %s: %s", part, strerror(errno));
	if (err == LSN_OK)
		err = download_chunks(e, &d, out, st);
	if (out && fclose(out) != 0 && err == LSN_OK)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot write %s: %s", part, strerror(errno));
	if (out && err == LSN_OK && rename(part, saved) != 0)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot rename %s: %s", part, strerror(errno));
	if (out && err != LSN_OK)
		unlink(part);
	sodium_memzero(&d, sizeof d);
	json_decref(file);
	return err;
}

enum lsn_err
attach_fetch_mem(struct e2e *e, json_t *file, size_t max, char **out, size_t *out_len,
		 struct lsn_status *st)
{
	struct download d;
	char *buf = NULL;
	size_t len = 0;
	*out = NULL;
	*out_len = 0;
	memset(&d, 0, sizeof d);
	enum lsn_err err = LSN_OK;
	if (!parse_file(file, &d) ||
	    !lsn_id_from_hex(json_string_value(json_object_get(file, "attachment")), d.id))
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the message pointing at the document is "
			       "malformed");
	if (err == LSN_OK && (uint64_t)d.size > max)
		err = lsn_fail(st, LSN_ERR_TOO_LARGE, "the attached document is %lld bytes, more "
			       "than the %zu this command reads", (long long)d.size, max);
	FILE *f = err == LSN_OK ? open_memstream(&buf, &len) : NULL;
	if (err == LSN_OK && f == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK)
		err = download_chunks(e, &d, f, st);
	if (f && fclose(f) != 0 && err == LSN_OK)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK && len != (size_t)d.size)
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "the attached document has %zu bytes, its "
			       "message says %lld", len, (long long)d.size);
	if (err == LSN_OK) {
		*out = buf;
		*out_len = len;
	} else if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	sodium_memzero(&d, sizeof d);
	return err;
}
