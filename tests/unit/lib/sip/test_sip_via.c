/* Via values: protocol, sent-by (IPv4, IPv6, names), parameters. */
#include <errno.h>
#include <stdio.h>

#include "stls/sip/via.h"
#include "test.h"

static char *cstr(struct stls_slice s)
{
	static char buf[4][256];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 256, "%.*s", (int)s.len, s.p ? s.p : "");
	return b;
}

static int via(const char *s, struct stls_sip_via *v)
{
	return stls_sip_via_parse(stls_slice_cstr(s), v);
}

TEST(via_plain)
{
	struct stls_sip_via v;

	CHECK_OK(via("SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bK776;rport", &v));
	CHECK_STR_EQ(cstr(v.proto), "SIP");
	CHECK_STR_EQ(cstr(v.version), "2.0");
	CHECK_STR_EQ(cstr(v.transport), "TLS");
	CHECK_STR_EQ(cstr(v.host), "10.0.0.7");
	CHECK_EQ(v.port, 49152);
	CHECK(v.has_rport);
	CHECK_EQ(v.rport.len, 0);
	CHECK(stls_sip_via_is_rfc3261(&v));
	CHECK_EQ(v.n_params, 2);
	CHECK_STR_EQ(cstr(v.params[1].span), ";rport");
}

TEST(via_ipv6_received_rport_maddr_ttl)
{
	struct stls_sip_via v;

	CHECK_OK(via("SIP/2.0/UDP [2001:db8::9]:5060;branch=abc;"
		     "received=2001:db8::1;rport=40000;maddr=224.2.0.1;ttl=16",
		     &v));
	CHECK(v.host_ipv6);
	CHECK_STR_EQ(cstr(v.host), "2001:db8::9");
	CHECK_STR_EQ(cstr(v.received), "2001:db8::1");
	CHECK_STR_EQ(cstr(v.rport), "40000");
	CHECK_STR_EQ(cstr(v.maddr), "224.2.0.1");
	CHECK_STR_EQ(cstr(v.ttl), "16");
	CHECK(!stls_sip_via_is_rfc3261(&v));
	/* RFC 5118 4.5: received in brackets too, kept without them. */
	CHECK_OK(via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]"
		     ";branch=z9hG4bKas3-111", &v));
	CHECK_STR_EQ(cstr(v.received), "2001:db8::9:255");
	CHECK_EQ(via("SIP/2.0/UDP h;received=[192.0.2.1]", &v), -EBADMSG);
	CHECK_EQ(via("SIP/2.0/UDP h;received=[2001:db8::1", &v), -EBADMSG);
}

TEST(via_lws_everywhere)
{
	struct stls_sip_via v;

	CHECK_OK(via("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2 : 5070 ;\r\n"
		     "  branch  =   z9hG4bK9ikj8  ", &v));
	CHECK_STR_EQ(cstr(v.transport), "UDP");
	CHECK_EQ(v.port, 5070);
	CHECK_STR_EQ(cstr(v.branch), "z9hG4bK9ikj8");
}

TEST(via_refused)
{
	static const char *const bad[] = {
		"SIP/2.0/UDP",		      "SIP/2.0 host",
		"SIP/2.0/UDP host;;",	      "SIP/2.0/UDP host:70000",
		"SIP/2.0/UDP [::1",	      "SIP/2.0/UDP h;received=name",
		"SIP/2.0/UDP h;rport=x",      "SIP/2.0/UDP h;ttl=256",
		"SIP/2.0/UDP h;branch=",      "SIP/2.0/UDPhost",
		"SIP/2.0/UDP h x",	      "",
	};
	struct stls_sip_via v;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		if (via(bad[i], &v) != -EBADMSG) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(0);
		}
	}
}

TEST(via_param_limit)
{
	char buf[1024];
	struct stls_sip_via v;
	int i, n = 0;

	n += snprintf(buf, sizeof(buf), "SIP/2.0/UDP h");
	for (i = 0; i < STLS_SIP_VIA_MAX_PARAMS + 1; i++) {
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ";p%d", i);
	}
	CHECK_EQ(via(buf, &v), -EBADMSG);
}
