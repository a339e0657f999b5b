/*
 * `siptlsctl db init`, `schema` and `upgrade`: the profile table itself
 * (docs/database.md). On PostgreSQL, init and upgrade also install the
 * trigger that notifies channel siptls_<table> on every change, which the
 * daemons LISTEN to, and the table of the ticket keys the daemons share.
 */
#include "db_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int stls__db_cmd_init(struct db_ctx *c)
{
	struct stls_db_err err;
	const char *t = stls_db_table(c->db);

	if (stls_db_admin_init(c->db, &err)) {
		return stls__db_fail(c, "%s", err.msg);
	}
	printf("created table %s in %s", t, stls_db_shown(c->db));
	if (stls_db_kind(c->db) == STLS_CONF_SRC_POSTGRESQL) {
		printf(", with trigger siptls_%s_notify on channel siptls_%s "
		       "and ticket key table %s", t, t,
		       stls_db_tkeys_table(c->db));
	}
	printf("\n");
	return DB_EXIT_OK;
}

/* Prints one generated statement (NULL: out of memory). */
static int put(char *sql)
{
	if (!sql) {
		return DB_EXIT_FAIL;
	}
	printf("%s;\n", sql);
	free(sql);
	return 0;
}

static int print_engine(enum stls_conf_src kind, const char *table,
			bool kamcli)
{
	size_t i;
	int rc;

	printf("-- %s: table %s%s\n", kind == STLS_CONF_SRC_SQLITE ?
	       "SQLite" : "PostgreSQL", table, kamcli ? " (kamcli's "
	       "columns only)" : "");
	rc = put(stls_db_schema_create(kind, table, kamcli));
	if (rc || kind != STLS_CONF_SRC_POSTGRESQL || kamcli) {
		return rc;
	}
	printf("-- the change notification siptlsd listens to (channel "
	       "siptls_%s)\n", table);
	for (i = 0; !rc && i < 3; i++) {
		rc = put(stls_db_schema_notify(table, i));
	}
	printf("-- the session ticket keys the edges share (grant them to "
	       "the edges only)\n");
	return rc ? rc : put(stls_db_schema_tkeys(table));
}

/* The engine named by the argument, else by the source, else both. */
int stls__db_cmd_schema(struct db_ctx *c)
{
	const char *src = c->o.db ? c->o.db : getenv(STLS_DB_ENV);
	const char *table = STLS_DB_TABLE_DEFAULT, *e = c->o.pos[0];
	struct stls_db_src s = { 0 };
	struct stls_db_err err;
	bool sq = true, pg = true;
	int rc;

	if (!src && c->conf && stls_conf_src_is_db(c->conf->tls.config)) {
		src = c->conf->tls.config;
	}
	if (src && *src) {
		if (stls_db_src_parse(src, &s, &err)) {
			return stls__db_fail(c, "%s", err.msg);
		}
		table = s.table;
		sq = s.kind == STLS_CONF_SRC_SQLITE;
		pg = !sq;
	}
	if (e && (strcmp(e, "sqlite") == 0 || strcmp(e, "postgresql") == 0)) {
		sq = e[0] == 's';
		pg = !sq;
	} else if (e) {
		stls_db_src_fini(&s);
		return stls__db_usage(c->cmd, "engine '%s': sqlite or "
				      "postgresql", e);
	}
	rc = sq ? print_engine(STLS_CONF_SRC_SQLITE, table, c->o.kamcli) : 0;
	if (!rc && pg) {
		rc = print_engine(STLS_CONF_SRC_POSTGRESQL, table, c->o.kamcli);
	}
	stls_db_src_fini(&s);
	return rc;
}

int stls__db_cmd_upgrade(struct db_ctx *c)
{
	struct stls_db_err err;
	size_t added = 0;

	if (stls_db_admin_upgrade(c->db, &added, &err)) {
		return stls__db_fail(c, "%s", err.msg);
	}
	printf("table %s: %zu column%s added", stls_db_table(c->db), added,
	       added == 1 ? "" : "s");
	if (stls_db_kind(c->db) == STLS_CONF_SRC_POSTGRESQL) {
		printf(", trigger siptls_%s_notify and ticket key table %s "
		       "installed", stls_db_table(c->db),
		       stls_db_tkeys_table(c->db));
	}
	printf("\n");
	return DB_EXIT_OK;
}
