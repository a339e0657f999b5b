/*
 * Creating and upgrading the profile table (siptlsctl db init, upgrade),
 * each in one transaction, and reading its columns.
 */
#include "db/db_int.h"
#include "stls/db_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one generated statement (NULL: out of memory) and frees it. */
static int run_owned(struct stls_db *db, char *sql, struct stls_db_err *err)
{
	int rc;

	if (!sql) {
		return -ENOMEM;
	}
	rc = stls_db_query(db, sql, NULL, 0, NULL, err);
	free(sql);
	return rc;
}

/* PostgreSQL: the change trigger and the fleet's ticket key table. */
static int install_trigger(struct stls_db *db, struct stls_db_err *err)
{
	size_t i;
	int rc = 0;

	if (db->src.kind != STLS_CONF_SRC_POSTGRESQL) {
		return 0;
	}
	for (i = 0; !rc && i < 3; i++) {
		rc = run_owned(db, stls_db_schema_notify(db->src.table, i),
			       err);
	}
	return rc ? rc : run_owned(db, stls_db_schema_tkeys(db->src.table),
				   err);
}

static int do_init(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	bool exists = false;
	int rc;

	(void)arg;
	rc = db->eng->has_table(db, &exists, err);
	if (!rc && exists) {
		return stls__db_err(err, db, -EEXIST,
				    "table %s exists (`siptlsctl db upgrade` "
				    "adds missing columns)", db->src.table);
	}
	if (!rc) {
		rc = run_owned(db, stls_db_schema_create(db->src.kind,
							 db->src.table, false),
			       err);
	}
	return rc ? rc : install_trigger(db, err);
}

int stls_db_admin_init(struct stls_db *db, struct stls_db_err *err)
{
	return stls_db_txn(db, 0, do_init, NULL, err);
}

int stls_db_admin_columns(struct stls_db *db, struct stls_db_rows **out,
			  struct stls_db_err *err)
{
	bool exists = false;
	char sql[STLS_DB_TABLE_MAX + 48];
	int rc;

	rc = db->eng->has_table(db, &exists, err);
	if (!rc && !exists) {
		return stls__db_err(err, db, -ENOENT,
				    "no table %s (`siptlsctl db init` "
				    "creates it)", db->src.table);
	}
	if (rc) {
		return rc;
	}
	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE 1 = 0",
		 db->quoted_table);
	return stls_db_query(db, sql, NULL, 0, out, err);
}

struct upgrade {
	size_t added;
};

static int do_upgrade(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct upgrade *u = arg;
	struct stls_db_rows *cols = NULL;
	struct stls_db_col c;
	size_t i;
	int rc;

	rc = stls_db_admin_columns(db, &cols, err);
	for (i = 0; !rc && stls_db_col_at(i, &c); i++) {
		if (c.kamcli || stls_db_rows_find(cols, c.name) >= 0) {
			continue;
		}
		rc = run_owned(db, stls_db_schema_add_column(
					   db->src.kind, db->src.table, i),
			       err);
		u->added += !rc;
	}
	stls_db_rows_free(cols);
	return rc ? rc : install_trigger(db, err);
}

int stls_db_admin_upgrade(struct stls_db *db, size_t *added,
			  struct stls_db_err *err)
{
	struct upgrade u = { 0 };
	int rc = stls_db_txn(db, 0, do_upgrade, &u, err);

	*added = rc ? 0 : u.added;
	return rc;
}
