/*
 * Record order for SRV (RFC 2782) and NAPTR (RFC 3403) sets; see
 * srv_order.h. At most STLS_DNS_RR_MAX (32) records: the quadratic
 * selection below is a few hundred steps at worst.
 */
#include "dns/srv_order.h"

/* Stable insertion sort of idx[0..n) by (a, b) of the records. */
static void sort_by(const struct stls_dns_rrset *rs, uint8_t *idx, size_t n,
		    bool srv)
{
	size_t i, j;
	uint8_t k;

	for (i = 1; i < n; i++) {
		k = idx[i];
		for (j = i; j > 0; j--) {
			const struct stls_dns_rr *a = &rs->rr[idx[j - 1]];
			const struct stls_dns_rr *b = &rs->rr[k];

			if (a->prio < b->prio ||
			    (a->prio == b->prio &&
			     (srv || a->weight <= b->weight)))
				break;
			idx[j] = idx[j - 1];
		}
		idx[j] = k;
	}
}

/* Orders idx[0..n), records of one priority, by weighted picks. */
static void weighted(const struct stls_dns_rrset *rs, uint8_t *idx, size_t n,
		     stls_dns_rand_fn *rnd, void *arg)
{
	size_t i, j, zero = 0;
	uint64_t total, pick, run;
	uint8_t k;

	/* Weight-0 records first (RFC 2782), keeping answer order. */
	for (i = 0; i < n; i++) {
		if (rs->rr[idx[i]].weight == 0) {
			k = idx[i];
			for (j = i; j > zero; j--)
				idx[j] = idx[j - 1];
			idx[zero++] = k;
		}
	}
	for (i = 0; i + 1 < n; i++) {
		total = 0;
		for (j = i; j < n; j++)
			total += rs->rr[idx[j]].weight;
		/* A number in [0, total], then the first record whose
		 * running sum reaches it. */
		pick = total ? (uint64_t)rnd(arg) % (total + 1) : 0;
		run = 0;
		for (j = i; j < n; j++) {
			run += rs->rr[idx[j]].weight;
			if (run >= pick)
				break;
		}
		/* Move the pick to position i, keeping the others' order
		 * (weight-0 records stay at the head of the rest). */
		k = idx[j];
		for (; j > i; j--)
			idx[j] = idx[j - 1];
		idx[i] = k;
	}
}

size_t stls_dns_srv_order(const struct stls_dns_rrset *rs,
			  stls_dns_rand_fn *rnd, void *arg,
			  uint8_t idx[STLS_DNS_RR_MAX])
{
	size_t n = rs->n < STLS_DNS_RR_MAX ? rs->n : STLS_DNS_RR_MAX;
	size_t i, start;

	for (i = 0; i < n; i++)
		idx[i] = (uint8_t)i;
	sort_by(rs, idx, n, true);
	for (start = 0; start < n; start = i) {
		for (i = start; i < n &&
				rs->rr[idx[i]].prio == rs->rr[idx[start]].prio;
		     i++)
			;
		weighted(rs, idx + start, i - start, rnd, arg);
	}
	return n;
}

size_t stls_dns_naptr_order(const struct stls_dns_rrset *rs,
			    uint8_t idx[STLS_DNS_RR_MAX])
{
	size_t n = rs->n < STLS_DNS_RR_MAX ? rs->n : STLS_DNS_RR_MAX;
	size_t i;

	for (i = 0; i < n; i++)
		idx[i] = (uint8_t)i;
	sort_by(rs, idx, n, false);
	return n;
}
