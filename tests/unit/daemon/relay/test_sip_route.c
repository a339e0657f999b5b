/*
 * Route sets through siptlsd (sip_route.c and the rewrite that acts on
 * it): which entries a request from a client or from the backend loses,
 * when it goes to another flow directly, forged and foreign tokens, the
 * answer to a direct request, Flow-Timer on outbound registrations, and
 * facts headers that never leave towards phones.
 *
 * Alice is the fixture's flow (TOKEN, conn 42); Bob another flow (TOKB,
 * worker 1, conn 7). "A@O" is Alice's TLS-side Record-Route entry, "A@I"
 * her inside one; K is the backend's own Record-Route entry.
 */
#include <errno.h>

#include "daemon/relay/rewrite_fixture.h"

static char bob[STLS_FLOW_TOKEN_LEN + 1];

static void init(void)
{
	struct stls_flow f = { 1, 7, 3 };

	fx_init();
	CHECK_OK(stls_flow_token_build(fx.signer, &f, bob));
}

/* fx_tok() and TOKB -> Bob's token. */
static const char *toks(const char *in)
{
	static char buf[8192];
	const char *a = fx_tok(in), *p;
	size_t n = 0;

	while ((p = strstr(a, "TOKB")) != NULL) {
		memcpy(buf + n, a, (size_t)(p - a));
		n += (size_t)(p - a);
		memcpy(buf + n, bob, STLS_FLOW_TOKEN_LEN);
		n += STLS_FLOW_TOKEN_LEN;
		a = p + 4;
	}
	strcpy(buf + n, a);
	return buf;
}

#define A_O "<sip:TOKEN@sip.example.net:5061;lr;transport=tls>"
#define A_I "<sip:TOKEN@192.0.2.1:5060;lr;transport=udp>"
#define B_O "<sip:TOKB@sip.example.net:5061;lr;transport=tls>"
#define B_I "<sip:TOKB@192.0.2.1:5060;lr;transport=udp>"
#define K "<sip:192.0.2.10;lr>"

/* An in-dialog request on the fixture's flow (Alice's unless a test
 * says otherwise) with route set <routes>. */
static int in_dialog(const char *method, const char *routes)
{
	static char req[4096];

	snprintf(req, sizeof(req),
		 "%s sip:bob@10.0.0.8:5061;transport=tls SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKa%s\r\n"
		 "Max-Forwards: 70\r\nRoute: %s\r\n"
		 "To: <sip:bob@example.test>;tag=bob1\r\n"
		 "From: <sip:alice@example.test>;tag=al1\r\n"
		 "Call-ID: call-1\r\nCSeq: 2 %s\r\n"
		 "X-TLS-Verified: yes\r\nl: 0\r\n\r\n",
		 method, method, routes, method);
	fx_parse(toks(req));
	return stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
					 sizeof(fx.out) - 1, &fx.res);
}

/* With the backend in the dialog: Alice's entries go, K stays first. */
TEST(route_client_backend_record_routes)
{
	static const struct stls_relay_fact facts[] = { { "Verified", "no" } };

	init();
	fx.ctx.facts = facts;
	fx.ctx.n_facts = 1;
	CHECK_OK(in_dialog("BYE", A_O ", " A_I ", " K ", " B_I ", " B_O));
	fx_check_out();
	CHECK_EQ(fx.res.action, STLS_RELAY_FORWARD);
	CHECK(!fx.res.has_flow);
	CHECK_STR_HAS(fx.out, toks("\r\nRoute: " K ", " B_I ", " B_O "\r\n"));
	CHECK_STR_HAS(fx.out, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=");
	CHECK_STR_HAS(fx.out, "X-TLS-Verified: no\r\n");
	CHECK(strstr(fx.out, "X-TLS-Verified: yes") == NULL);
	fx_fini();
}

/* Without it: the next entry is Bob's flow, so the request goes there
 * directly, with no Route left, our Via naming Alice's flow, and no
 * facts at all (they are for the backend only). */
TEST(route_client_direct_to_other_flow)
{
	static const struct stls_relay_fact facts[] = { { "Verified", "no" } };
	static const char *const methods[] = { "ACK", "BYE", "INVITE",
					       "UPDATE", "INFO" };
	char want[128];
	size_t i;

	init();
	fx.ctx.facts = facts;
	fx.ctx.n_facts = 1;
	for (i = 0; i < STLS_ARRAY_SIZE(methods); i++) {
		CHECK_OK(in_dialog(methods[i],
				    A_O ", " A_I ", " B_I ", " B_O));
		fx_check_out();
		CHECK_EQ(fx.res.action, STLS_RELAY_FORWARD);
		CHECK(fx.res.has_flow);
		CHECK_EQ(fx.res.flow.worker, 1);
		CHECK_EQ(fx.res.flow.conn_id, 7);
		CHECK_EQ(fx.res.flow.gen, 3);
		CHECK(strstr(fx.out, "Route:") == NULL);
		CHECK(strstr(fx.out, "Record-Route:") == NULL);
		CHECK(strstr(fx.out, "X-TLS-") == NULL);
		snprintf(want, sizeof(want), ";ft=%s\r\nVia: SIP/2.0/TLS "
			 "10.0.0.7:5061;branch=z9hG4bKa", fx.token);
		CHECK_STR_HAS(fx.out, want);
		CHECK(strncmp(strstr(fx.out, "\r\n"), "\r\nVia: SIP/2.0/TLS "
			      "sip.example.net:5061;branch=z9hG4bK", 50) == 0);
		CHECK_STR_HAS(fx.out, "Max-Forwards: 69\r\n");
		CHECK_EQ(stls_sip_msg_count(&fx.out_msg, STLS_SIP_HDR_VIA), 2);
	}
	fx_fini();
}

/* Bob's requests in the same dialog, on his connection, his route set
 * being the Record-Route list as he received it: his entries go, Alice's
 * flow is next. */
TEST(route_client_direct_either_side)
{
	init();
	fx.ctx.flow_token = bob;
	CHECK_OK(in_dialog("BYE", B_O ", " B_I ", " A_I ", " A_O));
	fx_check_out();
	CHECK(fx.res.has_flow);
	CHECK_EQ(fx.res.flow.worker, 0);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK(strstr(fx.out, "Route:") == NULL);
	CHECK_STR_HAS(fx.out, bob);
	fx_fini();
}

/* Only the arriving flow's entries name this hop: Bob's entries first on
 * Alice's connection mean Bob's flow is next. Further entries after that
 * flow's are left for it. */
TEST(route_client_stops_after_next_flow)
{
	init();
	CHECK_OK(in_dialog("INFO", B_I ", " B_O ", " A_I));
	fx_check_out();
	CHECK(fx.res.has_flow);
	CHECK_EQ(fx.res.flow.conn_id, 7);
	CHECK_STR_HAS(fx.out, toks("\r\nRoute: " A_I "\r\n"));
	CHECK_OK(in_dialog("INFO", "<sip:sip.example.net:5061;lr>, " A_O
				    ", <sip:p2.example.com;lr>"));
	fx_check_out();
	CHECK(!fx.res.has_flow);
	CHECK_STR_HAS(fx.out, "\r\nRoute: <sip:p2.example.com;lr>\r\n");
	fx_fini();
}

/* A request outside a dialog may not name another client's flow, and a
 * forged token is never followed: 403, counted by the caller. */
TEST(route_client_refuses_foreign_and_forged)
{
	init();
	fx_parse(toks("INVITE sip:bob@example.test SIP/2.0\r\n"
		      "Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKi\r\n"
		      "Route: " B_I "\r\nTo: <sip:bob@example.test>\r\n"
		      "From: <sip:alice@example.test>;tag=1\r\n"
		      "Call-ID: c1\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"));
	CHECK_OK(stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
					   sizeof(fx.out) - 1, &fx.res));
	CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
	CHECK_EQ(fx.res.status, 403);
	CHECK(fx.res.refused && !fx.res.has_flow);
	CHECK_STR_EQ(fx.res.error, "Route to another flow outside a dialog");
	CHECK_OK(in_dialog("BYE", A_O ", <sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				   "@192.0.2.1:5060;lr>"));
	CHECK_EQ(fx.res.status, 403);
	CHECK(fx.res.refused);
	CHECK_STR_EQ(fx.res.error, "forged or stale flow token in Route");
	/* An ACK cannot be answered: the caller drops and counts it. */
	CHECK_EQ(in_dialog("ACK", "<sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				   "@sip.example.net:5061;lr>"), -EBADMSG);
	CHECK(fx.res.refused);
	/* A token-sized user on someone else's address is not ours. */
	CHECK_OK(in_dialog("BYE", "<sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				   "@p.example.com;lr>"));
	CHECK_EQ(fx.res.action, STLS_RELAY_FORWARD);
	CHECK(!fx.res.refused && !fx.res.has_flow);
	fx_fini();
}

/* CANCEL before the answer and the ACK of a non-2xx carry the INVITE's
 * route set (none here, or the outbound proxy): to the backend, with the
 * INVITE's branch (RFC 3261 16.11). */
TEST(route_client_cancel_and_non2xx_ack_to_backend)
{
	static char inv_branch[40];
	static const char *const methods[] = { "CANCEL", "ACK" };
	static char req[1024];
	size_t i;

	init();
	for (i = 0; i < 3; i++) {
		const char *m = i ? methods[i - 1] : "INVITE";

		snprintf(req, sizeof(req),
			 "%s sip:bob@example.test SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKinv\r\n"
			 "Route: <sip:sip.example.net:5061;lr>\r\n"
			 "To: <sip:bob@example.test>%s\r\n"
			 "From: <sip:alice@example.test>;tag=1\r\n"
			 "Call-ID: c2\r\nCSeq: 1 %s\r\nl: 0\r\n\r\n", m,
			 strcmp(m, "ACK") == 0 ? ";tag=busy" : "", m);
		fx_parse(req);
		CHECK_OK(stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
						   sizeof(fx.out) - 1,
						   &fx.res));
		fx_check_out();
		CHECK(!fx.res.has_flow);
		CHECK(strstr(fx.out, "\r\nRoute:") == NULL);
		if (i == 0) {
			memcpy(inv_branch, strstr(fx.out, "branch="), 30);
		} else {
			CHECK(strncmp(strstr(fx.out, "branch="), inv_branch,
				      30) == 0);
		}
	}
	fx_fini();
}

/* Bob's answer to a direct request comes back on his connection: our Via
 * names Alice's flow; it goes there, facts headers removed. A Via that
 * fails the MAC is dropped. */
TEST(route_answer_to_direct_request)
{
	init();
	fx_parse(toks("SIP/2.0 200 OK\r\n"
		      "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKx;ft=TOKEN"
		      "\r\nVia: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKa\r\n"
		      "To: <sip:bob@example.test>;tag=bob1\r\n"
		      "From: <sip:alice@example.test>;tag=al1\r\n"
		      "Call-ID: call-1\r\nCSeq: 2 BYE\r\n"
		      "X-TLS-Peer-Subject: CN=bob\r\nl: 0\r\n\r\n"));
	CHECK_OK(stls_relay_client_response(&fx.ctx, &fx.msg, fx.out,
					    sizeof(fx.out) - 1, &fx.res));
	fx_check_out();
	CHECK(fx.res.has_flow && !fx.res.has_next);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK(strncmp(fx.out, "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 10.0.0.7",
		      40) == 0);
	CHECK(strstr(fx.out, "X-TLS-") == NULL);
	fx_parse("SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKx;ft="
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bKa\r\n"
		 "To: <sip:b@c>;tag=1\r\nFrom: <sip:a@c>;tag=2\r\n"
		 "Call-ID: c\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n");
	CHECK_EQ(stls_relay_client_response(&fx.ctx, &fx.msg, fx.out,
					    sizeof(fx.out) - 1, &fx.res),
		 -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "bad flow token");
	fx_fini();
}

static int from_backend(const char *s)
{
	fx_parse(toks(s));
	return stls_relay_backend_request(&fx.ctx, &fx.msg, fx.out,
					  sizeof(fx.out) - 1, &fx.res);
}

/* From the backend (Kamailio with record_route, relaying Bob's BYE): our
 * entries for Alice's flow name her connection; an entry of ours without
 * a token before them goes too; another flow after them is left. */
TEST(route_backend_takes_first_flow)
{
	init();
	CHECK_OK(from_backend(
		"BYE sip:alice@10.0.0.7:5061 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKk\r\n"
		"Route: <sip:192.0.2.1:5060;lr>, " A_I ", " A_O ", " B_I "\r\n"
		"To: <sip:alice@example.test>;tag=al1\r\n"
		"From: <sip:bob@example.test>;tag=bob1\r\n"
		"Call-ID: call-1\r\nCSeq: 3 BYE\r\n"
		"X-TLS-Verified: yes\r\nl: 0\r\n\r\n"));
	fx_check_out();
	CHECK(fx.res.has_flow);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK_STR_HAS(fx.out, toks("\r\nRoute: " B_I "\r\n"));
	/* The caller's facts never reach the callee. */
	CHECK(strstr(fx.out, "X-TLS-") == NULL);
	fx_fini();
}

/* A phone the backend serves (not the backend itself) sends an in-dialog
 * request along the route set siptlsd recorded, the backend not
 * record-routing: delivered to the flow, our Via naming the peer for the
 * answer. Outside a dialog, or without a flow of ours: 403. */
TEST(route_inside_peer)
{
	char want[64];

	init();
	fx.ctx.inside_peer = true;
	fx.ctx.flow_token = bob; /* the peer's own flow token */
	CHECK_OK(from_backend(
		"BYE sip:alice@10.0.0.7:5061;transport=tls SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKp1\r\n"
		"Route: " A_I ", " A_O "\r\n"
		"To: <sip:alice@example.test>;tag=al1\r\n"
		"From: <sip:carol@example.test>;tag=c1\r\n"
		"Call-ID: p1\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n"));
	fx_check_out();
	CHECK_EQ(fx.res.action, STLS_RELAY_FORWARD);
	CHECK(fx.res.has_flow && !fx.res.has_next);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	snprintf(want, sizeof(want), ";ft=%s\r\n", bob);
	CHECK_STR_HAS(fx.out, want);
	CHECK(strstr(fx.out, "\r\nRoute:") == NULL);
	/* Outside a dialog. */
	CHECK_OK(from_backend(
		"INVITE sip:alice@10.0.0.7 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKp2\r\n"
		"Route: " A_I "\r\nTo: <sip:alice@example.test>\r\n"
		"From: <sip:carol@example.test>;tag=c1\r\n"
		"Call-ID: p2\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"));
	CHECK_EQ(fx.res.action, STLS_RELAY_REPLY);
	CHECK_EQ(fx.res.status, 403);
	CHECK(fx.res.refused);
	/* No flow of ours: never a next hop for a peer. */
	CHECK_OK(from_backend(
		"BYE sips:carrier.example.org SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKp3\r\n"
		"To: <sip:x@example.test>;tag=x\r\n"
		"From: <sip:carol@example.test>;tag=c1\r\n"
		"Call-ID: p3\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n"));
	CHECK_EQ(fx.res.status, 403);
	CHECK(fx.res.refused && !fx.res.has_next);
	/* And it is validated in full, as a client would be. */
	CHECK_EQ(from_backend(
		"BYE sip:alice@10.0.0.7 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKp4\r\n"
		"Route: " A_I "\r\nTo: <sip:alice@example.test>;tag=al1\r\n"
		"From: <sip:carol@example.test>;tag=c1\r\n"
		"Contact: <sip:carol@192.0.2.77\r\n"
		"Call-ID: p4\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n"), -EBADMSG);
	fx_fini();
}

/* Facts headers leave no backend response towards a phone. */
TEST(route_backend_response_strips_facts)
{
	init();
	fx_parse(fx_tok("SIP/2.0 180 Ringing\r\n"
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;"
			"ft=TOKEN\r\nVia: SIP/2.0/TLS c;branch=z9hG4bK3\r\n"
			"To: <sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2\r\n"
			"Call-ID: x\r\nCSeq: 1 INVITE\r\n"
			"x-tls-peer-subject: CN=callee\r\nl: 0\r\n\r\n"));
	CHECK_OK(stls_relay_backend_response(&fx.ctx, &fx.msg, fx.out,
					     sizeof(fx.out) - 1, &fx.res));
	fx_check_out();
	CHECK(strstr(fx.out, "callee") == NULL);
	fx_fini();
}

#define OB_REGISTER                                                        \
	"REGISTER sip:example.test SIP/2.0\r\n"                            \
	"Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKr\r\n"                    \
	"To: <sip:alice@example.test>\r\n"                                  \
	"From: <sip:alice@example.test>;tag=1\r\n"                          \
	"Call-ID: r1\r\nCSeq: 1 REGISTER\r\n"                               \
	"Supported: path, outbound\r\n"                                     \
	"Contact: <sip:alice@10.0.0.7;transport=tls>;reg-id=1;"             \
	"+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"" \
	"\r\nl: 0\r\n\r\n"

/* The backend's 2xx to <reg_via> (the Via line we added): Flow-Timer? */
static void registrar_200(const char *our_via, const char *extra)
{
	static char resp[2048];

	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\n%s\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKr\r\n"
		 "To: <sip:alice@example.test>;tag=reg\r\n"
		 "From: <sip:alice@example.test>;tag=1\r\n"
		 "Call-ID: r1\r\nCSeq: 1 REGISTER\r\n%sl: 0\r\n\r\n",
		 our_via, extra);
	fx_parse(resp);
	CHECK_OK(stls_relay_backend_response(&fx.ctx, &fx.msg, fx.out,
					     sizeof(fx.out) - 1, &fx.res));
	fx_check_out();
}

/* RFC 5626 5.4: a REGISTER asking for outbound is marked in our Via; the
 * registrar's 2xx gets Flow-Timer on its way to the phone. */
TEST(route_flow_timer_on_outbound_register)
{
	static char via[256];
	const char *p;
	size_t n;

	init();
	fx.ctx.flow_timer = 120;
	fx_parse(OB_REGISTER);
	CHECK_OK(stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
					   sizeof(fx.out) - 1, &fx.res));
	fx_check_out();
	p = strstr(fx.out, "\r\n") + 2;
	n = (size_t)(strstr(p, "\r\n") - p);
	memcpy(via, p, n);
	via[n] = '\0';
	CHECK(n > 3 && strcmp(via + n - 3, ";ob") == 0);
	registrar_200(via, "");
	CHECK_STR_HAS(fx.out, "\r\nFlow-Timer: 120\r\n");
	/* The registrar's own value is kept. */
	registrar_200(via, "Flow-Timer: 30\r\n");
	CHECK_STR_HAS(fx.out, "\r\nFlow-Timer: 30\r\n");
	CHECK(strstr(fx.out, "Flow-Timer: 120") == NULL);
	/* 0: never added. */
	fx.ctx.flow_timer = 0;
	registrar_200(via, "");
	CHECK(strstr(fx.out, "Flow-Timer") == NULL);
	fx_fini();
}

/* No outbound asked, or not a 2xx: no Flow-Timer. ;ob on the Route to us
 * asks too. */
TEST(route_flow_timer_only_when_asked)
{
	static char via[256];
	const char *p;

	init();
	fx.ctx.flow_timer = 120;
	/* reg-id without Supported: outbound is not asking (RFC 5626
	 * 4.2.1 wants both). */
	fx_parse("REGISTER sip:example.test SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKr\r\n"
		 "To: <sip:alice@example.test>\r\n"
		 "From: <sip:alice@example.test>;tag=1\r\n"
		 "Call-ID: r1\r\nCSeq: 1 REGISTER\r\nSupported: path\r\n"
		 "Contact: <sip:alice@10.0.0.7>;reg-id=1\r\nl: 0\r\n\r\n");
	CHECK_OK(stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
					   sizeof(fx.out) - 1, &fx.res));
	p = strstr(fx.out, "\r\n") + 2;
	CHECK(strncmp(strstr(p, "\r\n") - 3, ";ob", 3) != 0);
	snprintf(via, sizeof(via), "%.*s", (int)(strstr(p, "\r\n") - p), p);
	registrar_200(via, "");
	CHECK(strstr(fx.out, "Flow-Timer") == NULL);
	fx_parse("REGISTER sip:example.test SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKr\r\n"
		 "Route: <sip:sip.example.net:5061;lr;ob>\r\n"
		 "To: <sip:a@example.test>\r\nFrom: <sip:a@example.test>;tag=1"
		 "\r\nCall-ID: r2\r\nCSeq: 1 REGISTER\r\n"
		 "Contact: <sip:a@10.0.0.7>\r\nl: 0\r\n\r\n");
	CHECK_OK(stls_relay_client_request(&fx.ctx, &fx.msg, fx.out,
					   sizeof(fx.out) - 1, &fx.res));
	p = strstr(fx.out, "\r\n") + 2;
	CHECK(strncmp(strstr(p, "\r\n") - 3, ";ob", 3) == 0);
	fx_fini();
}
