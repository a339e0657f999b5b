/*
 * Tests of daemon/ctl/ctl_tls.c: tls.info, tls.list, tls.options, tls.reload
 * and tls.kill through the dispatcher, with the seed's field names, valid
 * and invalid parameters.
 */
/* ctest-label: tsan */
#include "daemon/ctl/ctl_fixture.h"

static bool has_key(const json_t *o, const char *key)
{
	return json_object_get(o, key) != NULL;
}

/* Expects exactly <keys>, in this order, as the members of <o>. */
static void check_keys(json_t *o, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		CHECK_STR_EQ(rt_key_at(o, i), keys[i]);
	CHECK_NULL(rt_key_at(o, n));
}

TEST(info_has_the_seed_fields_and_counters)
{
	/* The seed's three first, in its order; then ours. */
	static const char *const keys[] = {
		"max_connections", "opened_connections",
		"clear_text_write_queued_bytes", "handshakes",
		"handshakes_resumed", "handshake_failures", "verify_failures",
		"identity_failures", "renegotiations_refused",
		"low_memory_refused", "conn_out_dropped",
		"record_handoff_fallbacks", "record_warning_alert_closes",
		"record_empty_record_closes", "record_key_limit_closes",
		"connections", "max_handshakes_in_flight",
		"handshakes_in_flight", "shed_handshakes",
		"handshake_limit_pauses", "refused_source_connections",
		"refused_source_rate", "source_filter_listed",
		"source_filter_rebuilds", "source_filter_full",
		"handshake_reads_held", "handshake_steps_offloaded",
		"handshake_step_pauses", "closes_deferred",
		"handshake_flights_direct",
		"source_filter_sources",
		"handshake_threads", "handshake_steps_out",
		"handshake_steps_queued",
		"accepted", "refused_max_conn", "outbound",
		"closed_idle_timeout", "closed_handshake_timeout",
		"closed_tls_error", "closed_killed", "hsm_key_failures",
		"generation", "profiles", "reloads", "reloads_refused",
		"certificates", "crls", "last_good_reload",
	};
	struct cf f;
	json_t *r;
	json_t *o, *c;

	/* "database" only with a database config (test_siptlsd_db.py). */
	cf_init(&f, 1, "max_connections = 123");
	r = cf_call(&f, "tls.info", NULL);
	o = cf_result(r);
	check_keys(o, keys, STLS_ARRAY_SIZE(keys));
	CHECK_EQ(json_integer_value(json_object_get(o, "max_connections")),
		 123);
	CHECK_EQ(json_integer_value(json_object_get(o, "generation")), 1);
	/* The default profiles' certificate, its expiry, no stapling. */
	c = json_array_get(json_object_get(o, "certificates"), 0);
	CHECK_NOT_NULL(c);
	CHECK(json_integer_value(json_object_get(c, "expires_in")) > 0);
	CHECK_EQ(strlen(json_string_value(json_object_get(c, "not_after"))),
		 20);
	CHECK_STR_EQ(json_string_value(json_object_get(
			     json_object_get(c, "ocsp"), "state")),
		     "off");
	CHECK_EQ(json_array_size(json_object_get(o, "crls")), 0);
	CHECK_EQ(strlen(json_string_value(
			 json_object_get(o, "last_good_reload"))),
		 20);
	json_decref(r);
	r = cf_call(&f, "tls.info", "[1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	json_decref(r);
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
	json_t *r;
	json_t *a, *e;
	int fd;

	cf_init(&f, 2, NULL);
	fd = cf_connect_tls(&f);
	r = cf_call(&f, "tls.list", NULL);
	a = cf_result(r);
	CHECK_EQ(json_array_size(a), 1);
	e = json_array_get(a, 0);
	/* The seed's order for its fields, ours after them. */
	check_keys(e, keys, STLS_ARRAY_SIZE(keys));
	CHECK_STR_EQ(json_string_value(json_object_get(e, "src_ip")),
		     "127.0.0.1");
	CHECK_STR_EQ(json_string_value(json_object_get(e, "direction")),
		     "in");
	CHECK_EQ(strlen(json_string_value(json_object_get(e, "timestamp"))),
		 19);
	json_decref(r);
	close(fd);
	cf_fini(&f);
}

TEST(options_list_every_parameter_and_mask_the_password)
{
	const struct stls_setting_desc *d;
	struct cf f;
	json_t *r;
	json_t *o;
	size_t i;

	cf_init(&f, 1, "[tls]\nprivate_key_password = hunter2\n");
	r = cf_call(&f, "tls.options", NULL);
	o = cf_result(r);
	CHECK_EQ(json_object_size(o), stls_setting_count());
	/* In the settings table's order, one name spelt as the seed does. */
	for (i = 0; (d = stls_setting_at(i)) != NULL; i++)
		CHECK_STR_EQ(rt_key_at(o, i),
			     strcmp(d->cfg_name, "ssl_free_list_max") == 0
				     ? "ssl_freelist_max"
				     : d->cfg_name);
	CHECK_EQ(json_integer_value(json_object_get(o, "connection_timeout")),
		 600);
	CHECK_STR_EQ(json_string_value(json_object_get(o, "method")),
		     "TLSv1.2+");
	CHECK(has_key(o, "ssl_freelist_max"));
	CHECK_STR_EQ(json_string_value(
			     json_object_get(o, "private_key_password")),
		     "...");
	json_decref(r);
	cf_fini(&f);
}

TEST(reload_bumps_the_generation)
{
	struct cf f;
	json_t *r;
	const json_t *o;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "tls.reload", NULL);
	o = cf_result(r);
	CHECK_EQ(json_integer_value(json_object_get(o, "generation")), 2);
	CHECK_EQ(json_integer_value(json_object_get(o, "profiles")), 2);
	CHECK_STR_HAS(json_string_value(json_object_get(o, "message")),
		      "reloaded");
	json_decref(r);
	cf_fini(&f);
}

/* A broken tls.cfg: 500 with every FILE:LINE in data; nothing changes. */
TEST(reload_failure_lists_every_problem)
{
	struct cf f;
	json_t *r;
	const json_t *data;
	char path[700], val[800];

	cf_init(&f, 1, NULL);
	snprintf(path, sizeof(path), "%s/bad.cfg", f.dir);
	cf_write(path, "[server:default]\ncertificate = /nope/a.pem\n"
		       "[client:default]\ncertificate = /nope/b.pem\n");
	snprintf(val, sizeof(val), "[\"tls\",\"config\",\"%s\"]", path);
	json_decref(cf_call(&f, "cfg.set", val));
	r = cf_call(&f, "tls.reload", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_FAILED);
	CHECK_STR_HAS(cf_error_msg(r), "bad.cfg:");
	data = json_object_get(json_object_get(r, "error"), "data");
	CHECK(json_array_size(data) >= 2);
	CHECK_STR_HAS(json_string_value(json_array_get(data, 0)),
		      "bad.cfg:");
	json_decref(r);
	CHECK_EQ(stls_pstore_generation(f.ps), 1);
	cf_fini(&f);
}

TEST(kill_by_id_and_its_errors)
{
	struct cf f;
	json_t *r, *l;
	char params[64];
	int fd;

	cf_init(&f, 2, NULL);
	fd = cf_connect_tls(&f);
	l = cf_call(&f, "tls.list", NULL);
	snprintf(params, sizeof(params), "[%lld]",
		 (long long)json_integer_value(json_object_get(
			 json_array_get(cf_result(l), 0), "id")));
	json_decref(l);
	r = cf_call(&f, "tls.kill", params);
	CHECK_STR_EQ(json_string_value(cf_result(r)), "OK");
	json_decref(r);
	r = cf_call(&f, "tls.kill", params);
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	CHECK_STR_EQ(cf_error_msg(r), "TLS connection id not found");
	json_decref(r);
	r = cf_call(&f, "tls.kill", "[\"abc\"]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	json_decref(r);
	r = cf_call(&f, "tls.kill", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	json_decref(r);
	r = cf_call(&f, "tls.kill", "[-1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	json_decref(r);
	close(fd);
	cf_fini(&f);
}
