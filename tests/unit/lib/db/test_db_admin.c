/*
 * Unit tests for lib/db/db_admin.c on both engines (PostgreSQL started by
 * the test): init makes the whole table (and the trigger), refuses an
 * existing one; upgrade adds what a kamcli table lacks, once; columns of
 * a missing table.
 */
#include "lib/db/db_fixture.h"
#include "lib/db/pg_fixture.h"

static void admin_cases(struct stls_db *db, struct stls_db *kamcli)
{
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	size_t added = 99;

	CHECK_EQ(stls_db_admin_columns(db, &r, &err), -ENOENT);
	CHECK_STR_HAS(err.msg, "`siptlsctl db init` creates it");
	CHECK_EQ(stls_db_admin_upgrade(db, &added, &err), -ENOENT);
	CHECK_OK(stls_db_admin_init(db, &err));
	CHECK_EQ(stls_db_admin_init(db, &err), -EEXIST);
	CHECK_STR_HAS(err.msg, "exists (`siptlsctl db upgrade`");
	CHECK_OK(stls_db_admin_columns(db, &r, &err));
	CHECK_EQ(stls_db_rows_ncols(r), stls_db_col_count());
	stls_db_rows_free(r);
	CHECK_OK(stls_db_admin_upgrade(db, &added, &err));
	CHECK_EQ(added, 0);
	/* A kamcli table, with a row, gets every extension column; the row
	 * stays as it was. */
	db_make_kamcli_table(kamcli);
	DB_EXEC(kamcli, "INSERT INTO kamcli_t (profile_type, profile_name, "
			"method) VALUES ('server', 'default', 'TLSv1.2')");
	CHECK_OK(stls_db_admin_upgrade(kamcli, &added, &err));
	CHECK_EQ(added, stls_db_col_count() - 16);
	CHECK_OK(stls_db_admin_upgrade(kamcli, &added, &err));
	CHECK_EQ(added, 0);
	CHECK_OK(stls_db_load_rows(kamcli, &r, &err));
	CHECK_EQ(stls_db_rows_ncols(r), stls_db_col_count());
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 3), "TLSv1.2");
	CHECK_NULL(stls_db_rows_get(r, 0, (size_t)stls_db_rows_find(
						  r, "cipher_suites")));
	stls_db_rows_free(r);
}

TEST(sqlite_init_and_upgrade)
{
	struct stls_db *db = db_open_ok(db_sqlite_config("a.db"),
					STLS_DB_OPEN_CREATE);
	char cfg[1200];
	struct stls_db *k;

	snprintf(cfg, sizeof(cfg), "%s?table=kamcli_t",
		 db_sqlite_config("a.db"));
	k = db_open_ok(cfg, STLS_DB_OPEN_WRITE);
	admin_cases(db, k);
	stls_db_free(k);
	stls_db_free(db);
}

static bool has_trigger(struct stls_db *db, const char *name)
{
	const char *p[] = { name };
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	bool yes;

	CHECK_OK(stls_db_query(db, "SELECT 1 FROM pg_trigger WHERE tgname = "
				   "$1", p, 1, &r, &err));
	yes = stls_db_rows_count(r) == 1;
	stls_db_rows_free(r);
	return yes;
}

TEST(postgresql_init_and_upgrade_with_the_trigger)
{
	struct stls_db *db = db_open_ok(pg_config("admin_t"),
					STLS_DB_OPEN_WRITE);
	struct stls_db *k = db_open_ok(pg_config("kamcli_t"),
				       STLS_DB_OPEN_WRITE);

	admin_cases(db, k);
	CHECK(has_trigger(db, "siptls_admin_t_notify"));
	/* upgrade installs the trigger on the kamcli table too */
	CHECK(has_trigger(k, "siptls_kamcli_t_notify"));
	stls_db_free(k);
	stls_db_free(db);
}
