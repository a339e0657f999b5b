/*
 * The profile table: kamcli's `tlscfg` columns (as `kamcli tls sqlprint`
 * documents them, written here for SQLite and PostgreSQL), then one
 * nullable column for every other profile key of lib/conf's table, made
 * from that table so that a key added to tls.cfg gets its column (and
 * `siptlsctl db upgrade` adds it to existing tables). And the PostgreSQL
 * trigger that notifies the daemons.
 */
#include "db/db_int.h"
#include "stls/db_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* kamcli's columns, in its order, with its types and defaults. */
static const struct {
	const char *name;
	enum stls_db_col_type type;
	const char *decl; /* the SQL type and constraints after the name */
} kamcli_cols[] = {
	{ "id", STLS_DB_COL_INT, NULL }, /* per engine */
	{ "profile_type", STLS_DB_COL_TEXT, "VARCHAR(64) NOT NULL" },
	{ "profile_name", STLS_DB_COL_TEXT, "VARCHAR(128) NOT NULL" },
	{ "method", STLS_DB_COL_TEXT, "VARCHAR(128)" },
	{ "verify_certificate", STLS_DB_COL_INT, "INTEGER DEFAULT 0 NOT NULL" },
	{ "verify_depth", STLS_DB_COL_INT, "INTEGER DEFAULT 9 NOT NULL" },
	{ "require_certificate", STLS_DB_COL_INT,
	  "INTEGER DEFAULT 0 NOT NULL" },
	{ "cipher_list", STLS_DB_COL_TEXT, "VARCHAR(256)" },
	{ "server_name", STLS_DB_COL_TEXT, "VARCHAR(128)" },
	{ "server_name_mode", STLS_DB_COL_INT, "INTEGER DEFAULT 0 NOT NULL" },
	{ "server_id", STLS_DB_COL_TEXT, "VARCHAR(128)" },
	{ "file_type", STLS_DB_COL_INT, "INTEGER DEFAULT 0 NOT NULL" },
	{ "certificate", STLS_DB_COL_TEXT, "TEXT" },
	{ "private_key", STLS_DB_COL_TEXT, "TEXT" },
	{ "ca_list", STLS_DB_COL_TEXT, "TEXT" },
	{ "crl", STLS_DB_COL_TEXT, "TEXT" },
};

#define N_KAMCLI STLS_ARRAY_SIZE(kamcli_cols)

static int kamcli_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_KAMCLI; i++) {
		if (strcasecmp(kamcli_cols[i].name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* The profile key index of the n-th extension column, or -1. */
static int ext_key(size_t n)
{
	struct stls_pkey_info ki;
	size_t i;

	for (i = 0; stls_profile_key_at(i, &ki); i++) {
		if (kamcli_find(ki.name) >= 0) {
			continue;
		}
		if (n-- == 0) {
			return (int)i;
		}
	}
	return -1;
}

size_t stls_db_col_count(void)
{
	size_t n = 0;

	while (ext_key(n) >= 0) {
		n++;
	}
	return N_KAMCLI + n;
}

bool stls_db_col_at(size_t i, struct stls_db_col *out)
{
	struct stls_pkey_info ki;
	int k;

	if (i < N_KAMCLI) {
		out->name = kamcli_cols[i].name;
		out->type = kamcli_cols[i].type;
		out->kamcli = true;
		out->key = stls_profile_key_find(out->name);
		if (out->key >= 0 && (!stls_profile_key_at((size_t)out->key,
							   &ki) ||
				      strcmp(ki.name, out->name) != 0)) {
			out->key = -1;
		}
		return true;
	}
	k = ext_key(i - N_KAMCLI);
	if (k < 0 || !stls_profile_key_at((size_t)k, &ki)) {
		return false;
	}
	out->name = ki.name;
	out->type = ki.kind == STLS_PKEY_INT || ki.kind == STLS_PKEY_BOOL ?
			    STLS_DB_COL_INT :
			    STLS_DB_COL_TEXT;
	out->kamcli = false;
	out->key = k;
	return true;
}

int stls_db_col_find(const char *name)
{
	struct stls_db_col c;
	size_t i;

	for (i = 0; stls_db_col_at(i, &c); i++) {
		if (strcasecmp(c.name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* The SQL type and constraints of column i for an engine. */
static const char *decl_of(enum stls_conf_src kind, size_t i,
			   const struct stls_db_col *c)
{
	if (i == 0) {
		return kind == STLS_CONF_SRC_POSTGRESQL ?
			       "SERIAL PRIMARY KEY NOT NULL" :
			       "INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL";
	}
	if (i < N_KAMCLI) {
		return kamcli_cols[i].decl;
	}
	return c->type == STLS_DB_COL_INT ? "INTEGER" : "TEXT";
}

/* Appends to a growing string; NULL (freed) when out of memory. */
static char *cat(char *s, const char *fmt, ...) STLS_PRINTF(2, 3);

static char *cat(char *s, const char *fmt, ...)
{
	char *more = NULL, *r = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (s && n >= 0 && asprintf(&r, "%s%s", s, more) < 0) {
		r = NULL;
	}
	if (!s && n >= 0) {
		r = more;
		more = NULL;
	}
	free(more);
	free(s);
	return r;
}

char *stls_db_schema_create(enum stls_conf_src kind, const char *table,
			    bool kamcli_only)
{
	struct stls_db_col c;
	size_t i, n = kamcli_only ? N_KAMCLI : stls_db_col_count();
	char *s = cat(NULL, "CREATE TABLE \"%s\" (\n", table);

	for (i = 0; s && i < n && stls_db_col_at(i, &c); i++) {
		if (i == N_KAMCLI) {
			s = cat(s, "\t-- siptls: every other tls.cfg key "
				   "(NULL = unset)\n");
		}
		s = s ? cat(s, "\t\"%s\" %s%s\n", c.name, decl_of(kind, i, &c),
			    i + 1 < n ? "," : "")
		      : NULL;
	}
	return s ? cat(s, ")") : NULL;
}

char *stls_db_schema_add_column(enum stls_conf_src kind, const char *table,
				size_t i)
{
	struct stls_db_col c;
	char *s = NULL;

	if (i < N_KAMCLI || !stls_db_col_at(i, &c)) {
		return NULL;
	}
	if (asprintf(&s, "ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s", table,
		     c.name, decl_of(kind, i, &c)) < 0) {
		return NULL;
	}
	return s;
}

char *stls_db_schema_notify(const char *table, size_t i)
{
	char ch[STLS_DB_TABLE_MAX + 16];
	char *s = NULL;
	int n = -1;

	stls__db_channel(table, ch, sizeof(ch));
	switch (i) {
	case 0:
		n = asprintf(&s,
			     "CREATE OR REPLACE FUNCTION \"%s_notify\"() "
			     "RETURNS trigger LANGUAGE plpgsql AS $f$\n"
			     "BEGIN\n"
			     "\tPERFORM pg_notify('%s', TG_OP);\n"
			     "\tRETURN NULL;\n"
			     "END\n$f$", ch, ch);
		break;
	case 1:
		n = asprintf(&s,
			     "DROP TRIGGER IF EXISTS \"%s_notify\" ON \"%s\"",
			     ch, table);
		break;
	case 2:
		n = asprintf(&s,
			     "CREATE TRIGGER \"%s_notify\"\n"
			     "\tAFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
			     "ON \"%s\"\n"
			     "\tFOR EACH STATEMENT EXECUTE FUNCTION "
			     "\"%s_notify\"()", ch, table, ch);
		break;
	default:
		return NULL;
	}
	return n < 0 ? NULL : s;
}
