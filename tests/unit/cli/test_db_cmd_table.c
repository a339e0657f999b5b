/*
 * Unit tests for cli/db_cmd_table.c: `db init`, `db schema` and `db
 * upgrade`, on SQLite and on the test PostgreSQL server.
 */
#include "cli/cli_db_fixture.h"
#include "lib/db/pg_fixture.h"

TEST(init_twice_and_upgrade_on_sqlite)
{
	const char *a = db_sqlite_config("i.db");
	struct cli_run *r = cli_db("init", "--db", a, NULL);

	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "created table tlscfg in sqlite:");
	r = cli_db("init", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "table tlscfg exists (`siptlsctl db upgrade` "
			      "adds missing columns)");
	r = cli_db("upgrade", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "table tlscfg: 0 columns added\n");
}

TEST(upgrade_of_a_kamcli_table_on_postgresql)
{
	char cfg[600];
	struct stls_db *db;
	struct cli_run *r;

	snprintf(cfg, sizeof(cfg), "%s", pg_config("k_cli"));
	db = db_open_ok(cfg, STLS_DB_OPEN_WRITE);
	db_make_kamcli_table(db);
	stls_db_free(db);
	r = cli_db("upgrade", "--db", cfg, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "table k_cli: 13 columns added, trigger "
			      "siptls_k_cli_notify and ticket key table "
			      "k_cli_keys installed");
	snprintf(cfg, sizeof(cfg), "%s", pg_config("n_cli"));
	r = cli_db("init", "--db", cfg, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "with trigger siptls_n_cli_notify on channel "
			      "siptls_n_cli");
	/* The URI's password is never printed back. */
	r = cli_db("init", "--db", "postgresql://siptls:TopSecret1@127.0.0.1:1"
		   "/x?table=t", NULL);
	CLI_RC(r, 1);
	CHECK(strstr(r->err, "TopSecret1") == NULL);
	CHECK_STR_HAS(r->err, "postgresql://siptls:***@127.0.0.1:1/x");
}

TEST(schema_per_engine)
{
	struct cli_run *r = cli_db("schema", NULL);

	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "-- SQLite: table tlscfg\nCREATE TABLE");
	CHECK_STR_HAS(r->out, "-- PostgreSQL: table tlscfg\nCREATE TABLE");
	CHECK_STR_HAS(r->out, "pg_notify('siptls_tlscfg', TG_OP)");
	r = cli_db("schema", "postgresql", "--kamcli", NULL);
	CLI_RC(r, 0);
	CHECK(strstr(r->out, "SQLite") == NULL);
	CHECK(strstr(r->out, "cipher_suites") == NULL);
	CHECK(strstr(r->out, "pg_notify") == NULL);
	CHECK_STR_HAS(r->out, "\"id\" SERIAL PRIMARY KEY NOT NULL");
	r = cli_db("schema", "--db", "sqlite:/x.db?table=edge", NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "CREATE TABLE \"edge\"");
	CHECK(strstr(r->out, "PostgreSQL") == NULL);
	CLI_RC(cli_db("schema", "mysql", NULL), 2);
}

/* What schema prints runs as it is on SQLite (sqlite3 reads it). */
TEST(schema_output_runs)
{
	struct cli_run *r = cli_db("schema", "sqlite", NULL);
	struct stls_db *db = db_open_ok(db_sqlite_config("s.db"),
					STLS_DB_OPEN_CREATE);
	char *sql = strdup(r->out), *semi;

	CLI_RC(r, 0);
	semi = strrchr(sql, ';');
	CHECK_NOT_NULL(semi);
	*semi = '\0';
	DB_EXEC(db, sql);
	free(sql);
	r = cli_db("upgrade", "--db", db_sqlite_config("s.db"), NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "0 columns added");
	stls_db_free(db);
}
