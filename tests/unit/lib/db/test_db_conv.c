/*
 * Unit tests for lib/db/db_conv.c: rows become exactly the profiles the
 * equivalent tls.cfg gives (kamcli's columns and ours), blank cells are
 * unset, file_type 1 holds PEM text, and every problem names the row and
 * the column.
 */
#include "lib/conf/conf_test_util.h"
#include "lib/db/db_fixture.h"
#include "lib/conf/profile_eq.h"

/* kamcli's columns, in its order. */
static const char *const kcols[] = {
	"id", "profile_type", "profile_name", "method", "verify_certificate",
	"verify_depth", "require_certificate", "cipher_list", "server_name",
	"server_name_mode", "server_id", "file_type", "certificate",
	"private_key", "ca_list", "crl",
};
#define NK STLS_ARRAY_SIZE(kcols)

/* Rows as kamcli writes them (NOT NULL ints always set, NULL or '' for
 * unset text). */
static const char *const krows[] = {
	"1", "server", "default", "TLSv1.2+", "1", "3", "1", NULL, "", "0",
	NULL, "0", "/etc/k/s.pem", "/etc/k/s.key", "/etc/k/ca.pem", "",
	"2", "server", "10.0.0.1:5061", "TLSv1.3", "0", "9", "0",
	"ECDHE-ECDSA-AES128-GCM-SHA256", "sip.example.com", "1", "", "0",
	"certs/a.pem", "certs/a.key", NULL, NULL,
	"3", "client", "any", NULL, "1", "9", "0", NULL,
	"carrier.example.net", "2", "trunk-7", "0", NULL, NULL,
	"/etc/k/ca.pem", "/etc/k/crl.pem",
	"4", "client", "[2001:db8::5]:5061", "", "0", "9", "0", " ", NULL,
	"7", NULL, "0", NULL, NULL, NULL, NULL,
};

/* The tls.cfg that `kamcli tls cfgprint` prints for krows. */
static const char ktls_cfg[] =
	"[server:default]\nmethod=TLSv1.2+\nverify_certificate=1\n"
	"verify_depth=3\nrequire_certificate=1\ncertificate=/etc/k/s.pem\n"
	"private_key=/etc/k/s.key\nca_list=/etc/k/ca.pem\n"
	"[server:10.0.0.1:5061]\nmethod=TLSv1.3\nverify_certificate=0\n"
	"verify_depth=9\nrequire_certificate=0\ncertificate=certs/a.pem\n"
	"private_key=certs/a.key\n"
	"cipher_list=ECDHE-ECDSA-AES128-GCM-SHA256\n"
	"server_name=sip.example.com\nserver_name_mode=1\n"
	"[client:any]\nverify_certificate=1\nverify_depth=9\n"
	"require_certificate=0\nca_list=/etc/k/ca.pem\ncrl=/etc/k/crl.pem\n"
	"server_name=carrier.example.net\nserver_name_mode=2\n"
	"server_id=trunk-7\n"
	"[client:[2001:db8::5]:5061]\nverify_certificate=0\nverify_depth=9\n"
	"require_certificate=0\n";

static int conv(const struct stls_db_rows *r, const char *key_password,
		struct stls_profile_conf **list, struct stls_diag *d)
{
	struct stls_db_conv_opts o = { "tlscfg", "/etc/x", key_password };

	return stls_db_conv_rows(r, NULL, &o, list, d);
}

/* A table made by kamcli loads unchanged into the profiles of the
 * tls.cfg that kamcli would print from it. */
TEST(kamcli_rows_give_the_profiles_of_kamcli_cfgprint)
{
	struct stls_db_rows *r = db_rows(kcols, NK, krows, 4);
	struct stls_profile_conf *want = cfg_profiles(ktls_cfg), *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(conv(r, NULL, &got, &d));
	CHECK_EQ(d.n, 0);
	CHECK_PROFILES_EQ(want, got);
	CHECK_STR_EQ(got->next->certificate, "/etc/x/certs/a.pem");
	CHECK_STR_EQ(got->loc.file, "tlscfg id=1");
	CHECK_STR_EQ(got->field_loc[STLS_PF_VERIFY_DEPTH].file,
		     "tlscfg id=1 column=verify_depth");
	stls_profile_conf_list_free(want);
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* Our extension columns, in any column order, map to their keys. */
TEST(extension_columns_in_any_order)
{
	static const char *const cols[] = {
		"verify_client", "cipher_suites", "profile_name", "id",
		"verify_server_name", "ca_path", "profile_type",
		"private_key_password", "certificate2", "private_key2",
		"verify_wildcard",
	};
	static const char *const cells[] = {
		"optional_no_ca", "TLS_AES_128_GCM_SHA256", "default", "9",
		"1", "/etc/ssl/certs", "server", "pw", "/c/rsa.pem",
		"/c/rsa.key", "1",
	};
	struct stls_db_rows *r = db_rows(cols, STLS_ARRAY_SIZE(cols), cells, 1);
	struct stls_profile_conf *want, *got = NULL;
	struct stls_diag d;

	want = cfg_profiles("[server:default]\nverify_client = optional_no_ca\n"
			"cipher_suites = TLS_AES_128_GCM_SHA256\n"
			"verify_server_name = 1\nca_path = /etc/ssl/certs\n"
			"private_key_password = pw\n"
			"certificate2 = /c/rsa.pem\nprivate_key2 = /c/rsa.key\n"
			"verify_wildcard = on\n");
	stls_diag_init(&d);
	CHECK_OK(conv(r, NULL, &got, &d));
	CHECK_PROFILES_EQ(want, got);
	stls_profile_conf_list_free(want);
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* Bad cells are reported at "tlscfg id=N column=C" with tls.cfg's words;
 * every row is checked, and nothing is returned. */
TEST(errors_name_row_and_column)
{
	static const char *const cells[] = {
		"17", "server", "default", "TLSv9", "maybe", "9", "0", NULL,
		NULL, "0", NULL, "0", NULL, NULL, NULL, NULL,
		"18", "proxy", "default", NULL, "0", "9", "0", NULL, NULL,
		"0", NULL, "0", NULL, NULL, NULL, NULL,
		"19", "client", "1.2.3.4", NULL, "0", "x", "0", NULL, NULL,
		"0", NULL, "2", NULL, NULL, NULL, NULL,
		"20", "client", "default", NULL, "0", "9", "0", NULL, NULL,
		"0", NULL, "7", NULL, NULL, NULL, NULL,
		"21", "client", "1.2.3.4:5", NULL, "0", "-1", "0", NULL, NULL,
		"0", NULL, "0", "-----BEGIN CERTIFICATE-----\nAA==", NULL,
		NULL, NULL,
	};
	struct stls_db_rows *r = db_rows(kcols, NK, cells, 5);
	struct stls_profile_conf *got = (void *)1;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(conv(r, NULL, &got, &d), -EINVAL);
	CHECK_NULL(got);
	CHECK_DIAG(&d, "tlscfg id=17 column=method: unsupported enum value "
		       "'TLSv9' for method");
	CHECK_DIAG(&d, "tlscfg id=17 column=verify_certificate: "
		       "verify_certificate: invalid boolean value 'maybe'");
	CHECK_DIAG(&d, "tlscfg id=18 column=profile_type: invalid profile "
		       "type 'proxy' (server or client expected)");
	CHECK_DIAG(&d, "tlscfg id=19 column=profile_name: port number "
		       "missing after '1.2.3.4'");
	CHECK_DIAG(&d, "tlscfg id=20 column=file_type: file_type: 0 (paths) "
		       "or 1 (PEM text), not '7'");
	CHECK_DIAG(&d, "tlscfg id=21 column=verify_depth: verify_depth: value "
		       "-1 out of range 0..2147483647");
	CHECK_DIAG(&d, "tlscfg id=21 column=certificate: certificate: the "
		       "value is PEM text but file_type is 0 (file_type 1 "
		       "takes PEM text)");
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* Two rows for one profile: the second names the first. */
TEST(duplicate_rows_name_each_other)
{
	static const char *const cols[] = { "id", "profile_type",
					    "profile_name", "server_name" };
	static const char *const cells[] = {
		"3", "client", "any", "a.example", "5", "c", "all", "A.EXAMPLE",
		"6", "server", "any", NULL,
	};
	struct stls_db_rows *r = db_rows(cols, 4, cells, 3);
	struct stls_profile_conf *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(conv(r, NULL, &got, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=5: duplicate profile [client:any] with "
		       "server_name 'A.EXAMPLE' (first defined at tlscfg "
		       "id=3)");
	CHECK_DIAG(&d, "tlscfg id=6: profile [server:any] has no server_name "
		       "(an 'any' profile is matched by SNI only)");
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* Tables that are no profile tables, and columns that are no keys. */
TEST(missing_and_unknown_columns)
{
	static const char *const cols[] = { "id", "profile_type", "notes",
					     "cert_file" };
	static const char *const ok_cols[] = { "id", "profile_type",
					       "profile_name", "notes" };
	static const char *const cells[] = { "1", "server", "x", "y" };
	struct stls_db_rows *r = db_rows(cols, 4, cells, 1);
	struct stls_profile_conf *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(conv(r, NULL, &got, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg: no column 'profile_name' (is this a profile "
		       "table?)");
	stls_db_rows_free(r);
	stls_diag_fini(&d);
	stls_diag_init(&d);
	r = db_rows(ok_cols, 4, (const char *const[]){ "1", "client",
						       "default", "n" }, 1);
	CHECK_OK(conv(r, NULL, &got, &d));
	CHECK_DIAG(&d, "tlscfg: warning: column 'notes' is no profile key: "
		       "ignored");
	CHECK_EQ(d.warnings, 1);
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* Values are trimmed like a tls.cfg line; server_name_mode counts only
 * with a server_name; a NULL id still gets a label. */
TEST(trimming_server_name_mode_and_null_id)
{
	static const char *const cols[] = { "id", "profile_type",
					    "profile_name", "method",
					    "server_name_mode", "server_id" };
	static const char *const cells[] = {
		NULL, " server ", " 10.0.0.9 : 5061 ", " TLSv1.3 ", "7",
		" edge-1 ",
	};
	struct stls_db_rows *r = db_rows(cols, 6, cells, 1);
	struct stls_profile_conf *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(conv(r, NULL, &got, &d));
	CHECK_EQ(d.n, 0); /* no "value 7 means 0" warning: not applied */
	CHECK_EQ(got->method, STLS_METHOD_TLSV1_3);
	CHECK_EQ(got->addr.port, 5061);
	CHECK_STR_EQ(got->server_id, "edge-1");
	CHECK_EQ(got->server_name_mode, 0);
	CHECK_STR_EQ(got->loc.file, "tlscfg row 1 (id NULL)");
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* file_type 1: PEM text is kept and marked, an empty key follows the
 * certificate, and a key without a password gets the given one. */
TEST(file_type_1_holds_pem_text)
{
	static const char *cols[] = { "id", "profile_type", "profile_name",
				      "file_type", "certificate",
				      "private_key", "ca_list", "ca_path" };
	char *cert = db_pem("server.pem"), *ca = db_pem("ca.pem");
	const char *cells[] = { "4", "server", "default", "1", cert, NULL,
				ca, "/etc/ssl/certs" };
	struct stls_db_rows *r = db_rows(cols, 8, cells, 1);
	struct stls_profile_conf *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(conv(r, "hush", &got, &d));
	CHECK_STR_EQ(got->certificate, cert);
	CHECK_STR_EQ(got->ca_list, ca);
	CHECK(stls_profile_conf_is_pem(got, STLS_PF_CERTIFICATE));
	CHECK(stls_profile_conf_is_pem(got, STLS_PF_CA_LIST));
	CHECK_STR_EQ(got->private_key, "");
	CHECK_STR_EQ(got->private_key_password, "hush");
	CHECK_STR_EQ(got->ca_path, "/etc/ssl/certs");
	CHECK(!stls_profile_conf_is_pem(got, STLS_PF_CA_PATH));
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	free(cert);
	free(ca);
	stls_diag_fini(&d);
}

/* file_type 1 with a path where PEM text belongs, and key ids. */
TEST(file_type_1_refuses_paths_but_keeps_key_ids)
{
	static const char *const cols[] = { "id", "profile_type",
					    "profile_name", "file_type",
					    "certificate", "private_key" };
	static const char *const cells[] = {
		"8", "client", "default", "1", "/etc/k/c.pem",
		"/uri:pkcs11:object=k",
	};
	struct stls_db_rows *r = db_rows(cols, 6, cells, 1);
	struct stls_profile_conf *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(conv(r, "pw", &got, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=8 column=certificate: certificate: "
		       "file_type is 1 but the value is not PEM text "
		       "(file_type 0 takes a path)");
	CHECK_EQ(d.errors, 1);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* Every HSM key id (docs/hsm.md) stays a key id in a file_type 1 row:
 * the certificate is PEM text, the key stays in the token. */
TEST(file_type_1_keeps_pkcs11_and_engine_key_ids)
{
	static const char *cols[] = { "id", "profile_type", "profile_name",
				      "file_type", "certificate",
				      "private_key", "certificate2",
				      "private_key2" };
	char *cert = db_pem("server.pem"), *rsa = db_pem("server-rsa.pem");
	const char *cells[] = { "5", "server", "default", "1", cert,
				"pkcs11:token=edge;object=sip", rsa,
				"/engine:rsa-label" };
	struct stls_db_rows *r = db_rows(cols, 8, cells, 1);
	struct stls_profile_conf *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(conv(r, NULL, &got, &d));
	CHECK_STR_EQ(got->private_key, "pkcs11:token=edge;object=sip");
	CHECK(!stls_profile_conf_is_pem(got, STLS_PF_PRIVATE_KEY));
	CHECK_STR_EQ(got->private_key2, "/engine:rsa-label");
	CHECK(!stls_profile_conf_is_pem(got, STLS_PF_PRIVATE_KEY2));
	CHECK(stls_profile_conf_is_pem(got, STLS_PF_CERTIFICATE2));
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	free(cert);
	free(rsa);
	stls_diag_fini(&d);
}

/* Inline profiles of the main config come first and count for
 * duplicates. */
TEST(inline_profiles_of_the_main_config)
{
	static const char *const cols[] = { "id", "profile_type",
					    "profile_name" };
	static const char *const cells[] = { "2", "client", "default" };
	struct stls_db_rows *r = db_rows(cols, 3, cells, 1);
	struct stls_profile_conf *got = NULL;
	struct stls_conf *conf = NULL;
	struct stls_db_conv_opts o = { "tlscfg", NULL, NULL };
	struct stls_diag d;
	const char *m;
	char want[1024];

	stls_diag_init(&d);
	m = write_file(test_tmp_dir(), "m.conf",
		       "[tls]\nconfig = sqlite:x.db\n[client:default]\n");
	CHECK_OK(stls_conf_load_ex(m, STLS_CONF_LOAD_DB, &conf, &d));
	CHECK_EQ(stls_db_conv_rows(r, conf, &o, &got, &d), -EINVAL);
	snprintf(want, sizeof(want), "tlscfg id=2: duplicate profile "
		 "[client:default] (first defined at %s:3)", m);
	CHECK_DIAG(&d, want);
	stls_conf_free(conf);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}

/* An empty table gives the two implicit defaults, as an empty tls.cfg. */
TEST(empty_table_gives_the_implicit_defaults)
{
	struct stls_db_rows *r = db_rows(kcols, NK, NULL, 0);
	struct stls_profile_conf *want = cfg_profiles(""), *got = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(conv(r, NULL, &got, &d));
	CHECK_PROFILES_EQ(want, got);
	stls_profile_conf_list_free(want);
	stls_profile_conf_list_free(got);
	stls_db_rows_free(r);
	stls_diag_fini(&d);
}
