/* attach_io.h — attachments (CRYPTO.md §8): encrypt a file with
 * lsn_attach_* and upload it in chunks (attachment_begin/put/finish), and the
 * reverse for `liaison get`. The key, stream header, hash, size, name and MIME
 * type travel inside the encrypted message ("type":"file"). */
#ifndef LIAISON_ATTACH_IO_H
#define LIAISON_ATTACH_IO_H

#include <jansson.h>

#include "e2e.h"
#include "mlog_verify.h"

/* Encrypt and upload path for channel v; *content is the message to send
 * ({"type":"file",...}; caption may be ""). */
enum lsn_err attach_upload(struct e2e *e, const struct chan_view *v, const char *path,
			   const char *caption, json_t **content, struct lsn_status *st);

/* The same for len bytes in memory, named name (mime NULL: from the name). */
enum lsn_err attach_upload_mem(struct e2e *e, const struct chan_view *v, const char *name,
			       const char *mime, const void *data, size_t len, json_t **content,
			       struct lsn_status *st);

/* Download and decrypt the attachment that file (the fields of a "file"
 * message: attachment, key, header, hash, size, chunks, name) describes, into
 * memory: *out (malloc'd, NUL-terminated, the caller wipes and frees it),
 * *out_len its length. Refused above max bytes; nothing is written to disk. */
enum lsn_err attach_fetch_mem(struct e2e *e, json_t *file, size_t max, char **out,
			      size_t *out_len, struct lsn_status *st);

/* Download attachment id (its key from the cached message that carries it),
 * decrypt and save as out_path, or under its own name in the current
 * directory; saved: the path written. Refuses to overwrite. */
enum lsn_err attach_download(struct e2e *e, const uint8_t id[LSN_ID_BYTES], const char *out_path,
			     char *saved, size_t saved_len, struct lsn_status *st);

#endif
