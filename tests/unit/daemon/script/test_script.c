/*
 * Unit tests for daemon/script/script.c: loading (FILE:LINE: messages,
 * missing callbacks, missing file), the path of [core] script, reload
 * (a good script becomes the next generation and the worker rebuilds
 * its state at its next call; a bad one is refused and the running one
 * stays), worker start/stop and the counters' log line; reloads on one
 * thread while two workers run hooks on theirs.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "script_fixture.h"

#include <pthread.h>
#include <stdatomic.h>

static const char *first_diag(struct sfx *x, char *buf, size_t n)
{
	CHECK(x->diag.n >= 1);
	return stls_diag_format(&x->diag.v[0], buf, n);
}

TEST(syntax_error_is_refused_with_file_and_line)
{
	struct sfx x;
	char buf[512], want[PATH_MAX + 32];

	sfx_prepare(&x, "function ksr_request_route()\n  if then\nend\n");
	CHECK_EQ(stls_script_new(&x.conf, 1, &x.diag, &x.s), -EINVAL);
	CHECK_NULL(x.s);
	snprintf(want, sizeof(want), "%s:2: ", x.path);
	CHECK_STR_HAS(first_diag(&x, buf, sizeof(buf)), want);
	sfx_fini(&x);
}

TEST(runtime_error_while_loading_names_the_line)
{
	struct sfx x;
	char buf[512], want[PATH_MAX + 32];

	sfx_prepare(&x, "local a = 1\nlocal b = nil\nc = b.x\n" SFX_HOOK(""));
	CHECK_EQ(stls_script_new(&x.conf, 1, &x.diag, &x.s), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: attempt to index", x.path);
	CHECK_STR_HAS(first_diag(&x, buf, sizeof(buf)), want);
	sfx_fini(&x);
}

TEST(missing_callback_and_missing_file)
{
	struct sfx x;
	char buf[512];

	sfx_prepare(&x, "function ksr_request_route() end\n");
	CHECK_EQ(stls_script_new(&x.conf, 1, &x.diag, &x.s), -EINVAL);
	CHECK_STR_HAS(first_diag(&x, buf, sizeof(buf)),
		      "event_callback: function ksr_tls_event is not defined");
	sfx_fini(&x);
	sfx_prepare(&x, "");
	x.conf.path = "/nonexistent/siptls/edge.lua";
	CHECK_EQ(stls_script_new(&x.conf, 1, &x.diag, &x.s), -ENOENT);
	CHECK_STR_HAS(first_diag(&x, buf, sizeof(buf)),
		      "/nonexistent/siptls/edge.lua: cannot read the script");
	sfx_fini(&x);
}

TEST(an_endless_top_level_is_stopped)
{
	struct sfx x;
	char buf[512];

	sfx_prepare(&x, "while true do end\n" SFX_HOOK(""));
	CHECK_EQ(stls_script_new(&x.conf, 1, &x.diag, &x.s), -EINVAL);
	CHECK_STR_HAS(first_diag(&x, buf, sizeof(buf)),
		      ":1: instruction budget exceeded");
	sfx_fini(&x);
}

TEST(conf_from_resolves_the_path)
{
	struct stls_core_conf core;
	struct stls_script_conf sc;
	char path[PATH_MAX];

	memset(&core, 0, sizeof(core));
	core.script = "edge.lua";
	core.request_callback = "ksr_request_route";
	core.script_instructions = 5000;
	core.script_memory = 300000;
	core.script_on_error = STLS_SCRIPT_ERR_PASS;
	core.script_allow = STLS_SCRIPT_ALLOW_IO;
	CHECK_OK(stls_script_conf_from(&core, "ksr_tls_event", "tls",
				       "/etc/siptls", path, &sc));
	CHECK_STR_EQ(sc.path, "/etc/siptls/edge.lua");
	CHECK_STR_EQ(sc.event_callback, "ksr_tls_event");
	CHECK_STR_EQ(sc.xavp_cfg, "tls");
	CHECK_EQ(sc.instructions, 5000);
	CHECK_EQ(sc.memory, 300000);
	CHECK(sc.pass_on_error);
	CHECK_EQ(sc.allow, STLS_SCRIPT_ALLOW_IO);
	core.script = "/abs/e.lua";
	CHECK_OK(stls_script_conf_from(&core, NULL, NULL, "/etc/siptls",
				       path, &sc));
	CHECK_STR_EQ(sc.path, "/abs/e.lua");
}

TEST(reload_publishes_and_workers_follow)
{
	struct sfx x;
	struct stls_script_stats st;
	uint64_t gen = 0;

	sfx_init(&x, SFX_HOOK("KSR.sl.send_reply(401)"), NULL);
	sfx_request(&x, REQ_INVITE);
	CHECK_EQ(stls_script_generation(x.s), 1);
	sfx_run(&x);
	CHECK_EQ(x.v.code, 401);
	sfx_write(&x, SFX_HOOK("KSR.sl.send_reply(402)"));
	CHECK_OK(stls_script_reload(x.s, &x.diag, &gen));
	CHECK_EQ(gen, 2);
	CHECK_EQ(stls_script_generation(x.s), 2);
	sfx_run(&x); /* the worker rebuilds at its next call */
	CHECK_EQ(x.v.code, 402);
	st = (stls_script_stats(x.s, &st), st);
	CHECK_EQ(st.reloads, 1);
	CHECK_EQ(st.rebuilds, 1);
	CHECK_EQ(st.reload_failures, 0);
	sfx_fini(&x);
}

TEST(a_bad_reload_keeps_the_running_script)
{
	struct sfx x;
	struct stls_script_stats st;
	char buf[512], want[PATH_MAX + 32];

	sfx_init(&x, SFX_HOOK("KSR.sl.send_reply(401)"), NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_write(&x, SFX_HOOK("KSR.sl.send_reply(402)") "\nlocal = 1\n");
	CHECK_EQ(stls_script_reload(x.s, &x.diag, NULL), -EINVAL);
	snprintf(want, sizeof(want), "%s:6: ", x.path);
	CHECK_STR_HAS(first_diag(&x, buf, sizeof(buf)), want);
	CHECK_EQ(stls_script_generation(x.s), 1);
	sfx_run(&x);
	CHECK_EQ(x.v.code, 401);
	/* A script without a configured callback is refused the same. */
	sfx_write(&x, "function ksr_request_route() end\n");
	CHECK_EQ(stls_script_reload(x.s, &x.diag, NULL), -EINVAL);
	unlink(x.path);
	CHECK_EQ(stls_script_reload(x.s, &x.diag, NULL), -ENOENT);
	stls_script_stats(x.s, &st);
	CHECK_EQ(st.reload_failures, 3);
	CHECK_EQ(st.reloads, 0);
	sfx_run(&x);
	CHECK_EQ(x.v.code, 401);
	sfx_fini(&x);
}

TEST(workers_start_and_stop)
{
	struct sfx x;
	struct stls_script_stats st;

	sfx_prepare(&x, SFX_HOOK("KSR.sl.send_reply(401)"));
	CHECK_OK(stls_script_new(&x.conf, 2, &x.diag, &x.s));
	CHECK(stls_script_has_request(x.s));
	CHECK(stls_script_has_event(x.s));
	CHECK_STR_EQ(stls_script_path(x.s), x.path);
	CHECK_EQ(stls_script_worker_start(x.s, 2), -EINVAL);
	CHECK_OK(stls_script_worker_start(x.s, 0));
	CHECK_OK(stls_script_worker_start(x.s, 1));
	stls_script_stats(x.s, &st);
	CHECK(st.memory_used > 0);
	stls_script_worker_stop(x.s, 1);
	stls_script_worker_stop(x.s, 1); /* twice is fine */
	stls_script_stats_log(x.s);
	stls_script_stats_log(NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK_EQ(x.v.code, 401);
	sfx_fini(&x);
}

struct worker_arg {
	struct sfx *x;
	unsigned idx;
	atomic_bool *stop;
	unsigned long calls, bad;
};

/* A worker: hooks on its own state until told to stop; every answer
 * must be one a published generation gives (401 or 402). */
static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct stls_script_verdict v;

	if (stls_script_worker_start(a->x->s, a->idx) != 0)
		a->bad++;
	while (!atomic_load(a->stop)) {
		stls_script_request(a->x->s, a->idx, &a->x->req, &v);
		if (v.action != STLS_SCRIPT_REPLY ||
		    (v.code != 401 && v.code != 402))
			a->bad++;
		a->calls++;
	}
	stls_script_worker_stop(a->x->s, a->idx);
	return NULL;
}

TEST(reloads_while_workers_run)
{
	struct sfx x;
	struct worker_arg a[2];
	pthread_t t[2];
	atomic_bool stop = false;
	struct stls_script_stats st;
	unsigned i;
	int r;

	sfx_prepare(&x, SFX_HOOK("KSR.sl.send_reply(401)"));
	CHECK_OK(stls_script_new(&x.conf, 2, &x.diag, &x.s));
	sfx_request(&x, REQ_INVITE);
	for (i = 0; i < 2; i++) {
		a[i] = (struct worker_arg){ &x, i, &stop, 0, 0 };
		CHECK_OK(pthread_create(&t[i], NULL, worker, &a[i]));
	}
	for (r = 0; r < 20; r++) {
		sfx_write(&x, r % 2 ? SFX_HOOK("KSR.sl.send_reply(401)")
				    : SFX_HOOK("KSR.sl.send_reply(402)"));
		CHECK_OK(stls_script_reload(x.s, &x.diag, NULL));
		usleep(2000);
	}
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++) {
		CHECK_OK(pthread_join(t[i], NULL));
		CHECK_EQ(a[i].bad, 0);
		CHECK(a[i].calls > 0);
	}
	CHECK_EQ(stls_script_generation(x.s), 21);
	stls_script_stats(x.s, &st);
	CHECK_EQ(st.reloads, 20);
	CHECK(st.rebuilds >= 1);
	CHECK_EQ(st.errors, 0);
	sfx_fini(&x);
}
