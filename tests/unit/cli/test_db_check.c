/*
 * Unit tests for cli/db_check.c: the check before every commit is the
 * daemon's build (files read, keys checked, the main config's inline
 * profiles and settings taken into account), and profiles given as
 * arguments are parsed with the tls.cfg keywords.
 */
#include "cli/cli_db_fixture.h"

/* With -c, the inline profiles of the main config count: a row that
 * duplicates one is refused, as siptlsd would refuse it. */
TEST(inline_profiles_of_the_main_config_count)
{
	const char *a = db_sqlite_config("c.db");
	char text[2400];
	const char *conf;
	struct cli_run *r;

	snprintf(text, sizeof(text),
		 "[tls]\nconfig = %s\n[server:default]\ncertificate = %s\n"
		 "private_key = %s\n", a, test_cert_path("server.pem"),
		 test_cert_path("server.key"));
	conf = cli_file("m.conf", text);
	CLI_RC(cli_db("init", "-c", conf, NULL), 0);
	r = cli_db("add", "server:default", "-c", conf, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "tlscfg id=1: duplicate profile [server:default] "
			      "(first defined at ");
	CHECK_STR_HAS(r->err, "m.conf:3)");
	r = cli_db("add", "client:default", "-c", conf, NULL);
	CLI_RC(r, 0);
}

/* The main config's private_key_password opens PEM keys in rows. */
TEST(main_config_key_password)
{
	const char *a = db_sqlite_config("k.db");
	char text[2400], cert[1100], key[1100];
	const char *conf;
	struct cli_run *r;

	snprintf(text, sizeof(text), "[tls]\nconfig = %s\n"
		 "private_key_password = secret\n", a);
	conf = cli_file("k.conf", text);
	CLI_RC(cli_db("init", "-c", conf, NULL), 0);
	snprintf(cert, sizeof(cert), "certificate=%s",
		 test_cert_path("server.pem"));
	snprintf(key, sizeof(key), "private_key=%s",
		 test_cert_path("server-enc.key"));
	r = cli_db("add", "server:default", cert, key, "--file-type", "1",
		   "-c", conf, NULL);
	CLI_RC(r, 0);
	/* without it the same row does not load */
	a = db_sqlite_config("k2.db");
	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	r = cli_db("add", "server:default", cert, key, "--file-type", "1",
		   "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "is encrypted and no private_key_password is "
			      "set");
}

/* Relative paths on the command line are made absolute. */
TEST(argument_paths_are_absolute)
{
	const char *a = db_sqlite_config("r.db");
	struct stls_db *db;
	struct stls_db_rows *rows = NULL;
	struct stls_db_err err;
	char *cwd = getcwd(NULL, 0), want[1200];
	struct cli_run *r;

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	r = cli_db("add", "client:default", "crl=crl.pem", "--db", a, NULL);
	CLI_RC(r, 1); /* no such file: the check reads it */
	snprintf(want, sizeof(want), "crl: cannot load '%s/crl.pem'", cwd);
	CHECK_STR_HAS(r->err, want);
	db = db_open_ok(a, 0);
	CHECK_OK(stls_db_load_rows(db, &rows, &err));
	CHECK_EQ(stls_db_rows_count(rows), 0);
	stls_db_rows_free(rows);
	stls_db_free(db);
	free(cwd);
}

/* `db check` loads the table as siptlsd would and says so. */
TEST(check_command)
{
	const char *a = db_sqlite_config("ck.db");
	char cert[1100], key[1100];
	struct stls_db *db;
	struct cli_run *r;

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	snprintf(cert, sizeof(cert), "certificate=%s",
		 test_cert_path("server.pem"));
	snprintf(key, sizeof(key), "private_key=%s",
		 test_cert_path("server.key"));
	CLI_RC(cli_db("add", "server:default", cert, key, "--db", a, NULL), 0);
	r = cli_db("check", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "table tlscfg loads: 2 profiles (defaults "
			     "included)\n");
	/* a change made behind siptlsctl's back is found */
	db = db_open_ok(a, STLS_DB_OPEN_WRITE);
	DB_EXEC(db, "UPDATE tlscfg SET method = 'SSLv2'");
	stls_db_free(db);
	r = cli_db("check", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "tlscfg id=1 column=method: tls_method: SSLv2 is "
			      "not available in OpenSSL 3");
	CHECK_STR_HAS(r->err, "table tlscfg does not load (problems above)");
}
