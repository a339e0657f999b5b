/* Relay rewriting, TLS-client side: requests to the backend (responses
 * from TLS peers: test_sip_rewrite_peer.c). */
#include <errno.h>

#include "daemon/relay/rewrite_fixture.h"
#include "lib/sip/sip_samples.h"

static int client_request(const char *s)
{
	fx_parse(s);
	return stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
					 sizeof(fx.out) - 1, &fx.res);
}

TEST(rewrite_invite_to_backend)
{
	static const struct stls_relay_fact facts[] = {
		{ "Verified", "yes" },
		{ "Peer-Subject", "CN=evil\r\nInjected: x%" },
	};
	char want[256];

	fx_init();
	fx.ctx.facts = facts;
	fx.ctx.n_facts = 2;
	CHECK_OK(client_request(SAMPLE_INVITE));
	CHECK_EQ(fx.res.action, STLS_RELAY_FORWARD);
	fx_check_out();
	snprintf(want, sizeof(want), "INVITE sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK");
	CHECK(strncmp(fx.out, want, strlen(want)) == 0);
	snprintf(want, sizeof(want), ";ft=%s\r\nRecord-Route: <sip:%s@"
		 "192.0.2.1:5060;lr;transport=udp>\r\nRecord-Route: <sip:%s@"
		 "sip.example.net:5061;lr;transport=tls>\r\n", fx.token,
		 fx.token, fx.token);
	CHECK_STR_HAS(fx.out, want);
	CHECK_STR_HAS(fx.out, "Via: SIP/2.0/TLS 10.0.0.7:49152;branch="
			      "z9hG4bK776asdhds;received=203.0.113.5;"
			      "rport=40000\r\n");
	CHECK_STR_HAS(fx.out, "Max-Forwards: 69\r\n");
	CHECK_STR_HAS(fx.out, "X-TLS-Verified: yes\r\n");
	CHECK_STR_HAS(fx.out, "X-TLS-Peer-Subject: CN=evil%0D%0AInjected: "
			      "x%25\r\n");
	CHECK_EQ(fx.out_msg.body.len, 157);
	CHECK_EQ(stls_sip_msg_count(&fx.out_msg, STLS_SIP_HDR_VIA), 2);
	fx_fini();
}

TEST(rewrite_cancel_gets_invite_branch)
{
	char branch[64];
	const char *p;

	fx_init();
	CHECK_OK(client_request(SAMPLE_INVITE));
	p = strstr(fx.out, "branch=");
	CHECK_NOT_NULL(p);
	memcpy(branch, p, 30);
	branch[30] = '\0';
	CHECK_OK(client_request(
		"CANCEL sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bK776asdhds\r\n"
		"Max-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\n"
		"From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
		"CSeq: 314159 CANCEL\r\nContent-Length: 0\r\n\r\n"));
	CHECK_STR_HAS(fx.out, branch);
	CHECK(strstr(fx.out, "Record-Route") == NULL);
	fx_fini();
}

TEST(rewrite_register_gets_path_and_no_record_route)
{
	char want[128];

	fx_init();
	CHECK_OK(client_request(SAMPLE_REGISTER));
	fx_check_out();
	snprintf(want, sizeof(want), "Path: <sip:%s@192.0.2.1:5060;lr;ob>\r\n",
		 fx.token);
	CHECK_STR_HAS(fx.out, want);
	CHECK(strstr(fx.out, "Record-Route") == NULL);
	fx_fini();
}

TEST(rewrite_max_forwards_rules)
{
	fx_init();
	CHECK_OK(client_request(
		"OPTIONS sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 203.0.113.5:40000;branch=z9hG4bKa\r\n"
		"To: <sip:bob@example.com>\r\nFrom: <sip:a@b>;tag=1\r\n"
		"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n"));
	fx_check_out();
	CHECK_STR_HAS(fx.out, "Max-Forwards: 70\r\n");
	/* Same IP as the source: no received, rport always. */
	CHECK_STR_HAS(fx.out, "branch=z9hG4bKa;rport=40000\r\n");
	CHECK_OK(client_request(
		"OPTIONS sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TLS h;branch=z9hG4bKa\r\nMax-Forwards: 0\r\n"
		"To: <sip:bob@example.com>\r\nFrom: <sip:a@b>;tag=1\r\n"
		"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n"));
	CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
	CHECK_EQ(fx.res.status, 483);
	fx.out[fx.res.len] = '\0';
	CHECK_STR_HAS(fx.out, "SIP/2.0 483 Too Many Hops\r\n");
	fx_fini();
}

TEST(rewrite_bad_request_gets_400)
{
	fx_init();
	CHECK_OK(client_request("INVITE sip:bob@example.com SIP/2.0\r\n"
				"Via: SIP/2.0/TLS h;branch=z9hG4bKa\r\n"
				"CSeq: 1 INVITE\r\nl: 0\r\n\r\n"));
	CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
	CHECK_EQ(fx.res.status, 400);
	CHECK_STR_EQ(fx.res.error, "missing Call-ID");
	fx_fini();
}

TEST(rewrite_strips_spoofed_facts_and_our_routes)
{
	fx_init();
	CHECK_OK(client_request(fx_tok(
		"BYE sip:bob@192.0.2.10 SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bKb;received=1.1.1.1"
		"\r\nMax-Forwards: 70\r\n"
		"Route: <sip:TOKEN@sip.example.net:5061;lr;transport=tls>\r\n"
		"Route: <sip:TOKEN@192.0.2.1:5060;lr;transport=udp>, "
		"<sip:p2.example.com;lr>\r\n"
		"x-tls-verified: yes\r\nX-TLS-Peer-Subject: CN=forged\r\n"
		"To: <sip:bob@example.com>;tag=b\r\nFrom: <sip:a@b>;tag=1\r\n"
		"Call-ID: c2\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n")));
	fx_check_out();
	CHECK(strstr(fx.out, "forged") == NULL);
	CHECK(strstr(fx.out, "x-tls-verified") == NULL);
	CHECK(strstr(fx.out, "1.1.1.1") == NULL);
	CHECK_STR_HAS(fx.out, "\r\nRoute: <sip:p2.example.com;lr>\r\n");
	CHECK_EQ(stls_sip_msg_count(&fx.out_msg, STLS_SIP_HDR_ROUTE), 1);
	fx_fini();
}

TEST(rewrite_ipv6_source_and_compact_via)
{
	fx_init();
	CHECK_OK(stls_addr_parse("[2001:db8::7]:5061", true, &fx.src));
	CHECK_OK(client_request(SAMPLE_OPTIONS));
	fx_check_out();
	CHECK_STR_HAS(fx.out, "Via: SIP/2.0/TLS [2001:db8::7]:5061;branch="
			      "z9hG4bKopt1;rport=5061\r\n");
	CHECK_OK(client_request(
		"MESSAGE sip:b@c SIP/2.0\r\nv: SIP/2.0/TLS a;branch=z9hG4bKm, "
		"SIP/2.0/UDP p\r\nt: <sip:b@c>\r\nf: <sip:a@b>;tag=1\r\n"
		"i: c3\r\nCSeq: 3 MESSAGE\r\nl: 2\r\n\r\nhi"));
	fx_check_out();
	CHECK_STR_HAS(fx.out, "v: SIP/2.0/TLS a;branch=z9hG4bKm;"
			      "received=2001:db8::7;rport=5061, SIP/2.0/UDP p"
			      "\r\n");
	CHECK_EQ(stls_sip_msg_count(&fx.out_msg, STLS_SIP_HDR_VIA), 2);
	fx_fini();
}

TEST(rewrite_output_too_small)
{
	fx_init();
	fx_parse(SAMPLE_INVITE);
	CHECK_EQ(stls_relay_client_request(&fx.ctx, &fx.msg, fx.out, 100,
					   &fx.res), -ENOBUFS);
	fx_fini();
}

/* Client messages keep the full check: a malformed Contact, Record-Route
 * or second Via gets a 400, as before the backend's checks were eased. */
TEST(rewrite_client_request_fully_validated)
{
	static const char *const lines[] = {
		"Contact: <sip:alice@10.0.0.7\r\n",
		"Record-Route: sip:x@y;lr\r\n",
		"Via: SIP/2.0/TLS bad host!\r\n",
		"Path: <sip:a@b c>\r\n",
	};
	char req[1024];
	size_t i;

	fx_init();
	for (i = 0; i < STLS_ARRAY_SIZE(lines); i++) {
		snprintf(req, sizeof(req),
			 "OPTIONS sip:bob@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKa\r\n%s"
			 "To: <sip:bob@example.com>\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nCall-ID: v1\r\n"
			 "CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", lines[i]);
		CHECK_OK(client_request(req));
		CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
		CHECK_EQ(fx.res.status, 400);
	}
	fx_fini();
}
