/* Relay rewriting, backend side: responses to TLS clients, requests to TLS
 * peers (flow tokens from Route/Path/Request-URI, new destinations). */
#include <errno.h>

#include "daemon/relay/rewrite_fixture.h"
#include "lib/sip/sip_samples.h"

static int backend_request(const char *s)
{
	fx_parse(s);
	return stls_relay_backend_request(&fx.ctx, &fx.msg, fx.out,
					  sizeof(fx.out) - 1, &fx.res);
}

static int backend_response(const char *s)
{
	fx_parse(s);
	return stls_relay_backend_response(&fx.ctx, &fx.msg, fx.out,
					   sizeof(fx.out) - 1, &fx.res);
}

/* Full round trip: client INVITE out, backend 200 back to the flow. */
TEST(backend_response_returns_to_flow)
{
	static char fwd[8192], resp[8192];
	const char *via_end;
	size_t vlen;

	fx_init();
	fx_parse(SAMPLE_INVITE);
	CHECK_OK(stls_relay_client_request(&fx.ctx, &fx.msg, fwd, sizeof(fwd),
					   &fx.res));
	/* The backend echoes both Via lines in its 200. */
	via_end = strstr(strstr(fwd, "\r\n") + 2, "\r\n");
	vlen = (size_t)(via_end - fwd);
	snprintf(resp, sizeof(resp), "SIP/2.0 200 OK%.*s\r\n%s", (int)(vlen -
		 (size_t)(strstr(fwd, "\r\n") - fwd)), strstr(fwd, "\r\n"),
		 strstr(SAMPLE_200, "Via: SIP/2.0/TLS"));
	CHECK_OK(backend_response(resp));
	fx_check_out();
	CHECK(fx.res.has_flow);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK_EQ(fx.res.flow.gen, 1);
	CHECK(strstr(fx.out, "192.0.2.1:5060") == NULL);
	CHECK_EQ(stls_sip_msg_count(&fx.out_msg, STLS_SIP_HDR_VIA), 1);
	fx_fini();
}

TEST(backend_response_not_ours_or_forged)
{
	fx_init();
	CHECK_EQ(backend_response(SAMPLE_200), -EBADMSG); /* ft=TOKEN literal */
	CHECK_STR_EQ(fx.res.error, "bad flow token");
	CHECK_EQ(backend_response(
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch="
		"z9hG4bK1;ft=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		"Via: SIP/2.0/TLS c\r\nTo: <sip:a@b>;tag=1\r\n"
		"From: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n"
		"l: 0\r\n\r\n"), -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "bad flow token");
	CHECK_EQ(backend_response(fx_tok(
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5999;branch="
		"z9hG4bK1;ft=TOKEN\r\nTo: <sip:a@b>;tag=1\r\n"
		"From: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n"
		"l: 0\r\n\r\n")), -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "top Via is not ours");
	fx_fini();
}

/* In-dialog BYE along the double Record-Route: both our Routes go. */
TEST(backend_bye_with_route_set)
{
	fx_init();
	CHECK_OK(backend_request(fx_tok(SAMPLE_BYE)));
	fx_check_out();
	CHECK_EQ(fx.res.action, STLS_RELAY_FORWARD);
	CHECK(fx.res.has_flow);
	CHECK(!fx.res.has_next);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK(strstr(fx.out, "Route:") == NULL);
	CHECK(strncmp(strstr(fx.out, "\r\n"), "\r\nVia: SIP/2.0/TLS "
		      "sip.example.net:5061;branch=z9hG4bK", 50) == 0);
	CHECK_STR_HAS(fx.out, "Max-Forwards: 69\r\n");
	fx_fini();
}

/* REGISTER stored Path: a request to the contact arrives with it as Route. */
TEST(backend_invite_via_path)
{
	fx_init();
	CHECK_OK(backend_request(fx_tok(
		"INVITE sips:alice@10.0.0.7:49153 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp\r\n"
		"Route: <sip:TOKEN@192.0.2.1:5060;lr;ob>\r\n"
		"To: <sip:alice@example.com>\r\nFrom: <sip:b@c>;tag=1\r\n"
		"Call-ID: c5\r\nCSeq: 1 INVITE\r\n"
		"X-tls-Server-Name: ignored.example\r\n\r\n")));
	fx_check_out();
	CHECK(fx.res.has_flow);
	CHECK_STR_HAS(fx.out, "Max-Forwards: 70\r\n");
	CHECK_STR_HAS(fx.out, "Content-Length: 0\r\n");
	CHECK(strstr(fx.out, "X-tls-Server-Name") == NULL);
	fx_fini();
}

TEST(backend_flow_in_request_uri)
{
	fx_init();
	CHECK_OK(backend_request(fx_tok(
		"MESSAGE sip:TOKEN@192.0.2.1:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKq\r\n"
		"To: <sip:alice@example.com>\r\nFrom: <sip:b@c>;tag=1\r\n"
		"Call-ID: c6\r\nCSeq: 1 MESSAGE\r\nl: 0\r\n\r\n")));
	CHECK(fx.res.has_flow);
	fx_fini();
}

/* New destination: Request-URI or next Route, with xavp_cfg attributes. */
TEST(backend_request_to_new_destination)
{
	fx_init();
	CHECK_OK(backend_request(
		"INVITE sip:+15551234@carrier.example.org;transport=tls "
		"SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKr\r\n"
		"Max-Forwards: 10\r\nTo: <sip:+15551234@carrier.example.org>\r\n"
		"From: <sip:pbx@example.com>;tag=1\r\nCall-ID: c7\r\n"
		"CSeq: 1 INVITE\r\nX-tls-Server-Name: sbc.carrier.example.org\r\n"
		"x-TLS-server-id: carrier1\r\nContent-Length: 0\r\n\r\n"));
	fx_check_out();
	CHECK(!fx.res.has_flow);
	CHECK(fx.res.has_next);
	CHECK(fx.res.next.tls);
	CHECK(!fx.res.next.host_is_ip);
	CHECK(strncmp(fx.res.next.host.p, "carrier.example.org", 19) == 0);
	CHECK_EQ(fx.res.server_name.len, 23);
	CHECK(strncmp(fx.res.server_id.p, "carrier1", 8) == 0);
	CHECK(strstr(fx.out, "Server-Name") == NULL);
	CHECK(strstr(fx.out, "server-id") == NULL);
	CHECK_STR_HAS(fx.out, "Max-Forwards: 9\r\n");
	CHECK_OK(backend_request(
		"OPTIONS sip:x@carrier.example.org SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKs\r\n"
		"Route: <sip:192.0.2.1;lr>, <sips:[2001:db8::5]:5071;lr>\r\n"
		"To: <sip:x@y>\r\nFrom: <sip:p@q>;tag=1\r\nCall-ID: c8\r\n"
		"CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n"));
	CHECK(fx.res.has_next);
	CHECK(fx.res.next.tls);
	CHECK(fx.res.next.host_is_ip);
	CHECK_EQ(fx.res.next.port, 5071);
	fx.out[fx.res.len] = '\0';
	CHECK_STR_HAS(fx.out, "\r\nRoute: <sips:[2001:db8::5]:5071;lr>\r\n");
	fx_fini();
}

TEST(backend_bad_token_and_loops)
{
	fx_init();
	/* A forged token on our own address is refused: 403 (RFC 5626
	 * 5.3), never followed. */
	CHECK_OK(backend_request(
		"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch="
		"z9hG4bKt\r\nRoute: <sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@"
		"192.0.2.1:5060;lr>, <sip:p;lr>\r\n"
		"To: <sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2\r\nCall-ID: c9\r\n"
		"CSeq: 1 BYE\r\nl: 0\r\n\r\n"));
	CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
	CHECK_EQ(fx.res.status, 403);
	CHECK(fx.res.refused);
	CHECK(!fx.res.has_flow && !fx.res.has_next);
	CHECK_STR_EQ(fx.res.error, "forged or stale flow token");
	/* The same in the Request-URI; an ACK gets no 403. */
	CHECK_OK(backend_request(
		"BYE sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@192.0.2.1:5060 SIP/2.0"
		"\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKt\r\n"
		"To: <sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2\r\nCall-ID: c9\r\n"
		"CSeq: 1 BYE\r\nl: 0\r\n\r\n"));
	CHECK_EQ(fx.res.status, 403);
	CHECK_EQ(backend_request(
		"ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch="
		"z9hG4bKt\r\nRoute: <sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@"
		"192.0.2.1:5060;lr>\r\n"
		"To: <sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2\r\nCall-ID: c9\r\n"
		"CSeq: 1 ACK\r\nl: 0\r\n\r\n"), -EBADMSG);
	CHECK(fx.res.refused);
	CHECK_OK(backend_request(
		"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch="
		"z9hG4bKt\r\nMax-Forwards: 0\r\nTo: <sip:a@b>;tag=1\r\n"
		"From: <sip:c@d>;tag=2\r\nCall-ID: c9\r\nCSeq: 1 BYE\r\n"
		"l: 0\r\n\r\n"));
	CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
	CHECK_EQ(fx.res.status, 483);
	CHECK_EQ(backend_request("BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n"),
		 -EBADMSG);
	fx_fini();
}

/* The backend is trusted for what siptlsd does not read: a Contact the
 * client parser would refuse goes through as bytes. Our top Via, its
 * token and a Via after it are still required (RFC 3261 16.7 step 3). */
TEST(backend_response_checked_proportionately)
{
	struct stls_flow_cache_stats st;

	fx_init();
	CHECK_OK(backend_response(fx_tok(
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch="
		"z9hG4bK1;ft=TOKEN\r\nVia: SIP/2.0/TLS 10.0.0.7:49152;branch="
		"z9hG4bK2;rport=40000\r\nTo: <sip:a@b>;tag=1\r\n"
		"From: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
		"Contact: <sip:bob@192.0.2.10 ;x\r\nl: 0\r\n\r\n")));
	fx.out[fx.res.len] = '\0';
	CHECK(fx.res.has_flow);
	CHECK_STR_HAS(fx.out, "\r\nContact: <sip:bob@192.0.2.10 ;x\r\n");
	CHECK(strncmp(fx.out, "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 10.0.0.7",
		      40) == 0);
	/* Same token again: verified from the signer's cache. */
	stls_flow_signer_stats(fx.signer, &st);
	CHECK_EQ(st.hits, 0);
	CHECK_OK(backend_response(fx_tok(
		"SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP 192.0.2.1:5060;branch="
		"z9hG4bK1;ft=TOKEN, SIP/2.0/TLS c;branch=z9hG4bK3\r\n"
		"t: <sip:a@b>;tag=1\r\nf: <sip:c@d>;tag=2\r\ni: x\r\n"
		"CSeq: 1 INVITE\r\nl: 0\r\n\r\n")));
	fx_check_out();
	stls_flow_signer_stats(fx.signer, &st);
	CHECK_EQ(st.hits, 1);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK_STR_HAS(fx.out, "\r\nv: SIP/2.0/TLS c;branch=z9hG4bK3\r\n");
	/* Only our Via: the response was meant for us, not forwarded. */
	CHECK_EQ(backend_response(fx_tok(
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch="
		"z9hG4bK1;ft=TOKEN\r\nTo: <sip:a@b>;tag=1\r\n"
		"From: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n"
		"l: 0\r\n\r\n")), -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "no Via after ours");
	/* A bad top Via or CSeq is still refused. */
	CHECK_EQ(backend_response(fx_tok(
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch="
		"z9hG4bK1;ft=TOKEN\r\nVia: SIP/2.0/TLS c\r\nTo: <sip:a@b>\r\n"
		"From: <sip:c@d>\r\nCall-ID: x\r\nCSeq: BYE\r\n"
		"l: 0\r\n\r\n")), -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "malformed response");
	fx_fini();
}

/* A backend request's Record-Route and Contact are its own business;
 * the Route values siptlsd acts on are still parsed. */
TEST(backend_request_checked_proportionately)
{
	fx_init();
	CHECK_OK(backend_request(
		"INVITE sip:+1555@carrier.example.org SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKr\r\n"
		"Record-Route: sip:no-angle@192.0.2.10;lr\r\n"
		"Contact: <sip:pbx@192.0.2.10\r\n"
		"To: <sip:+1555@carrier.example.org>\r\n"
		"From: <sip:pbx@example.com>;tag=1\r\nCall-ID: c7\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
	CHECK(fx.res.has_next);
	fx.out[fx.res.len] = '\0';
	CHECK_STR_HAS(fx.out, "\r\nContact: <sip:pbx@192.0.2.10\r\n");
	CHECK_EQ(backend_request(
		"INVITE sip:+1555@carrier.example.org SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKr\r\n"
		"Route: <sip:a@b c;lr>\r\n"
		"To: <sip:+1555@carrier.example.org>\r\n"
		"From: <sip:pbx@example.com>;tag=1\r\nCall-ID: c7\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"), -EBADMSG);
	fx_fini();
}
