/*
 * Unit tests for daemon/dns/cache.c: sets kept for their TTL (positive
 * and negative), TTL 0 never kept, names compared case-insensitively
 * without the trailing dot, replacement, and least-recently-used
 * eviction when full. Time is the caller's, so nothing sleeps.
 */
#include <errno.h>

#include "test.h"

#include "dns/cache.h"

static struct stls_dns_rrset *set(uint16_t type, enum stls_dns_status st,
				  uint32_t ttl, uint8_t tag)
{
	struct stls_dns_rrset *rs =
		stls_dns_rrset_new(type, st == STLS_DNS_OK ? 1 : 0);

	CHECK_NOT_NULL(rs);
	rs->status = st;
	rs->ttl = ttl;
	if (rs->n)
		rs->rr[0].ip[0] = tag;
	return rs;
}

TEST(kept_for_its_ttl)
{
	struct stls_dns_cache *c;
	struct stls_dns_rrset *rs = set(STLS_DNS_T_A, STLS_DNS_OK, 10, 7);
	const struct stls_dns_rrset *got;
	struct stls_dns_cache_stats st;

	CHECK_OK(stls_dns_cache_new(8, &c));
	CHECK_NULL(stls_dns_cache_get(c, "h.test", STLS_DNS_T_A, 1000));
	CHECK_OK(stls_dns_cache_put(c, "h.test", rs, 1000));
	stls_dns_rrset_unref(rs); /* the cache keeps its own reference */
	got = stls_dns_cache_get(c, "H.Test.", STLS_DNS_T_A, 10999);
	CHECK_NOT_NULL(got);
	CHECK_EQ(got->rr[0].ip[0], 7);
	/* Another type is another entry. */
	CHECK_NULL(stls_dns_cache_get(c, "h.test", STLS_DNS_T_AAAA, 2000));
	/* At expiry it is gone (and dropped). */
	CHECK_NULL(stls_dns_cache_get(c, "h.test", STLS_DNS_T_A, 11000));
	stls_dns_cache_stats(c, &st);
	CHECK_EQ(st.hits, 1);
	CHECK_EQ(st.misses, 3);
	CHECK_EQ(st.entries, 0);
	stls_dns_cache_free(c);
}

TEST(negative_sets_are_kept_too)
{
	struct stls_dns_cache *c;
	struct stls_dns_rrset *nx = set(STLS_DNS_T_NAPTR, STLS_DNS_NXDOMAIN, 5,
					0);
	const struct stls_dns_rrset *got;
	struct stls_dns_cache_stats st;

	CHECK_OK(stls_dns_cache_new(8, &c));
	CHECK_OK(stls_dns_cache_put(c, "nope.test", nx, 0));
	stls_dns_rrset_unref(nx);
	got = stls_dns_cache_get(c, "nope.test", STLS_DNS_T_NAPTR, 4999);
	CHECK_NOT_NULL(got);
	CHECK_EQ(got->status, STLS_DNS_NXDOMAIN);
	CHECK_NULL(stls_dns_cache_get(c, "nope.test", STLS_DNS_T_NAPTR, 5000));
	stls_dns_cache_stats(c, &st);
	CHECK_EQ(st.neg_hits, 1);
	stls_dns_cache_free(c);
}

TEST(ttl_zero_is_not_kept_and_replaces)
{
	struct stls_dns_cache *c;
	struct stls_dns_rrset *a = set(STLS_DNS_T_A, STLS_DNS_OK, 60, 1);
	struct stls_dns_rrset *z = set(STLS_DNS_T_A, STLS_DNS_NODATA, 0, 0);
	struct stls_dns_rrset *b = set(STLS_DNS_T_A, STLS_DNS_OK, 60, 2);

	CHECK_OK(stls_dns_cache_new(8, &c));
	CHECK_OK(stls_dns_cache_put(c, "h.test", a, 0));
	CHECK_OK(stls_dns_cache_put(c, "h.test", b, 0));
	CHECK_EQ(stls_dns_cache_get(c, "h.test", STLS_DNS_T_A, 1)->rr[0].ip[0],
		 2);
	/* A newer answer that may not be kept still drops the old one. */
	CHECK_OK(stls_dns_cache_put(c, "h.test", z, 0));
	CHECK_NULL(stls_dns_cache_get(c, "h.test", STLS_DNS_T_A, 1));
	stls_dns_rrset_unref(a);
	stls_dns_rrset_unref(b);
	stls_dns_rrset_unref(z);
	stls_dns_cache_free(c);
}

TEST(least_recently_used_goes_first)
{
	struct stls_dns_cache *c;
	struct stls_dns_cache_stats st;
	char name[32];
	int i;

	CHECK_OK(stls_dns_cache_new(3, &c));
	for (i = 0; i < 3; i++) {
		struct stls_dns_rrset *rs = set(STLS_DNS_T_A, STLS_DNS_OK, 60,
						(uint8_t)i);

		snprintf(name, sizeof(name), "h%d.test", i);
		CHECK_OK(stls_dns_cache_put(c, name, rs, 0));
		stls_dns_rrset_unref(rs);
	}
	/* h0 used now: h1 is the oldest. */
	CHECK_NOT_NULL(stls_dns_cache_get(c, "h0.test", STLS_DNS_T_A, 1));
	{
		struct stls_dns_rrset *rs = set(STLS_DNS_T_A, STLS_DNS_OK, 60,
						9);

		CHECK_OK(stls_dns_cache_put(c, "h3.test", rs, 1));
		stls_dns_rrset_unref(rs);
	}
	CHECK_NULL(stls_dns_cache_get(c, "h1.test", STLS_DNS_T_A, 2));
	CHECK_NOT_NULL(stls_dns_cache_get(c, "h0.test", STLS_DNS_T_A, 2));
	CHECK_NOT_NULL(stls_dns_cache_get(c, "h2.test", STLS_DNS_T_A, 2));
	CHECK_NOT_NULL(stls_dns_cache_get(c, "h3.test", STLS_DNS_T_A, 2));
	stls_dns_cache_stats(c, &st);
	CHECK_EQ(st.evictions, 1);
	CHECK_EQ(st.entries, 3);
	stls_dns_cache_free(c);
}

TEST(bad_names_and_sizes)
{
	struct stls_dns_cache *c;
	struct stls_dns_rrset *rs = set(STLS_DNS_T_A, STLS_DNS_OK, 60, 1);
	char longname[300];

	CHECK_EQ(stls_dns_cache_new(0, &c), -EINVAL);
	CHECK_OK(stls_dns_cache_new(1, &c));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(stls_dns_cache_put(c, longname, rs, 0), -ENAMETOOLONG);
	CHECK_NULL(stls_dns_cache_get(c, longname, STLS_DNS_T_A, 0));
	stls_dns_rrset_unref(rs);
	stls_dns_cache_free(c);
	stls_dns_cache_free(NULL);
}
