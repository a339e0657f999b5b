/*
 * Unit tests for lib/db/db_load.c: what a daemon calls. A table becomes
 * the profile set a tls.cfg with the same content gives (same matching),
 * PEM rows build from memory with the main config's key password, the
 * digest follows the rows, and database failures reach the diag.
 */
#include "lib/conf/conf_test_util.h"
#include "lib/db/db_fixture.h"

static struct stls_db *table(const char *name)
{
	struct stls_db *db = db_open_ok(db_sqlite_config(name),
					STLS_DB_OPEN_CREATE);
	struct stls_db_err err;

	CHECK_OK(stls_db_admin_init(db, &err));
	return db;
}

static void settings(struct stls_settings *s)
{
	CHECK_OK(stls_settings_init(s));
	CHECK_OK(stls_settings_resolve_defaults(s, test_tmp_dir()));
}

/* The same two profiles from rows and from a tls.cfg match the same
 * connections to the same profiles. */
TEST(set_from_rows_matches_like_the_tls_cfg)
{
	struct stls_db *db = table("m.db");
	struct stls_profile_set *from_db = NULL, *from_cfg = NULL;
	struct stls_profile_conf *list = NULL;
	struct stls_settings s;
	struct stls_diag d;
	struct stls_addr a;
	char cfg[4096];
	const char *sni[] = { NULL, "sip.example.test", "other.example.test" };
	size_t i;

	settings(&s);
	stls_diag_init(&d);
	DB_EXEC(db, "INSERT INTO tlscfg (profile_type, profile_name, "
		    "certificate, private_key) VALUES ('server', 'default', "
		    "$1, $2)", test_cert_path("server.pem"),
		    test_cert_path("server.key"));
	DB_EXEC(db, "INSERT INTO tlscfg (profile_type, profile_name, "
		    "server_name, certificate, private_key) VALUES ('server', "
		    "'127.0.0.1:5061', 'other.example.test', $1, $2)",
		    test_cert_path("server2.pem"),
		    test_cert_path("server2.key"));
	CHECK_OK(stls_db_profile_set_build(db, NULL, &s, NULL, &d, &from_db));
	snprintf(cfg, sizeof(cfg),
		 "[server:default]\ncertificate = %s\nprivate_key = %s\n"
		 "[server:127.0.0.1:5061]\nserver_name = other.example.test\n"
		 "certificate = %s\nprivate_key = %s\n",
		 test_cert_path("server.pem"), test_cert_path("server.key"),
		 test_cert_path("server2.pem"), test_cert_path("server2.key"));
	free(s.config);
	s.config = strdup(write_file(test_tmp_dir(), "tls.cfg", cfg));
	CHECK_OK(stls_conf_load_profiles(&s, test_tmp_dir(), &list, &d));
	CHECK_OK(stls_profile_set_build(&s, list, &d, &from_cfg));
	CHECK_EQ(stls_profile_set_count(from_db),
		 stls_profile_set_count(from_cfg));
	CHECK_OK(stls_addr_parse("127.0.0.1:5061", true, &a));
	for (i = 0; i < STLS_ARRAY_SIZE(sni); i++) {
		CHECK_STR_EQ(stls_profile_name(stls_profile_set_match_server(
				     from_db, &a, sni[i])),
			     stls_profile_name(stls_profile_set_match_server(
				     from_cfg, &a, sni[i])));
	}
	stls_profile_conf_list_free(list);
	stls_profile_set_unref(from_db);
	stls_profile_set_unref(from_cfg);
	stls_settings_fini(&s);
	stls_diag_fini(&d);
	stls_db_free(db);
}

/* file_type 1 rows build from memory; the key password comes from the
 * main config's private_key_password; a plain key is refused and named
 * by row and column. */
TEST(pem_rows_build_with_the_main_config_password)
{
	struct stls_db *db = table("p.db");
	struct stls_profile_set *set = NULL;
	char *cert = db_pem("server.pem"), *enc = db_pem("server-enc.key");
	char *plain = db_pem("server.key");
	struct stls_settings s;
	struct stls_diag d;

	settings(&s);
	stls_diag_init(&d);
	DB_EXEC(db, "INSERT INTO tlscfg (id, profile_type, profile_name, "
		    "file_type, certificate, private_key) VALUES (17, "
		    "'server', 'default', 1, $1, $2)", cert, enc);
	CHECK_EQ(stls_db_profile_set_build(db, NULL, &s, NULL, &d, &set),
		 -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=17 column=private_key: private_key: "
		       "'(PEM value)' is encrypted and no private_key_password "
		       "is set");
	stls_diag_fini(&d);
	stls_diag_init(&d);
	free(s.private_key_password);
	s.private_key_password = strdup("secret");
	CHECK_OK(stls_db_profile_set_build(db, NULL, &s, NULL, &d, &set));
	stls_profile_set_unref(set);
	set = NULL;
	/* A key password given by the caller (a file) wins. */
	CHECK_EQ(stls_db_profile_set_build(db, NULL, &s, "wrong", &d, &set),
		 -EINVAL);
	CHECK_STR_EQ(d.v[0].file, "tlscfg id=17 column=private_key");
	CHECK_STR_HAS(d.v[0].msg, "private_key: cannot decrypt '(PEM value)' "
				  "(wrong password?): bad decrypt");
	stls_diag_fini(&d);
	stls_diag_init(&d);
	DB_EXEC(db, "UPDATE tlscfg SET private_key = $1", plain);
	CHECK_EQ(stls_db_profile_set_build(db, NULL, &s, NULL, &d, &set),
		 -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=17 column=private_key: private_key: the PEM "
		       "key is not encrypted: a key held in the database must "
		       "be encrypted (with private_key_password from the main "
		       "config or a file)");
	for (size_t i = 0; i < d.n; i++) {
		CHECK(strstr(d.v[i].msg, "PRIVATE KEY") == NULL);
	}
	free(cert);
	free(enc);
	free(plain);
	stls_settings_fini(&s);
	stls_diag_fini(&d);
	stls_db_free(db);
}

/* The digest changes with the rows; a missing table is a diag entry. */
TEST(digest_and_database_errors)
{
	struct stls_db *db = table("d.db"), *none;
	struct stls_profile_conf *list = NULL;
	uint8_t d1[32], d2[32], d3[32];
	struct stls_settings s;
	struct stls_diag d;
	char cfg[1200];

	settings(&s);
	stls_diag_init(&d);
	CHECK_OK(stls_db_profiles_load(db, NULL, &s, NULL, &list, d1, &d));
	stls_profile_conf_list_free(list);
	CHECK_OK(stls_db_profiles_load(db, NULL, &s, NULL, &list, d2, &d));
	stls_profile_conf_list_free(list);
	CHECK(memcmp(d1, d2, 32) == 0);
	DB_EXEC(db, "INSERT INTO tlscfg (profile_type, profile_name) VALUES "
		    "('client', 'default')");
	CHECK_OK(stls_db_profiles_load(db, NULL, &s, NULL, &list, d3, &d));
	CHECK(memcmp(d1, d3, 32) != 0);
	CHECK_EQ(list->role, STLS_ROLE_CLIENT);
	CHECK(!list->implicit);
	stls_profile_conf_list_free(list);
	snprintf(cfg, sizeof(cfg), "%s?table=nothere",
		 db_sqlite_config("d.db"));
	none = db_open_ok(cfg, 0);
	CHECK_EQ(stls_db_profiles_load(none, NULL, &s, NULL, &list, NULL, &d),
		 -EIO);
	CHECK_NULL(list);
	CHECK_EQ(d.errors, 1);
	CHECK_STR_HAS(d.v[0].msg, "d.db?table=nothere: no such table: "
				  "nothere");
	stls_db_free(none);
	stls_settings_fini(&s);
	stls_diag_fini(&d);
	stls_db_free(db);
}
