/* Local replies: copied headers, To tag, reasons, "is it for us". */
#include <errno.h>

#include "stls/sip/reply.h"
#include "lib/sip/sip_samples.h"
#include "test.h"

static struct stls_sip_msg msg, rep;

static void parse(const char *s)
{
	CHECK_OK(stls_sip_msg_parse(s, strlen(s), 0, &msg));
}

TEST(reply_483_copies_headers_and_adds_to_tag)
{
	char out[2048], again[2048];
	ssize_t n, n2;

	parse(SAMPLE_INVITE);
	n = stls_sip_reply_build(&msg, 483, NULL, "siptlsd", out, sizeof(out));
	CHECK(n > 0);
	out[n] = '\0';
	CHECK(strncmp(out, "SIP/2.0 483 Too Many Hops\r\n", 27) == 0);
	CHECK_STR_HAS(out, "Via: SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bK776"
			   "asdhds;rport\r\n");
	CHECK_STR_HAS(out, "To: Bob <sip:bob@example.com>;tag=");
	CHECK_STR_HAS(out, "Call-ID: a84b4c76e66710@pc33.example.com\r\n");
	CHECK_STR_HAS(out, "CSeq: 314159 INVITE\r\n");
	CHECK_STR_HAS(out, "Server: siptlsd\r\n");
	CHECK_STR_HAS(out, "Content-Length: 0\r\n\r\n");
	CHECK_OK(stls_sip_msg_parse(out, (size_t)n, STLS_SIP_PARSE_STREAM,
				    &rep));
	CHECK_OK(stls_sip_msg_validate(&rep));
	/* A retransmission gets the same tag. */
	n2 = stls_sip_reply_build(&msg, 483, NULL, "siptlsd", again,
				  sizeof(again));
	CHECK_EQ(n, n2);
	CHECK(memcmp(out, again, (size_t)n) == 0);
}

TEST(reply_keeps_existing_to_tag_and_all_vias)
{
	char out[2048];
	ssize_t n;

	parse("BYE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP p1;branch=z9hG4bK1, "
	      "SIP/2.0/UDP p2\r\nVia: SIP/2.0/TLS c\r\nt: <sip:a@b>;tag=zz\r\n"
	      "f: <sip:c@d>;tag=yy\r\ni: cid\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n");
	n = stls_sip_reply_build(&msg, 430, NULL, NULL, out, sizeof(out));
	CHECK(n > 0);
	out[n] = '\0';
	CHECK_STR_HAS(out, "SIP/2.0 430 Flow Failed\r\n");
	CHECK_STR_HAS(out, "v: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP p2"
			   "\r\nVia: SIP/2.0/TLS c\r\n");
	CHECK_STR_HAS(out, "t: <sip:a@b>;tag=zz\r\n");
	CHECK(strstr(out, "Server:") == NULL);
}

TEST(reply_reasons_and_refusals)
{
	char out[64];

	CHECK_STR_EQ(stls_sip_reason(400), "Bad Request");
	CHECK_STR_EQ(stls_sip_reason(403), "Forbidden");
	CHECK_STR_EQ(stls_sip_reason(503), "Service Unavailable");
	CHECK_STR_EQ(stls_sip_reason(200), "OK");
	CHECK_STR_EQ(stls_sip_reason(799), "Unknown");
	parse(SAMPLE_INVITE);
	CHECK_EQ(stls_sip_reply_build(&msg, 400, NULL, NULL, out, sizeof(out)),
		 -ENOBUFS);
	CHECK_EQ(stls_sip_reply_build(&msg, 99, NULL, NULL, out, sizeof(out)),
		 -EINVAL);
	parse(SAMPLE_200);
	CHECK_EQ(stls_sip_reply_build(&msg, 400, NULL, NULL, out, sizeof(out)),
		 -EINVAL);
	parse("ACK sip:a@b SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK_EQ(stls_sip_reply_build(&msg, 400, NULL, NULL, out, sizeof(out)),
		 -EINVAL);
}

TEST(reply_is_local)
{
	static const struct stls_sip_local me[] = {
		{ "sip.example.net", 5061 },
		{ "192.0.2.1", 0 },
		{ "2001:db8::1", 5060 },
	};
	char out[1024];
	ssize_t n;

	parse(SAMPLE_OPTIONS);
	CHECK(stls_sip_reply_is_local(&msg, me, 3));
	n = stls_sip_reply_build(&msg, 200, NULL, NULL, out, sizeof(out));
	CHECK(n > 0);
	parse("OPTIONS sip:192.0.2.1:7000 SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK(stls_sip_reply_is_local(&msg, me, 3));
	parse("OPTIONS sip:[2001:db8::1] SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK(stls_sip_reply_is_local(&msg, me, 3));
	parse("OPTIONS sip:bob@192.0.2.1 SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK(!stls_sip_reply_is_local(&msg, me, 3));
	parse("OPTIONS sip:sip.example.net SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK(!stls_sip_reply_is_local(&msg, me, 3));
	parse("OPTIONS sips:SIP.example.net SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK(stls_sip_reply_is_local(&msg, me, 3));
	parse("OPTIONS tel:+123 SIP/2.0\r\nl: 0\r\n\r\n");
	CHECK(!stls_sip_reply_is_local(&msg, me, 3));
}
