/*
 * The resolver as a worker part (runtime/daemon.h): each worker gets its
 * own resolver (resolver.h) on its own loop, started before the handler
 * and closed when the worker stops, so that no DNS socket or timer
 * outlives the loop. The handler (the relay) reaches it with
 * stls_dns_of().
 *
 * Wiring (main.c): o.dns points to a struct stls_dns_conf that outlives
 * the daemon, with counters for o.workers workers; o.parts lists
 * &stls_dns_part. Without o.dns no worker has a resolver (stls_dns_of()
 * is NULL: only numeric targets can be reached).
 */
#ifndef STLSD_DNS_PART_H
#define STLSD_DNS_PART_H

#include "dns/resolver.h"
#include "runtime/daemon.h"

extern const struct stls_worker_part stls_dns_part;

/* Worker w's resolver, or NULL. w's thread. */
struct stls_dns *stls_dns_of(struct stls_worker *w);

/* Sums <n> workers' counters into v[STLS_DNS__COUNT]. Any thread. */
void stls_dns_stats_sum(const struct stls_dns_counters *c, size_t n,
			uint64_t *v);

/* Logs one "dns stats:" line with the sums (SIGUSR1, exit). */
void stls_dns_stats_log(const struct stls_dns_counters *c, size_t n);

#endif
