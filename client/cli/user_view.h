/* user_view.h — reading USER, ORG and DEVICE objects of server replies for
 * display; every accessor tolerates missing or mistyped fields. */
#ifndef LIAISON_USER_VIEW_H
#define LIAISON_USER_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* obj[key] if it is a string, else NULL. */
const char *user_view_str(json_t *obj, const char *key);
/* obj[key] if it is an integer, else 0. */
int64_t user_view_int(json_t *obj, const char *key);
/* French label of the user's profession (local table, then the reply's label,
 * then the code). */
const char *user_view_profession(json_t *user);
/* Organisation name of a user, or NULL. */
const char *user_view_org_name(json_t *user);
/* "member, coordinator" into buf; returns buf. */
char *user_view_roles(json_t *user, char *buf, size_t len);

#endif
