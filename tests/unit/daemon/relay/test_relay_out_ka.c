/*
 * Unit tests for daemon/relay/relay_out_ka.c without a daemon: which
 * bytes at the head of an outbound connection's input are pongs (CRLF
 * at a message boundary, not a CRLF CRLF ping, not inside a message),
 * that a pong re-arms the next ping 80-100% of the interval later, and
 * that the keep-alive timer is made on first use and closed by the
 * relay's worker part.
 */
#include "test.h"

#include "relay/relay_int.h"
#include "runtime/worker.h"

struct fx {
	struct stls_relay_settings rs;
	struct stls_relay r;
	struct stls_worker w;
	struct relay_worker rw;
	struct relay_conn rc;
	struct relay_dest d;
	struct stls_dconn c;
};

static void fx_init(struct fx *x, int keepalive)
{
	memset(x, 0, sizeof(*x));
	x->rs.outbound_keepalive = keepalive;
	x->rs.outbound_keepalive_timeout = 1;
	x->r.rs = &x->rs;
	CHECK_OK(uv_loop_init(&x->w.loop));
	x->w.hctx = &x->rw;
	x->rw.r = &x->r;
	x->rw.w = &x->w;
	stls_sip_framer_init(&x->rc.fr, 0);
	x->rc.dest = &x->d;
	x->c.hstate = &x->rc;
	x->d.rw = &x->rw;
	x->d.up = true;
}

static void fx_fini(struct fx *x)
{
	stls__relay_ka_part.stop(&x->w);
	uv_run(&x->w.loop, UV_RUN_NOWAIT);
	CHECK_OK(uv_loop_close(&x->w.loop));
}

static size_t pong(struct fx *x, const char *s)
{
	return stls__relay_ka_pong(&x->rw, &x->c, s, strlen(s));
}

TEST(crlf_at_a_boundary_is_a_pong)
{
	struct fx x;
	uint64_t now;

	fx_init(&x, 10);
	now = uv_now(&x.w.loop);
	x.d.pong_due = now + 1000;
	CHECK_EQ(pong(&x, "\r\n"), 2);
	CHECK_EQ(x.d.pong_due, 0);
	/* The next ping: between 80% and 100% of 10 s. */
	CHECK(x.d.ka_due >= now + 8000 && x.d.ka_due <= now + 10000);
	CHECK_EQ(pong(&x, "\r\n\r\nOPTIONS"), 0);
	CHECK_EQ(pong(&x, "\r\nSIP/2.0 200 OK\r\n"), 2);
	CHECK_EQ(pong(&x, "\r\n\r\n\r\n"), 0);
	CHECK_EQ(pong(&x, "SIP/2.0 200 OK\r\n"), 0);
	fx_fini(&x);
}

TEST(no_pong_inside_a_message)
{
	struct fx x;

	fx_init(&x, 10);
	x.rc.fr.scan = 20; /* a header section is being read */
	x.d.pong_due = 5;
	CHECK_EQ(pong(&x, "\r\n"), 0);
	CHECK_EQ(x.d.pong_due, 5);
	fx_fini(&x);
}

TEST(pong_without_a_ping_changes_nothing)
{
	struct fx x;

	fx_init(&x, 10);
	x.d.ka_due = 77;
	CHECK_EQ(pong(&x, "\r\n"), 2);
	CHECK_EQ(x.d.ka_due, 77);
	fx_fini(&x);
}

TEST(timer_made_on_start_closed_by_the_part)
{
	struct fx x;
	uint64_t now;

	fx_init(&x, 2);
	now = uv_now(&x.w.loop);
	stls__relay_ka_start(&x.rw, &x.d);
	CHECK(x.rw.ka_timer_ok);
	CHECK(uv_is_active((uv_handle_t *)&x.rw.ka_timer));
	CHECK(x.d.ka_due >= now + 1600 && x.d.ka_due <= now + 2000);
	CHECK_EQ(x.d.pong_due, 0);
	fx_fini(&x); /* uv_loop_close fails if the timer were left open */
}

TEST(no_timer_once_stopping)
{
	struct fx x;

	fx_init(&x, 2);
	x.w.stopping = true;
	stls__relay_ka_start(&x.rw, &x.d);
	CHECK(!x.rw.ka_timer_ok);
	fx_fini(&x);
}
