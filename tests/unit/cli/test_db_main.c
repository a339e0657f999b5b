/*
 * Unit tests for cli/db_main.c: commands, options before or after the
 * arguments, usage errors, where the database comes from (--db,
 * $SIPTLS_DB, -c) and the key password file.
 */
#include "cli/cli_db_fixture.h"

TEST(usage_and_unknown_commands)
{
	struct cli_run *r = cli_db(NULL);

	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "usage: siptlsctl db");
	r = cli_db("help", NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->err, "export [--out FILE] [--pem-dir DIR]");
	r = cli_db("frobnicate", NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "unknown command 'frobnicate'");
	r = cli_db("init", "extra", NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "wrong number of arguments");
	r = cli_db("init", "--pem-dir", "/x", NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "unknown option '--pem-dir'");
	r = cli_db("import", "x.cfg", "--file-type", "2", NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "--file-type: 0 (paths) or 1 (PEM text)");
	r = cli_db("show", "--db", NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "'--db' needs a value");
	r = cli_db("show", "--kamcli=1", NULL);
	CLI_RC(r, 2);
}

TEST(where_the_database_comes_from)
{
	const char *a = db_sqlite_config("a.db"), *b = db_sqlite_config("b.db");
	char cfgtext[1300];
	struct cli_run *r;

	unsetenv(STLS_DB_ENV);
	r = cli_db("show", NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "no database: give --db");
	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	/* options after the arguments, and --opt=value */
	CLI_RC(cli_db("show", "--db=sqlite:/nonexistent/x.db", NULL), 1);
	setenv(STLS_DB_ENV, a, 1);
	r = cli_db("show", NULL);
	CLI_RC(r, 0);
	/* -c's [tls] config, when neither --db nor the variable is set */
	unsetenv(STLS_DB_ENV);
	snprintf(cfgtext, sizeof(cfgtext), "[tls]\nconfig = %s\n", b);
	r = cli_db("init", "-c", cli_file("m.conf", cfgtext), NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "created table tlscfg in sqlite:");
	CHECK_STR_HAS(r->out, "/b.db");
	/* a broken main config stops everything */
	r = cli_db("show", "-c", cli_file("bad.conf", "[tls]\nbogus = 1\n"),
		   NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "unknown [tls] parameter 'bogus'");
}

TEST(key_password_file)
{
	const char *a = db_sqlite_config("k.db");
	struct cli_run *r;

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	r = cli_db("show", "--db", a, "--key-password-file", "/nonexistent",
		   NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "cannot read '/nonexistent'");
	r = cli_db("show", "--db", a, "--key-password-file",
		   cli_file("empty", "\n"), NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "the first line is empty");
	CLI_RC(cli_db("show", "--db", a, "--key-password-file",
		      cli_file("pw", "secret\n"), NULL), 0);
}
