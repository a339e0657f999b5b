/*
 * The resolver of one worker: record sets by name and type, from the
 * cache (cache.h) or from the network (channel.h), never blocking.
 *
 * A lookup the cache answers returns at once (a hit costs a hash lookup:
 * see docs/dns.md for the figures). Otherwise the lookup waits for a
 * query; lookups of the same name and type while one is on the way wait
 * for that same query. A response is parsed (answer.h) and cached for
 * its TTL, negative ones included; a failure (timeout, server failure,
 * malformed response) is not cached: the next lookup asks again.
 *
 * Threads: one resolver per worker, on that worker's loop; the counters
 * may be read from any thread (relaxed atomics).
 */
#ifndef STLSD_DNS_RESOLVER_H
#define STLSD_DNS_RESOLVER_H

#include <stdatomic.h>

#include <uv.h>

#include "dns/answer.h"
#include "stls/addr.h"


enum stls_dns_stat {
	STLS_DNS_LOOKUPS,   /* lookups asked */
	STLS_DNS_HITS,      /* answered by the cache (positive) */
	STLS_DNS_NEG_HITS,  /* answered by the cache (NXDOMAIN, NODATA) */
	STLS_DNS_QUERIES,   /* queries sent */
	STLS_DNS_SHARED,    /* lookups that joined a query on the way */
	STLS_DNS_ANSWERS,   /* responses parsed (negative ones too) */
	STLS_DNS_TIMEOUTS,  /* no server answered */
	STLS_DNS_FAILURES,  /* refused, SERVFAIL, malformed, out of memory */
	STLS_DNS__COUNT
};

extern const char *const stls_dns_stat_names[STLS_DNS__COUNT];

struct stls_dns_counters {
	_Atomic uint64_t v[STLS_DNS__COUNT];
};

/* [core] dns_server, dns_timeout, dns_tries, dns_cache_size. */
struct stls_dns_conf {
	const struct stls_addr *servers; /* none: /etc/resolv.conf */
	size_t n_servers;
	int timeout_ms;
	int tries;
	size_t cache_size; /* entries per worker */
	/* Where to count: one per worker, owned by the caller so that
	 * another thread may read them at any time; NULL: the resolver's
	 * own (stls_dns_counters()). */
	struct stls_dns_counters *counters;
};

struct stls_dns;
struct stls_dns_lookup;

/*
 * A lookup's outcome: <err> 0 with <rs> (status OK, NXDOMAIN or NODATA;
 * borrowed for the call: take a reference to keep it), or -ETIMEDOUT,
 * -ECONNREFUSED, -EIO, -EBADMSG, -ENOMEM, -ECANCELED (resolver closing)
 * with rs NULL.
 */
typedef void stls_dns_done_fn(void *arg, int err,
			      const struct stls_dns_rrset *rs);

/* A resolver on <loop>. Returns 0 with *out, or -errno (channel.h). */
STLS_MUST_USE int stls_dns_new(uv_loop_t *loop,
			       const struct stls_dns_conf *conf,
			       struct stls_dns **out);

/*
 * Looks <name> up for <type>. Returns 1 with *hit when the cache has the
 * answer (borrowed until the next call into the resolver; <fn> is not
 * called); 0 with *out when a query is on the way (<fn> runs later,
 * once, unless stls_dns_lookup_cancel(*out) comes first); or -errno
 * (-ECANCELED closed, -ENAMETOOLONG, -ENOMEM, -EIO: the query could not
 * be sent) and <fn> is not called.
 */
STLS_MUST_USE int stls_dns_lookup(struct stls_dns *d, const char *name,
				  uint16_t type, stls_dns_done_fn *fn,
				  void *arg,
				  const struct stls_dns_rrset **hit,
				  struct stls_dns_lookup **out);

/* Forgets a waiting lookup: its callback will not run. The query goes
 * on and its answer is still cached. */
void stls_dns_lookup_cancel(struct stls_dns_lookup *l);

/* The loop's clock, as the cache uses it (ms). */
uint64_t stls_dns_now(const struct stls_dns *d);

/* The counters (any thread reads them). */
const struct stls_dns_counters *stls_dns_counters(const struct stls_dns *d);

/*
 * Ends the resolver: waiting lookups complete with -ECANCELED, the
 * cache is emptied, the channel's handles close (run the loop after).
 * Later lookups fail with -ECANCELED. Idempotent; NULL is fine.
 */
void stls_dns_close(struct stls_dns *d);

/* Frees a closed resolver (after the loop ran). NULL is fine. */
void stls_dns_free(struct stls_dns *d);

#endif
