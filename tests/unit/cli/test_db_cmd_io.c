/*
 * Unit tests for cli/db_cmd_io.c: `db import` (file_type 0 and 1, every
 * profile, checked before commit, --replace) and `db export` (to stdout or
 * a file, PEM files), on SQLite.
 */
#include "cli/cli_db_fixture.h"

static const char *db_with_table(const char *name)
{
	const char *a = db_sqlite_config(name);

	CLI_RC(cli_db("init", "--db", a, NULL), 0);
	return a;
}

static const char *tls_cfg(void)
{
	static char text[4096];

	snprintf(text, sizeof(text),
		 "[server:default]\ncertificate = %s\nprivate_key = %s\n"
		 "[client:any]\nserver_name = gw.example\n"
		 "verify_certificate = 1\nca_list = %s\n"
		 "[client:10.0.0.9:5061]\nserver_id = t9\n",
		 test_cert_path("server.pem"), test_cert_path("server-enc.key"),
		 test_cert_path("ca.pem"));
	return cli_file("tls.cfg", text);
}

TEST(import_paths_then_export_gives_the_same_tls_cfg)
{
	const char *a = db_with_table("i.db"), *cfg = tls_cfg();
	const char *pw = cli_file("pw", "secret\n");
	struct cli_run *r;
	char out[1100], text[4096];

	/* The encrypted key needs its password: refused without it. */
	r = cli_db("import", cfg, "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "tlscfg id=1 column=private_key: private_key: "
			      "'");
	CHECK_STR_HAS(r->err, "is encrypted and no private_key_password is "
			      "set");
	CHECK_STR_HAS(r->err, "nothing was written");
	CLI_RC(cli_db("show", "--db", a, NULL), 0);
	r = cli_db("import", cfg, "--db", a, "--key-password-file", pw, NULL);
	CLI_RC(r, 1); /* file_type 0: the password must be in the row */
	r = cli_db("show", "--db", a, NULL);
	CHECK_EQ(strlen(r->out), 0);
	snprintf(text, sizeof(text),
		 "[server:default]\ncertificate = %s\nprivate_key = %s\n"
		 "[client:any]\nserver_name = gw.example\n"
		 "[client:10.0.0.9:5061]\nserver_id = t9\n",
		 test_cert_path("server.pem"), test_cert_path("server.key"));
	cfg = cli_file("tls2.cfg", text);
	r = cli_db("import", cfg, "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "imported 3 profiles into tlscfg (ids 1..3)\n");
	snprintf(out, sizeof(out), "%s/export.cfg", test_tmp_dir());
	r = cli_db("export", "--db", a, "--out", out, NULL);
	CLI_RC(r, 0);
	/* importing the export again duplicates every profile: refused */
	r = cli_db("import", out, "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "duplicate profile [client:any]");
	/* ... unless it replaces the table */
	CHECK_STR_HAS(r->err, "duplicate profile [server:default]");
	r = cli_db("import", out, "--db", a, "--replace", NULL);
	CLI_RC(r, 0);
	CHECK_STR_EQ(r->out, "imported 3 profiles into tlscfg (ids 4..6)\n");
}

TEST(import_pem_with_the_key_password)
{
	const char *a = db_with_table("p.db"), *cfg = tls_cfg();
	const char *pw = cli_file("pw", "secret\n");
	struct cli_run *r;
	char text[2048];

	r = cli_db("import", cfg, "--db", a, "--file-type", "1",
		   "--key-password-file", pw, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "imported 3 profiles");
	r = cli_db("show", "1", "--db", a, NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "file_type: 1\n");
	CHECK_STR_HAS(r->out, "certificate: PEM: 1 certificate, 0 CRLs");
	CHECK_STR_HAS(r->out, "private_key: PEM: encrypted key");
	CHECK(strstr(r->out, "BEGIN") == NULL);
	/* export needs somewhere for the PEM text */
	r = cli_db("export", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "needs a directory to go to (--pem-dir)");
	r = cli_db("export", "--db", a, "--pem-dir", test_tmp_dir(), NULL);
	CLI_RC(r, 0);
	CHECK_STR_HAS(r->out, "certificate_1.pem\n");
	CHECK_STR_HAS(r->out, "ca_list_2.pem\n");
	/* a plain key cannot be imported as PEM */
	snprintf(text, sizeof(text),
		 "[server:127.0.0.1:5061]\ncertificate = %s\n"
		 "private_key = %s\n", test_cert_path("server.pem"),
		 test_cert_path("server.key"));
	cfg = cli_file("plain.cfg", text);
	r = cli_db("import", cfg, "--db", a, "--file-type", "1",
		   "--key-password-file", pw, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "the PEM key is not encrypted");
	CHECK(strstr(r->err, "PRIVATE KEY") == NULL);
}

TEST(import_of_a_broken_tls_cfg_writes_nothing)
{
	const char *a = db_with_table("b.db");
	struct cli_run *r;

	r = cli_db("import", cli_file("bad.cfg", "[server:default]\n"
						 "method = TLSv9\n"),
		   "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "bad.cfg:2: unsupported enum value 'TLSv9'");
	CHECK_STR_HAS(r->err, "does not load: nothing was imported");
	r = cli_db("import", "/nonexistent.cfg", "--db", a, NULL);
	CLI_RC(r, 1);
	CHECK_STR_HAS(r->err, "cannot read '/nonexistent.cfg'");
	/* A kamcli table lacks our columns until upgraded. */
	{
		char cfg[1200];
		struct stls_db *db;

		snprintf(cfg, sizeof(cfg), "%s?table=k", a);
		db = db_open_ok(cfg, STLS_DB_OPEN_WRITE);
		db_make_kamcli_table(db);
		stls_db_free(db);
		r = cli_db("import", cli_file("cs.cfg", "[client:default]\n"
					      "cipher_suites = "
					      "TLS_AES_128_GCM_SHA256\n"),
			   "--db", cfg, NULL);
		CLI_RC(r, 1);
		CHECK_STR_HAS(r->err, "column cipher_suites is missing from k: "
				      "run `siptlsctl db upgrade`");
	}
}
