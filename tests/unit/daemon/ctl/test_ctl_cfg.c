/*
 * Tests of daemon/ctl/ctl_cfg.c: cfg.get, cfg.set and its kamcmd aliases for
 * the seed's runtime variables (ranges, refusals, effects) and core.stats.
 */
/* ctest-label: tsan */
#include "daemon/ctl/ctl_fixture.h"

static int64_t get_int(struct cf *f, const char *name)
{
	char p[128];
	json_t *r;
	int64_t v;

	snprintf(p, sizeof(p), "[\"tls\",\"%s\"]", name);
	r = cf_call(f, "cfg.get", p);
	CHECK_EQ(cf_error(r), 0);
	v = json_integer_value(cf_result(r));
	json_decref(r);
	return v;
}

/* Sets name = value with <method>; returns the error code (0: ok). */
static int64_t set(struct cf *f, const char *method, const char *name,
		   const char *value_json)
{
	char p[256];
	json_t *r;
	int64_t code;

	snprintf(p, sizeof(p), "[\"tls\",\"%s\",%s]", name, value_json);
	r = cf_call(f, method, p);
	code = cf_error(r);
	json_decref(r);
	return code;
}

TEST(get_reads_runtime_and_fixed_variables)
{
	struct cf f;
	json_t *r;

	cf_init(&f, 1, NULL);
	CHECK_EQ(get_int(&f, "connection_timeout"), 600);
	CHECK_EQ(get_int(&f, "log"), 3);
	CHECK_EQ(get_int(&f, "tls_log"), 3);
	CHECK_EQ(get_int(&f, "verify_depth"), 9);
	r = cf_call(&f, "cfg.get", "[\"tls\",\"method\"]");
	CHECK_STR_EQ(json_string_value(cf_result(r)), "TLSv1.2+");
	json_decref(r);
	r = cf_call(&f, "cfg.get", "[\"core\",\"debug\"]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	json_decref(r);
	r = cf_call(&f, "cfg.get", "[\"tls\",\"nope\"]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	json_decref(r);
	r = cf_call(&f, "cfg.get", "[\"tls\"]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_INVALID_PARAMS);
	json_decref(r);
	cf_fini(&f);
}

/* Every runtime variable: a good value sticks, a bad one is refused. */
TEST(set_each_runtime_variable_with_ranges)
{
	static const struct {
		const char *name, *good, *bad;
		int64_t want;
	} cases[] = {
		{ "connection_timeout", "30", "-2", 30 },
		{ "send_close_notify", "1", "\"maybe\"", 1 },
		{ "con_ct_wq_max", "1024", "4194305", 1024 },
		{ "ct_wq_max", "2048", "-1", 2048 },
		{ "ct_wq_blk_size", "512", "0", 512 },
		{ "log", "1", "1001", 1 },
		{ "debug", "2", "-1", 2 },
		{ "low_mem_threshold1", "0", "-2", 0 },
		{ "low_mem_threshold2", "100", "\"x\"", 100 },
	};
	struct cf f;
	size_t i;

	cf_init(&f, 1, NULL);
	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		CHECK_EQ(set(&f, "cfg.set_now_int", cases[i].name,
			     cases[i].good),
			 0);
		CHECK_EQ(get_int(&f, cases[i].name), cases[i].want);
		if (set(&f, "cfg.set", cases[i].name, cases[i].bad) !=
		    STLS_RPC_E_BAD_VALUE)
			test_fail(__FILE__, __LINE__, "%s = %s accepted",
				  cases[i].name, cases[i].bad);
		CHECK_EQ(get_int(&f, cases[i].name), cases[i].want);
	}
	/* Text values work for integers too (kamcmd cfg.set_now_string). */
	CHECK_EQ(set(&f, "cfg.set_now_string", "ct_wq_max", "\"4096\""), 0);
	CHECK_EQ(get_int(&f, "ct_wq_max"), 4096);
	CHECK_EQ(set(&f, "cfg.set_now_int", "ct_wq_max", "\"abc\""),
		 STLS_RPC_E_INVALID_PARAMS);
	CHECK_EQ(set(&f, "cfg.set_now_int", "ct_wq_max", "99999999999"),
		 STLS_RPC_E_BAD_VALUE);
	cf_fini(&f);
}

TEST(set_refuses_fixed_variables_with_the_reason)
{
	struct cf f;
	json_t *r;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "cfg.set", "[\"tls\",\"verify_depth\",3]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_FORBIDDEN);
	CHECK_STR_HAS(cf_error_msg(r), "cannot be changed at runtime");
	json_decref(r);
	r = cf_call(&f, "cfg.set", "[\"tls\",\"session_cache\",1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_FORBIDDEN);
	CHECK_STR_HAS(cf_error_msg(r), "restart");
	json_decref(r);
	r = cf_call(&f, "cfg.set", "[\"xyz\",\"log\",1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	json_decref(r);
	r = cf_call(&f, "cfg.set_now_int", "[\"tls\",\"config\",1]");
	CHECK_EQ(cf_error(r), STLS_RPC_E_BAD_VALUE);
	json_decref(r);
	cf_fini(&f);
}

/* config is resolved against the main config's directory. */
TEST(set_config_is_resolved_and_used_at_reload)
{
	struct cf f;
	json_t *r;
	char want[700];

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "cfg.set", "[\"tls\",\"config\",\"tls.cfg\"]");
	CHECK_STR_EQ(json_string_value(
			     json_object_get(cf_result(r), "applies")),
		     "next tls.reload");
	json_decref(r);
	snprintf(want, sizeof(want), "%s/tls.cfg", f.conf->base_dir);
	r = cf_call(&f, "cfg.get", "[\"tls\",\"config\"]");
	CHECK_STR_EQ(json_string_value(cf_result(r)), want);
	json_decref(r);
	r = cf_call(&f, "tls.reload", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_FAILED); /* no such file yet */
	json_decref(r);
	cf_fini(&f);
}

/* connection_timeout applies to connections opened after the change. */
TEST(connection_timeout_applies_to_new_connections)
{
	struct cf f;
	char buf[16];
	int old_fd, fd;
	uint64_t t0;
	ssize_t r;

	cf_init(&f, 1, NULL);
	old_fd = dh_connect(stls_daemon_bound(f.h.d, 1));
	dh_echo(old_fd, "x");
	CHECK_EQ(set(&f, "cfg.set", "connection_timeout", "1"), 0);
	fd = dh_connect(stls_daemon_bound(f.h.d, 1));
	dh_echo(fd, "y");
	t0 = dh_now_ms();
	r = recv(fd, buf, sizeof(buf), 0);
	CHECK_EQ(r, 0);
	CHECK(dh_now_ms() - t0 >= 700 && dh_now_ms() - t0 < 4000);
	dh_echo(old_fd, "still here");
	close(fd);
	close(old_fd);
	cf_fini(&f);
}

TEST(core_stats_counts_and_reloads)
{
	struct cf f;
	json_t *r;
	const json_t *o;
	int fd;

	cf_init(&f, 2, NULL);
	fd = dh_connect(stls_daemon_bound(f.h.d, 1));
	dh_echo(fd, "x");
	json_decref(cf_call(&f, "tls.reload", NULL));
	r = cf_call(&f, "core.stats", NULL);
	o = cf_result(r);
	CHECK_EQ(json_integer_value(json_object_get(o, "accepted")), 1);
	CHECK_EQ(json_integer_value(json_object_get(o, "open")), 1);
	CHECK(json_object_get(json_object_get(o, "closed"),
			      "idle-timeout") != NULL);
	CHECK_EQ(json_integer_value(
			 json_object_get(json_object_get(o, "reloads"), "ok")),
		 1);
	json_decref(r);
	close(fd);
	cf_fini(&f);
}
