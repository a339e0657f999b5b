/*
 * Unit tests for lib/conf/settings_value.c: parsing and range checks,
 * warnings, runtime changes and formatting.
 */
#include "lib/conf/conf_test_util.h"

#include <errno.h>

static struct stls_settings S;
static char err[512];

static int set(const char *name, const char *value)
{
	err[0] = '\0';
	return stls_settings_set_str(&S, stls_setting_find(name), value,
				     "/etc/siptls", err, sizeof(err));
}

static void setup(void)
{
	CHECK_OK(stls_settings_init(&S));
}

TEST(integers_accept_a_minus_sign_and_check_ranges)
{
	setup();
	CHECK_OK(set("connection_timeout", "-1"));
	CHECK_EQ(S.connection_timeout, -1);
	CHECK_OK(set("connection_timeout", "2147483647"));
	CHECK_EQ(set("connection_timeout", "-2"), -ERANGE);
	CHECK_STR_EQ(err, "connection_timeout: value -2 out of range "
			  "-1..2147483647");
	CHECK_EQ(set("connection_timeout", "2147483648"), -ERANGE);
	CHECK_STR_EQ(err, "connection_timeout: value '2147483648' out of range");
	CHECK_EQ(set("verify_depth", "x"), -EINVAL);
	CHECK_STR_EQ(err, "verify_depth: invalid integer value 'x'");
	CHECK_EQ(set("verify_depth", "+3"), -EINVAL);
	CHECK_EQ(set("verify_depth", "3 "), -EINVAL);
	CHECK_EQ(set("verify_depth", ""), -EINVAL);
	CHECK_EQ(set("verify_depth", "-"), -EINVAL);
	CHECK_EQ(set("verify_depth", "101"), -ERANGE);
	CHECK_STR_EQ(err, "verify_depth: value 101 out of range 0..100");
	CHECK_OK(set("verify_depth", "0"));
	CHECK_EQ(S.verify_depth, 0);
	CHECK_EQ(set("con_ct_wq_max", "4194305"), -ERANGE);
	CHECK_OK(set("con_ct_wq_max", "4194304"));
	CHECK_EQ(set("ct_wq_blk_size", "0"), -ERANGE);
	CHECK_EQ(set("ssl_release_buffers", "2"), -ERANGE);
	CHECK_OK(set("ssl_release_buffers", "-1"));
	CHECK_OK(set("ssl_read_ahead", "-1"));
	CHECK_EQ(set("tls_log", "1001"), -ERANGE);
	CHECK_OK(set("tls_log", "1000"));
	CHECK_OK(set("low_mem_threshold1", "0"));
	CHECK_EQ(set("low_mem_threshold2", "-5"), -ERANGE);
	stls_settings_fini(&S);
}

TEST(ssl_max_send_fragment_is_minus_one_or_512_to_16384)
{
	setup();
	CHECK_OK(set("ssl_max_send_fragment", "-1"));
	CHECK_OK(set("ssl_max_send_fragment", "512"));
	CHECK_OK(set("ssl_max_send_fragment", "16384"));
	CHECK_EQ(S.ssl_max_send_fragment, 16384);
	CHECK_EQ(set("ssl_max_send_fragment", "511"), -ERANGE);
	CHECK_STR_EQ(err, "ssl_max_send_fragment: value 511 out of range "
			  "(-1 or 512..16384)");
	CHECK_EQ(set("ssl_max_send_fragment", "0"), -ERANGE);
	CHECK_EQ(set("ssl_max_send_fragment", "16385"), -ERANGE);
	CHECK_EQ(S.ssl_max_send_fragment, 16384);
	stls_settings_fini(&S);
}

TEST(booleans_take_words_and_integers)
{
	static const char *const yes[] = { "yes", "TRUE", "enable", "Enabled",
					   "1", "on", "11" };
	static const char *const no[] = { "no", "False", "DISABLE",
					  "disabled", "0", "off" };
	size_t i;

	setup();
	for (i = 0; i < STLS_ARRAY_SIZE(yes); i++) {
		CHECK_OK(set("session_cache", yes[i]));
		CHECK_EQ(S.session_cache, 1);
	}
	for (i = 0; i < STLS_ARRAY_SIZE(no); i++) {
		CHECK_OK(set("session_cache", no[i]));
		CHECK_EQ(S.session_cache, 0);
	}
	CHECK_OK(set("tls_force_run", "11")); /* the seed's example 1.36 */
	CHECK_EQ(S.tls_force_run, 1);
	CHECK_EQ(set("renegotiation", "maybe"), -EINVAL);
	CHECK_STR_EQ(err, "renegotiation: invalid boolean value 'maybe'");
	stls_settings_fini(&S);
}

TEST(enums_are_case_insensitive_with_the_seed_aliases)
{
	setup();
	CHECK_OK(set("tls_method", "tlsv1.3+"));
	CHECK_EQ(S.tls_method, STLS_METHOD_TLSV1_3_PLUS);
	CHECK_OK(set("tls_method", "TLSv1.0"));
	CHECK_EQ(S.tls_method, STLS_METHOD_TLSV1);
	CHECK_OK(set("tls_method", "TLSv1.0+"));
	CHECK_EQ(S.tls_method, STLS_METHOD_TLSV1_PLUS);
	CHECK_OK(set("tls_method", "SSLv23"));
	CHECK_EQ(S.tls_method, STLS_METHOD_SSLV23);
	CHECK_EQ(set("tls_method", "TLSv9"), -EINVAL);
	CHECK_STR_EQ(err, "unsupported enum value 'TLSv9' for tls_method");
	CHECK_OK(set("verify_client", "OPTIONAL_NO_CA"));
	CHECK_EQ(S.verify_client, STLS_VC_OPTIONAL_NO_CA);
	CHECK_EQ(set("verify_client", "sometimes"), -EINVAL);
	stls_settings_fini(&S);
}

TEST(paths_are_resolved_against_the_main_config_dir)
{
	setup();
	CHECK_OK(set("certificate", "my.pem"));
	CHECK_STR_EQ(S.certificate, "/etc/siptls/my.pem");
	CHECK_OK(set("private_key", "/uri:pkcs11:object=k"));
	CHECK_STR_EQ(S.private_key, "/uri:pkcs11:object=k");
	CHECK_OK(set("ca_list", "./ca.pem"));
	CHECK_STR_EQ(S.ca_list, "./ca.pem");
	CHECK_OK(set("ca_path", "../cas"));
	CHECK_STR_EQ(S.ca_path, "../cas");
	CHECK_OK(set("crl", ""));
	CHECK_STR_EQ(S.crl, "");
	CHECK_OK(set("config", "tls.d"));
	CHECK_STR_EQ(S.config, "/etc/siptls/tls.d");
	CHECK_OK(set("cipher_list", "HIGH:!aNULL"));
	CHECK_STR_EQ(S.cipher_list, "HIGH:!aNULL"); /* strings stay */
	CHECK_OK(set("session_id", "x"));
	CHECK_STR_EQ(S.session_id, "x");
	stls_settings_fini(&S);
}

static const char *warning(const char *name, const char *value)
{
	CHECK_OK(set(name, value));
	return stls_setting_warning(&S, stls_setting_find(name));
}

TEST(warnings_for_obsolete_and_no_effect_parameters)
{
	setup();
	CHECK_STR_EQ(warning("send_timeout", "10"),
		     "obsolete, use [core] send_timeout");
	CHECK_STR_EQ(warning("handshake_timeout", "10"),
		     "obsolete, use [core] handshake_timeout");
	CHECK_STR_HAS(warning("ssl_freelist_max_len", "0"),
		      "No effect: OpenSSL 1.1 removed");
	CHECK_STR_HAS(warning("rand_engine", "fastrand"), "No effect");
	CHECK_STR_HAS(warning("tls_force_run", "11"), "No effect");
	/* The embedder calls it (siptlsd: [core] script, which warns when
	 * there is none): the library has nothing to say. */
	CHECK_NULL(warning("event_callback", "ksr_tls_event"));
	CHECK_NULL(warning("event_callback", ""));
	CHECK_STR_HAS(warning("tls_disable_compression", "0"),
		      "compression stays off");
	CHECK_NULL(warning("tls_disable_compression", "1"));
	/* HSM engines work now: nothing to warn about when set. */
	CHECK_NULL(warning("engine", "pkcs11"));
	CHECK_NULL(warning("engine_config", "/x.cnf"));
	CHECK_NULL(warning("engine_algorithms", "ALL"));
	CHECK_NULL(warning("engine", "NONE"));
	CHECK_NULL(warning("tls_log", "4"));
	stls_settings_fini(&S);
}

TEST(runtime_changes_are_limited_to_runtime_parameters)
{
	const struct stls_setting_desc *ct =
		stls_setting_find("connection_timeout");
	const struct stls_setting_desc *log = stls_setting_find("log");

	setup();
	CHECK_OK(stls_settings_set_runtime(&S, ct, NULL, 180, NULL, err,
					   sizeof(err)));
	CHECK_EQ(stls_settings_get_int(&S, ct), 180);
	CHECK_OK(stls_settings_set_runtime(&S, log, "7", 0, NULL, err,
					   sizeof(err)));
	CHECK_EQ(S.tls_log, 7);
	CHECK_EQ(stls_settings_set_runtime(&S, log, NULL, 2000, NULL, err,
					   sizeof(err)),
		 -ERANGE);
	CHECK_STR_EQ(err, "tls_log: value 2000 out of range 0..1000");
	CHECK_EQ(stls_settings_set_runtime(&S, stls_setting_find("method"),
					   "TLSv1.3", 0, NULL, err,
					   sizeof(err)),
		 -EPERM);
	CHECK_STR_EQ(err, "tls_method cannot be changed at runtime: set it in "
			  "the profiles and run tls.reload");
	CHECK_EQ(stls_settings_set_runtime(&S,
					   stls_setting_find("session_cache"),
					   NULL, 1, NULL, err, sizeof(err)),
		 -EPERM);
	CHECK_STR_HAS(err, "change [tls] and restart");
	CHECK_EQ(S.session_cache, 0);
	CHECK_EQ(stls_settings_set_runtime(&S, stls_setting_find("config"),
					   NULL, 3, "/etc", err, sizeof(err)),
		 -EINVAL);
	CHECK_OK(stls_settings_set_runtime(&S, stls_setting_find("config"),
					   "new_tls.cfg", 0, "/etc/siptls",
					   err, sizeof(err)));
	CHECK_STR_EQ(S.config, "/etc/siptls/new_tls.cfg");
	CHECK_EQ(stls_settings_set_runtime(&S, ct, "abc", 0, NULL, err,
					   sizeof(err)),
		 -EINVAL);
	CHECK_EQ(stls_settings_get_int(&S, stls_setting_find("config")), 0);
	stls_settings_fini(&S);
}

static const char *fmt(const char *name)
{
	static char buf[256];

	CHECK(stls_settings_format(&S, stls_setting_find(name), buf,
				   sizeof(buf)) >= 0);
	return buf;
}

TEST(format_prints_values_and_masks_the_password)
{
	char small[4];

	setup();
	CHECK_STR_EQ(fmt("tls_method"), "TLSv1.2+");
	CHECK_STR_EQ(fmt("verify_client"), "off");
	CHECK_STR_EQ(fmt("connection_timeout"), "600");
	CHECK_STR_EQ(fmt("low_mem_threshold1"), "-1");
	CHECK_STR_EQ(fmt("ca_list"), "");
	CHECK_STR_EQ(fmt("private_key_password"), "");
	CHECK_OK(set("private_key_password", "secret"));
	CHECK_STR_EQ(fmt("private_key_password"), "...");
	CHECK_OK(set("ca_list", "ca.pem"));
	CHECK_STR_EQ(fmt("ca_list"), "/etc/siptls/ca.pem");
	CHECK_EQ(stls_settings_format(&S, stls_setting_find("session_id"),
				      small, sizeof(small)),
		 -ENOBUFS);
	CHECK_EQ(strlen(small), 3);
	CHECK_EQ(stls_settings_format(&S, stls_setting_find("tls_log"),
				      small, sizeof(small)),
		 1);
	stls_settings_fini(&S);
}

TEST(format_hides_a_pin_in_a_key_id_and_keeps_uris_unresolved)
{
	setup();
	CHECK_OK(set("private_key",
		     "pkcs11:token=edge;object=sip?pin-value=1234"));
	CHECK_STR_EQ(S.private_key,
		     "pkcs11:token=edge;object=sip?pin-value=1234");
	CHECK_STR_EQ(fmt("private_key"),
		     "pkcs11:token=edge;object=sip?pin-value=***");
	CHECK_OK(set("private_key", "/engine:my_HSM_key_label"));
	CHECK_STR_EQ(fmt("private_key"), "/engine:my_HSM_key_label");
	CHECK_OK(set("engine_config", "openssl.cnf"));
	CHECK_STR_EQ(fmt("engine_config"), "/etc/siptls/openssl.cnf");
	stls_settings_fini(&S);
}

/* `config` keeps a database URI (a SQLite path is resolved) and never
 * shows a password written in a PostgreSQL URI. */
TEST(config_takes_database_sources_and_hides_passwords)
{
	char small[20];

	setup();
	CHECK_OK(set("config", "sqlite:tls.db"));
	CHECK_STR_EQ(S.config, "sqlite:/etc/siptls/tls.db");
	CHECK_STR_EQ(fmt("config"), "sqlite:/etc/siptls/tls.db");
	CHECK_OK(set("config", "postgresql://siptls:pw@db/sip?table=t"));
	CHECK_STR_EQ(S.config, "postgresql://siptls:pw@db/sip?table=t");
	CHECK_STR_EQ(fmt("config"), "postgresql://siptls:***@db/sip?table=t");
	CHECK_EQ(stls_settings_format(&S, stls_setting_find("config"), small,
				      sizeof(small)),
		 -ENOBUFS);
	CHECK(strstr(small, "pw") == NULL);
	CHECK_OK(set("config", "tls.cfg"));
	CHECK_STR_EQ(fmt("config"), "/etc/siptls/tls.cfg");
	stls_settings_fini(&S);
}
