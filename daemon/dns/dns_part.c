/*
 * The resolver of each worker, started and stopped with the worker (see
 * dns_part.h). The part keeps the resolver in w->dns.
 */
#include "dns/dns_part.h"

#include <stdio.h>

#include "runtime/worker.h"
#include "stls/log.h"

struct stls_dns *stls_dns_of(struct stls_worker *w)
{
	return w->dns;
}

static int part_start(struct stls_worker *w)
{
	const struct stls_dns_conf *conf = w->d->o.dns;
	struct stls_dns_conf mine;

	if (!conf)
		return 0;
	mine = *conf;
	mine.counters = conf->counters ? &conf->counters[w->idx] : NULL;
	return stls_dns_new(&w->loop, &mine, &w->dns);
}

/* Lookups still waiting end with -ECANCELED; the handles close. */
static void part_stop(struct stls_worker *w)
{
	stls_dns_close(w->dns);
}

static void part_free(struct stls_worker *w)
{
	stls_dns_free(w->dns);
	w->dns = NULL;
}

const struct stls_worker_part stls_dns_part = {
	.name = "dns",
	.start = part_start,
	.stop = part_stop,
	.free = part_free,
};

void stls_dns_stats_sum(const struct stls_dns_counters *c, size_t n,
			uint64_t *v)
{
	size_t w, k;

	for (k = 0; k < STLS_DNS__COUNT; k++)
		v[k] = 0;
	for (w = 0; c && w < n; w++) {
		for (k = 0; k < STLS_DNS__COUNT; k++)
			v[k] += atomic_load_explicit(&c[w].v[k],
						     memory_order_relaxed);
	}
}

void stls_dns_stats_log(const struct stls_dns_counters *c, size_t n)
{
	uint64_t v[STLS_DNS__COUNT];
	char line[512];
	size_t k, off = 0;

	stls_dns_stats_sum(c, n, v);
	for (k = 0; k < STLS_DNS__COUNT && off < sizeof(line); k++)
		off += (size_t)snprintf(line + off, sizeof(line) - off,
					" %s=%llu", stls_dns_stat_names[k],
					(unsigned long long)v[k]);
	STLS_NOTICE("dns stats:%s", line);
}
