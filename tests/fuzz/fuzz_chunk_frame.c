/* fuzz_chunk_frame.c — the binary chunk frame decoder (shared/chunk_frame.c)
 * on any bytes, as the server receives a binary frame and the client a
 * chunk reply. Properties: a refusal names its error in a terminated
 * message; an accepted frame's parts lie inside the input, add up to its
 * length, respect the kind's idem rule, and encode back to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "chunk_frame.h"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct chunk_frame f;
	struct lsn_status st;
	memset(&st, 0, sizeof st);
	enum lsn_err err = chunk_frame_decode(data, size, &f, &st);
	FUZZ_CHECK(f.id >= -1 && f.id <= 9007199254740991LL);
	if (err != LSN_OK) {
		FUZZ_CHECK(err == LSN_ERR_BAD_REQUEST || err == LSN_ERR_UNKNOWN_OP);
		FUZZ_CHECK(st.err == err && st.msg[0] != '\0');
		FUZZ_CHECK(memchr(st.msg, '\0', sizeof st.msg) != NULL);
		return 0;
	}
	FUZZ_CHECK(f.kind == CHUNK_PUT || f.kind == CHUNK_DATA);
	FUZZ_CHECK(f.id >= 0 && f.index >= 0 && f.index <= 9007199254740991LL);
	FUZZ_CHECK(f.kind == CHUNK_PUT ? f.idem_len >= 1 && f.idem_len <= CHUNK_FRAME_IDEM_MAX
				       : f.idem_len == 0 && f.idem == NULL);
	FUZZ_CHECK(f.data_len >= 1);
	FUZZ_CHECK(chunk_frame_size(f.idem_len, f.data_len) == size);
	FUZZ_CHECK(f.data >= data && f.data + f.data_len == data + size);
	unsigned char *out = malloc(size);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(chunk_frame_encode(&f, out, size) == size);
	FUZZ_CHECK(memcmp(out, data, size) == 0);
	free(out);
	return 0;
}
