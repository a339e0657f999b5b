/*
 * Unit tests for cli/db_cmd_edit.c: `db add`, `db set` and `db rm`, each
 * one checked transaction: values parsed with the tls.cfg keywords
 * (aliases, booleans), PEM files read for file_type 1, and a change that
 * would not load refused with the row named and nothing written.
 */
#include "cli/cli_db_fixture.h"

/* A table with a working [server:default]. */
static const char *ready(const char *name)
{
	const char *a = db_sqlite_config(name);
	char cert[1100], key[1100];

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	snprintf(cert, sizeof(cert), "certificate=%s",
		 test_cert_path("server.pem"));
	snprintf(key, sizeof(key), "pkey_file=%s",
		 test_cert_path("server.key"));
	CLI_RC(cli_db("add", "server:default", cert, key, "--db", a, NULL), 0);
	return a;
}

static const char *cell(const char *cfg, const char *col, int id)
{
	static char v[256];
	struct stls_db *db = db_open_ok(cfg, 0);
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	size_t i;

	v[0] = '\0';
	CHECK_OK(stls_db_load_rows(db, &r, &err));
	for (i = 0; i < stls_db_rows_count(r); i++) {
		if (atoi(stls_db_rows_get(r, i, 0)) == id) {
			const char *x = stls_db_rows_get(
				r, i, (size_t)stls_db_rows_find(r, col));

			snprintf(v, sizeof(v), "%s", x ? x : "NULL");
		}
	}
	stls_db_rows_free(r);
	stls_db_free(db);
	return v;
}

TEST(add_parses_values_like_tls_cfg)
{
	const char *a = ready("a.db");
	struct cli_run *r;

	r = cli_db("add", "client:[2001:db8::1]:5061", "verify_cert=on",
		   "tls_method=tlsv1.3", "server_name=gw.example",
		   "verify_client=optional_no_ca", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "added id 2: [client:[2001:db8::1]:5061]\n");
	CHECK_STR_EQ(cell(a, "verify_certificate", 2), "1");
	CHECK_STR_EQ(cell(a, "method", 2), "TLSv1.3");
	CHECK_STR_EQ(cell(a, "verify_client", 2), "optional_no_ca");
	CHECK_STR_EQ(cell(a, "profile_name", 2), "[2001:db8::1]:5061");
	/* bad values, keys, headers */
	r = cli_db("add", "client:default", "verify_depth=deep", "--db", a,
		   NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "argument verify_depth: verify_depth: invalid "
			      "integer value 'deep'");
	CLI_RC(cli_db("add", "client:default", "colour=red", "--db", a, NULL),
	       1);
	CLI_RC(cli_db("add", "client:default", "noequals", "--db", a, NULL),
	       2);
	r = cli_db("add", "serverdefault", "--db", a, NULL);
	CLI_RC(r, 2);
	CHECK_STR_HAS(r->err, "the profile is TYPE:NAME");
	r = cli_db("add", "proxy:default", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "invalid profile type 'proxy'");
	/* a duplicate is refused by the check, naming both rows */
	r = cli_db("add", "server:def", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "tlscfg id=3: duplicate profile [server:default] "
			      "(first defined at tlscfg id=1)");
	CHECK_STR_HAS(r->err, "nothing was written");
	CHECK_STR_EQ(cell(a, "id", 3), "");
}

TEST(add_with_pem_files_and_a_missing_file)
{
	const char *a = ready("p.db"), *pw = cli_file("pw", "secret\n");
	char cert[1100], key[1100];
	struct cli_run *r;

	snprintf(cert, sizeof(cert), "certificate=%s",
		 test_cert_path("server2.pem"));
	snprintf(key, sizeof(key), "private_key=%s",
		 test_cert_path("server-enc.key"));
	/* the key is server.pem's, not server2.pem's */
	r = cli_db("add", "server:127.0.0.1:5061", cert, key, "--file-type",
		   "1", "--key-password-file", pw, "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "tlscfg id=2 column=private_key: private_key: "
			      "does not match certificate '(PEM value)'");
	snprintf(cert, sizeof(cert), "certificate=%s",
		 test_cert_path("server.pem"));
	r = cli_db("add", "server:127.0.0.1:5061", cert, key, "--file-type",
		   "1", "--key-password-file", pw, "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(cell(a, "certificate", 2), "-----BEGIN CERTIFICATE");
	CHECK_STR_EQ(cell(a, "file_type", 2), "1");
	r = cli_db("add", "client:default", "ca_list=/nonexistent.pem",
		   "--file-type", "1", "--key-password-file", pw, "--db", a,
		   NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "ca_list: cannot read '/nonexistent.pem'");
}

TEST(set_changes_clears_and_is_checked)
{
	const char *a = ready("s.db");
	struct cli_run *r;

	CLI_RC(cli_db("add", "client:any", "server_name=a.example",
		      "server_id=x", "--db", a, NULL), 0);
	r = cli_db("set", "2", "server_id=", "verify_depth=3",
		   "profile_name=10.0.0.1:5061", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "updated id 2\n");
	CHECK_STR_EQ(cell(a, "server_id", 2), "NULL");
	CHECK_STR_EQ(cell(a, "verify_depth", 2), "3");
	CHECK_STR_EQ(cell(a, "profile_name", 2), "10.0.0.1:5061");
	/* a change that would not load is refused */
	r = cli_db("set", "2", "profile_name=any", "server_name=", "--db", a,
		   NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "tlscfg id=2: profile [client:any] has no "
			      "server_name");
	CHECK_STR_EQ(cell(a, "profile_name", 2), "10.0.0.1:5061");
	r = cli_db("set", "9", "verify_depth=3", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "no row with id 9");
	CLI_RC(cli_db("set", "x", "verify_depth=3", "--db", a, NULL), 2);
	r = cli_db("set", "2", "file_type=7", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "file_type: 0 (paths) or 1 (PEM text), not '7'");
}

/* set on a file_type 1 row reads the new file as PEM. */
TEST(set_reads_pem_files_for_pem_rows)
{
	const char *a = db_sqlite_config("sp.db");
	const char *pw = cli_file("pw", "secret\n");
	char cert[1100], key[1100], ca[1100];
	struct cli_run *r;

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	snprintf(cert, sizeof(cert), "certificate=%s",
		 test_cert_path("server.pem"));
	snprintf(key, sizeof(key), "private_key=%s",
		 test_cert_path("server-enc.key"));
	snprintf(ca, sizeof(ca), "ca_list=%s", test_cert_path("ca.pem"));
	CLI_RC(cli_db("add", "server:default", cert, key, "--file-type", "1",
		      "--key-password-file", pw, "--db", a, NULL), 0);
	r = cli_db("set", "1", ca, "verify_certificate=1",
		   "--key-password-file", pw, "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(cell(a, "ca_list", 1), "-----BEGIN CERTIFICATE");
}

TEST(rm_removes_in_one_transaction)
{
	const char *a = ready("r.db");
	struct cli_run *r;

	CLI_RC(cli_db("add", "client:any", "server_name=a.example", "--db", a,
		      NULL), 0);
	CLI_RC(cli_db("add", "client:any", "server_name=b.example", "--db", a,
		      NULL), 0);
	r = cli_db("rm", "2", "9", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "no row with id 9");
	CHECK_STR_EQ(cell(a, "id", 2), "2"); /* rolled back */
	r = cli_db("rm", "2", "3", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "removed id 2 3\n");
	CHECK_STR_EQ(cell(a, "id", 2), "");
}
