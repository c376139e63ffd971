/* url.c — parse and validate the wss:// server URL given at enrolment. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "url.h"

static bool
host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == ':';
}

static enum lsn_err
bad(const char *text, const char *why, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_BAD_REQUEST,
			"invalid server URL \"%s\": %s; expected wss://HOST:PORT", text, why);
}

/* Host part: "name", "1.2.3.4" or "[v6]"; *rest points past it. */
static enum lsn_err
parse_host(const char *text, const char *p, struct url *out, const char **rest,
	   struct lsn_status *st)
{
	const char *end;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL)
			return bad(text, "unclosed '[' in the host", st);
		p++;
		*rest = end + 1;
	} else {
		end = p + strcspn(p, ":/?#");
		*rest = end;
	}
	size_t len = (size_t)(end - p);
	if (len == 0 || len > URL_HOST_MAX)
		return bad(text, "missing or too long host name", st);
	for (size_t i = 0; i < len; i++)
		if (!host_char_ok(p[i]))
			return bad(text, "the host name has a character that is not allowed", st);
	memcpy(out->host, p, len);
	out->host[len] = '\0';
	return LSN_OK;
}

static enum lsn_err
parse_port(const char *text, const char **p, struct url *out, struct lsn_status *st)
{
	out->port = URL_DEFAULT_PORT;
	if (**p != ':')
		return LSN_OK;
	(*p)++;
	long port = 0;
	int digits = 0;
	while (**p >= '0' && **p <= '9' && digits < 6) {
		port = port * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || port < 1 || port > 65535)
		return bad(text, "the port must be a number from 1 to 65535", st);
	out->port = (int)port;
	return LSN_OK;
}

enum lsn_err
url_parse(const char *text, struct url *out, struct lsn_status *st)
{
	memset(out, 0, sizeof *out);
	if (text == NULL || *text == '\0')
		return bad("", "empty", st);
	if (strncmp(text, "wss://", 6) != 0) {
		if (strncmp(text, "ws://", 5) == 0 || strncmp(text, "http://", 7) == 0)
			return lsn_fail(st, LSN_ERR_BAD_REQUEST,
					"refusing \"%s\": liaison only talks to servers over TLS; "
					"use wss://HOST:PORT", text);
		return bad(text, "it must start with wss://", st);
	}
	const char *p = NULL;
	enum lsn_err err = parse_host(text, text + 6, out, &p, st);
	if (err == LSN_OK)
		err = parse_port(text, &p, out, st);
	if (err != LSN_OK)
		return err;
	if (*p == '\0')
		p = "/";
	if (*p != '/' || strlen(p) > URL_PATH_MAX || strpbrk(p, " \t\r\n?#") != NULL)
		return bad(text, "unexpected text after the host and port", st);
	snprintf(out->path, sizeof out->path, "%s", p);
	return LSN_OK;
}
