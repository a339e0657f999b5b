/*
 * Unit tests for daemon/dns/sip_resolve.c, RFC 3263 section 4 against
 * a fake DNS server with a small zone: numeric hosts and explicit ports
 * skip the steps section 4.2 says to skip; NAPTR picks SIPS+D2T or
 * SIP+D2T by order and by what may be opened; SRV records in RFC 2782
 * order, each target's A before its AAAA; no NAPTR or no SRV falls back
 * as section 4.1/4.2 say; NXDOMAIN, a silent server and an SRV "." end
 * it with a reason; a second resolution comes wholly from the cache.
 */
#include "test.h"

#include <errno.h>

#include "daemon/dns/dns_fixture.h"
#include "dns/sip_resolve.h"

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* The zone. Names not listed: NXDOMAIN. Listed names without a record
 * of the type: NODATA (with an SOA, so it is cached). */
static bool answer(const char *q, unsigned t, struct dnsb *m, void *arg)
{
	bool known = true;

	(void)arg;
	if (is(q, "silent.test"))
		return false;
#define ANS(n) (dnsb_header(m, 0, 0, 1, (n), 0), dnsb_question(m, q, t))
	if (is(q, "example.test") && t == 35) {
		ANS(2);
		dnsb_naptr(m, q, 60, 20, 10, "s", "SIP+D2T",
			   "_sip._tcp.example.test");
		dnsb_naptr(m, q, 60, 10, 10, "s", "SIPS+D2T",
			   "_sips._tcp.example.test");
	} else if (is(q, "example.test") && t == 1) {
		ANS(1);
		dnsb_a(m, q, 60, "192.0.2.10");
	} else if (is(q, "_sips._tcp.example.test") && t == 33) {
		ANS(2);
		dnsb_srv(m, q, 60, 10, 0, 5061, "b.example.test");
		dnsb_srv(m, q, 60, 5, 0, 5071, "a.example.test");
	} else if (is(q, "_sip._tcp.example.test") && t == 33) {
		ANS(1);
		dnsb_srv(m, q, 60, 0, 0, 5060, "a.example.test");
	} else if (is(q, "a.example.test") && t == 1) {
		ANS(1);
		dnsb_a(m, q, 60, "192.0.2.1");
	} else if (is(q, "a.example.test") && t == 28) {
		ANS(1);
		dnsb_aaaa(m, q, 60, "2001:db8::1");
	} else if (is(q, "b.example.test") && t == 1) {
		ANS(1);
		dnsb_a(m, q, 60, "192.0.2.2");
	} else if (is(q, "plain.test") && t == 35) {
		ANS(1);
		dnsb_naptr(m, q, 60, 10, 10, "s", "SIP+D2T",
			   "_sip._tcp.plain.test");
	} else if (is(q, "plain.test") && t == 1) {
		ANS(1);
		dnsb_a(m, q, 60, "192.0.2.4");
	} else if (is(q, "_sip._tcp.plain.test") && t == 33) {
		ANS(1);
		dnsb_srv(m, q, 60, 0, 0, 5070, "a.example.test");
	} else if (is(q, "bare.test") && t == 1) {
		ANS(1);
		dnsb_a(m, q, 60, "192.0.2.3");
	} else if (is(q, "_sips._tcp.dot.test") && t == 33) {
		ANS(1);
		dnsb_srv(m, q, 60, 0, 0, 0, ".");
	} else {
		known = is(q, "example.test") || is(q, "b.example.test") ||
			is(q, "plain.test") || is(q, "bare.test") ||
			is(q, "dot.test") || is(q, "_sips._tcp.dot.test");
		dnsb_header(m, 0, known ? 0 : 3, 1, 0, 1);
		dnsb_question(m, q, t);
		dnsb_soa(m, "test", 60, 60);
	}
#undef ANS
	return true;
}

static uint32_t rnd(void *arg)
{
	(void)arg;
	return 0;
}

struct res {
	bool done;
	int err;
	struct stls_sip_targets t;
	char why[STLS_SIP_WHY_MAX];
};

static void on_res(void *arg, int err, const struct stls_sip_targets *t,
		   const char *why)
{
	struct res *r = arg;

	r->done = true;
	r->err = err;
	if (t)
		r->t = *t;
	snprintf(r->why, sizeof(r->why), "%s", why);
}

struct fx {
	uv_loop_t loop;
	struct fake_dns f;
	struct stls_dns *d;
};

static void fx_init(struct fx *x)
{
	struct stls_dns_conf conf = { .n_servers = 1, .timeout_ms = 200,
				      .tries = 1, .cache_size = 64 };

	CHECK_OK(uv_loop_init(&x->loop));
	fake_start(&x->f, &x->loop, answer, NULL);
	conf.servers = &x->f.addr;
	CHECK_OK(stls_dns_new(&x->loop, &conf, &x->d));
}

static void fx_fini(struct fx *x)
{
	stls_dns_close(x->d);
	fake_stop(&x->f);
	run_dry(&x->loop);
	stls_dns_free(x->d);
}

/* Resolves and waits; returns the stls_sip_resolve() result (1: at
 * once, 0: by callback) with the outcome in *r. */
static int resolve(struct fx *x, const struct stls_sip_dns_req *q,
		   struct res *r)
{
	struct stls_sip_resolve *h;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = stls_sip_resolve(x ? x->d : NULL, q, rnd, NULL, on_res, r, &r->t,
			      r->why, &h);
	if (rc != 0) {
		r->done = true;
		r->err = rc < 0 ? rc : 0;
		return rc;
	}
	run_until(&x->loop, &r->done, 3000);
	CHECK(r->done);
	return 0;
}

static void check_target(const struct stls_sip_target *t, const char *addr,
			 bool tls)
{
	char buf[STLS_ADDR_STRLEN];

	CHECK_STR_EQ(stls_addr_str(&t->addr, true, buf), addr);
	CHECK_EQ(t->tls, tls);
}

TEST(numeric_hosts_need_no_dns)
{
	struct stls_sip_dns_req q = { .host = "192.0.2.5", .host_is_ip = true,
				      .sips = true, .tls_ok = true };
	struct res r;

	CHECK_EQ(resolve(NULL, &q, &r), 1);
	CHECK_EQ(r.t.n, 1);
	check_target(&r.t.t[0], "192.0.2.5:5061", true);
	q.sips = false;
	q.tcp_ok = true;
	CHECK_EQ(resolve(NULL, &q, &r), 1);
	check_target(&r.t.t[0], "192.0.2.5:5060", false);
	q.host = "2001:db8::9";
	q.port = 5080;
	q.transport = STLS_SIP_DNS_TP_TLS;
	CHECK_EQ(resolve(NULL, &q, &r), 1);
	check_target(&r.t.t[0], "[2001:db8::9]:5080", true);
	q.tls_ok = false;
	CHECK_EQ(resolve(NULL, &q, &r), -EPROTONOSUPPORT);
	q.host = "not-an-ip";
	q.tls_ok = true;
	CHECK_EQ(resolve(NULL, &q, &r), -EINVAL);
	/* A name without a resolver. */
	q.host_is_ip = false;
	CHECK_EQ(resolve(NULL, &q, &r), -ENOTSUP);
}

TEST(naptr_srv_a_aaaa_then_all_from_the_cache)
{
	struct stls_sip_dns_req q = { .host = "Example.Test", .sips = true,
				      .tls_ok = true };
	struct res r;
	unsigned queries;
	struct fx x;

	fx_init(&x);
	CHECK_EQ(resolve(&x, &q, &r), 0);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.t.n, 3);
	/* SRV priority 5 (a) before 10 (b); a's A before its AAAA. */
	check_target(&r.t.t[0], "192.0.2.1:5071", true);
	check_target(&r.t.t[1], "[2001:db8::1]:5071", true);
	check_target(&r.t.t[2], "192.0.2.2:5061", true);
	CHECK_EQ(x.f.by_type[35], 1);
	CHECK_EQ(x.f.by_type[33], 1);
	queries = x.f.queries;
	/* Every step cached: done inside the call. */
	CHECK_EQ(resolve(&x, &q, &r), 1);
	CHECK_EQ(r.t.n, 3);
	check_target(&r.t.t[2], "192.0.2.2:5061", true);
	CHECK_EQ(x.f.queries, queries);
	fx_fini(&x);
}

TEST(naptr_choice_follows_what_may_be_opened)
{
	struct stls_sip_dns_req q = { .host = "example.test", .tls_ok = true,
				      .tcp_ok = true };
	struct res r;
	struct fx x;

	fx_init(&x);
	/* sip: URI, both allowed: SIPS+D2T has the lower order. */
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	check_target(&r.t.t[0], "192.0.2.1:5071", true);
	/* sip: URI, only SIP+D2T offered. */
	q.host = "plain.test";
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	check_target(&r.t.t[0], "192.0.2.1:5070", false);
	/* sips: URI: SIP+D2T is discarded; no _sips._tcp SRV: the host's
	 * own address with 5061 (RFC 3263 4.2). */
	q.sips = true;
	q.tcp_ok = false;
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.t.n, 1);
	check_target(&r.t.t[0], "192.0.2.4:5061", true);
	fx_fini(&x);
}

TEST(explicit_port_and_transport_skip_steps)
{
	struct stls_sip_dns_req q = { .host = "example.test", .port = 5999,
				      .sips = true, .tls_ok = true };
	struct res r;
	struct fx x;

	fx_init(&x);
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.t.n, 1);
	check_target(&r.t.t[0], "192.0.2.10:5999", true);
	CHECK_EQ(x.f.by_type[35], 0);
	CHECK_EQ(x.f.by_type[33], 0);
	/* transport=tls, no port: SRV only, no NAPTR. */
	q.port = 0;
	q.sips = false;
	q.transport = STLS_SIP_DNS_TP_TLS;
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	check_target(&r.t.t[0], "192.0.2.1:5071", true);
	CHECK_EQ(x.f.by_type[35], 0);
	/* transport=tcp: _sip._tcp. */
	q.transport = STLS_SIP_DNS_TP_TCP;
	q.tcp_ok = true;
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	check_target(&r.t.t[0], "192.0.2.1:5060", false);
	fx_fini(&x);
}

TEST(no_naptr_no_srv_falls_back_to_the_host)
{
	struct stls_sip_dns_req q = { .host = "bare.test", .sips = true,
				      .tls_ok = true };
	struct res r;
	struct fx x;

	fx_init(&x);
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, 0);
	CHECK_EQ(r.t.n, 1);
	check_target(&r.t.t[0], "192.0.2.3:5061", true);
	fx_fini(&x);
}

TEST(failures_say_why)
{
	struct stls_sip_dns_req q = { .host = "nx.test", .sips = true,
				      .tls_ok = true };
	struct res r;
	struct fx x;

	fx_init(&x);
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, -ENOENT);
	CHECK_STR_HAS(r.why, "no such domain nx.test");
	/* The negative answer is cached: at once the second time. */
	CHECK_EQ(resolve(&x, &q, &r), -ENOENT);
	q.host = "silent.test";
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, -ETIMEDOUT);
	CHECK_STR_HAS(r.why, "DNS timeout for NAPTR silent.test");
	q.host = "dot.test";
	resolve(&x, &q, &r);
	CHECK_EQ(r.err, -ENOENT);
	CHECK_STR_HAS(r.why, "no SIP service at dot.test");
	fx_fini(&x);
}

TEST(cancel_while_waiting)
{
	struct stls_sip_dns_req q = { .host = "silent.test", .sips = true,
				      .tls_ok = true };
	struct stls_sip_resolve *h;
	struct res r = { 0 };
	struct fx x;

	fx_init(&x);
	CHECK_EQ(stls_sip_resolve(x.d, &q, rnd, NULL, on_res, &r, &r.t, r.why,
				  &h),
		 0);
	uv_run(&x.loop, UV_RUN_NOWAIT);
	stls_sip_resolve_cancel(h);
	uv_sleep(300);
	uv_run(&x.loop, UV_RUN_NOWAIT);
	CHECK(!r.done);
	fx_fini(&x);
	CHECK(!r.done);
}
