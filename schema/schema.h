/* schema.h — the SQL migrations embedded in liaisond (generated from schema/). */
#ifndef LSN_SCHEMA_H
#define LSN_SCHEMA_H

struct schema_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct schema_migration schema_migrations[];
extern const int schema_migration_count;

#endif
