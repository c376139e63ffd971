/* thread_gaps.c — missing seqs and receipt marks (thread_gaps.h). */
#include <stdlib.h>
#include <string.h>

#include "thread_gaps.h"

bool
thread_gap_between(int64_t prev, int64_t next, int64_t last_seq, int64_t *from, int64_t *to)
{
	int64_t hi = next - 1 < last_seq ? next - 1 : last_seq;
	if (prev < 0 || prev + 1 > hi)
		return false;
	*from = prev + 1;
	*to = hi;
	return true;
}

bool
thread_status_refused(const char *status)
{
	static const char *const refused[] = {"bad_signature", "invalid", "unknown_session",
					      "undecryptable", "alarm", "duplicate", "damaged"};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		if (strcmp(status, refused[i]) == 0)
			return true;
	return false;
}

void
thread_receipt_marks(const struct local_msg_brief *rows, size_t n, int64_t last_seq,
		     int64_t *delivered, int64_t *read)
{
	bool readable_seen = false, read_open = true;
	int64_t expect = 1;
	*delivered = *read = 0;
	for (size_t i = 0; i < n; i++) {
		const struct local_msg_brief *b = &rows[i];
		if (b->seq < expect)
			continue; /* (not in a well-formed store: seqs are unique) */
		if (b->seq > expect || b->seq > last_seq || b->prev_missing || thread_status_refused(b->status))
			return;
		bool ok = strcmp(b->status, "ok") == 0;
		bool early = strcmp(b->status, "before_first") == 0 && !readable_seen;
		readable_seen = readable_seen || ok;
		read_open = read_open && (ok || early);
		*delivered = b->seq;
		if (read_open)
			*read = b->seq;
		expect = b->seq + 1;
	}
}

bool
thread_prev_parse(json_t *content, bool *has, uint8_t prev[32])
{
	json_t *v = json_object_get(content, "link");
	*has = false;
	if (v == NULL)
		return true;
	const char *hex = json_string_value(v);
	if (hex == NULL || strlen(hex) != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = hex[2 * i], lo = hex[2 * i + 1];
		int h = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : -1;
		int l = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : -1;
		if (h < 0 || l < 0)
			return false;
		prev[i] = (uint8_t)(h << 4 | l);
	}
	*has = true;
	return true;
}

enum lsn_err
thread_receipt_marks_load(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			  int64_t *delivered, int64_t *read, struct lsn_status *st)
{
	struct local_msg_brief *rows = NULL;
	struct local_channel c;
	size_t n = 0;
	*delivered = *read = 0;
	enum lsn_err err = local_channel_get(p, channel, &c, st);
	if (err == LSN_OK)
		err = local_msg_briefs(p, channel, &rows, &n, st);
	if (err == LSN_OK)
		/* never over seqs the server no longer shows (it may reuse them) */
		thread_receipt_marks(rows, n, c.cut_from > 0 && c.cut_from <= c.last_seq
				     ? c.cut_from - 1 : c.last_seq, delivered, read);
	free(rows);
	return err;
}
