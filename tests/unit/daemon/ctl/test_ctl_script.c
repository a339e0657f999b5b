/*
 * daemon/ctl/ctl_script.c: script.info and script.reload through the
 * dispatcher, over a real Lua script in test_tmp_dir(). Without [core]
 * script both say so (404). script.info gives the file, the generation
 * and every counter; a good reload gives the next generation; a script
 * that does not compile is refused with FILE:LINE in the error and its
 * data, and the running generation stays.
 */
/* ctest-label: tsan */
#include "daemon/ctl/ctl_fixture.h"
#include "script/script.h"

struct sx {
	struct cf f;
	char path[700];
	struct stls_script *s;
};

static void sx_write(struct sx *x, const char *text)
{
	cf_write(x->path, text);
}

/* The ctl fixture, with its ctl made again over a script. */
static void sx_init(struct sx *x)
{
	struct stls_script_conf sc;
	struct stls_ctl_conf cc;
	struct stls_diag diag;

	cf_init(&x->f, 1, NULL);
	snprintf(x->path, sizeof(x->path), "%s/hooks.lua", x->f.dir);
	sx_write(x, "function ksr_request_route() end\n");
	memset(&sc, 0, sizeof(sc));
	sc.path = x->path;
	sc.request_callback = "ksr_request_route";
	sc.instructions = 100000;
	sc.memory = 1 << 20;
	stls_diag_init(&diag);
	CHECK_OK(stls_script_new(&sc, 1, &diag, &x->s));
	stls_diag_fini(&diag);
	stls_ctl_free(x->f.ctl);
	memset(&cc, 0, sizeof(cc));
	cc.d = x->f.h.d;
	cc.ps = x->f.ps;
	cc.live = &x->f.conf->tls;
	cc.core = &x->f.core;
	cc.base_dir = x->f.conf->base_dir;
	cc.script = x->s;
	cc.worker_wait_ms = 2000;
	CHECK_OK(stls_ctl_new(&cc, &x->f.ctl));
}

static void sx_fini(struct sx *x)
{
	cf_fini(&x->f);
	stls_script_free(x->s);
}

TEST(without_a_script_both_say_so)
{
	struct cf f;
	json_t *r;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "script.info", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	CHECK_STR_HAS(cf_error_msg(r), "no script");
	json_decref(r);
	r = cf_call(&f, "script.reload", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_NOT_FOUND);
	json_decref(r);
	cf_fini(&f);
}

TEST(info_has_file_generation_and_every_counter)
{
	static const char *const keys[] = {
		"file", "generation", "requests", "events", "errors",
		"budget", "memory", "replies", "drops", "conn_dropped",
		"rebuilds", "reloads", "reload_failures", "memory_used",
	};
	struct sx x;
	json_t *r, *o;
	size_t i;

	sx_init(&x);
	r = cf_call(&x.f, "script.info", NULL);
	o = cf_result(r);
	CHECK_NOT_NULL(o);
	for (i = 0; i < STLS_ARRAY_SIZE(keys); i++)
		CHECK_STR_EQ(rt_key_at(o, i), keys[i]);
	CHECK_NULL(rt_key_at(o, STLS_ARRAY_SIZE(keys)));
	CHECK_STR_HAS(json_string_value(json_object_get(o, "file")),
		      "hooks.lua");
	CHECK_EQ(json_integer_value(json_object_get(o, "generation")), 1);
	CHECK_EQ(json_integer_value(json_object_get(o, "reloads")), 0);
	json_decref(r);
	sx_fini(&x);
}

TEST(reload_good_then_refused_keeps_the_generation)
{
	struct sx x;
	json_t *r, *o, *data;
	const char *msg;

	sx_init(&x);
	sx_write(&x, "-- edited\nfunction ksr_request_route() end\n");
	r = cf_call(&x.f, "script.reload", NULL);
	o = cf_result(r);
	CHECK_NOT_NULL(o);
	CHECK_STR_EQ(json_string_value(json_object_get(o, "message")),
		     "Ok. Script reloaded.");
	CHECK_STR_HAS(json_string_value(json_object_get(o, "file")),
		      "hooks.lua");
	CHECK_EQ(json_integer_value(json_object_get(o, "generation")), 2);
	json_decref(r);

	/* Does not compile (line 2). */
	sx_write(&x, "function ksr_request_route()\n  if then\nend\n");
	r = cf_call(&x.f, "script.reload", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_FAILED);
	msg = cf_error_msg(r);
	CHECK_STR_HAS(msg, "script not reloaded (1 error, running script "
			   "unchanged)");
	CHECK_STR_HAS(msg, "hooks.lua:2");
	data = json_object_get(json_object_get(r, "error"), "data");
	CHECK(json_array_size(data) >= 1);
	CHECK_STR_HAS(json_string_value(json_array_get(data, 0)),
		      "hooks.lua:");
	json_decref(r);
	CHECK_EQ(stls_script_generation(x.s), 2);

	/* Without the configured callback: refused too. */
	sx_write(&x, "function other() end\n");
	r = cf_call(&x.f, "script.reload", NULL);
	CHECK_EQ(cf_error(r), STLS_RPC_E_FAILED);
	CHECK_STR_HAS(cf_error_msg(r), "ksr_request_route");
	json_decref(r);

	r = cf_call(&x.f, "script.info", NULL);
	o = cf_result(r);
	CHECK_EQ(json_integer_value(json_object_get(o, "generation")), 2);
	CHECK_EQ(json_integer_value(json_object_get(o, "reloads")), 1);
	CHECK_EQ(json_integer_value(json_object_get(o, "reload_failures")), 2);
	json_decref(r);
	sx_fini(&x);
}
