/*
 * Unit tests for lib/db/db_sqlite.c against real SQLite files: opening
 * (read-only, create, missing, not a database), parameters, one statement
 * at a time, transactions, and change detection with PRAGMA data_version.
 */
#include "lib/db/db_fixture.h"


TEST(open_modes_and_failures)
{
	const char *cfg = db_sqlite_config("a.db");
	struct stls_db_opts ro = { 0 }, rw = { .flags = STLS_DB_OPEN_WRITE };
	struct stls_db_err err = { "" };
	struct stls_db *db = NULL;
	char path[1100];
	FILE *f;

	CHECK_EQ(stls_db_open(cfg, &ro, &db, &err), -ENOENT);
	CHECK_STR_HAS(err.msg, "a.db: cannot open: No such file or directory");
	CHECK_EQ(stls_db_open(cfg, &rw, &db, &err), -ENOENT);
	db = db_open_ok(cfg, STLS_DB_OPEN_CREATE);
	CHECK_EQ(stls_db_kind(db), STLS_CONF_SRC_SQLITE);
	CHECK_STR_EQ(stls_db_table(db), "tlscfg");
	CHECK_EQ(stls_db_watch_fd(db), -1);
	DB_EXEC(db, "CREATE TABLE t (a TEXT)");
	stls_db_free(db);
	/* Read-only by default: writes fail, reads work. */
	db = db_open_ok(cfg, 0);
	CHECK_EQ(stls_db_query(db, "INSERT INTO t VALUES ('x')", NULL, 0,
			       NULL, &err),
		 -EIO);
	CHECK_STR_HAS(err.msg, "readonly");
	DB_EXEC(db, "SELECT * FROM t");
	stls_db_free(db);
	snprintf(path, sizeof(path), "%s/junk.db", test_tmp_dir());
	f = fopen(path, "w");
	CHECK_NOT_NULL(f);
	fputs("this is not a database file, just text that is long enough "
	      "to fill a header of one hundred bytes.........................",
	      f);
	fclose(f);
	CHECK_EQ(stls_db_open(db_sqlite_config("junk.db"), &ro, &db, &err),
		 -EIO);
	CHECK_STR_HAS(err.msg, "not a database");
}

TEST(parameters_nulls_and_results)
{
	struct stls_db *db = db_open_ok(db_sqlite_config("p.db"),
					STLS_DB_OPEN_CREATE);
	const char *p[] = { "x", NULL, "x" };
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;

	DB_EXEC(db, "CREATE TABLE t (a TEXT, b TEXT, n INTEGER)");
	CHECK_OK(stls_db_query(db, "INSERT INTO t VALUES ($1, $2, 7)", p, 2,
			       NULL, &err));
	/* $3 unused: bound by name, extra parameters are ignored. */
	CHECK_OK(stls_db_query(db, "SELECT a, b, n, $1 = a AS same FROM t "
				   "WHERE a = $1", p, 3, &r, &err));
	CHECK_EQ(stls_db_rows_count(r), 1);
	CHECK_EQ(stls_db_rows_ncols(r), 4);
	CHECK_STR_EQ(stls_db_rows_col(r, 3), "same");
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 0), "x");
	CHECK_NULL(stls_db_rows_get(r, 0, 1));
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 2), "7");
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 3), "1");
	stls_db_rows_free(r);
	/* Column names even without rows. */
	CHECK_OK(stls_db_query(db, "SELECT * FROM t WHERE 1 = 0", NULL, 0, &r,
			       &err));
	CHECK_EQ(stls_db_rows_count(r), 0);
	CHECK_EQ(stls_db_rows_ncols(r), 3);
	stls_db_rows_free(r);
	CHECK_EQ(stls_db_query(db, "SELECT 1; SELECT 2", NULL, 0, NULL, &err),
		 -EINVAL);
	CHECK_STR_HAS(err.msg, "one statement at a time");
	CHECK_EQ(stls_db_query(db, "SELEC 1", NULL, 0, NULL, &err), -EIO);
	CHECK_STR_HAS(err.msg, "syntax error");
	stls_db_free(db);
}

/* data_version moves when another connection commits, not for our own
 * reads, and not for a rolled-back transaction. */
TEST(data_version_sees_other_connections)
{
	const char *cfg = db_sqlite_config("v.db");
	struct stls_db *w = db_open_ok(cfg, STLS_DB_OPEN_CREATE);
	struct stls_db *d;
	struct stls_db_err err;
	bool changed = true;

	DB_EXEC(w, "CREATE TABLE t (a TEXT)");
	d = db_open_ok(cfg, 0);
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed); /* the first poll only takes the marker */
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	DB_EXEC(w, "INSERT INTO t VALUES ('1')");
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(changed);
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed); /* reported once */
	DB_EXEC(w, "BEGIN");
	DB_EXEC(w, "INSERT INTO t VALUES ('2')");
	DB_EXEC(w, "ROLLBACK");
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	stls_db_free(d);
	stls_db_free(w);
}

/* A writer holding BEGIN IMMEDIATE keeps a second writer out (after the
 * busy timeout), while readers go on. */
TEST(write_transactions_exclude_each_other)
{
	const char *cfg = db_sqlite_config("l.db");
	struct stls_db_opts o = { .flags = STLS_DB_OPEN_WRITE,
				  .busy_timeout_ms = 50 };
	struct stls_db *a = db_open_ok(cfg, STLS_DB_OPEN_CREATE), *b = NULL;
	struct stls_db *r = db_open_ok(cfg, 0);
	struct stls_db_err err;

	DB_EXEC(a, "CREATE TABLE t (a TEXT)");
	CHECK_OK(stls_db_open(cfg, &o, &b, &err));
	DB_EXEC(a, "BEGIN IMMEDIATE");
	DB_EXEC(a, "INSERT INTO t VALUES ('a')");
	CHECK_EQ(stls_db_query(b, "BEGIN IMMEDIATE", NULL, 0, NULL, &err),
		 -EIO);
	CHECK_STR_HAS(err.msg, "locked");
	DB_EXEC(r, "SELECT * FROM t");
	DB_EXEC(a, "COMMIT");
	DB_EXEC(b, "BEGIN IMMEDIATE");
	DB_EXEC(b, "ROLLBACK");
	stls_db_free(a);
	stls_db_free(b);
	stls_db_free(r);
}

/* A directory is no database, whoever opens it. */
TEST(a_directory_is_no_database)
{
	struct stls_db_opts o = { 0 };
	struct stls_db_err err;
	struct stls_db *d = NULL;

	CHECK_EQ(stls_db_open(db_sqlite_config(""), &o, &d, &err), -EIO);
	CHECK_STR_HAS(err.msg, "cannot open: ");
	CHECK_NULL(d);
}
