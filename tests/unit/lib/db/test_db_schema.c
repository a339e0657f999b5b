/*
 * Unit tests for lib/db/db_schema.c: kamcli's columns first, one column
 * for every other profile key, the DDL of both engines (run on SQLite
 * here; test_db_admin runs it on PostgreSQL) and the trigger statements.
 */
#include "lib/db/db_fixture.h"

TEST(columns_are_kamcli_then_every_other_key)
{
	static const char *const kamcli[] = {
		"id", "profile_type", "profile_name", "method",
		"verify_certificate", "verify_depth", "require_certificate",
		"cipher_list", "server_name", "server_name_mode", "server_id",
		"file_type", "certificate", "private_key", "ca_list", "crl",
	};
	struct stls_pkey_info ki;
	struct stls_db_col c;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(kamcli); i++) {
		CHECK(stls_db_col_at(i, &c));
		CHECK_STR_EQ(c.name, kamcli[i]);
		CHECK(c.kamcli);
	}
	CHECK(stls_db_col_at(0, &c) && c.key == -1 &&
	      c.type == STLS_DB_COL_INT);
	CHECK(stls_db_col_at(11, &c) && c.key == -1);
	CHECK(stls_db_col_at(3, &c) && c.key >= 0);
	/* Every profile key has exactly one column. */
	for (i = 0; stls_profile_key_at(i, &ki); i++) {
		int j = stls_db_col_find(ki.name);

		CHECK(j >= 0);
		CHECK(stls_db_col_at((size_t)j, &c));
		CHECK_EQ(c.key, (int)i);
	}
	CHECK_EQ(stls_db_col_count(), 4 + stls_profile_key_count());
	CHECK(!stls_db_col_at(stls_db_col_count(), &c));
	CHECK(stls_db_col_at((size_t)stls_db_col_find("verify_wildcard"), &c));
	CHECK_EQ(c.type, STLS_DB_COL_INT);
	CHECK(!c.kamcli);
	CHECK(stls_db_col_at((size_t)stls_db_col_find("verify_client"), &c));
	CHECK_EQ(c.type, STLS_DB_COL_TEXT);
	/* aliases are no columns */
	CHECK_EQ(stls_db_col_find("cert_file"), -1);
}

TEST(ddl_of_both_engines)
{
	char *pg = stls_db_schema_create(STLS_CONF_SRC_POSTGRESQL, "tlscfg",
					 true);
	char *sq = stls_db_schema_create(STLS_CONF_SRC_SQLITE, "tlscfg", false);
	char *add = stls_db_schema_add_column(STLS_CONF_SRC_SQLITE, "t",
					      (size_t)stls_db_col_find(
						      "cipher_suites"));

	CHECK_STR_HAS(pg, "CREATE TABLE \"tlscfg\" (\n\t\"id\" SERIAL PRIMARY "
			  "KEY NOT NULL,\n\t\"profile_type\" VARCHAR(64) NOT "
			  "NULL,");
	CHECK_STR_HAS(pg, "\"verify_depth\" INTEGER DEFAULT 9 NOT NULL,");
	CHECK_STR_HAS(pg, "\"crl\" TEXT\n)");
	CHECK(strstr(pg, "verify_client") == NULL);
	CHECK_STR_HAS(sq, "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL");
	CHECK_STR_HAS(sq, "\"crl\" TEXT,\n\t-- siptls: every other "
			  "tls.cfg key");
	CHECK_STR_HAS(sq, "\"verify_wildcard\" INTEGER,");
	CHECK_STR_HAS(sq, "\"cipher_suites\" TEXT,");
	/* The operational keys (groups, OCSP, CRL refresh) come last. */
	CHECK_STR_HAS(sq, "\"groups\" TEXT,");
	CHECK_STR_HAS(sq, "\"verify_ocsp\" TEXT,");
	CHECK_STR_HAS(sq, "\"crl_refresh\" INTEGER\n)");
	CHECK_STR_EQ(add,
		     "ALTER TABLE \"t\" ADD COLUMN \"cipher_suites\" TEXT");
	/* kamcli's columns are never added. */
	CHECK_NULL(stls_db_schema_add_column(STLS_CONF_SRC_SQLITE, "t", 3));
	free(pg);
	free(sq);
	free(add);
}

/* The SQLite DDL runs, and its table has the columns listed. */
TEST(sqlite_ddl_runs)
{
	struct stls_db *db = db_open_ok(db_sqlite_config("s.db"),
					STLS_DB_OPEN_CREATE);
	char *sql = stls_db_schema_create(STLS_CONF_SRC_SQLITE, "tlscfg",
					  false);
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	struct stls_db_col c;
	size_t i;

	DB_EXEC(db, sql);
	free(sql);
	CHECK_OK(stls_db_admin_columns(db, &r, &err));
	CHECK_EQ(stls_db_rows_ncols(r), stls_db_col_count());
	for (i = 0; stls_db_col_at(i, &c); i++) {
		CHECK_STR_EQ(stls_db_rows_col(r, i), c.name);
	}
	stls_db_rows_free(r);
	stls_db_free(db);
}

TEST(trigger_statements)
{
	char *f = stls_db_schema_notify("tlscfg", 0);
	char *d = stls_db_schema_notify("tlscfg", 1);
	char *t = stls_db_schema_notify("tlscfg", 2);

	CHECK_STR_HAS(f, "CREATE OR REPLACE FUNCTION "
			 "\"siptls_tlscfg_notify\"()");
	CHECK_STR_HAS(f, "pg_notify('siptls_tlscfg', TG_OP)");
	CHECK_STR_EQ(d, "DROP TRIGGER IF EXISTS \"siptls_tlscfg_notify\" ON "
			"\"tlscfg\"");
	CHECK_STR_HAS(t, "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
			 "\"tlscfg\"");
	CHECK_STR_HAS(t, "FOR EACH STATEMENT");
	CHECK_NULL(stls_db_schema_notify("tlscfg", 3));
	free(f);
	free(d);
	free(t);
}
