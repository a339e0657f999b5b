/* Relay rewriting, responses from TLS peers (sip_rewrite_peer.c): to the
 * backend along the next Via, or to the flow our Via names (ft). */
#include <errno.h>

#include "daemon/relay/rewrite_fixture.h"
#include "lib/sip/sip_samples.h"

TEST(rewrite_response_from_tls_peer_to_backend)
{
	fx_init();
	fx_parse("SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/TLS sip.example.net:5061;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKb1;"
		 "received=192.0.2.11;rport=5070\r\n"
		 "To: <sip:c@carrier>;tag=t\r\nFrom: <sip:a@b>;tag=f\r\n"
		 "Call-ID: c4\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	CHECK_OK(stls_relay_client_response(&fx.ctx, &fx.msg, fx.out,
					    sizeof(fx.out) - 1, &fx.res));
	fx_check_out();
	CHECK(fx.res.has_next);
	CHECK_EQ(fx.res.next.port, 5070);
	CHECK(fx.res.next.host_is_ip);
	CHECK_EQ(fx.res.next.tp, STLS_SIP_TP_UDP);
	CHECK(strncmp(fx.res.next.host.p, "192.0.2.11", 10) == 0);
	CHECK(strstr(fx.out, "sip.example.net") == NULL);
	/* Not ours: dropped (a literal "TOKEN" as ft fails the MAC). */
	fx_parse(SAMPLE_200);
	CHECK_EQ(stls_relay_client_response(&fx.ctx, &fx.msg, fx.out,
					    sizeof(fx.out), &fx.res), -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "bad flow token");
	fx_parse("SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.99:5061;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKb1\r\n"
		 "To: <sip:c@carrier>;tag=t\r\nFrom: <sip:a@b>;tag=f\r\n"
		 "Call-ID: c4\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ(stls_relay_client_response(&fx.ctx, &fx.msg, fx.out,
					    sizeof(fx.out), &fx.res), -EBADMSG);
	CHECK_STR_EQ(fx.res.error, "top Via is not ours");
	fx_fini();
}

/* Our Via with a valid ft: the answer to a request from another flow goes
 * to that flow, whatever address the Via shows; facts headers go. */
TEST(peer_response_to_flow)
{
	fx_init();
	fx_parse(fx_tok("SIP/2.0 180 Ringing\r\n"
			"Via: SIP/2.0/UDP 198.51.100.9:5062;branch=z9hG4bKq;"
			"ft=TOKEN\r\nVia: SIP/2.0/TLS 10.0.0.7;branch=z9hG4bKa"
			"\r\nTo: <sip:b@c>;tag=1\r\nFrom: <sip:a@c>;tag=2\r\n"
			"Call-ID: c\r\nCSeq: 2 INVITE\r\nX-TLS-SNI: x\r\n"
			"l: 0\r\n\r\n"));
	CHECK_OK(stls_relay_client_response(&fx.ctx, &fx.msg, fx.out,
					    sizeof(fx.out) - 1, &fx.res));
	fx_check_out();
	CHECK(fx.res.has_flow && !fx.res.has_next);
	CHECK_EQ(fx.res.flow.conn_id, 42);
	CHECK(strstr(fx.out, "X-TLS-SNI") == NULL);
	CHECK_EQ(stls_sip_msg_count(&fx.out_msg, STLS_SIP_HDR_VIA), 1);
	fx_fini();
}
