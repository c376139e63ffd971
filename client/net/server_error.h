/* server_error.h — what to tell the user when the server says no: wire error
 * codes and close codes become "what went wrong (code): what to do next". */
#ifndef LIAISON_SERVER_ERROR_H
#define LIAISON_SERVER_ERROR_H

#include "err.h"

/* Fill st from an error reply (code and message as sent; either may be NULL)
 * and return the error. Codes the client does not know map to internal. */
enum lsn_err server_error_status(struct lsn_status *st, const char *code, const char *message);

/* Fill st for a connection the server closed with code and reason. */
enum lsn_err server_error_close(struct lsn_status *st, int code, const char *reason);

#endif
