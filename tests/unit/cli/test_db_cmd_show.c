/*
 * Unit tests for cli/db_cmd_show.c: rows one per line or one row in
 * full; PEM text summed up and passwords hidden, never printed.
 */
#include "cli/cli_db_fixture.h"

TEST(show_lines_and_one_row)
{
	const char *a = db_sqlite_config("s.db");
	char *cert = db_pem("server.pem"), *plain = db_pem("server.key");
	struct stls_db *db;
	struct cli_run *r;

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	db = db_open_ok(a, STLS_DB_OPEN_WRITE);
	DB_EXEC(db, "INSERT INTO tlscfg (profile_type, profile_name, "
		    "file_type, certificate, private_key, "
		    "private_key_password, server_id) VALUES ('server', "
		    "'default', 1, $1, $2, 'Hush-7', 'edge')", cert, plain);
	DB_EXEC(db, "INSERT INTO tlscfg (profile_type, profile_name) VALUES "
		    "('client', 'default')");
	stls_db_free(db);
	r = cli_db("show", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "1 [server:default] verify_certificate=0 ");
	CHECK_STR_HAS(r->out, "certificate=PEM: 1 certificate, 0 CRLs, ");
	CHECK_STR_HAS(r->out, "private_key=PEM: NOT ENCRYPTED (refused) key");
	CHECK_STR_HAS(r->out, "private_key_password=...");
	CHECK_STR_HAS(r->out, "\n2 [client:default] ");
	CHECK(strstr(r->out, "Hush-7") == NULL);
	CHECK(strstr(r->out, "BEGIN") == NULL);
	r = cli_db("show", "1", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "id: 1\nprofile_type: server\n");
	CHECK_STR_HAS(r->out, "server_id: edge\n");
	CHECK(strstr(r->out, "Hush-7") == NULL);
	r = cli_db("show", "7", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "no row with id 7");
	free(cert);
	free(plain);
}

TEST(show_refuses_other_tables)
{
	const char *a = db_sqlite_config("o.db");
	char cfg[1200];
	struct stls_db *db = db_open_ok(a, STLS_DB_OPEN_CREATE);
	struct cli_run *r;

	DB_EXEC(db, "CREATE TABLE other (id INTEGER, x TEXT)");
	stls_db_free(db);
	snprintf(cfg, sizeof(cfg), "%s?table=other", a);
	r = cli_db("show", "--db", cfg, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "other is no profile table");
	snprintf(cfg, sizeof(cfg), "%s?table=none", a);
	r = cli_db("show", "--db", cfg, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "no such table: none");
}
