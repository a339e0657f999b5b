/*
 * Unit tests for daemon/dns/answer.c: raw responses into record sets,
 * TTLs (smallest of the answers, RFC 2181 top bit, caps), negative
 * answers (NXDOMAIN, NODATA, the SOA's minimum per RFC 2308), server
 * errors and malformed messages.
 */
#include "test.h"

#include "daemon/dns/dns_fixture.h"
#include "dns/answer.h"

static struct stls_dns_rrset *parse_ok(uint16_t type, const struct dnsb *m)
{
	struct stls_dns_rrset *rs = NULL;

	CHECK_OK(stls_dns_answer_parse(type, m->b, m->len, &rs));
	CHECK_NOT_NULL(rs);
	return rs;
}

TEST(a_records_and_smallest_ttl)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 2, 0);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_A);
	dnsb_a(&m, "h.example.test", 300, "192.0.2.1");
	dnsb_a(&m, "h.example.test", 120, "192.0.2.2");
	rs = parse_ok(STLS_DNS_T_A, &m);
	CHECK_EQ(rs->status, STLS_DNS_OK);
	CHECK_EQ(rs->n, 2);
	CHECK_EQ(rs->ttl, 120);
	CHECK_EQ(rs->rr[0].ip[3], 1);
	CHECK_EQ(rs->rr[1].ip[3], 2);
	stls_dns_rrset_unref(rs);
}

TEST(aaaa_record)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 1, 0);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_AAAA);
	dnsb_aaaa(&m, "h.example.test", 60, "2001:db8::5");
	rs = parse_ok(STLS_DNS_T_AAAA, &m);
	CHECK_EQ(rs->n, 1);
	CHECK_EQ(rs->rr[0].ip[0], 0x20);
	CHECK_EQ(rs->rr[0].ip[15], 5);
	stls_dns_rrset_unref(rs);
}

TEST(srv_records)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 2, 0);
	dnsb_question(&m, "_sips._tcp.example.test", STLS_DNS_T_SRV);
	dnsb_srv(&m, "_sips._tcp.example.test", 30, 10, 60, 5061,
		 "Sip1.Example.Test");
	dnsb_srv(&m, "_sips._tcp.example.test", 40, 20, 0, 5062, ".");
	rs = parse_ok(STLS_DNS_T_SRV, &m);
	CHECK_EQ(rs->n, 2);
	CHECK_EQ(rs->ttl, 30);
	CHECK_EQ(rs->rr[0].prio, 10);
	CHECK_EQ(rs->rr[0].weight, 60);
	CHECK_EQ(rs->rr[0].port, 5061);
	CHECK_STR_EQ(rs->rr[0].name, "sip1.example.test");
	CHECK_STR_EQ(rs->rr[1].name, "");
	stls_dns_rrset_unref(rs);
}

TEST(naptr_records)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 2, 0);
	dnsb_question(&m, "example.test", STLS_DNS_T_NAPTR);
	dnsb_naptr(&m, "example.test", 90, 10, 20, "S", "sips+d2t",
		   "_sips._tcp.example.test");
	dnsb_naptr(&m, "example.test", 90, 20, 5, "s", "SIP+D2U",
		   "_sip._udp.example.test");
	rs = parse_ok(STLS_DNS_T_NAPTR, &m);
	CHECK_EQ(rs->n, 2);
	CHECK_EQ(rs->rr[0].prio, 10);
	CHECK_EQ(rs->rr[0].weight, 20);
	CHECK_STR_EQ(rs->rr[0].flags, "s");
	CHECK_STR_EQ(rs->rr[0].service, "SIPS+D2T");
	CHECK_STR_EQ(rs->rr[0].name, "_sips._tcp.example.test");
	CHECK_STR_EQ(rs->rr[1].service, "SIP+D2U");
	stls_dns_rrset_unref(rs);
}

TEST(nxdomain_takes_the_soa_minimum)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 3, 1, 0, 1);
	dnsb_question(&m, "nope.example.test", STLS_DNS_T_NAPTR);
	dnsb_soa(&m, "example.test", 3600, 45);
	rs = parse_ok(STLS_DNS_T_NAPTR, &m);
	CHECK_EQ(rs->status, STLS_DNS_NXDOMAIN);
	CHECK_EQ(rs->n, 0);
	CHECK_EQ(rs->ttl, 45);
	stls_dns_rrset_unref(rs);
	/* The SOA's own TTL when it is the smaller (RFC 2308 section 5). */
	dnsb_header(&m, 1, 3, 1, 0, 1);
	dnsb_question(&m, "nope.example.test", STLS_DNS_T_A);
	dnsb_soa(&m, "example.test", 20, 900);
	rs = parse_ok(STLS_DNS_T_A, &m);
	CHECK_EQ(rs->ttl, 20);
	stls_dns_rrset_unref(rs);
}

TEST(nodata_with_and_without_soa)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 0, 1);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_AAAA);
	dnsb_soa(&m, "example.test", 600, 30);
	rs = parse_ok(STLS_DNS_T_AAAA, &m);
	CHECK_EQ(rs->status, STLS_DNS_NODATA);
	CHECK_EQ(rs->ttl, 30);
	stls_dns_rrset_unref(rs);
	/* No SOA: not cacheable (TTL 0). */
	dnsb_header(&m, 1, 0, 1, 0, 0);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_AAAA);
	rs = parse_ok(STLS_DNS_T_AAAA, &m);
	CHECK_EQ(rs->status, STLS_DNS_NODATA);
	CHECK_EQ(rs->ttl, 0);
	stls_dns_rrset_unref(rs);
}

TEST(answers_of_another_type_are_nodata)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 1, 0);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_SRV);
	dnsb_a(&m, "h.example.test", 60, "192.0.2.1");
	rs = parse_ok(STLS_DNS_T_SRV, &m);
	CHECK_EQ(rs->status, STLS_DNS_NODATA);
	CHECK_EQ(rs->ttl, 0);
	stls_dns_rrset_unref(rs);
}

TEST(ttl_caps_and_top_bit)
{
	struct dnsb m;
	struct stls_dns_rrset *rs;

	dnsb_header(&m, 1, 0, 1, 1, 0);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_A);
	dnsb_a(&m, "h.example.test", 0x7fffffff, "192.0.2.1");
	rs = parse_ok(STLS_DNS_T_A, &m);
	CHECK_EQ(rs->ttl, STLS_DNS_TTL_MAX);
	stls_dns_rrset_unref(rs);
	/* RFC 2181 section 8: the top bit set means 0. */
	dnsb_header(&m, 1, 0, 1, 1, 0);
	dnsb_question(&m, "h.example.test", STLS_DNS_T_A);
	dnsb_a(&m, "h.example.test", 0x80000010u, "192.0.2.1");
	rs = parse_ok(STLS_DNS_T_A, &m);
	CHECK_EQ(rs->ttl, 0);
	stls_dns_rrset_unref(rs);
	dnsb_header(&m, 1, 3, 1, 0, 1);
	dnsb_question(&m, "nope.example.test", STLS_DNS_T_A);
	dnsb_soa(&m, "example.test", 999999, 999999);
	rs = parse_ok(STLS_DNS_T_A, &m);
	CHECK_EQ(rs->ttl, STLS_DNS_NEG_TTL_MAX);
	stls_dns_rrset_unref(rs);
}

TEST(server_errors_are_not_answers)
{
	struct stls_dns_rrset *rs = NULL;
	struct dnsb m;
	unsigned rc;

	for (rc = 1; rc <= 5; rc++) {
		if (rc == 3)
			continue;
		dnsb_header(&m, 1, rc, 1, 0, 0);
		dnsb_question(&m, "h.example.test", STLS_DNS_T_A);
		CHECK_EQ(stls_dns_answer_parse(STLS_DNS_T_A, m.b, m.len, &rs),
			 -EIO);
	}
	CHECK_NULL(rs);
}

TEST(malformed_messages_are_refused)
{
	struct stls_dns_rrset *rs = NULL;
	struct dnsb m;
	size_t cut;

	dnsb_header(&m, 1, 0, 1, 1, 0);
	dnsb_question(&m, "_sip._tcp.example.test", STLS_DNS_T_SRV);
	dnsb_srv(&m, "_sip._tcp.example.test", 30, 1, 1, 5060, "a.test");
	/* Every truncation fails cleanly. */
	for (cut = 0; cut < m.len; cut++)
		CHECK_EQ(stls_dns_answer_parse(STLS_DNS_T_SRV, m.b, cut, &rs),
			 -EBADMSG);
	/* A query (QR clear) is no response. */
	m.b[2] &= 0x7f;
	CHECK_EQ(stls_dns_answer_parse(STLS_DNS_T_SRV, m.b, m.len, &rs),
		 -EBADMSG);
	m.b[2] |= 0x80;
	/* RDLENGTH past the end. */
	m.b[m.len - 1 - 6 - 8 - 1] = 0xff;
	CHECK_NE(stls_dns_answer_parse(STLS_DNS_T_SRV, m.b, m.len, &rs), 0);
	CHECK_NULL(rs);
	CHECK_EQ(stls_dns_answer_parse(99, m.b, m.len, &rs), -EINVAL);
}

TEST(type_names)
{
	CHECK_STR_EQ(stls_dns_type_name(STLS_DNS_T_NAPTR), "NAPTR");
	CHECK_STR_EQ(stls_dns_type_name(STLS_DNS_T_SRV), "SRV");
	CHECK_STR_EQ(stls_dns_type_name(7), "?");
}
