/* link_diag.c — lws log capture and readable connection failures. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "link_diag.h"
#include "tr.h"

static char last_error[256];
static char tls_error[160]; /* OpenSSL's verdict on the server certificate */
static bool ca_load_failed;
static bool debug_on;
static link_diag_sink_fn sink;

void
link_diag_set_sink(link_diag_sink_fn fn)
{
	sink = fn;
}

/* Keep what explains a failure; lws prints nothing unless debugging. */
static void
capture_log(int level, const char *line)
{
	char text[256];
	snprintf(text, sizeof text, "%s", line);
	text[strcspn(text, "\r\n")] = '\0';
	const char *ssl = strstr(text, "SSL error: ");
	if (ssl) {
		snprintf(tls_error, sizeof tls_error, "%s", ssl + strlen("SSL error: "));
		tls_error[strcspn(tls_error, "(")] = '\0';
		size_t len = strlen(tls_error);
		while (len > 0 && tls_error[len - 1] == ' ')
			tls_error[--len] = '\0';
	}
	if (strstr(text, "Unable to load SSL Client certs") || strstr(text, "Unable to decode x.509") ||
	    strstr(text, "d2i_X509 failed"))
		ca_load_failed = true;
	if ((level & LLL_ERR) && text[0])
		snprintf(last_error, sizeof last_error, "%s", text);
}

static void
debug_log(int level, const char *line)
{
	capture_log(level, line);
	char text[600];
	snprintf(text, sizeof text, "lws: %s", line);
	text[strcspn(text, "\r\n")] = '\0';
	if (sink)
		sink(text);
}

void
link_diag_setup(void)
{
	const char *env = getenv("LIAISON_DEBUG");
	debug_on = env && *env && strcmp(env, "0") != 0;
	last_error[0] = tls_error[0] = '\0';
	ca_load_failed = false;
	int levels = LLL_ERR | LLL_WARN | LLL_NOTICE;
	if (debug_on && strcmp(env, "2") == 0)
		levels |= LLL_INFO | LLL_CLIENT;
	lws_set_log_level(levels, debug_on ? debug_log : capture_log);
}

bool
link_diag_ca_load_failed(void)
{
	return ca_load_failed;
}

const char *
link_diag_last_error(void)
{
	return last_error;
}

void
link_diag_debug(const char *fmt, ...)
{
	if (!debug_on || sink == NULL)
		return;
	char text[600];
	int n = snprintf(text, sizeof text, "debug: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
	va_end(ap);
	sink(text);
}

static bool
has(const char *text, const char *needle)
{
	return strstr(text, needle) != NULL;
}

/* Why a TCP connection to host:port fails: 0 if it works now, an errno
 * value, or -1 when the host name does not resolve. */
static int
probe_tcp(const char *host, int port)
{
	char service[8];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -1;
	int result = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval limit = {.tv_sec = 3};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
		result = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
		close(fd);
		if (result == 0)
			break;
	}
	freeaddrinfo(res);
	return result;
}

/* The server cannot be reached at all: a plain sentence first, the
 * technical detail on a second line (link_diag.h). */
static void
unreachable(char *out, size_t outlen, const char *url, const char *detail)
{
	snprintf(out, outlen, _("%s; ask your CPTS or your administrator if it lasts\n%s: %s"),
		 _(LINK_DIAG_UNREACHABLE), url, detail);
}

static void
describe_tcp_failure(char *out, size_t outlen, const char *url, const char *host, int port)
{
	int cause = probe_tcp(host, port);
	char detail[160];
	link_diag_debug("probe of %s port %d: %d", host, port, cause);
	if (cause == -1)
		snprintf(detail, sizeof detail, _("unknown host \"%s\" (check the server address)"),
			 host);
	else if (cause == ECONNREFUSED)
		snprintf(detail, sizeof detail, "%s", _("connection refused (liaisond is not running "
				   "there, or another port)"));
	else if (cause == EINPROGRESS || cause == EAGAIN || cause == ETIMEDOUT)
		snprintf(detail, sizeof detail, "%s", _("no answer (check your network and any firewall)"));
	else if (cause != 0)
		snprintf(detail, sizeof detail, _("%s (check your network)"), strerror(cause));
	else
		snprintf(detail, sizeof detail, "%s", _("the connection failed; retry"));
	unreachable(out, outlen, url, detail);
}

bool
link_diag_unreachable(const char *message)
{
	const char *fr = _(LINK_DIAG_UNREACHABLE);
	return message && (strncmp(message, LINK_DIAG_UNREACHABLE,
				   strlen(LINK_DIAG_UNREACHABLE)) == 0 ||
			   strncmp(message, fr, strlen(fr)) == 0);
}

void
link_diag_timeout(char *out, size_t outlen, const char *url, int seconds)
{
	char detail[80];
	snprintf(detail, sizeof detail, _("no answer within %d s while connecting"), seconds);
	unreachable(out, outlen, url, detail);
}

void
link_diag_connect_error(char *out, size_t outlen, const char *url, const char *host,
			    int port, const char *ca_label, const void *in, size_t len)
{
	char why[200] = "";
	if (in && len)
		snprintf(why, sizeof why, "%.*s", (int)len, (const char *)in);
	else
		snprintf(why, sizeof why, "%.199s", last_error);
	why[strcspn(why, "\r\n")] = '\0';
	link_diag_debug("connection error: %s", why[0] ? why : "(no reason given)");

	if (why[0] == '\0' || has(why, "Unable to connect") || has(why, "conn fail") ||
	    has(why, "getaddrinfo"))
		describe_tcp_failure(out, outlen, url, host, port);
	else if (has(why, "imed out") || has(why, "timeout"))
		unreachable(out, outlen, url, why);
	else if (has(tls_error, "mismatch") || has(why, "mismatch"))
		snprintf(out, outlen, _("the server certificate of %s is not valid for \"%s\" "
			   "(%s); connect with the name the certificate was issued for"), url, host,
			 tls_error[0] ? tls_error : why);
	else if (has(why, "cert") || has(why, "X509") || has(why, "SSL") || has(why, "tls") ||
		 has(why, "TLS"))
		snprintf(out, outlen, _("cannot verify the server certificate of %s with %s (%s); "
			   "pass the CA with --ca FILE"), url, ca_label, tls_error[0] ? tls_error : why);
	else if (has(why, "protocol"))
		snprintf(out, outlen, _("the server at %s does not speak liaison.v1 (%s); check "
			   "the URL"), url, why);
	else if (has(why, "HS:") || has(why, "101"))
		snprintf(out, outlen, _("the server at %s refused the WebSocket connection (%s); "
			   "check the URL"), url, why);
	else
		snprintf(out, outlen, _("cannot connect to %s: %s"), url, why);
}
