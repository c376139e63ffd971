/* user_view.c — tolerant accessors for server objects shown to the user. */
#include <stdio.h>
#include <string.h>

#include "ident.h"
#include "user_view.h"

const char *
user_view_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int64_t
user_view_int(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

const char *
user_view_profession(json_t *user)
{
	const char *code = user_view_str(user, "profession");
	const struct lsn_profession *prof = lsn_profession_find(code);
	if (prof)
		return prof->label_fr;
	const char *label = user_view_str(user, "profession_label");
	return label ? label : code;
}

const char *
user_view_org_name(json_t *user)
{
	return user_view_str(json_object_get(user, "org"), "name");
}

char *
user_view_roles(json_t *user, char *buf, size_t len)
{
	size_t used = 0;
	size_t i;
	json_t *role;
	buf[0] = '\0';
	json_array_foreach(json_object_get(user, "roles"), i, role) {
		const char *name = json_string_value(role);
		if (name == NULL)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}
