/*
 * Unit tests for lib/db/db.c, the engine-independent part, on SQLite:
 * opening by source kind, transactions (commit on 0, roll back
 * otherwise), the table read in id order, and the change marker taken
 * before the rows are read.
 */
#include "lib/db/db_fixture.h"

static struct stls_db *fresh(const char *name)
{
	struct stls_db *db = db_open_ok(db_sqlite_config(name),
					STLS_DB_OPEN_CREATE);
	struct stls_db_err err;

	CHECK_OK(stls_db_admin_init(db, &err));
	return db;
}

static int add_row(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	const char *p[] = { arg };

	return stls_db_query(db, "INSERT INTO tlscfg (id, profile_type, "
				 "profile_name) VALUES ($1, 'client', 'any')",
			     p, 1, NULL, err);
}

static int add_then_fail(struct stls_db *db, void *arg,
			 struct stls_db_err *err)
{
	int rc = add_row(db, arg, err);

	return rc ? rc : -ECANCELED;
}

TEST(transactions_commit_or_roll_back)
{
	struct stls_db *db = fresh("t.db");
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;

	CHECK_OK(stls_db_txn(db, STLS_DB_TXN_LOCK, add_row, "5", &err));
	CHECK_EQ(stls_db_txn(db, STLS_DB_TXN_LOCK, add_then_fail, "6", &err),
		 -ECANCELED);
	/* A failing statement rolls back too (duplicate id). */
	CHECK_EQ(stls_db_txn(db, 0, add_row, "5", &err), -EIO);
	CHECK_STR_HAS(err.msg, "UNIQUE constraint failed");
	CHECK_OK(stls_db_load_rows(db, &r, &err));
	CHECK_EQ(stls_db_rows_count(r), 1);
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 0), "5");
	stls_db_rows_free(r);
	stls_db_free(db);
}

TEST(rows_come_in_id_order_with_every_column)
{
	struct stls_db *db = fresh("o.db");
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;

	CHECK_OK(stls_db_txn(db, 0, add_row, "30", &err));
	CHECK_OK(stls_db_txn(db, 0, add_row, "4", &err));
	CHECK_OK(stls_db_txn(db, 0, add_row, "12", &err));
	CHECK_OK(stls_db_load_rows(db, &r, &err));
	CHECK_EQ(stls_db_rows_ncols(r), stls_db_col_count());
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 0), "4");
	CHECK_STR_EQ(stls_db_rows_get(r, 1, 0), "12");
	CHECK_STR_EQ(stls_db_rows_get(r, 2, 0), "30");
	/* kamcli's defaults */
	CHECK_STR_EQ(stls_db_rows_get(r, 0, (size_t)stls_db_rows_find(
						   r, "verify_depth")),
		     "9");
	stls_db_rows_free(r);
	stls_db_free(db);
}

/* A load takes the marker first: a commit by another connection after a
 * load is seen by the next poll, and one before the load is not reported
 * again (the load already read it). */
TEST(load_takes_the_change_marker)
{
	const char *cfg = db_sqlite_config("m.db");
	struct stls_db *w = fresh("m.db"), *d = db_open_ok(cfg, 0);
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	bool changed;

	CHECK_OK(stls_db_load_rows(d, &r, &err));
	stls_db_rows_free(r);
	CHECK_OK(stls_db_txn(w, 0, add_row, "1", &err));
	CHECK_OK(stls_db_load_rows(d, &r, &err));
	CHECK_EQ(stls_db_rows_count(r), 1);
	stls_db_rows_free(r);
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	CHECK_OK(stls_db_txn(w, 0, add_row, "2", &err));
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(changed);
	stls_db_free(d);
	stls_db_free(w);
}

TEST(missing_table_and_bad_source)
{
	struct stls_db *db = db_open_ok(db_sqlite_config("e.db"),
					STLS_DB_OPEN_CREATE);
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	struct stls_db *x = NULL;

	CHECK_EQ(stls_db_load_rows(db, &r, &err), -EIO);
	CHECK_STR_HAS(err.msg, "e.db: no such table: tlscfg");
	CHECK_NULL(r);
	stls_db_free(db);
	CHECK_EQ(stls_db_open("tls.cfg", NULL, &x, &err), -EINVAL);
	CHECK_NULL(x);
	stls_db_free(NULL);
}
