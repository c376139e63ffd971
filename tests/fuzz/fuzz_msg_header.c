/* fuzz_msg_header.c — the cleartext header of a group message envelope
 * (shared/msg_header.c), which the server parses on every send. An accepted
 * envelope must be within the documented sizes, and writing its parsed header
 * back must give its first 80 bytes exactly. */
#include <string.h>

#include "fuzz_check.h"
#include "msg_header.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct lsn_msg_header h;
	struct lsn_status st;
	memset(&st, 0, sizeof st);
	if (lsn_msg_header_parse(data, size, &h, &st) != LSN_OK) {
		FUZZ_CHECK((st.err == LSN_ERR_BAD_REQUEST || st.err == LSN_ERR_TOO_LARGE) && st.msg[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(size >= LSN_MSG_MIN_BYTES && size <= LSN_MSG_MAX_BYTES);
	FUZZ_CHECK(h.version == LSN_MSG_VERSION);
	uint8_t back[LSN_MSG_HEADER_BYTES];
	lsn_msg_header_write(&h, back);
	FUZZ_CHECK(memcmp(back, data, LSN_MSG_HEADER_BYTES) == 0);
	return 0;
}
