/*
 * The order in which the records of an SRV or NAPTR set are tried.
 *
 * SRV (RFC 2782, "Usage rules"): lowest priority first; within one
 * priority, a weighted random order: each record is picked next with a
 * probability proportional to its weight among those not yet picked,
 * records of weight 0 only rarely before the others (they sit at the
 * head of the running sum, so they are picked when the random number is
 * 0). The random source is the caller's, so tests can fix it.
 *
 * NAPTR (RFC 3403 section 4.1, RFC 3263 section 4.1): ascending order,
 * then ascending preference; records of equal keys keep their order in
 * the answer.
 *
 * Pure functions: no allocation, any thread.
 */
#ifndef STLSD_DNS_SRV_ORDER_H
#define STLSD_DNS_SRV_ORDER_H

#include "dns/answer.h"

/* A uniformly random 32-bit number. */
typedef uint32_t stls_dns_rand_fn(void *arg);

/*
 * Writes the indices of rs's records, in the order to try them, to
 * idx[0..rs->n) and returns rs->n. rs must be an SRV set.
 */
size_t stls_dns_srv_order(const struct stls_dns_rrset *rs,
			  stls_dns_rand_fn *rnd, void *arg,
			  uint8_t idx[STLS_DNS_RR_MAX]);

/* Same for a NAPTR set: by order, then preference (stable). */
size_t stls_dns_naptr_order(const struct stls_dns_rrset *rs,
			    uint8_t idx[STLS_DNS_RR_MAX]);

#endif
