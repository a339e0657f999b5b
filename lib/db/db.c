/*
 * Connections: opening the engine a source names, statements, the write
 * transaction, loading the table and change detection (include/stls/db.h).
 * Everything engine-specific is behind struct stls_db_engine.
 */
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int stls_db_open(const char *config, const struct stls_db_opts *o,
		 struct stls_db **out, struct stls_db_err *err)
{
	static const struct stls_db_opts none;
	struct stls_db *db = calloc(1, sizeof(*db));
	int rc;

	if (!db) {
		return -ENOMEM;
	}
	o = o ? o : &none;
	rc = stls_db_src_parse(config, &db->src, err);
	if (rc) {
		free(db);
		return rc;
	}
	db->flags = o->flags;
	db->eng = db->src.kind == STLS_CONF_SRC_SQLITE ? &stls__db_sqlite
						       : &stls__db_pg;
	if (asprintf(&db->quoted_table, "\"%s\"", db->src.table) < 0) {
		db->quoted_table = NULL;
	}
	db->tkeys_table = stls__db_tkeys_name(db->src.table);
	if (!db->quoted_table || !db->tkeys_table) {
		stls_db_free(db);
		return -ENOMEM;
	}
	rc = db->eng->open(db, o, err);
	if (rc) {
		stls_db_free(db);
		return rc;
	}
	*out = db;
	return 0;
}

void stls_db_free(struct stls_db *db)
{
	if (!db) {
		return;
	}
	if (db->st) {
		db->eng->close(db);
	}
	stls_db_src_fini(&db->src);
	free(db->quoted_table);
	free(db->tkeys_table);
	free(db);
}

enum stls_conf_src stls_db_kind(const struct stls_db *db)
{
	return db->src.kind;
}

const char *stls_db_table(const struct stls_db *db)
{
	return db->src.table;
}

const char *stls_db_shown(const struct stls_db *db)
{
	return db->src.shown;
}

int stls_db_query(struct stls_db *db, const char *sql,
		  const char *const *params, size_t n,
		  struct stls_db_rows **out, struct stls_db_err *err)
{
	return db->eng->query(db, sql, params, n, out, err);
}

int stls_db_txn(struct stls_db *db, unsigned flags, stls_db_txn_fn *fn,
		void *arg, struct stls_db_err *err)
{
	int rc = db->eng->begin(db, flags & STLS_DB_TXN_LOCK, err);

	if (rc) {
		return rc;
	}
	rc = fn(db, arg, err);
	if (rc) {
		db->eng->rollback(db);
		return rc;
	}
	return db->eng->commit(db, err);
}

/* Takes the engine's change marker into db->pending. */
static int take_marker(struct stls_db *db, struct stls_db_err *err)
{
	unsigned what = 0;
	int rc = db->eng->poll(db, &what, err);

	db->pending |= what;
	return rc;
}

int stls_db_load_rows(struct stls_db *db, struct stls_db_rows **out,
		      struct stls_db_err *err)
{
	char sql[128];
	int rc;

	/* The marker first: a commit after it is seen by the next poll. A
	 * ticket key change seen meanwhile stays pending. */
	rc = take_marker(db, err);
	db->pending &= ~(unsigned)STLS_DB_CHANGED_PROFILES;
	if (rc) {
		return rc;
	}
	snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY \"id\"",
		 db->quoted_table);
	return db->eng->query(db, sql, NULL, 0, out, err);
}

int stls_db_poll(struct stls_db *db, bool *changed, struct stls_db_err *err)
{
	int rc = take_marker(db, err);

	*changed = db->pending & STLS_DB_CHANGED_PROFILES;
	db->pending &= ~(unsigned)STLS_DB_CHANGED_PROFILES;
	return rc;
}

int stls_db_poll_what(struct stls_db *db, unsigned *what,
		      struct stls_db_err *err)
{
	int rc = take_marker(db, err);

	*what = db->pending;
	db->pending = 0;
	return rc;
}

void stls__db_taken(struct stls_db *db, unsigned what)
{
	db->pending &= ~what;
}

int stls_db_watch_fd(const struct stls_db *db)
{
	return db->eng->watch_fd(db);
}
