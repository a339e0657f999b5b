/*
 * Unit tests for daemon/dns/srv_order.c: RFC 2782 selection (priority
 * first, weights as probabilities, weight 0 rarely first) with a fixed
 * random source, and NAPTR order and preference.
 */
#include "test.h"

#include "dns/srv_order.h"

static uint32_t seq_rand(void *arg)
{
	uint64_t *x = arg;

	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*x >> 33);
}

static uint32_t zero_rand(void *arg)
{
	(void)arg;
	return 0;
}

static struct stls_dns_rrset *srv_set(size_t n, const unsigned (*pw)[2])
{
	struct stls_dns_rrset *rs = stls_dns_rrset_new(STLS_DNS_T_SRV, n);
	size_t i;

	for (i = 0; i < n; i++) {
		rs->rr[i].prio = (uint16_t)pw[i][0];
		rs->rr[i].weight = (uint16_t)pw[i][1];
		rs->rr[i].port = (uint16_t)(5000 + i);
	}
	return rs;
}

TEST(lower_priority_first)
{
	static const unsigned pw[4][2] = { { 20, 5 }, { 10, 1 }, { 30, 0 },
					   { 10, 9 } };
	struct stls_dns_rrset *rs = srv_set(4, pw);
	uint8_t idx[STLS_DNS_RR_MAX];
	uint64_t st = 42;
	int k;

	for (k = 0; k < 50; k++) {
		CHECK_EQ(stls_dns_srv_order(rs, seq_rand, &st, idx), 4);
		CHECK_EQ(rs->rr[idx[0]].prio, 10);
		CHECK_EQ(rs->rr[idx[1]].prio, 10);
		CHECK_EQ(idx[2], 0);
		CHECK_EQ(idx[3], 2);
	}
	stls_dns_rrset_unref(rs);
}

TEST(weights_are_probabilities)
{
	static const unsigned pw[3][2] = { { 0, 10 }, { 0, 30 }, { 0, 60 } };
	struct stls_dns_rrset *rs = srv_set(3, pw);
	uint8_t idx[STLS_DNS_RR_MAX];
	unsigned first[3] = { 0 }, k;
	uint64_t st = 7;

	for (k = 0; k < 10000; k++) {
		CHECK_EQ(stls_dns_srv_order(rs, seq_rand, &st, idx), 3);
		CHECK(idx[0] != idx[1] && idx[1] != idx[2] &&
		      idx[0] != idx[2]);
		first[idx[0]]++;
	}
	/* 10% / 30% / 60% within a few points. */
	CHECK(first[0] > 700 && first[0] < 1300);
	CHECK(first[1] > 2600 && first[1] < 3400);
	CHECK(first[2] > 5500 && first[2] < 6500);
	stls_dns_rrset_unref(rs);
}

TEST(weight_zero_only_when_drawn_zero)
{
	static const unsigned pw[3][2] = { { 0, 5 }, { 0, 0 }, { 0, 5 } };
	struct stls_dns_rrset *rs = srv_set(3, pw);
	uint8_t idx[STLS_DNS_RR_MAX];
	unsigned zero_first = 0, k;
	uint64_t st = 3;

	/* Drawing 0 picks the weight-0 record (it heads the running sum). */
	stls_dns_srv_order(rs, zero_rand, NULL, idx);
	CHECK_EQ(idx[0], 1);
	for (k = 0; k < 11000; k++) {
		stls_dns_srv_order(rs, seq_rand, &st, idx);
		zero_first += idx[0] == 1;
	}
	/* 1 chance in 11 (a draw of 0 among 0..10). */
	CHECK(zero_first > 600 && zero_first < 1500);
	stls_dns_rrset_unref(rs);
}

TEST(all_zero_weights_keep_answer_order)
{
	static const unsigned pw[3][2] = { { 1, 0 }, { 1, 0 }, { 1, 0 } };
	struct stls_dns_rrset *rs = srv_set(3, pw);
	uint8_t idx[STLS_DNS_RR_MAX];
	uint64_t st = 9;

	stls_dns_srv_order(rs, seq_rand, &st, idx);
	CHECK_EQ(idx[0], 0);
	CHECK_EQ(idx[1], 1);
	CHECK_EQ(idx[2], 2);
	stls_dns_rrset_unref(rs);
}

TEST(naptr_by_order_then_preference)
{
	struct stls_dns_rrset *rs = stls_dns_rrset_new(STLS_DNS_T_NAPTR, 4);
	uint8_t idx[STLS_DNS_RR_MAX];

	rs->rr[0].prio = 20, rs->rr[0].weight = 1;
	rs->rr[1].prio = 10, rs->rr[1].weight = 50;
	rs->rr[2].prio = 10, rs->rr[2].weight = 10;
	rs->rr[3].prio = 10, rs->rr[3].weight = 50;
	CHECK_EQ(stls_dns_naptr_order(rs, idx), 4);
	CHECK_EQ(idx[0], 2);
	CHECK_EQ(idx[1], 1);
	CHECK_EQ(idx[2], 3); /* equal keys keep answer order */
	CHECK_EQ(idx[3], 0);
	stls_dns_rrset_unref(rs);
}
