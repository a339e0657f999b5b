/*
 * The SQLite engine: one connection to one file, opened read-only unless
 * writing is asked for. Parameters $1..$n are bound by name (SQLite takes
 * "$1" as a named parameter). Change detection is PRAGMA data_version: the
 * number changes when another connection commits to the file, so a daemon
 * polls it on a timer and reloads when it moved.
 */
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

struct sq {
	sqlite3 *h;
	sqlite3_int64 version; /* data_version at the last load or poll */
	bool have_version;
};

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

static int sq_open(struct stls_db *db, const struct stls_db_opts *o,
		   struct stls_db_err *err)
{
	int flags = SQLITE_OPEN_READONLY, rc;
	struct stat st;
	struct sq *s;

	if (o->flags & (STLS_DB_OPEN_WRITE | STLS_DB_OPEN_CREATE)) {
		flags = SQLITE_OPEN_READWRITE;
	}
	if (o->flags & STLS_DB_OPEN_CREATE) {
		flags |= SQLITE_OPEN_CREATE;
	} else if (stat(db->src.target, &st) != 0) {
		return stls__db_err(err, db, -errno, "cannot open: %s",
				    strerror(errno));
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	db->st = s;
	rc = sqlite3_open_v2(db->src.target, &s->h, flags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(s->h, 1);
		sqlite3_busy_timeout(s->h, o->busy_timeout_ms > 0 ?
						   o->busy_timeout_ms : 5000);
		/* Reads the header now: "not a database" shows at open. */
		rc = sqlite3_exec(s->h, "PRAGMA schema_version", NULL, NULL,
				  NULL);
	}
	if (rc != SQLITE_OK) {
		stls__db_err(err, db, 0, "cannot open: %s",
			     s->h ? sqlite3_errmsg(s->h) : sqlite3_errstr(rc));
		return map_rc(rc);
	}
	return 0;
}

static void sq_close(struct stls_db *db)
{
	struct sq *s = db->st;

	sqlite3_close_v2(s->h);
	free(s);
	db->st = NULL;
}

static int bind_all(sqlite3_stmt *st, const char *const *params, size_t n)
{
	char name[24];
	size_t i;
	int idx, rc = SQLITE_OK;

	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		snprintf(name, sizeof(name), "$%zu", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (idx == 0) {
			continue; /* the statement does not use it */
		}
		rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1,
						   SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, idx);
	}
	return rc;
}

/* Collects the rows of a prepared statement into *out. */
static int collect(sqlite3_stmt *st, struct stls_db_rows **out)
{
	int ncols = sqlite3_column_count(st), j, rc;
	const char **v = calloc((size_t)ncols + 1, sizeof(*v));
	struct stls_db_rows *r = NULL;

	if (!v) {
		return SQLITE_NOMEM;
	}
	for (j = 0; j < ncols; j++) {
		v[j] = sqlite3_column_name(st, j);
	}
	rc = stls_db_rows_new((size_t)ncols, v, &r) ? SQLITE_NOMEM : SQLITE_OK;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (j = 0; j < ncols; j++) {
			v[j] = sqlite3_column_type(st, j) == SQLITE_NULL ?
				       NULL :
				       (const char *)sqlite3_column_text(st, j);
		}
		rc = stls_db_rows_push(r, v) ? SQLITE_NOMEM : SQLITE_OK;
	}
	free(v);
	if (rc != SQLITE_DONE) {
		stls_db_rows_free(r);
		return rc;
	}
	*out = r;
	return SQLITE_OK;
}

static int sq_query(struct stls_db *db, const char *sql,
		    const char *const *params, size_t n,
		    struct stls_db_rows **out, struct stls_db_err *err)
{
	struct sq *s = db->st;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->h, sql, -1, &st, &tail);
	if (rc == SQLITE_OK && tail && tail[strspn(tail, " \t\r\n;")]) {
		sqlite3_finalize(st);
		return stls__db_err(err, db, -EINVAL,
				    "one statement at a time");
	}
	if (rc == SQLITE_OK) {
		rc = bind_all(st, params, n);
	}
	if (rc == SQLITE_OK && out) {
		rc = collect(st, out);
	} else if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		}
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		return stls__db_err(err, db, map_rc(rc), "%s",
				    rc == SQLITE_NOMEM ? "out of memory"
						       : sqlite3_errmsg(s->h));
	}
	return 0;
}

static int run(struct stls_db *db, const char *sql, struct stls_db_err *err)
{
	return sq_query(db, sql, NULL, 0, NULL, err);
}

static int sq_begin(struct stls_db *db, bool lock, struct stls_db_err *err)
{
	/* Takes the database's write lock now, not at the first write
	 * (SQLite has no table locks: lock or not, this is the same). */
	(void)lock;
	return run(db, "BEGIN IMMEDIATE", err);
}

static int sq_commit(struct stls_db *db, struct stls_db_err *err)
{
	int rc = run(db, "COMMIT", err);

	if (rc) {
		run(db, "ROLLBACK", NULL);
	}
	return rc;
}

static void sq_rollback(struct stls_db *db)
{
	run(db, "ROLLBACK", NULL);
}

static int sq_poll(struct stls_db *db, unsigned *what,
		   struct stls_db_err *err)
{
	struct sq *s = db->st;
	sqlite3_stmt *st = NULL;
	sqlite3_int64 v = 0;
	int rc;

	rc = sqlite3_prepare_v2(s->h, "PRAGMA data_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		return stls__db_err(err, db, map_rc(rc), "data_version: %s",
				    sqlite3_errmsg(s->h));
	}
	if (s->have_version && v != s->version) {
		*what |= STLS_DB_CHANGED_PROFILES;
	}
	s->version = v;
	s->have_version = true;
	return 0;
}

static int sq_watch_fd(const struct stls_db *db)
{
	(void)db;
	return -1;
}

static int sq_has_table(struct stls_db *db, bool *yes,
			struct stls_db_err *err)
{
	const char *p[] = { db->src.table };
	struct stls_db_rows *r = NULL;
	int rc;

	rc = sq_query(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' "
			  "AND name = $1", p, 1, &r, err);
	*yes = !rc && stls_db_rows_count(r) > 0;
	stls_db_rows_free(r);
	return rc;
}

const struct stls_db_engine stls__db_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.poll = sq_poll,
	.watch_fd = sq_watch_fd,
	.has_table = sq_has_table,
};
