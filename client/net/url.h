/* url.h — the server address: wss://HOST[:PORT][/PATH], nothing else. */
#ifndef LIAISON_URL_H
#define LIAISON_URL_H

#include "err.h"

#define URL_HOST_MAX 253
#define URL_PATH_MAX 256
#define URL_DEFAULT_PORT 7443

struct url {
	char host[URL_HOST_MAX + 1]; /* without brackets for an IPv6 literal */
	int port;
	char path[URL_PATH_MAX + 1]; /* "/" when absent */
};

/* Parse and validate text; only wss:// is accepted. The error says why. */
enum lsn_err url_parse(const char *text, struct url *out, struct lsn_status *st);

#endif
