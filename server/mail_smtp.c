/* mail_smtp.c — the SMTP client is libcurl's (mail_smtp.h): it speaks
 * EHLO, STARTTLS, AUTH (PLAIN, LOGIN… as the relay offers), MAIL FROM,
 * RCPT TO and DATA; this file sets it up, feeds it the message and words
 * its outcome. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "mail_smtp.h"

enum lsn_err
mail_smtp_global_init(struct lsn_status *st)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return lsn_fail(st, LSN_ERR_INTERNAL, "mail: libcurl failed to initialise");
	return LSN_OK;
}

void
mail_smtp_global_fini(void)
{
	curl_global_cleanup();
}

struct upload {
	const char *p;
	size_t left;
	bool done;              /* curl has read the whole message */
	const atomic_bool *abort;
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems;
	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	if (u->left == 0)
		u->done = true;
	return n;
}

static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	const struct upload *u = arg;
	return atomic_load(u->abort) ? 1 : 0;
}

/* The outcome in words an administrator can act on. */
static void
word_error(CURLcode rc, long code, const struct config *cfg, struct mail_smtp_result *res)
{
	const char *what;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: what = "cannot resolve the relay's name (smtp_host)"; break;
	case CURLE_COULDNT_CONNECT: what = "cannot connect to the relay (smtp_host, smtp_port)"; break;
	case CURLE_USE_SSL_FAILED:
		what = "the relay does not offer STARTTLS; nothing was sent in clear";
		break;
	case CURLE_SSL_CONNECT_ERROR: what = "TLS handshake with the relay failed"; break;
	case CURLE_PEER_FAILED_VERIFICATION:
		what = "the relay's certificate is not trusted or not for smtp_host (smtp_ca)";
		break;
	case CURLE_LOGIN_DENIED: what = "the relay refused the authentication (smtp_user, "
					"smtp_password_file)"; break;
	case CURLE_OPERATION_TIMEDOUT: what = "the relay did not answer in time"; break;
	case CURLE_ABORTED_BY_CALLBACK: what = "stopped: the server is shutting down"; break;
	default: what = curl_easy_strerror(rc); break;
	}
	(void)cfg;
	if (code >= 400)
		snprintf(res->error, sizeof res->error, "%s (SMTP %ld)", what, code);
	else
		snprintf(res->error, sizeof res->error, "%s", what);
}

void
mail_smtp_send(const struct config *cfg, const char *password, const char *to, const char *msg,
	       size_t len, const atomic_bool *abort, struct mail_smtp_result *res)
{
	char url[CONFIG_HOST_MAX + 32], from[CONFIG_ADDRESS_MAX + 3], rcpt[CONFIG_ADDRESS_MAX + 3];
	struct upload up = {.p = msg, .left = len, .abort = abort};
	memset(res, 0, sizeof *res);
	bool v6 = strchr(cfg->smtp_host, ':') != NULL;
	snprintf(url, sizeof url, "smtp://%s%s%s:%d", v6 ? "[" : "", cfg->smtp_host, v6 ? "]" : "",
		 cfg->smtp_port);
	snprintf(from, sizeof from, "<%s>", cfg->mail_from);
	snprintf(rcpt, sizeof rcpt, "<%s>", to);
	CURL *curl = curl_easy_init();
	struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
	if (curl == NULL || rcpts == NULL) {
		snprintf(res->error, sizeof res->error, "out of memory");
		curl_slist_free_all(rcpts);
		if (curl)
			curl_easy_cleanup(curl);
		return;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp");
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)(cfg->smtp_starttls ? CURLUSESSL_ALL
									   : CURLUSESSL_NONE));
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->smtp_ca[0])
		curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->smtp_ca);
	if (cfg->smtp_user[0] && password) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
	}
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)MAIL_SMTP_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &up);
	CURLcode rc = curl_easy_perform(curl);
	long code = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		res->sent = true;
	} else {
		/* after the whole message went out, only a refusal from the
		 * relay (4xx, 5xx) says it was not taken; silence may hide an
		 * acceptance */
		res->maybe_sent = up.done && !(code >= 400 && code < 600);
		word_error(rc, code, cfg, res);
	}
	res->smtp_code = code;
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(curl);
}
