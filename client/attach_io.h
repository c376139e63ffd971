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

/* Download attachment id (its key from the cached message that carries it),
 * decrypt and save as out_path, or under its own name in the current
 * directory; saved: the path written. Refuses to overwrite. */
enum lsn_err attach_download(struct e2e *e, const uint8_t id[LSN_ID_BYTES], const char *out_path,
			     char *saved, size_t saved_len, struct lsn_status *st);

#endif
