/* admin.h — liaisond's administrator subcommands. Each returns a process
 * exit code: 0 success, 1 failure, 2 usage error. */
#ifndef LSN_ADMIN_H
#define LSN_ADMIN_H

#include <stddef.h>

#include "config.h"

int admin_init(const struct config *cfg);
int admin_org(const struct config *cfg, int argc, char **argv);
int admin_invite(const struct config *cfg, int argc, char **argv);
int admin_users(const struct config *cfg, int argc, char **argv);
int admin_user(const struct config *cfg, int argc, char **argv);
int admin_revoke(const struct config *cfg, int argc, char **argv);
int admin_check(const struct config *cfg);
int admin_audit(const struct config *cfg, int argc, char **argv);
int admin_backup(const struct config *cfg, int argc, char **argv);
/* admin_mail.c: "user email" */
int admin_user_email(const struct config *cfg, int argc, char **argv);
/* admin_targets.c */
int admin_targets(const struct config *cfg, int argc, char **argv);

#endif
