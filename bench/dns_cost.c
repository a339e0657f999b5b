/*
 * What RFC 3263 resolution costs the worker (docs/dns.md, "Cost"):
 *
 *   dns_cost SERVER:PORT NAME [COLD_RUNS] [WARM_CALLS]
 *
 * resolves sips:NAME (NAPTR, SRV, A and AAAA: dns/sip_resolve.c) through
 * the worker's resolver against the DNS server SERVER:PORT, on one libuv
 * loop as a worker runs it:
 *   cold: COLD_RUNS times (default 20) with an empty cache (a new
 *         resolver each time): wall time from the call to the callback,
 *         which is the servers' round trips plus our work;
 *   warm: WARM_CALLS calls (default 100000) answered wholly from the
 *         cache, inside the call: wall time per call. Under valgrind
 *         --tool=callgrind --toggle-collect=warm_calls the instruction
 *         count divided by WARM_CALLS is the cost of one cache-hit
 *         resolution.
 * Build a release tree (make release) for the figures; the ASan build
 * inflates them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "dns/sip_resolve.h"

static uint32_t rnd(void *arg)
{
	(void)arg;
	return (uint32_t)rand();
}

static void on_res(void *arg, int err, const struct stls_sip_targets *t,
		   const char *why)
{
	int *done = arg;

	(void)t;
	if (err)
		fprintf(stderr, "dns_cost: %s\n", why);
	*done = err ? -1 : 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int resolve_once(struct stls_dns *d, uv_loop_t *loop,
			const struct stls_sip_dns_req *q)
{
	struct stls_sip_targets now;
	char why[STLS_SIP_WHY_MAX];
	struct stls_sip_resolve *h;
	int done = 0, rc;

	rc = stls_sip_resolve(d, q, rnd, NULL, on_res, &done, &now, why, &h);
	if (rc != 0)
		return rc < 0 ? rc : 1;
	while (!done)
		uv_run(loop, UV_RUN_ONCE);
	return done;
}

/* Kept out of line so that callgrind can count it alone. */
__attribute__((noinline)) uint64_t warm_calls(struct stls_dns *d,
					      const struct stls_sip_dns_req *q,
					      long n);
__attribute__((noinline)) uint64_t warm_calls(struct stls_dns *d,
					      const struct stls_sip_dns_req *q,
					      long n)
{
	struct stls_sip_targets now;
	char why[STLS_SIP_WHY_MAX];
	struct stls_sip_resolve *h;
	uint64_t sum = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (stls_sip_resolve(d, q, rnd, NULL, on_res, NULL, &now, why,
				     &h) != 1)
			return 0;
		sum += now.n;
	}
	return sum;
}

static void fini(struct stls_dns *d, uv_loop_t *loop)
{
	stls_dns_close(d);
	while (uv_run(loop, UV_RUN_NOWAIT))
		;
	stls_dns_free(d);
}

int main(int argc, char **argv)
{
	struct stls_sip_dns_req q = { .sips = true, .tls_ok = true };
	struct stls_dns_conf conf = { .n_servers = 1, .timeout_ms = 1000,
				      .tries = 2, .cache_size = 1024 };
	long cold = argc > 3 ? atol(argv[3]) : 20;
	long warm = argc > 4 ? atol(argv[4]) : 100000;
	struct stls_addr srv;
	struct stls_dns *d;
	uint64_t *t, t0;
	uv_loop_t loop;
	long i;

	if (argc < 3 || stls_addr_parse(argv[1], true, &srv) != 0 ||
	    cold < 1 || warm < 1) {
		fprintf(stderr, "usage: dns_cost SERVER:PORT NAME [COLD_RUNS] "
				"[WARM_CALLS]\n");
		return 2;
	}
	q.host = argv[2];
	conf.servers = &srv;
	t = calloc((size_t)cold, sizeof(*t));
	if (!t || uv_loop_init(&loop) != 0)
		return 1;
	for (i = 0; i < cold; i++) {
		if (stls_dns_new(&loop, &conf, &d) != 0)
			return 1;
		t0 = uv_hrtime();
		if (resolve_once(d, &loop, &q) != 1)
			return 1;
		t[i] = uv_hrtime() - t0;
		fini(d, &loop);
	}
	qsort(t, (size_t)cold, sizeof(*t), cmp_u64);
	printf("cold: %ld runs, median %.1f us, min %.1f us\n", cold,
	       (double)t[cold / 2] / 1e3, (double)t[0] / 1e3);
	if (stls_dns_new(&loop, &conf, &d) != 0 ||
	    resolve_once(d, &loop, &q) != 1)
		return 1;
	t0 = uv_hrtime();
	if (!warm_calls(d, &q, warm))
		return 1;
	printf("warm: %ld calls from the cache, %.3f us each\n", warm,
	       (double)(uv_hrtime() - t0) / 1e3 / (double)warm);
	fini(d, &loop);
	uv_loop_close(&loop);
	free(t);
	return 0;
}
