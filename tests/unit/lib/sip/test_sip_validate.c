/* Validation levels: full for client messages, proportionate for the
 * backend's; the parse-once fields both leave in the message. */
#include <errno.h>
#include <stdio.h>

#include "stls/sip/msg.h"
#include "lib/sip/sip_samples.h"
#include "test.h"

static struct stls_sip_msg msg;

static int parse(const char *s)
{
	return stls_sip_msg_parse(s, strlen(s), 0, &msg);
}

/* A 200 from the backend: Call-ID, CSeq, From, To, Via are fine; <extra>
 * is one more header line. */
static const char *resp_with(const char *extra)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;ft=x\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.7:49152;branch=z9hG4bK2\r\n"
		 "To: <sip:b@example.com>;tag=9\r\n"
		 "From: <sip:a@example.com>;tag=1\r\n"
		 "Call-ID: c1\r\nCSeq: 7 INVITE\r\n%s"
		 "Content-Length: 0\r\n\r\n", extra);
	return buf;
}

TEST(validate_keeps_top_via_and_cseq)
{
	CHECK_OK(parse(SAMPLE_INVITE));
	CHECK_EQ(msg.validated, 0);
	CHECK_OK(stls_sip_msg_validate(&msg));
	CHECK_EQ(msg.validated, STLS_SIP_VALID_FULL);
	CHECK_EQ(msg.cseq_num, 314159);
	CHECK(stls_slice_eq(msg.cseq_method, stls_slice_cstr("INVITE")));
	CHECK(stls_slice_eq(msg.top_via.host, stls_slice_cstr("10.0.0.7")));
	CHECK_EQ(msg.top_via.port, 49152);
	CHECK(msg.top_via_line == stls_sip_msg_find(&msg, STLS_SIP_HDR_VIA));
	CHECK(msg.top_via_rest.p == NULL); /* one value on the line */
	/* A new parse forgets them. */
	CHECK_OK(parse(SAMPLE_200));
	CHECK_EQ(msg.validated, 0);
	CHECK_OK(stls_sip_msg_validate_trusted(&msg));
	CHECK_EQ(msg.validated, STLS_SIP_VALID_TRUSTED);
	CHECK(stls_slice_eq(msg.top_via.host, stls_slice_cstr("192.0.2.1")));
}

TEST(validate_top_via_rest_on_a_shared_line)
{
	struct stls_sip_values it;
	struct stls_slice v;

	CHECK_OK(parse("SIP/2.0 200 OK\r\n"
		       "v: SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/TCP b\r\n"
		       "t: <sip:b@c>\r\nf: <sip:a@c>;tag=1\r\ni: c\r\n"
		       "CSeq: 1 BYE\r\n\r\n"));
	CHECK_OK(stls_sip_msg_validate(&msg));
	CHECK(stls_slice_eq(msg.top_via.host, stls_slice_cstr("a")));
	it.msg = &msg;
	it.line = msg.top_via_line;
	it.rest = msg.top_via_rest;
	CHECK_EQ(stls_sip_values_next(&it, &v), 1);
	CHECK(stls_slice_eq(v, stls_slice_cstr("SIP/2.0/TCP b")));
	CHECK_EQ(stls_sip_values_next(&it, &v), 0);
}

/* What the backend's message may carry unparsed, and what it may not. */
TEST(validate_trusted_is_proportionate)
{
	static const char *const forwarded[] = {
		"Contact: <sip:bob@192.0.2.10\r\n",  /* unterminated < */
		"Record-Route: sip:no-angle@x;lr\r\n",
		"Route: \"open quote <sip:x>\r\n",
		"Path: <sip:a@b c>\r\n",
		"Via: SIP/2.0/UDP bad host name!\r\n", /* not the top Via */
	};
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(forwarded); i++) {
		CHECK_OK(parse(resp_with(forwarded[i])));
		CHECK_OK(stls_sip_msg_validate_trusted(&msg));
		/* A client's message with the same line is refused. */
		CHECK_EQ(stls_sip_msg_validate(&msg), -EBADMSG);
		CHECK_EQ(msg.validated, 0);
	}
	/* From and To are not parsed for the backend either. */
	CHECK_OK(parse("SIP/2.0 180 Ringing\r\n"
		       "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
		       "To: <sip:b@c\r\nFrom: garbage <\r\nCall-ID: c\r\n"
		       "CSeq: 1 INVITE\r\n\r\n"));
	CHECK_OK(stls_sip_msg_validate_trusted(&msg));
	CHECK_EQ(stls_sip_msg_validate(&msg), -EBADMSG);
	CHECK_STR_EQ(msg.error, "bad From");
}

/* The rules both levels keep: what siptlsd reads or changes. */
TEST(validate_trusted_refusals)
{
	static const struct {
		const char *msg, *why;
	} cases[] = {
		{ "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
		  "To: <sip:b@c>\r\nFrom: <sip:a@c>\r\nCSeq: 1 BYE\r\n\r\n",
		  "missing Call-ID" },
		{ "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
		  "To: <sip:b@c>\r\nFrom: <sip:a@c>\r\ni: x\r\ni: y\r\n"
		  "CSeq: 1 BYE\r\n\r\n", "repeated Call-ID" },
		{ "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
		  "To: <sip:b@c>\r\nFrom: <sip:a@c>\r\ni: x\r\n"
		  "CSeq: 99999999999 BYE\r\n\r\n", "bad CSeq" },
		{ "SIP/2.0 200 OK\r\nTo: <sip:b@c>\r\nFrom: <sip:a@c>\r\n"
		  "i: x\r\nCSeq: 1 BYE\r\n\r\n", "missing Via" },
		{ "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [bad;branch=1\r\n"
		  "To: <sip:b@c>\r\nFrom: <sip:a@c>\r\ni: x\r\n"
		  "CSeq: 1 BYE\r\n\r\n", "bad Via" },
		{ "BYE sip:a@b SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
		  "To: <sip:b@c>\r\nFrom: <sip:a@c>\r\ni: x\r\n"
		  "CSeq: 1 INVITE\r\n\r\n",
		  "CSeq method differs from the request method" },
		{ "BYE sip:a@b SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
		  "Max-Forwards: 300\r\nTo: <sip:b@c>\r\nFrom: <sip:a@c>\r\n"
		  "i: x\r\nCSeq: 1 BYE\r\n\r\n", "bad Max-Forwards" },
	};
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		CHECK_OK(parse(cases[i].msg));
		CHECK_EQ(stls_sip_msg_validate_trusted(&msg), -EBADMSG);
		CHECK_STR_EQ(msg.error, cases[i].why);
		CHECK_EQ(msg.validated, 0);
	}
}
