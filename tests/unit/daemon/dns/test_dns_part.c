/*
 * Unit tests for daemon/dns/dns_part.c: every worker of a daemon gets
 * its own resolver on its own loop when o.dns is set (none otherwise);
 * a lookup still waiting when the daemon stops ends with -ECANCELED and
 * the worker stops cleanly (no handle left on its loop); the counters
 * are summed across workers.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <netinet/in.h>

#include "daemon/runtime/daemon_harness.h"
#include "dns/dns_part.h"
#include "runtime/handler_echo.h"

struct probe {
	struct stls_msg m;
	atomic_int has;    /* 1 resolver, 0 none, -1 not run yet */
	atomic_int looked; /* lookup result */
	atomic_int err;    /* callback error; 1: not called */
};

static void on_done(void *arg, int err, const struct stls_dns_rrset *rs)
{
	struct probe *p = arg;

	(void)rs;
	atomic_store(&p->err, err);
}

static void do_probe(struct stls_worker *w, struct stls_dconn *c,
		     struct stls_msg *m, bool cancelled)
{
	struct probe *p = (struct probe *)m;
	const struct stls_dns_rrset *hit;
	struct stls_dns_lookup *l;
	struct stls_dns *d = cancelled ? NULL : stls_dns_of(w);

	(void)c;
	if (d)
		atomic_store(&p->looked,
			     stls_dns_lookup(d, "silent.example.test", 1,
					     on_done, p, &hit, &l));
	atomic_store(&p->has, d != NULL);
}

/* A UDP socket that reads nothing: queries to it stay unanswered. */
static int silent_server(struct stls_addr *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	stls_addr_from_sockaddr((struct sockaddr *)&sa, a);
	return fd;
}

static void probe_worker(struct dh *h, unsigned widx, struct probe *p)
{
	uint64_t end = dh_now_ms() + 3000;

	memset(p, 0, sizeof(*p));
	p->m.fn = do_probe;
	atomic_store(&p->has, -1);
	atomic_store(&p->err, 1);
	CHECK_OK(stls_daemon_post(h->d, widx, &p->m));
	while (atomic_load(&p->has) == -1 && dh_now_ms() < end)
		dh_sleep_ms(5);
	CHECK_NE(atomic_load(&p->has), -1);
}

TEST(each_worker_has_a_resolver_closed_at_stop)
{
	struct stls_dns_counters cnt[2];
	struct stls_dns_conf conf = { .n_servers = 1, .timeout_ms = 5000,
				      .tries = 1, .cache_size = 16,
				      .counters = cnt };
	uint64_t v[STLS_DNS__COUNT];
	struct probe p0, p1;
	struct stls_addr srv;
	struct dh h;
	int fd = silent_server(&srv);

	memset(cnt, 0, sizeof(cnt));
	conf.servers = &srv;
	dh_init(&h, 2, &stls_echo_handler);
	h.o.dns = &conf;
	h.o.parts[1] = &stls_dns_part;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	probe_worker(&h, 0, &p0);
	probe_worker(&h, 1, &p1);
	CHECK_EQ(atomic_load(&p0.has), 1);
	CHECK_EQ(atomic_load(&p1.has), 1);
	CHECK_EQ(atomic_load(&p0.looked), 0);
	CHECK_EQ(atomic_load(&p0.err), 1);
	stls_dns_stats_sum(cnt, 2, v);
	CHECK_EQ(v[STLS_DNS_LOOKUPS], 2);
	CHECK_EQ(v[STLS_DNS_QUERIES], 2);
	stls_dns_stats_log(cnt, 2);
	/* Stopping ends the waiting lookups, then the loops. */
	stls_daemon_stop(h.d);
	stls_daemon_join(h.d);
	CHECK_EQ(atomic_load(&p0.err), -ECANCELED);
	CHECK_EQ(atomic_load(&p1.err), -ECANCELED);
	dh_free(&h);
	close(fd);
}

TEST(no_conf_no_resolver)
{
	struct probe p;
	struct dh h;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.parts[1] = &stls_dns_part;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	probe_worker(&h, 0, &p);
	CHECK_EQ(atomic_load(&p.has), 0);
	stls_daemon_stop(h.d);
	stls_daemon_join(h.d);
	dh_free(&h);
}
