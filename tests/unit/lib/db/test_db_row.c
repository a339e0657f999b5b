/*
 * Unit tests for lib/db/db_row.c: the row of a parsed profile (written
 * keys only, canonical names, file_type 0 and 1), the column check
 * against a kamcli table, and INSERT/UPDATE/DELETE by id on SQLite.
 */
#include "lib/conf/conf_test_util.h"
#include "lib/db/db_fixture.h"
#include "lib/conf/profile_eq.h"

static const char *val(const struct stls_db_row *r, const char *col)
{
	size_t i;

	for (i = 0; i < stls_db_row_count(r); i++) {
		if (strcmp(stls_db_row_col(r, i), col) == 0) {
			return stls_db_row_val(r, i) ? stls_db_row_val(r, i)
						     : "(null)";
		}
	}
	return NULL;
}

TEST(row_of_a_profile_has_the_written_keys_only)
{
	struct stls_profile_conf *p = cfg_profiles(
		"[srv:[2001:db8::1]:5061]\ntls_method = tlsv1.3\n"
		"cert_file = c.pem\nprivate_key = \"\"\nverify_cert = yes\n"
		"cipher_suites = TLS_AES_128_GCM_SHA256\n");
	struct stls_db_row *r = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_db_row_from_profile(p, 0, &r, &d));
	CHECK_STR_EQ(val(r, "profile_type"), "server");
	CHECK_STR_EQ(val(r, "profile_name"), "[2001:db8::1]:5061");
	CHECK_STR_EQ(val(r, "file_type"), "0");
	CHECK_STR_EQ(val(r, "method"), "TLSv1.3");
	CHECK_STR_EQ(val(r, "certificate"), "/etc/x/c.pem");
	/* "" = the key follows the certificate: its path says the same */
	CHECK_STR_EQ(val(r, "private_key"), "/etc/x/c.pem");
	CHECK_STR_EQ(val(r, "verify_certificate"), "1");
	CHECK_STR_EQ(val(r, "cipher_suites"), "TLS_AES_128_GCM_SHA256");
	CHECK_NULL(val(r, "verify_depth")); /* the template's, not written */
	CHECK_EQ(stls_db_row_count(r), 8);
	stls_db_row_free(r);
	stls_profile_conf_list_free(p);
	stls_diag_fini(&d);
}

TEST(file_type_1_reads_the_pem_files)
{
	char text[4096], *cert = db_pem("server.pem"), *ca = db_pem("ca.pem");
	struct stls_profile_conf *p;
	struct stls_db_row *r = NULL;
	struct stls_diag d;

	snprintf(text, sizeof(text),
		 "[server:default]\ncertificate = %s\nprivate_key = \"\"\n"
		 "ca_list = %s\nca_path = /etc/ssl/certs\n",
		 test_cert_path("server.pem"), test_cert_path("ca.pem"));
	p = cfg_profiles(text);
	stls_diag_init(&d);
	CHECK_OK(stls_db_row_from_profile(p, 1, &r, &d));
	CHECK_STR_EQ(val(r, "file_type"), "1");
	CHECK_STR_EQ(val(r, "certificate"), cert);
	CHECK_STR_EQ(val(r, "ca_list"), ca);
	CHECK_STR_EQ(val(r, "private_key"), "(null)");
	CHECK_STR_EQ(val(r, "ca_path"), "/etc/ssl/certs");
	stls_db_row_free(r);
	stls_profile_conf_list_free(p);
	/* A missing file and a file without PEM text are named. */
	p = cfg_profiles("[client:default]\ncertificate = /nonexistent.pem\n"
		      "crl = /etc/hostname\n");
	CHECK_EQ(stls_db_row_from_profile(p, 1, &r, &d), -EINVAL);
	CHECK_STR_HAS(d.v[0].msg, "certificate: cannot read "
				  "'/nonexistent.pem': No such file");
	CHECK_STR_HAS(d.v[1].msg, "crl: no PEM text in '/etc/hostname'");
	CHECK_EQ(d.v[0].line, 2);
	stls_profile_conf_list_free(p);
	free(cert);
	free(ca);
	stls_diag_fini(&d);
}

/* file_type 1 stores PEM text, but an HSM key id is no file: every kind
 * (pkcs11: URI, /engine:, /uri:) stays an id in the row. */
TEST(file_type_1_keeps_hsm_key_ids)
{
	static const char *const ids[] = {
		"pkcs11:token=edge;object=sip", "/engine:sip-key",
		"/uri:pkcs11:object=k",
	};
	char text[4096], *cert = db_pem("server.pem");
	struct stls_profile_conf *p;
	struct stls_db_row *r = NULL;
	struct stls_diag d;
	size_t i;

	stls_diag_init(&d);
	for (i = 0; i < STLS_ARRAY_SIZE(ids); i++) {
		snprintf(text, sizeof(text),
			 "[server:default]\ncertificate = %s\n"
			 "private_key = %s\n",
			 test_cert_path("server.pem"), ids[i]);
		p = cfg_profiles(text);
		CHECK_OK(stls_db_row_from_profile(p, 1, &r, &d));
		CHECK_STR_EQ(val(r, "certificate"), cert);
		CHECK_STR_EQ(val(r, "private_key"), ids[i]);
		stls_db_row_free(r);
		stls_profile_conf_list_free(p);
	}
	CHECK_EQ(d.n, 0);
	free(cert);
	stls_diag_fini(&d);
}

/* A row naming an extension column is refused by a kamcli table until it
 * is upgraded; names that are no columns never reach SQL. */
TEST(columns_are_checked_against_the_table)
{
	struct stls_db *db = db_open_ok(db_sqlite_config("k.db"),
					STLS_DB_OPEN_CREATE);
	struct stls_db_rows *cols = NULL;
	struct stls_db_row *r = NULL;
	struct stls_db_err err;
	size_t added;

	db_make_kamcli_table(db);
	CHECK_OK(stls_db_admin_columns(db, &cols, &err));
	CHECK_OK(stls_db_row_new(&r));
	CHECK_OK(stls_db_row_set(r, "profile_type", "client"));
	CHECK_OK(stls_db_row_check(r, cols, "tlscfg", &err));
	CHECK_OK(stls_db_row_set(r, "cipher_suites", "X"));
	CHECK_EQ(stls_db_row_check(r, cols, "tlscfg", &err), -ENOENT);
	CHECK_STR_EQ(err.msg, "column cipher_suites is missing from tlscfg: "
			      "run `siptlsctl db upgrade`");
	stls_db_rows_free(cols);
	CHECK_OK(stls_db_admin_upgrade(db, &added, &err));
	CHECK_OK(stls_db_admin_columns(db, &cols, &err));
	CHECK_OK(stls_db_row_check(r, cols, "tlscfg", &err));
	CHECK_OK(stls_db_row_set(r, "x\" text, \"y", "1"));
	CHECK_EQ(stls_db_row_check(r, cols, "tlscfg", &err), -EINVAL);
	CHECK_EQ(stls_db_row_insert(db, r, NULL, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "is no column");
	stls_db_rows_free(cols);
	stls_db_row_free(r);
	stls_db_free(db);
}

TEST(insert_update_delete_by_id)
{
	struct stls_db *db = db_open_ok(db_sqlite_config("w.db"),
					STLS_DB_OPEN_CREATE);
	struct stls_db_rows *rows = NULL;
	struct stls_db_row *r = NULL;
	struct stls_db_err err;
	long long id = 0, id2 = 0;

	CHECK_OK(stls_db_admin_init(db, &err));
	CHECK_OK(stls_db_row_new(&r));
	CHECK_OK(stls_db_row_set(r, "profile_type", "server"));
	CHECK_OK(stls_db_row_set(r, "profile_name", "default"));
	CHECK_OK(stls_db_row_set(r, "server_id", "it's \"quoted\""));
	CHECK_OK(stls_db_row_insert(db, r, &id, &err));
	CHECK_OK(stls_db_row_set(r, "profile_name", "any"));
	CHECK_OK(stls_db_row_insert(db, r, &id2, &err));
	CHECK(id > 0 && id2 == id + 1);
	stls_db_row_free(r);
	CHECK_OK(stls_db_row_new(&r));
	CHECK_OK(stls_db_row_set(r, "server_id", NULL));
	CHECK_OK(stls_db_row_set(r, "method", "TLSv1.3"));
	CHECK_OK(stls_db_row_update(db, id, r, &err));
	CHECK_EQ(stls_db_row_update(db, 999, r, &err), -ENOENT);
	CHECK_STR_HAS(err.msg, "no row with id 999");
	CHECK_OK(stls_db_row_delete(db, id2, &err));
	CHECK_EQ(stls_db_row_delete(db, id2, &err), -ENOENT);
	CHECK_OK(stls_db_load_rows(db, &rows, &err));
	CHECK_EQ(stls_db_rows_count(rows), 1);
	CHECK_STR_EQ(stls_db_rows_get(rows, 0, 3), "TLSv1.3");
	CHECK_NULL(stls_db_rows_get(rows, 0, (size_t)stls_db_rows_find(
						     rows, "server_id")));
	stls_db_rows_free(rows);
	stls_db_row_free(r);
	CHECK_OK(stls_db_row_new(&r));
	CHECK_EQ(stls_db_row_insert(db, r, NULL, &err), -EINVAL);
	stls_db_row_free(r);
	stls_db_free(db);
}

/* A profile written as a row and read back is the same profile. */
TEST(profile_row_profile_round_trip)
{
	struct stls_profile_conf *p = cfg_profiles(
		"[client:10.1.1.1:5061]\nserver_name = gw.example\n"
		"server_name_mode = 2\nverify_client = optional\n"
		"verify_depth = 4\nserver_id = gw\ncrl = crl.pem\n"
		"private_key_password = pw\n");
	struct stls_db *db = db_open_ok(db_sqlite_config("rt.db"),
					STLS_DB_OPEN_CREATE);
	struct stls_db_conv_opts o = { "tlscfg", "/etc/x", NULL };
	struct stls_profile_conf *back = NULL;
	struct stls_db_rows *rows = NULL;
	struct stls_db_row *r = NULL;
	struct stls_db_err err;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_db_admin_init(db, &err));
	CHECK_OK(stls_db_row_from_profile(p, 0, &r, &d));
	CHECK_OK(stls_db_row_insert(db, r, NULL, &err));
	CHECK_OK(stls_db_load_rows(db, &rows, &err));
	CHECK_OK(stls_db_conv_rows(rows, NULL, &o, &back, &d));
	CHECK_PROFILES_EQ(p, back);
	stls_profile_conf_list_free(back);
	stls_db_rows_free(rows);
	stls_db_row_free(r);
	stls_profile_conf_list_free(p);
	stls_db_free(db);
	stls_diag_fini(&d);
}
