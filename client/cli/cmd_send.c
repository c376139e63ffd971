/* cmd_send.c — "liaison send": one end-to-end encrypted message to a
 * channel, text from the argument or stdin (thread_send does the crypto). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tr.h"
#include "attach_io.h"
#include "command.h"
#include "mlog_verify.h"
#include "output.h"
#include "sync.h"
#include "thread.h"

/* All of stdin, NUL-terminated, at most THREAD_TEXT_MAX bytes. */
static char *
read_stdin(void)
{
	char *buf = malloc(THREAD_TEXT_MAX + 2);
	if (buf == NULL)
		return NULL;
	size_t len = fread(buf, 1, THREAD_TEXT_MAX + 1, stdin);
	if (len > THREAD_TEXT_MAX) {
		free(buf);
		out_error(_("the message is longer than %d bytes; send documents with --attach"),
			  THREAD_TEXT_MAX);
		return NULL;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	return buf;
}

static bool
valid_text(const char *text)
{
	if (text[0] == '\0') {
		out_error(_("the message is empty; give TEXT or pipe it on standard input"));
		return false;
	}
	if (strlen(text) > THREAD_TEXT_MAX) {
		out_error(_("the message is longer than %d bytes; send documents with --attach"),
			  THREAD_TEXT_MAX);
		return false;
	}
	json_t *probe = json_string(text); /* NULL unless valid UTF-8 */
	bool utf8 = probe != NULL;
	json_decref(probe);
	if (!utf8)
		out_error(_("the message is not valid UTF-8 text"));
	return utf8;
}

static int
report(int64_t seq, int64_t ts, const uint8_t channel[LSN_ID_BYTES])
{
	if (out_json_mode()) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(channel, hex); /* the full id, whatever prefix was typed */
		json_t *out = json_pack("{s:s, s:I, s:I}", "channel", hex, "seq",
					(json_int_t)seq, "ts", (json_int_t)ts);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	printf(_("Sent message #%lld.\n"), (long long)seq);
	return CLI_OK;
}

static int
send_content(struct e2e *e, const char *channel_text, const char *text, const char *attach)
{
	uint8_t channel[LSN_ID_BYTES];
	int rc = e2e_resolve_channel(e, channel_text, channel);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	struct chan_view v;
	memset(&v, 0, sizeof v);
	int64_t seq = 0, ts = 0;
	json_t *content = NULL;
	enum lsn_err err = chan_view_load(e, channel, &v, &st);
	if (err == LSN_OK && attach)
		err = attach_upload(e, &v, attach, text, &content, &st);
	else if (err == LSN_OK)
		content = json_pack("{s:s, s:s}", "type", "text", "body", text);
	if (err == LSN_OK)
		err = thread_send(e, &v, content, &seq, &ts, &st);
	chan_view_free(&v);
	if (err != LSN_OK)
		return out_fail(&st);
	return report(seq, ts, channel);
}

/* The text, read and checked before anything is started. */
static void
text_free(void *text)
{
	sodium_memzero(text, strlen(text));
	free(text);
}

int
cmd_send_check(struct cmd_call *c)
{
	const char *attach = cmd_opt(c, "--attach");
	char *text = c->n_pos == 2 ? strdup(c->pos[1]) : attach ? strdup("") : read_stdin();
	if (text == NULL)
		return CLI_USAGE;
	cmd_keep(c, text, text_free);
	if (!attach && !valid_text(text))
		return CLI_USAGE;
	return CLI_OK;
}

int
cmd_send_run(struct cmd_call *c)
{
	return send_content(c->e, c->pos[0], c->data, cmd_opt(c, "--attach"));
}
