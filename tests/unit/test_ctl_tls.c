/*
 * Tests of daemon/ctl_tls.c: tls.info, tls.list, tls.options, tls.reload
 * and tls.kill through the dispatcher, with the seed's field names, valid
 * and invalid parameters.
 */
/* ctest-label: tsan */
#include "ctl_fixture.h"

static bool has_key(const struct stls_json *o, const char *key)
{
	return stls_json_object_get(o, key) != NULL;
}

TEST(info_has_the_seed_fields_and_counters)
{
	static const char *const keys[] = {
		"max_connections", "opened_connections",
		"clear_text_write_queued_bytes", "accepted", "refused_max_conn",
		"closed_idle_timeout", "closed_killed", "generation",
		"profiles", "record_handoff_fallbacks",
		"record_warning_alert_closes", "record_empty_record_closes",
		"record_key_limit_closes",
	};
	struct cf f;
	struct stls_json *r;
	const struct stls_json *o;
	size_t i;

	cf_init(&f, 1, "max_connections = 123");
	r = cf_call(&f, "tls.info", NULL);
	o = cf_result(r);
	for (i = 0; i < STLS_ARRAY_SIZE(keys); i++)
		CHECK(has_key(o, keys[i]));
	CHECK_EQ(stls_json_get_int(stls_json_object_get(o,
							"max_connections")),
		 123);
	CHECK_EQ(stls_json_get_int(stls_json_object_get(o, "generation")), 1);
	stls_json_free(r);
	r = cf_call(&f, "tls.info", "[1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	stls_json_free(r);
	cf_fini(&f);
}

TEST(list_entries_have_every_field)
{
	static const char *const keys[] = {
		"id", "sni", "timestamp", "timeout", "src_ip", "src_port",
		"dst_ip", "dst_port", "cipher", "ct_wq_size", "enc_rd_buf",
		"flags", "state", "profile", "direction", "version",
		"peer_subject", "verified", "resumed", "generation",
	};
	struct cf f;
	struct stls_json *r;
	const struct stls_json *a, *e;
	size_t i;
	int fd;

	cf_init(&f, 2, NULL);
	fd = cf_connect_tls(&f);
	r = cf_call(&f, "tls.list", NULL);
	a = cf_result(r);
	CHECK_EQ(stls_json_len(a), 1);
	e = stls_json_array_get(a, 0);
	for (i = 0; i < STLS_ARRAY_SIZE(keys); i++)
		CHECK(has_key(e, keys[i]));
	/* The seed's order: the first members. */
	CHECK_STR_EQ(stls_json_object_key(e, 0), "id");
	CHECK_STR_EQ(stls_json_object_key(e, 1), "sni");
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(e, "src_ip"),
				       NULL),
		     "127.0.0.1");
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(e, "direction"),
				       NULL),
		     "in");
	CHECK_EQ(strlen(stls_json_get_str(stls_json_object_get(e,
							       "timestamp"),
					  NULL)),
		 19);
	stls_json_free(r);
	close(fd);
	cf_fini(&f);
}

TEST(options_list_every_parameter_and_mask_the_password)
{
	struct cf f;
	struct stls_json *r;
	const struct stls_json *o;

	cf_init(&f, 1, "[tls]\nprivate_key_password = hunter2\n");
	r = cf_call(&f, "tls.options", NULL);
	o = cf_result(r);
	CHECK_EQ(stls_json_len(o), stls_setting_count());
	CHECK_EQ(stls_json_get_int(stls_json_object_get(o,
							"connection_timeout")),
		 600);
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(o, "method"),
				       NULL),
		     "TLSv1.2+");
	CHECK(has_key(o, "ssl_freelist_max"));
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(
					       o, "private_key_password"),
				       NULL),
		     "...");
	stls_json_free(r);
	cf_fini(&f);
}

TEST(reload_bumps_the_generation)
{
	struct cf f;
	struct stls_json *r;
	const struct stls_json *o;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "tls.reload", NULL);
	o = cf_result(r);
	CHECK_EQ(stls_json_get_int(stls_json_object_get(o, "generation")), 2);
	CHECK_EQ(stls_json_get_int(stls_json_object_get(o, "profiles")), 2);
	CHECK_STR_HAS(stls_json_get_str(stls_json_object_get(o, "message"),
					NULL),
		      "reloaded");
	stls_json_free(r);
	cf_fini(&f);
}

/* A broken tls.cfg: 500 with every FILE:LINE in data; nothing changes. */
TEST(reload_failure_lists_every_problem)
{
	struct cf f;
	struct stls_json *r;
	const struct stls_json *data;
	char path[700], val[800];

	cf_init(&f, 1, NULL);
	snprintf(path, sizeof(path), "%s/bad.cfg", f.dir);
	cf_write(path, "[server:default]\ncertificate = /nope/a.pem\n"
		       "[client:default]\ncertificate = /nope/b.pem\n");
	snprintf(val, sizeof(val), "[\"tls\",\"config\",\"%s\"]", path);
	stls_json_free(cf_call(&f, "cfg.set", val));
	r = cf_call(&f, "tls.reload", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_FAILED);
	CHECK_STR_HAS(cf_error_msg(r), "bad.cfg:");
	data = stls_json_object_get(stls_json_object_get(r, "error"), "data");
	CHECK(stls_json_len(data) >= 2);
	CHECK_STR_HAS(stls_json_get_str(stls_json_array_get(data, 0), NULL),
		      "bad.cfg:");
	stls_json_free(r);
	CHECK_EQ(stls_pstore_generation(f.ps), 1);
	cf_fini(&f);
}

TEST(kill_by_id_and_its_errors)
{
	struct cf f;
	struct stls_json *r, *l;
	char params[64];
	int fd;

	cf_init(&f, 2, NULL);
	fd = cf_connect_tls(&f);
	l = cf_call(&f, "tls.list", NULL);
	snprintf(params, sizeof(params), "[%lld]",
		 (long long)stls_json_get_int(stls_json_object_get(
			 stls_json_array_get(cf_result(l), 0), "id")));
	stls_json_free(l);
	r = cf_call(&f, "tls.kill", params);
	CHECK_STR_EQ(stls_json_get_str(cf_result(r), NULL), "OK");
	stls_json_free(r);
	r = cf_call(&f, "tls.kill", params);
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	CHECK_STR_EQ(cf_error_msg(r), "TLS connection id not found");
	stls_json_free(r);
	r = cf_call(&f, "tls.kill", "[\"abc\"]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	stls_json_free(r);
	r = cf_call(&f, "tls.kill", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	stls_json_free(r);
	r = cf_call(&f, "tls.kill", "[-1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	stls_json_free(r);
	close(fd);
	cf_fini(&f);
}
