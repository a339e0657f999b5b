/*
 * Unit tests for lib/conf/settings.c: the table itself (every seed
 * parameter, names, flags, defaults) and the settings lifecycle.
 */
#include "lib/conf/conf_test_util.h"

#include <limits.h>

/* Section 10 of the seed, in order. */
static const char *const seed_params[] = {
	"tls_method", "certificate", "private_key", "ca_list", "crl",
	"verify_certificate", "verify_depth", "require_certificate",
	"cipher_list", "server_name", "send_timeout", "handshake_timeout",
	"connection_timeout", "tls_disable_compression",
	"ssl_release_buffers", "ssl_freelist_max_len",
	"ssl_max_send_fragment", "ssl_read_ahead", "send_close_notify",
	"con_ct_wq_max", "ct_wq_max", "ct_wq_blk_size", "tls_log",
	"tls_debug", "low_mem_threshold1", "low_mem_threshold2",
	"tls_force_run", "session_cache", "session_id", "renegotiation",
	"config", "xavp_cfg", "event_callback", "rand_engine", "engine",
	"engine_config", "engine_algorithms", "verify_client",
};

/* siptls's additions beyond the seed's 38. */
static const char *const additions[] = {
	"ca_path", "private_key_password", "private_key_password_file",
	"cipher_suites", "session_tickets",
	"groups", "ocsp_stapling", "verify_ocsp", "crl_refresh",
	"fetch_timeout", "crl_refresh_interval", "watch_files", "watch_delay",
	"keylog_file", "keylog_enable", "load_threads",
};

TEST(table_has_every_seed_parameter_and_the_additions)
{
	size_t i;

	CHECK_EQ(STLS_ARRAY_SIZE(seed_params), 38);
	for (i = 0; i < STLS_ARRAY_SIZE(seed_params); i++) {
		const struct stls_setting_desc *d =
			stls_setting_find(seed_params[i]);

		CHECK_NOT_NULL(d);
		CHECK_STR_EQ(d->name, seed_params[i]);
	}
	for (i = 0; i < STLS_ARRAY_SIZE(additions); i++)
		CHECK_NOT_NULL(stls_setting_find(additions[i]));
	CHECK_EQ(stls_setting_count(), 38 + STLS_ARRAY_SIZE(additions));
	CHECK_NULL(stls_setting_at(38 + STLS_ARRAY_SIZE(additions)));
	CHECK(stls_setting_count() <= 64); /* size of the location arrays */
}

TEST(table_names_are_unique_and_documented)
{
	size_t i, j;

	for (i = 0; i < stls_setting_count(); i++) {
		const struct stls_setting_desc *a = stls_setting_at(i);

		CHECK_NOT_NULL(a->cfg_name);
		CHECK(a->doc && strlen(a->doc) > 20);
		for (j = 0; j < i; j++) {
			const struct stls_setting_desc *b = stls_setting_at(j);

			CHECK(strcasecmp(a->name, b->name) != 0);
			CHECK(strcasecmp(a->cfg_name, b->cfg_name) != 0);
			CHECK(strcasecmp(a->name, b->cfg_name) != 0 ||
			      a == stls_setting_find(a->name));
		}
	}
}

TEST(exactly_the_seed_runtime_parameters_are_runtime)
{
	static const char *const rt[] = {
		"connection_timeout", "send_close_notify", "con_ct_wq_max",
		"ct_wq_max", "ct_wq_blk_size", "tls_log", "tls_debug",
		"low_mem_threshold1", "low_mem_threshold2", "config",
	};
	size_t i, j, n = 0;

	for (i = 0; i < stls_setting_count(); i++) {
		const struct stls_setting_desc *d = stls_setting_at(i);
		bool want = false;

		for (j = 0; j < STLS_ARRAY_SIZE(rt); j++) {
			want = want || strcmp(d->name, rt[j]) == 0;
		}
		CHECK_EQ(!!(d->flags & STLS_SF_RUNTIME), want);
		n += want;
	}
	CHECK_EQ(n, STLS_ARRAY_SIZE(rt));
}

TEST(cfg_names_follow_the_seed_group_tls)
{
	CHECK_STR_EQ(stls_setting_find("tls_log")->cfg_name, "log");
	CHECK_STR_EQ(stls_setting_find("tls_debug")->cfg_name, "debug");
	CHECK_STR_EQ(stls_setting_find("tls_method")->cfg_name, "method");
	CHECK_STR_EQ(stls_setting_find("tls_force_run")->cfg_name,
		     "force_run");
	CHECK_STR_EQ(stls_setting_find("ssl_freelist_max_len")->cfg_name,
		     "ssl_free_list_max");
	CHECK_STR_EQ(stls_setting_find("connection_timeout")->cfg_name,
		     "connection_timeout");
	CHECK(stls_setting_find("log") == stls_setting_find("tls_log"));
	CHECK(stls_setting_find("DEBUG") == stls_setting_find("tls_debug"));
	CHECK(stls_setting_find("Disable_Compression") ==
	      stls_setting_find("tls_disable_compression"));
	CHECK(stls_setting_find("TLS_METHOD") ==
	      stls_setting_find("method"));
	CHECK_NULL(stls_setting_find("nosuch"));
	CHECK_NULL(stls_setting_find(""));
}

TEST(flags_mark_obsolete_no_effect_sensitive_and_paths)
{
	static const char *const paths[] = {
		"certificate", "private_key", "ca_list", "ca_path", "crl",
		"config",
	};
	size_t i;

	CHECK(stls_setting_find("send_timeout")->flags & STLS_SF_OBSOLETE);
	CHECK(stls_setting_find("handshake_timeout")->flags &
	      STLS_SF_OBSOLETE);
	CHECK(stls_setting_find("ssl_freelist_max_len")->flags &
	      STLS_SF_NO_EFFECT);
	CHECK(stls_setting_find("rand_engine")->flags & STLS_SF_NO_EFFECT);
	CHECK(stls_setting_find("private_key_password")->flags &
	      STLS_SF_SENSITIVE);
	for (i = 0; i < STLS_ARRAY_SIZE(paths); i++) {
		const struct stls_setting_desc *d = stls_setting_find(paths[i]);

		CHECK(d->flags & STLS_SF_PATH);
		CHECK_EQ(d->kind, STLS_SK_PATH);
	}
	for (i = 0; i < stls_setting_count(); i++) {
		const struct stls_setting_desc *d = stls_setting_at(i);

		CHECK_EQ(!!(d->flags & STLS_SF_PATH), d->kind == STLS_SK_PATH);
		if (d->flags & STLS_SF_SENSITIVE) {
			CHECK_STR_EQ(d->name, "private_key_password");
		}
	}
}

TEST(every_default_parses_and_is_in_range)
{
	struct stls_settings s;
	char err[256];
	size_t i;

	CHECK_OK(stls_settings_init(&s));
	for (i = 0; i < stls_setting_count(); i++) {
		const struct stls_setting_desc *d = stls_setting_at(i);

		if (d->def) {
			CHECK_OK(stls_settings_set_str(&s, d, d->def, NULL, err,
						       sizeof(err)));
		}
		if (d->kind == STLS_SK_INT || d->kind == STLS_SK_BOOL) {
			CHECK(d->min <= d->max);
		}
	}
	stls_settings_fini(&s);
}

TEST(init_gives_the_seed_defaults_with_the_documented_deviations)
{
	struct stls_settings s;

	CHECK_OK(stls_settings_init(&s));
	CHECK_EQ(s.tls_method, STLS_METHOD_TLSV1_2_PLUS);
	CHECK_NULL(s.certificate);
	CHECK_NULL(s.private_key);
	CHECK_NULL(s.private_key_password);
	CHECK_NULL(s.ca_list);
	CHECK_NULL(s.ca_path);
	CHECK_NULL(s.crl);
	CHECK_EQ(s.verify_certificate, 0);
	CHECK_EQ(s.verify_depth, 9);
	CHECK_EQ(s.require_certificate, 0);
	CHECK_EQ(s.verify_client, STLS_VC_OFF);
	CHECK_NULL(s.cipher_list);
	CHECK_NULL(s.cipher_suites);
	CHECK_NULL(s.server_name);
	CHECK_EQ(s.connection_timeout, 600);
	CHECK_EQ(s.tls_disable_compression, 1);
	CHECK_EQ(s.ssl_release_buffers, 1);
	CHECK_EQ(s.ssl_freelist_max_len, 0);
	CHECK_EQ(s.ssl_max_send_fragment, -1);
	CHECK_EQ(s.ssl_read_ahead, 0);
	CHECK_EQ(s.send_close_notify, 1);
	CHECK_EQ(s.con_ct_wq_max, 65536);
	CHECK_EQ(s.ct_wq_max, 10485760);
	CHECK_EQ(s.ct_wq_blk_size, 4096);
	CHECK_EQ(s.tls_log, 3);
	CHECK_EQ(s.tls_debug, 3);
	CHECK_EQ(s.low_mem_threshold1, -1);
	CHECK_EQ(s.low_mem_threshold2, -1);
	CHECK_EQ(s.tls_force_run, 0);
	CHECK_EQ(s.session_cache, 0);
	CHECK_STR_EQ(s.session_id, "siptls-tls-" STLS_VERSION);
	CHECK_EQ(s.renegotiation, 0);
	CHECK_NULL(s.config);
	CHECK_NULL(s.xavp_cfg);
	CHECK_NULL(s.event_callback);
	CHECK_NULL(s.rand_engine);
	CHECK_NULL(s.engine);
	CHECK_NULL(s.engine_config);
	CHECK_NULL(s.engine_algorithms);
	stls_settings_fini(&s);
	CHECK_NULL(s.session_id);
	stls_settings_fini(&s); /* twice is harmless */
	stls_settings_fini(NULL);
}

TEST(resolve_defaults_points_certificate_and_key_at_cert_pem)
{
	struct stls_settings s;

	CHECK_OK(stls_settings_init(&s));
	CHECK_OK(stls_settings_resolve_defaults(&s, NULL));
	CHECK_NULL(s.certificate);
	CHECK_OK(stls_settings_resolve_defaults(&s, "/etc/siptls"));
	CHECK_STR_EQ(s.certificate, "/etc/siptls/cert.pem");
	CHECK_STR_EQ(s.private_key, "/etc/siptls/cert.pem");
	stls_settings_fini(&s);

	CHECK_OK(stls_settings_init(&s));
	s.certificate = strdup("/x/mine.pem");
	CHECK_OK(stls_settings_resolve_defaults(&s, "/etc/siptls/"));
	CHECK_STR_EQ(s.certificate, "/x/mine.pem");
	CHECK_STR_EQ(s.private_key, "/etc/siptls/cert.pem");
	stls_settings_fini(&s);
}

TEST(copy_is_deep)
{
	struct stls_settings a, b;
	char err[128];

	CHECK_OK(stls_settings_init(&a));
	CHECK_OK(stls_settings_set_str(&a, stls_setting_find("ca_list"),
				       "ca.pem", "/etc/x", err, sizeof(err)));
	CHECK_OK(stls_settings_set_str(&a, stls_setting_find("tls_log"), "5",
				       NULL, err, sizeof(err)));
	CHECK_OK(stls_settings_copy(&b, &a));
	CHECK_STR_EQ(b.ca_list, "/etc/x/ca.pem");
	CHECK(b.ca_list != a.ca_list);
	CHECK(b.session_id != a.session_id);
	CHECK_STR_EQ(b.session_id, a.session_id);
	CHECK_EQ(b.tls_log, 5);
	stls_settings_fini(&a);
	CHECK_STR_EQ(b.ca_list, "/etc/x/ca.pem");
	stls_settings_fini(&b);
}

TEST(enum_name_tables_use_the_seed_spelling)
{
	CHECK_STR_EQ(stls_method_names[STLS_METHOD_SSLV23], "SSLv23");
	CHECK_STR_EQ(stls_method_names[STLS_METHOD_TLSV1_2_PLUS], "TLSv1.2+");
	CHECK_STR_EQ(stls_method_names[STLS_METHOD_TLSV1_3], "TLSv1.3");
	CHECK_STR_EQ(stls_verify_client_names[STLS_VC_OPTIONAL_NO_CA],
		     "optional_no_ca");
}
