/*
 * Unit tests for daemon/script/script_call.c: the two hooks as the relay
 * calls them, the failure policy ([core] script_on_error), what a failed
 * call leaves (nothing), the counters, and the rebuild of a state that a
 * leaking script filled.
 */
#include "script_fixture.h"

static void pass_mode(struct stls_script_conf *c)
{
	c->pass_on_error = true;
}

static struct stls_script_stats stats(struct sfx *x)
{
	struct stls_script_stats st;

	stls_script_stats(x->s, &st);
	return st;
}

TEST(error_gives_500_and_drops_the_edits)
{
	struct sfx x;

	sfx_init(&x, SFX_HOOK("KSR.hdr.append('X-Half: 1')\n"
			      "KSR.sl.send_reply(404)\n"
			      "local t = nil\nreturn t.field"), NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_REPLY);
	CHECK_EQ(x.v.code, 500);
	CHECK_NULL(x.v.reason);
	CHECK_EQ(x.v.hdrs_len, 0);
	CHECK_EQ(stats(&x).errors, 1);
	CHECK_EQ(stats(&x).replies, 0);
	sfx_fini(&x);
}

TEST(pass_mode_relays_without_edits)
{
	struct sfx x;

	sfx_init(&x, SFX_HOOK("KSR.hdr.append('X-Half: 1')\nerror('boom')"),
		 pass_mode);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	CHECK_EQ(x.v.hdrs_len, 0);
	CHECK_EQ(x.v.n_remove, 0);
	CHECK_EQ(stats(&x).errors, 1);
	sfx_fini(&x);
}

TEST(counters_follow_the_verdicts)
{
	struct sfx x;
	struct stls_script_stats st;

	sfx_init(&x, "n = 0\nfunction ksr_request_route()\n"
		     "  n = n + 1\n"
		     "  if n == 1 then KSR.sl.send_reply(403) end\n"
		     "  if n == 2 then KSR.drop() end\n"
		     "end\n"
		     "function ksr_tls_event(ev)\n"
		     "  if KSR.pv.get('$sndto(ip)') == '1.2.3.4' then "
		     "KSR.drop() end\n"
		     "end\n", NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK_EQ(x.v.action, STLS_SCRIPT_REPLY);
	sfx_run(&x);
	CHECK_EQ(x.v.action, STLS_SCRIPT_DROP);
	sfx_run(&x);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	{
		struct stls_addr a, b;
		struct stls_script_out_ev ev = { .dst = &a };

		CHECK_OK(stls_addr_parse("1.2.3.4:5061", true, &a));
		CHECK_OK(stls_addr_parse("1.2.3.5:5061", true, &b));
		CHECK_EQ(stls_script_conn_out(x.s, 0, &ev), -EPERM);
		ev.dst = &b;
		CHECK_OK(stls_script_conn_out(x.s, 0, &ev));
	}
	st = stats(&x);
	CHECK_EQ(st.requests, 3);
	CHECK_EQ(st.replies, 1);
	CHECK_EQ(st.drops, 1);
	CHECK_EQ(st.events, 2);
	CHECK_EQ(st.conn_dropped, 1);
	CHECK_EQ(st.errors, 0);
	CHECK(st.memory_used > 0);
	sfx_fini(&x);
}

TEST(conn_out_failure_policy)
{
	struct sfx x;
	struct stls_addr a;
	struct stls_script_out_ev ev = { .dst = &a };

	CHECK_OK(stls_addr_parse("192.0.2.9:5061", true, &a));
	sfx_init(&x, "function ksr_request_route() end\n"
		     "function ksr_tls_event(ev) error('no') end\n", NULL);
	CHECK_EQ(stls_script_conn_out(x.s, 0, &ev), -EPERM);
	CHECK_EQ(stats(&x).errors, 1);
	CHECK_EQ(stats(&x).conn_dropped, 0);
	sfx_fini(&x);
	sfx_init(&x, "function ksr_request_route() end\n"
		     "function ksr_tls_event(ev) error('no') end\n", pass_mode);
	CHECK_OK(stls_script_conn_out(x.s, 0, &ev));
	sfx_fini(&x);
}

TEST(the_event_gets_its_name)
{
	struct sfx x;
	struct stls_addr a;
	struct stls_script_out_ev ev = { .dst = &a };

	CHECK_OK(stls_addr_parse("192.0.2.9:5061", true, &a));
	sfx_init(&x, "function ksr_request_route() end\n"
		     "function ksr_tls_event(ev)\n"
		     "  if ev ~= 'tls:connection-out' then error(ev) end\n"
		     "  KSR.drop()\n"
		     "end\n", NULL);
	CHECK_EQ(stls_script_conn_out(x.s, 0, &ev), -EPERM);
	CHECK_EQ(stats(&x).errors, 0);
	sfx_fini(&x);
}

TEST(a_leaking_state_is_rebuilt)
{
	struct sfx x;
	struct stls_script_stats st;
	int i;

	/* Each call keeps 64 KB more in a global: the cap (1 MiB) is hit,
	 * the collection cannot free it, the state is rebuilt and later
	 * calls work again. */
	sfx_init(&x, "keep = {}\nfunction ksr_request_route()\n"
		     "  keep[#keep + 1] = ('k'):rep(65536) .. #keep\n"
		     "end\nfunction ksr_tls_event(ev) end\n", NULL);
	sfx_request(&x, REQ_INVITE);
	for (i = 0; i < 40; i++)
		sfx_run(&x);
	st = stats(&x);
	CHECK(st.memory >= 1);
	CHECK(st.rebuilds >= 1);
	CHECK_EQ(st.errors, st.memory);
	CHECK(st.memory_used < x.conf.memory);
	sfx_run(&x);
	CHECK(!x.v.failed);
	sfx_fini(&x);
}
