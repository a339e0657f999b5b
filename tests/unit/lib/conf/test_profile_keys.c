/*
 * Unit tests for lib/conf/profile_keys.c: every profile key and alias of
 * the behaviour study's section 3.3, siptls's additions, value forms and
 * error messages.
 */
#include "lib/conf/conf_test_util.h"

static struct parsed R;

static struct stls_profile_conf *one(const char *body)
{
	char text[2048];

	snprintf(text, sizeof(text), "[server:default]\n%s", body);
	parse_text(&R, STLS__PARSE_TLSCFG, "tls.cfg", text);
	CHECK_NOT_NULL(R.profiles);
	return R.profiles;
}

TEST(every_key_and_alias_sets_its_field)
{
	struct stls_profile_conf *p;

	p = one("tls_method = TLSv1.2\nverify_cert = yes\n"
		"require_cert = on\nverify_depth = 3\n"
		"verify_client = optional\nverify_server_name = no\n"
		"verify_wildcard = yes\ncert_file = c.pem\n"
		"pkey_file = /uri:pkcs11:object=k\npkey_password = pw\n"
		"cert_file2 = c2.pem\npkey_file2 = k2.pem\n"
		"pkey_password2 = pw2\ncalist_file = ca.pem\n"
		"ca_path = ./cas\ncrl = crl.pem\ncipher_list = HIGH:!aNULL\n"
		"cipher_suites = TLS_AES_256_GCM_SHA384\n"
		"server_name = sip.example.com\nserver_name_mode = 1\n"
		"server_id = carrier-a\n");
	CHECK_EQ(R.diag.errors, 0);
	CHECK_EQ(p->method, STLS_METHOD_TLSV1_2);
	CHECK_EQ(p->verify_certificate, 1);
	CHECK_EQ(p->require_certificate, 1);
	CHECK_EQ(p->verify_depth, 3);
	CHECK_EQ(p->verify_client, STLS_VC_OPTIONAL);
	CHECK_EQ(p->verify_server_name, 0);
	CHECK_EQ(p->verify_wildcard, 1);
	CHECK_STR_EQ(p->certificate, "/etc/x/c.pem");
	CHECK_STR_EQ(p->private_key, "/uri:pkcs11:object=k");
	CHECK_STR_EQ(p->private_key_password, "pw");
	CHECK_STR_EQ(p->certificate2, "/etc/x/c2.pem");
	CHECK_STR_EQ(p->private_key2, "/etc/x/k2.pem");
	CHECK_STR_EQ(p->private_key_password2, "pw2");
	CHECK_STR_EQ(p->ca_list, "/etc/x/ca.pem");
	CHECK_STR_EQ(p->ca_path, "./cas");
	CHECK_STR_EQ(p->crl, "/etc/x/crl.pem");
	CHECK_STR_EQ(p->cipher_list, "HIGH:!aNULL");
	CHECK_STR_EQ(p->cipher_suites, "TLS_AES_256_GCM_SHA384");
	CHECK_STR_EQ(p->server_name, "sip.example.com");
	CHECK_EQ(p->server_name_mode, 1);
	CHECK_STR_EQ(p->server_id, "carrier-a");
	CHECK_EQ(p->field_loc[STLS_PF_SERVER_ID].line, 22);
	CHECK_EQ(p->field_loc[STLS_PF_METHOD].line, 2);
	parsed_fini(&R);
}

TEST(long_key_names_set_the_same_fields)
{
	struct stls_profile_conf *p;

	p = one("method = TLSv1.1+\nverify_certificate = true\n"
		"require_certificate = enabled\nprivate_key = k.pem\n"
		"private_key_password = \"p w\"\ncertificate = c.pem\n"
		"ca_list = ca.pem\ncertificate2 = c2.pem\n"
		"private_key2 = k2.pem\nprivate_key_password2 = x\n");
	CHECK_EQ(R.diag.errors, 0);
	CHECK_EQ(p->method, STLS_METHOD_TLSV1_1_PLUS);
	CHECK_EQ(p->verify_certificate, 1);
	CHECK_EQ(p->require_certificate, 1);
	CHECK_STR_EQ(p->private_key, "/etc/x/k.pem");
	CHECK_STR_EQ(p->private_key_password, "p w");
	CHECK_STR_EQ(p->certificate, "/etc/x/c.pem");
	CHECK_STR_EQ(p->ca_list, "/etc/x/ca.pem");
	CHECK_STR_EQ(p->certificate2, "/etc/x/c2.pem");
	CHECK_STR_EQ(p->private_key2, "/etc/x/k2.pem");
	CHECK_STR_EQ(p->private_key_password2, "x");
	parsed_fini(&R);
}

TEST(every_method_name_and_alias)
{
	static const struct {
		const char *v;
		int m;
	} cases[] = {
		{ "SSLv2", STLS_METHOD_SSLV2 },
		{ "SSLv3", STLS_METHOD_SSLV3 },
		{ "SSLv23", STLS_METHOD_SSLV23 },
		{ "TLSv1", STLS_METHOD_TLSV1 },
		{ "TLSv1.0", STLS_METHOD_TLSV1 },
		{ "TLSv1+", STLS_METHOD_TLSV1_PLUS },
		{ "TLSv1.0+", STLS_METHOD_TLSV1_PLUS },
		{ "TLSv1.1", STLS_METHOD_TLSV1_1 },
		{ "TLSv1.1+", STLS_METHOD_TLSV1_1_PLUS },
		{ "TLSv1.2", STLS_METHOD_TLSV1_2 },
		{ "tlsv1.2+", STLS_METHOD_TLSV1_2_PLUS },
		{ "TLSV1.3", STLS_METHOD_TLSV1_3 },
		{ "TLSv1.3+", STLS_METHOD_TLSV1_3_PLUS },
	};
	char body[64];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		snprintf(body, sizeof(body), "method = %s\n", cases[i].v);
		CHECK_EQ(one(body)->method, cases[i].m);
		CHECK_EQ(R.diag.errors, 0);
		parsed_fini(&R);
	}
}

TEST(every_verify_client_value_and_boolean_word)
{
	static const char *const vc[] = { "off", "ON", "Optional",
					  "optional_no_ca" };
	static const char *const t[] = { "yes", "true", "enable", "enabled",
					 "1", "on", "YES" };
	static const char *const f[] = { "no", "false", "disable", "disabled",
					 "0", "off", "Off" };
	char body[64];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(vc); i++) {
		snprintf(body, sizeof(body), "verify_client = %s\n", vc[i]);
		CHECK_EQ(one(body)->verify_client, (int)i);
		parsed_fini(&R);
	}
	for (i = 0; i < STLS_ARRAY_SIZE(t); i++) {
		snprintf(body, sizeof(body), "verify_wildcard = %s\n", t[i]);
		CHECK_EQ(one(body)->verify_wildcard, 1);
		parsed_fini(&R);
		snprintf(body, sizeof(body), "require_cert = %s\n", f[i]);
		CHECK_EQ(one(body)->require_certificate, 0);
		parsed_fini(&R);
	}
}

TEST(value_errors_name_the_key_as_written)
{
	one("verify_depth = x\nmethod = TLSv9\nverify_cert = 2\n"
	    "foo = 1\nverify_depth = -1\nverify_depth = 101\n"
	    "server_name_mode = y\nverify_client = maybe\n"
	    "Verify_Depth = 1x\n");
	CHECK_DIAG(&R.diag, "tls.cfg:2: verify_depth: invalid integer value "
			    "'x'");
	CHECK_DIAG(&R.diag, "tls.cfg:3: unsupported enum value 'TLSv9' for "
			    "method");
	CHECK_DIAG(&R.diag, "tls.cfg:4: verify_cert: invalid boolean value "
			    "'2'");
	CHECK_DIAG(&R.diag, "tls.cfg:5: unsupported option 'foo'");
	CHECK_DIAG(&R.diag, "tls.cfg:6: verify_depth: value -1 out of range "
			    "0..2147483647");
	CHECK_DIAG(&R.diag, "tls.cfg:7: warning: verify_depth: 101 is an "
			    "unusually deep chain (more than 100)");
	CHECK_DIAG(&R.diag, "tls.cfg:8: server_name_mode: invalid integer "
			    "value 'y'");
	CHECK_DIAG(&R.diag, "tls.cfg:9: unsupported enum value 'maybe' for "
			    "verify_client");
	CHECK_DIAG(&R.diag, "tls.cfg:10: verify_depth: invalid integer value "
			    "'1x'");
	CHECK_EQ(R.diag.errors, 8);
	CHECK_EQ(R.profiles->verify_depth, 101); /* the last good value */
	CHECK_EQ(R.profiles->field_loc[STLS_PF_VERIFY_DEPTH].line, 7);
	parsed_fini(&R);
}

TEST(server_name_mode_other_than_1_or_2_means_0_with_a_warning)
{
	CHECK_EQ(one("server_name_mode = 2\n")->server_name_mode, 2);
	parsed_fini(&R);
	CHECK_EQ(one("server_name_mode = 7\n")->server_name_mode, 0);
	CHECK_DIAG(&R.diag, "tls.cfg:2: warning: server_name_mode: value 7 "
			    "means 0 (exact match)");
	CHECK_EQ(R.diag.errors, 0);
	parsed_fini(&R);
}

TEST(empty_strings_are_kept_as_none)
{
	struct stls_profile_conf *p = one("certificate = \"\"\n"
					  "private_key = \"\"\ncrl = \"\"\n");

	CHECK_STR_EQ(p->certificate, "");
	CHECK_STR_EQ(p->private_key, "");
	CHECK_STR_EQ(p->crl, "");
	CHECK_EQ(p->field_loc[STLS_PF_CERTIFICATE].line, 2);
	parsed_fini(&R);
}

TEST(hsm_key_ids_and_dot_paths_stay_as_written)
{
	struct stls_profile_conf *p =
		one("private_key = /engine:pkcs11:token=T;object=K\n"
		    "certificate = ./local.pem\nca_list = ../ca.pem\n");

	CHECK_STR_EQ(p->private_key, "/engine:pkcs11:token=T;object=K");
	CHECK_STR_EQ(p->certificate, "./local.pem");
	CHECK_STR_EQ(p->ca_list, "../ca.pem");
	parsed_fini(&R);
}

/* The key table is public for lib/db: names, kinds, PEM-capable keys,
 * lookup by alias, and values formatted back as tls.cfg takes them. */
TEST(key_table_info_lookup_and_format)
{
	struct stls_pkey_info ki;
	struct stls_profile_conf *p;
	char buf[64];
	size_t i, pem = 0, secret = 0;
	int m;

	for (i = 0; stls_profile_key_at(i, &ki); i++) {
		pem += ki.pem;
		secret += ki.secret;
		CHECK_EQ(stls_profile_key_find(ki.name), (int)i);
	}
	CHECK_EQ(i, stls_profile_key_count());
	CHECK_EQ(pem, 6);
	CHECK_EQ(secret, 2);
	CHECK(!stls_profile_key_at(i, &ki));
	m = stls_profile_key_find("TLS_METHOD");
	CHECK(m >= 0);
	CHECK(stls_profile_key_at((size_t)m, &ki));
	CHECK_STR_EQ(ki.name, "method");
	CHECK_EQ(ki.kind, STLS_PKEY_ENUM);
	CHECK_EQ(stls_profile_key_find("nonsense"), -1);
	p = one("method = tlsv1.3\nverify_certificate = on\n"
		"server_name_mode = 2\ncert_file = c.pem\n");
	CHECK_STR_EQ(stls_profile_key_format(p, (size_t)m, buf, sizeof(buf)),
		     "TLSv1.3");
	CHECK_STR_EQ(stls_profile_key_format(
			     p, (size_t)stls_profile_key_find("verify_cert"),
			     buf, sizeof(buf)),
		     "1");
	CHECK_STR_EQ(stls_profile_key_format(
			     p,
			     (size_t)stls_profile_key_find("server_name_mode"),
			     buf, sizeof(buf)),
		     "2");
	CHECK_STR_EQ(stls_profile_key_format(
			     p, (size_t)stls_profile_key_find("certificate"),
			     buf, sizeof(buf)),
		     "/etc/x/c.pem");
	/* Unset fields give NULL. */
	CHECK_NULL(stls_profile_key_format(
		p, (size_t)stls_profile_key_find("verify_depth"), buf,
		sizeof(buf)));
	CHECK_NULL(stls_profile_key_format(
		p, (size_t)stls_profile_key_find("crl"), buf, sizeof(buf)));
	CHECK_NULL(stls_profile_key_format(p, 999, buf, sizeof(buf)));
	parsed_fini(&R);
}

/* siptls's operational keys: groups, OCSP stapling and checking, CRL
 * refresh (docs/profiles.md). */
TEST(groups_ocsp_and_crl_refresh_keys)
{
	struct stls_profile_conf *p;

	p = one("groups = X25519:P-256\nocsp_stapling = ON\n"
		"verify_ocsp = hard\ncrl_refresh = on\n");
	CHECK_STR_EQ(p->groups, "X25519:P-256");
	CHECK_STR_EQ(p->ocsp_stapling, "on");
	CHECK_EQ(p->verify_ocsp, STLS_VOCSP_HARD);
	CHECK_EQ(p->crl_refresh, 1);
	CHECK_EQ(p->field_loc[STLS_PF_GROUPS].line, 2);
	CHECK_EQ(p->field_loc[STLS_PF_OCSP_STAPLING].line, 3);
	CHECK_EQ(p->field_loc[STLS_PF_VERIFY_OCSP].line, 4);
	CHECK_EQ(p->field_loc[STLS_PF_CRL_REFRESH].line, 5);
	parsed_fini(&R);

	p = one("ocsp_stapling = file:/var/lib/siptls/a.der\n"
		"verify_ocsp = soft\n");
	CHECK_STR_EQ(p->ocsp_stapling, "file:/var/lib/siptls/a.der");
	CHECK_EQ(p->verify_ocsp, STLS_VOCSP_SOFT);
	parsed_fini(&R);

	p = one("ocsp_stapling = off\n");
	CHECK_STR_EQ(p->ocsp_stapling, "off");
	CHECK_EQ(p->verify_ocsp, STLS_VOCSP_UNSET); /* the template fills */
	CHECK_EQ(p->crl_refresh, -1);
	parsed_fini(&R);

	one("ocsp_stapling = maybe\nocsp_stapling = file:\n"
	    "verify_ocsp = strict\n");
	CHECK_DIAG(&R.diag, "tls.cfg:2: ocsp_stapling: 'maybe' is not off, "
			    "on or file:PATH");
	CHECK_DIAG(&R.diag, "tls.cfg:3: ocsp_stapling: 'file:' is not off, "
			    "on or file:PATH");
	CHECK_DIAG(&R.diag, "tls.cfg:4: unsupported enum value 'strict' for "
			    "verify_ocsp");
	CHECK_EQ(R.diag.errors, 3);
	parsed_fini(&R);
}

/* A relative file: path is resolved like every other path. */
TEST(ocsp_stapling_file_path_is_resolved)
{
	struct stls_profile_conf *p = one("ocsp_stapling = file:ocsp/a.der\n");

	CHECK(strncmp(p->ocsp_stapling, "file:", 5) == 0);
	CHECK_STR_HAS(p->ocsp_stapling, "/ocsp/a.der");
	CHECK(p->ocsp_stapling[5] == '/' || p->ocsp_stapling[5] == '.');
	parsed_fini(&R);
}
