/*
 * Unit tests for daemon/dns/channel.c, the c-ares/libuv glue: queries
 * answered by a fake server on the same loop (poll handles), a server
 * that stays silent (the timer drives c-ares' timeout), NXDOMAIN passed
 * on with its response, a refusing port, closing with queries on the
 * way, and a loop left with no handle after close.
 */
#include "test.h"

#include <errno.h>
#include <netinet/in.h>

#include "daemon/dns/dns_fixture.h"
#include "dns/channel.h"

struct got {
	bool done;
	int err;
	size_t alen;
	unsigned rcode;
	int calls;
};

static void on_raw(void *arg, int err, const uint8_t *abuf, size_t alen)
{
	struct got *g = arg;

	g->done = true;
	g->calls++;
	g->err = err;
	g->alen = alen;
	if (abuf)
		g->rcode = abuf[3] & 0x0f;
}

static bool answer(const char *qname, unsigned qtype, struct dnsb *out,
		   void *arg)
{
	(void)arg;
	if (strcmp(qname, "silent.test") == 0)
		return false;
	if (strcmp(qname, "nx.test") == 0) {
		dnsb_header(out, 0, 3, 1, 0, 0);
		dnsb_question(out, qname, qtype);
		return true;
	}
	dnsb_header(out, 0, 0, 1, 1, 0);
	dnsb_question(out, qname, qtype);
	dnsb_a(out, qname, 60, "192.0.2.9");
	return true;
}

static struct stls_dns_channel *chan(uv_loop_t *loop, struct fake_dns *f,
				     int timeout_ms)
{
	struct stls_dns_channel_conf cc = {
		.servers = &f->addr,
		.n_servers = 1,
		.timeout_ms = timeout_ms,
		.tries = 1,
	};
	struct stls_dns_channel *ch;

	CHECK_OK(stls_dns_channel_new(loop, &cc, &ch));
	return ch;
}

TEST(query_answered_through_the_loop)
{
	uv_loop_t loop;
	struct fake_dns f;
	struct stls_dns_channel *ch;
	struct got g = { 0 };

	CHECK_OK(uv_loop_init(&loop));
	fake_start(&f, &loop, answer, NULL);
	ch = chan(&loop, &f, 1000);
	CHECK_OK(stls_dns_channel_query(ch, "h.test", 1, on_raw, &g));
	/* Never inside the call. */
	CHECK(!g.done);
	CHECK_EQ(stls_dns_channel_pending(ch), 1);
	run_until(&loop, &g.done, 3000);
	CHECK(g.done);
	CHECK_EQ(g.err, 0);
	CHECK_EQ(g.rcode, 0);
	CHECK(g.alen > 12);
	CHECK_EQ(stls_dns_channel_pending(ch), 0);
	CHECK_EQ(f.queries, 1);
	stls_dns_channel_close(ch);
	fake_stop(&f);
	run_dry(&loop);
}

TEST(nxdomain_comes_with_its_response)
{
	uv_loop_t loop;
	struct fake_dns f;
	struct stls_dns_channel *ch;
	struct got g = { 0 };

	CHECK_OK(uv_loop_init(&loop));
	fake_start(&f, &loop, answer, NULL);
	ch = chan(&loop, &f, 1000);
	CHECK_OK(stls_dns_channel_query(ch, "nx.test", 35, on_raw, &g));
	run_until(&loop, &g.done, 3000);
	CHECK_EQ(g.err, 0);
	CHECK_EQ(g.rcode, 3);
	stls_dns_channel_close(ch);
	fake_stop(&f);
	run_dry(&loop);
}

TEST(silent_server_times_out_on_the_timer)
{
	uv_loop_t loop;
	struct fake_dns f;
	struct stls_dns_channel *ch;
	struct got g = { 0 };
	uint64_t t0;

	CHECK_OK(uv_loop_init(&loop));
	fake_start(&f, &loop, answer, NULL);
	ch = chan(&loop, &f, 200);
	t0 = uv_hrtime();
	CHECK_OK(stls_dns_channel_query(ch, "silent.test", 1, on_raw, &g));
	run_until(&loop, &g.done, 5000);
	CHECK(g.done);
	CHECK_EQ(g.err, -ETIMEDOUT);
	CHECK((uv_hrtime() - t0) / 1000000u >= 150);
	CHECK((uv_hrtime() - t0) / 1000000u < 2000);
	CHECK_EQ(g.calls, 1);
	stls_dns_channel_close(ch);
	fake_stop(&f);
	run_dry(&loop);
}

TEST(refusing_port_fails_fast)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct stls_dns_channel_conf cc = { .n_servers = 1, .timeout_ms = 3000,
					    .tries = 1 };
	struct stls_dns_channel *ch;
	struct stls_addr dead;
	socklen_t len = sizeof(sa);
	struct got g = { 0 };
	uv_loop_t loop;
	uint64_t t0;
	int fd;

	/* A port nobody listens on: the kernel answers ICMP unreachable. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	close(fd);
	stls_addr_from_sockaddr((struct sockaddr *)&sa, &dead);
	cc.servers = &dead;
	CHECK_OK(uv_loop_init(&loop));
	CHECK_OK(stls_dns_channel_new(&loop, &cc, &ch));
	t0 = uv_hrtime();
	CHECK_OK(stls_dns_channel_query(ch, "h.test", 1, on_raw, &g));
	run_until(&loop, &g.done, 5000);
	CHECK(g.done);
	CHECK(g.err < 0);
	CHECK((uv_hrtime() - t0) / 1000000u < 2500);
	stls_dns_channel_close(ch);
	run_dry(&loop);
}

TEST(close_ends_queries_on_the_way)
{
	uv_loop_t loop;
	struct fake_dns f;
	struct stls_dns_channel *ch;
	struct got g1 = { 0 }, g2 = { 0 };

	CHECK_OK(uv_loop_init(&loop));
	fake_start(&f, &loop, answer, NULL);
	ch = chan(&loop, &f, 1000);
	CHECK_OK(stls_dns_channel_query(ch, "silent.test", 1, on_raw, &g1));
	CHECK_OK(stls_dns_channel_query(ch, "silent.test", 28, on_raw, &g2));
	uv_run(&loop, UV_RUN_NOWAIT);
	stls_dns_channel_close(ch);
	CHECK(g1.done && g2.done);
	CHECK_EQ(g1.err, -ECANCELED);
	CHECK_EQ(g2.err, -ECANCELED);
	CHECK_EQ(g1.calls, 1);
	fake_stop(&f);
	run_dry(&loop);
}

TEST(several_queries_at_once)
{
	static const char *const names[] = { "a.test", "b.test", "c.test",
					     "d.test" };
	struct got g[4] = { { 0 } };
	struct stls_dns_channel *ch;
	struct fake_dns f;
	uv_loop_t loop;
	bool all = false;
	uint64_t end;
	int i;

	CHECK_OK(uv_loop_init(&loop));
	fake_start(&f, &loop, answer, NULL);
	ch = chan(&loop, &f, 1000);
	for (i = 0; i < 4; i++)
		CHECK_OK(stls_dns_channel_query(ch, names[i], 1, on_raw,
						&g[i]));
	end = uv_hrtime() / 1000000u + 3000;
	while (!all && uv_hrtime() / 1000000u < end) {
		run_until(&loop, &g[3].done, 100);
		all = g[0].done && g[1].done && g[2].done && g[3].done;
	}
	CHECK(all);
	for (i = 0; i < 4; i++)
		CHECK_EQ(g[i].err, 0);
	stls_dns_channel_close(ch);
	fake_stop(&f);
	run_dry(&loop);
}
