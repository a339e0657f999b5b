/*
 * The resolver's cache: record sets by (name, type), each kept for its
 * TTL (answer.h says how the TTL of a positive and of a negative set is
 * found). One cache per worker, used only by that worker's thread: no
 * locks. Bounded: when full, the least recently used entry goes.
 *
 * Time is given by the caller (milliseconds of the worker loop), so that
 * tests can move it.
 */
#ifndef STLSD_DNS_CACHE_H
#define STLSD_DNS_CACHE_H

#include "dns/answer.h"

struct stls_dns_cache;

struct stls_dns_cache_stats {
	uint64_t hits;      /* positive sets returned */
	uint64_t neg_hits;  /* NXDOMAIN / NODATA returned */
	uint64_t misses;    /* absent or expired */
	uint64_t evictions; /* dropped to make room */
	size_t entries;
};

/* A cache of at most <max> entries (>= 1). Returns 0 or -ENOMEM. */
STLS_MUST_USE int stls_dns_cache_new(size_t max,
				     struct stls_dns_cache **out);

/* Drops every entry's reference and frees the cache. NULL is fine. */
void stls_dns_cache_free(struct stls_dns_cache *c);

/*
 * The set cached for <name> (case-insensitive, a trailing dot ignored)
 * and <type> at time <now_ms>, or NULL (never cached, or expired: the
 * expired entry is dropped). The set is borrowed: take a reference to
 * keep it past the next call that changes the cache.
 */
const struct stls_dns_rrset *stls_dns_cache_get(struct stls_dns_cache *c,
						const char *name,
						uint16_t type,
						uint64_t now_ms);

/*
 * Caches <rs> for rs->ttl seconds from <now_ms> (takes a reference of
 * its own; a set with TTL 0 is not cached), replacing an entry of the
 * same name and type. Returns 0, -ENAMETOOLONG or -ENOMEM (then nothing
 * changed).
 */
STLS_MUST_USE int stls_dns_cache_put(struct stls_dns_cache *c,
				     const char *name,
				     struct stls_dns_rrset *rs,
				     uint64_t now_ms);

void stls_dns_cache_stats(const struct stls_dns_cache *c,
			  struct stls_dns_cache_stats *out);

#endif
