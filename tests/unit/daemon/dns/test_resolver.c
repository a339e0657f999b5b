/*
 * Unit tests for daemon/dns/resolver.c: a miss goes to the server and
 * fills the cache, the next lookup is a hit returned at once; lookups of
 * one name and type share one query; NXDOMAIN with an SOA is cached,
 * failures are not; a TTL that runs out sends a new query; cancel and
 * close; the counters.
 */
#include "test.h"

#include <errno.h>

#include "daemon/dns/dns_fixture.h"
#include "dns/resolver.h"

struct got {
	bool done;
	int err;
	int calls;
	enum stls_dns_status st;
	size_t n;
};

static void on_done(void *arg, int err, const struct stls_dns_rrset *rs)
{
	struct got *g = arg;

	g->done = true;
	g->calls++;
	g->err = err;
	if (rs) {
		g->st = rs->status;
		g->n = rs->n;
	}
}

static bool answer(const char *qname, unsigned qtype, struct dnsb *out,
		   void *arg)
{
	(void)arg;
	if (strcmp(qname, "silent.test") == 0)
		return false;
	if (strcmp(qname, "nx.test") == 0 || strcmp(qname, "nxbare.test") == 0) {
		bool soa = strcmp(qname, "nx.test") == 0;

		dnsb_header(out, 0, 3, 1, 0, soa);
		dnsb_question(out, qname, qtype);
		if (soa)
			dnsb_soa(out, "test", 60, 30);
		return true;
	}
	dnsb_header(out, 0, 0, 1, 1, 0);
	dnsb_question(out, qname, qtype);
	dnsb_a(out, qname, strcmp(qname, "short.test") == 0 ? 1 : 60,
	       "192.0.2.7");
	return true;
}

struct fx {
	uv_loop_t loop;
	struct fake_dns f;
	struct stls_dns *d;
	struct stls_dns_counters cnt;
};

static void fx_init(struct fx *x, int timeout_ms)
{
	struct stls_dns_conf conf = { .n_servers = 1, .timeout_ms = timeout_ms,
				      .tries = 1, .cache_size = 64 };

	memset(x, 0, sizeof(*x));
	CHECK_OK(uv_loop_init(&x->loop));
	fake_start(&x->f, &x->loop, answer, NULL);
	conf.servers = &x->f.addr;
	conf.counters = &x->cnt;
	CHECK_OK(stls_dns_new(&x->loop, &conf, &x->d));
}

static void fx_fini(struct fx *x)
{
	stls_dns_close(x->d);
	fake_stop(&x->f);
	run_dry(&x->loop);
	stls_dns_free(x->d);
}

static uint64_t cnt(struct fx *x, enum stls_dns_stat k)
{
	return atomic_load(&stls_dns_counters(x->d)->v[k]);
}

/* Looks up; waits for the answer when it is not a hit. Returns 1 on a
 * hit, 0 when answered by the server. */
static int look(struct fx *x, const char *name, struct got *g)
{
	const struct stls_dns_rrset *hit = NULL;
	struct stls_dns_lookup *l;
	int rc;

	memset(g, 0, sizeof(*g));
	rc = stls_dns_lookup(x->d, name, STLS_DNS_T_A, on_done, g, &hit, &l);
	CHECK(rc >= 0);
	if (rc == 1) {
		g->done = true;
		g->st = hit->status;
		g->n = hit->n;
		return 1;
	}
	run_until(&x->loop, &g->done, 3000);
	CHECK(g->done);
	return 0;
}

TEST(miss_then_hit)
{
	struct fx x;
	struct got g;

	fx_init(&x, 500);
	CHECK_EQ(look(&x, "h.test", &g), 0);
	CHECK_EQ(g.err, 0);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(look(&x, "H.TEST.", &g), 1);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(x.f.queries, 1);
	CHECK_EQ(cnt(&x, STLS_DNS_LOOKUPS), 2);
	CHECK_EQ(cnt(&x, STLS_DNS_HITS), 1);
	CHECK_EQ(cnt(&x, STLS_DNS_QUERIES), 1);
	CHECK_EQ(cnt(&x, STLS_DNS_ANSWERS), 1);
	fx_fini(&x);
}

TEST(lookups_share_a_query)
{
	const struct stls_dns_rrset *hit;
	struct stls_dns_lookup *l1, *l2;
	struct got g1 = { 0 }, g2 = { 0 };
	struct fx x;

	fx_init(&x, 500);
	CHECK_EQ(stls_dns_lookup(x.d, "h.test", 1, on_done, &g1, &hit, &l1),
		 0);
	CHECK_EQ(stls_dns_lookup(x.d, "h.test", 1, on_done, &g2, &hit, &l2),
		 0);
	run_until(&x.loop, &g1.done, 3000);
	run_until(&x.loop, &g2.done, 3000);
	CHECK(g1.done && g2.done);
	CHECK_EQ(x.f.queries, 1);
	CHECK_EQ(cnt(&x, STLS_DNS_SHARED), 1);
	fx_fini(&x);
}

TEST(nxdomain_cached_with_soa_only)
{
	struct fx x;
	struct got g;

	fx_init(&x, 500);
	CHECK_EQ(look(&x, "nx.test", &g), 0);
	CHECK_EQ(g.err, 0);
	CHECK_EQ(g.st, STLS_DNS_NXDOMAIN);
	CHECK_EQ(look(&x, "nx.test", &g), 1);
	CHECK_EQ(g.st, STLS_DNS_NXDOMAIN);
	CHECK_EQ(cnt(&x, STLS_DNS_NEG_HITS), 1);
	/* Without an SOA there is no negative TTL: asked again. */
	CHECK_EQ(look(&x, "nxbare.test", &g), 0);
	CHECK_EQ(look(&x, "nxbare.test", &g), 0);
	CHECK_EQ(x.f.queries, 3);
	fx_fini(&x);
}

TEST(failures_are_not_cached)
{
	struct fx x;
	struct got g;

	fx_init(&x, 150);
	CHECK_EQ(look(&x, "silent.test", &g), 0);
	CHECK_EQ(g.err, -ETIMEDOUT);
	CHECK_EQ(look(&x, "silent.test", &g), 0);
	CHECK_EQ(g.err, -ETIMEDOUT);
	CHECK_EQ(cnt(&x, STLS_DNS_TIMEOUTS), 2);
	fx_fini(&x);
}

TEST(ttl_runs_out)
{
	struct fx x;
	struct got g;

	fx_init(&x, 500);
	CHECK_EQ(look(&x, "short.test", &g), 0);
	CHECK_EQ(look(&x, "short.test", &g), 1);
	uv_sleep(1100);
	uv_update_time(&x.loop);
	CHECK_EQ(look(&x, "short.test", &g), 0);
	CHECK_EQ(x.f.queries, 2);
	fx_fini(&x);
}

TEST(cancel_and_close)
{
	const struct stls_dns_rrset *hit;
	struct stls_dns_lookup *l1, *l2;
	struct got g1 = { 0 }, g2 = { 0 }, g3;
	struct fx x;
	int i;

	fx_init(&x, 500);
	CHECK_EQ(stls_dns_lookup(x.d, "h.test", 1, on_done, &g1, &hit, &l1),
		 0);
	stls_dns_lookup_cancel(l1);
	CHECK_EQ(stls_dns_lookup(x.d, "silent.test", 1, on_done, &g2, &hit,
				 &l2),
		 0);
	/* The cancelled lookup's answer still fills the cache. */
	for (i = 0; i < 2000 && cnt(&x, STLS_DNS_ANSWERS) == 0; i++) {
		uv_run(&x.loop, UV_RUN_NOWAIT);
		uv_sleep(1);
	}
	CHECK(!g1.done);
	CHECK_EQ(look(&x, "h.test", &g3), 1);
	stls_dns_close(x.d);
	CHECK(g2.done);
	CHECK_EQ(g2.err, -ECANCELED);
	CHECK_EQ(stls_dns_lookup(x.d, "h.test", 1, on_done, &g3, &hit, &l1),
		 -ECANCELED);
	fx_fini(&x);
}

TEST(bad_names)
{
	const struct stls_dns_rrset *hit;
	struct stls_dns_lookup *l;
	char name[300];
	struct fx x;

	fx_init(&x, 500);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_EQ(stls_dns_lookup(x.d, name, 1, on_done, NULL, &hit, &l),
		 -ENAMETOOLONG);
	CHECK_EQ(stls_dns_lookup(x.d, ".", 1, on_done, NULL, &hit, &l),
		 -ENAMETOOLONG);
	fx_fini(&x);
}
