/*
 * Unit tests for cli/db_msg.c, seen from the command line: a usage error
 * prints its message, then the command's usage once (db_main.c), and a
 * failure prints "siptlsctl db CMD: message" without usage.
 */
#include "cli/cli_db_fixture.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

TEST(usage_error_then_usage_text_once)
{
	/* Found by the command itself (db_cmd_table.c), not the parser. */
	struct cli_run *r = cli_db("schema", "bogus", NULL);

	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "siptlsctl db schema: engine 'bogus'");
	CHECK_EQ(count(r->err, "usage: siptlsctl db"), 1);
	CHECK_STR_HAS(r->err, "schema [sqlite|postgresql] [--kamcli]");
	CHECK(strstr(r->err, "siptlsctl db schema: ") <
	      strstr(r->err, "usage: siptlsctl db"));
}

TEST(failure_has_no_usage_text)
{
	struct cli_run *r = cli_db("show", "--db", "sqlite:/nonexistent/x.db",
				   NULL);

	CHECK(r->rc != 0 && r->rc != 2);
	CHECK_STR_HAS(r->err, "siptlsctl db show: ");
	CHECK_EQ(count(r->err, "usage:"), 0);
}
