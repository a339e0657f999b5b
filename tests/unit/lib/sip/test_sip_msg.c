/* Parser: start line, header index, compact forms, folding, limits, and the
 * RFC 4475 torture messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "stls/sip/msg.h"
#include "lib/sip/sip_samples.h"
#include "test.h"

static struct stls_sip_msg msg;

static int parse(const char *s, unsigned flags)
{
	return stls_sip_msg_parse(s, strlen(s), flags, &msg);
}

static char *cstr(struct stls_slice s)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 512, "%.*s", (int)s.len, s.p ? s.p : "");
	return b;
}

TEST(msg_invite_start_line_headers_body)
{
	struct stls_slice meth;
	uint32_t cseq;
	unsigned mf;

	CHECK_OK(parse(SAMPLE_INVITE, STLS_SIP_PARSE_STREAM));
	CHECK(msg.is_request);
	CHECK_STR_EQ(cstr(msg.method), "INVITE");
	CHECK_EQ(msg.method_id, STLS_SIP_M_INVITE);
	CHECK_STR_EQ(cstr(msg.ruri), "sip:bob@example.com");
	CHECK_EQ(msg.body.len, 157);
	CHECK_STR_HAS(cstr(msg.body), "v=0");
	CHECK_OK(stls_sip_msg_cseq(&msg, &cseq, &meth));
	CHECK_EQ(cseq, 314159);
	CHECK_STR_EQ(cstr(meth), "INVITE");
	CHECK_OK(stls_sip_msg_max_forwards(&msg, &mf));
	CHECK_EQ(mf, 70);
	CHECK_OK(stls_sip_msg_validate(&msg));
}

TEST(msg_response_status_reason)
{
	CHECK_OK(parse(SAMPLE_200, 0));
	CHECK(!msg.is_request);
	CHECK_EQ(msg.status, 200);
	CHECK_STR_EQ(cstr(msg.reason), "OK");
	CHECK_EQ(stls_sip_msg_count(&msg, STLS_SIP_HDR_VIA), 2);
	CHECK_OK(stls_sip_msg_validate(&msg));
}

TEST(msg_tags)
{
	struct stls_slice tag;

	CHECK_OK(parse(SAMPLE_INVITE, 0));
	CHECK_OK(stls_sip_msg_tag(&msg, STLS_SIP_HDR_FROM, &tag));
	CHECK_STR_EQ(cstr(tag), "1928301774");
	CHECK_EQ(stls_sip_msg_tag(&msg, STLS_SIP_HDR_TO, &tag), -ENOENT);
	CHECK_OK(parse(SAMPLE_BYE, 0));
	CHECK_OK(stls_sip_msg_tag(&msg, STLS_SIP_HDR_TO, &tag));
	CHECK_STR_EQ(cstr(tag), "1928301774");
}

TEST(msg_compact_forms_and_case)
{
	static const char *const names[] = { "i", "m", "e", "l", "c", "f", "s",
					     "k", "t", "v", "o", "r", "u", "x",
					     "b" };
	static const enum stls_sip_hdr ids[] = {
		STLS_SIP_HDR_CALL_ID,	  STLS_SIP_HDR_CONTACT,
		STLS_SIP_HDR_CONTENT_ENCODING, STLS_SIP_HDR_CONTENT_LENGTH,
		STLS_SIP_HDR_CONTENT_TYPE, STLS_SIP_HDR_FROM,
		STLS_SIP_HDR_SUBJECT,	  STLS_SIP_HDR_SUPPORTED,
		STLS_SIP_HDR_TO,	  STLS_SIP_HDR_VIA,
		STLS_SIP_HDR_EVENT,	  STLS_SIP_HDR_REFER_TO,
		STLS_SIP_HDR_ALLOW_EVENTS, STLS_SIP_HDR_SESSION_EXPIRES,
		STLS_SIP_HDR_REFERRED_BY };
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(names); i++) {
		CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr(names[i])), ids[i]);
	}
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("V")), STLS_SIP_HDR_VIA);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("cAlL-iD")),
		 STLS_SIP_HDR_CALL_ID);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("X-Foo")), STLS_SIP_HDR_OTHER);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("MAX-FORWARDS")),
		 STLS_SIP_HDR_MAX_FORWARDS);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("Proxy-Require")),
		 STLS_SIP_HDR_PROXY_REQUIRE);
	/* Case folding is for letters only. */
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("Call\rID")),
		 STLS_SIP_HDR_OTHER);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("Call_ID")),
		 STLS_SIP_HDR_OTHER);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("Vi@")), STLS_SIP_HDR_OTHER);
	CHECK_EQ(stls_sip_hdr_id(stls_slice_cstr("Cseq ")), STLS_SIP_HDR_OTHER);
	CHECK_OK(parse("OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h\r\n"
		       "VIA: SIP/2.0/UDP g\r\nX-a: 1\r\nx-A: 2\r\nl: 0\r\n\r\n",
		       0));
	CHECK_EQ(stls_sip_msg_count(&msg, STLS_SIP_HDR_VIA), 2);
	CHECK_STR_EQ(cstr(stls_sip_msg_find_name(&msg, stls_slice_cstr(
			"Content-Length"))->value), "0");
	CHECK_STR_EQ(cstr(stls_sip_msg_next(&msg, stls_sip_msg_find_name(
			&msg, stls_slice_cstr("X-A")))->value), "2");
}

TEST(msg_folding_and_multi_values)
{
	struct stls_sip_values it;
	struct stls_slice v;
	int n = 0;

	CHECK_OK(parse("OPTIONS sip:a@b SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP a;branch=z9hG4bK1 ,\r\n"
		       "  SIP/2.0/UDP b, SIP/2.0/TCP \"c\"\r\n"
		       "Route: <sip:x;lr>, \"d,n\" <sip:y;lr>\r\n"
		       "Via: SIP/2.0/UDP d\r\nl: 0\r\n\r\n", 0));
	stls_sip_values_init(&it, &msg, stls_sip_msg_find(&msg,
							  STLS_SIP_HDR_VIA));
	while (stls_sip_values_next(&it, &v) == 1) {
		n++;
	}
	CHECK_EQ(n, 4);
	n = 0;
	stls_sip_values_init(&it, &msg, stls_sip_msg_find(&msg,
							  STLS_SIP_HDR_ROUTE));
	while (stls_sip_values_next(&it, &v) == 1) {
		n++;
	}
	CHECK_EQ(n, 2);
	CHECK_STR_EQ(cstr(v), "\"d,n\" <sip:y;lr>");
}

/* Values split by a plain scan and by the quote/bracket-aware one. */
TEST(msg_values_quotes_brackets_counts)
{
	static const char *const want[] = {
		"<sip:a;lr>", "\"x, \\\"y\" <sip:b>", "<sip:c,d@e>", "",
		"sip:f", "<sip:g>;p=\"1,2\"" };
	struct stls_sip_values it;
	struct stls_slice v;
	size_t n = 0;

	CHECK_OK(parse("OPTIONS sip:a@b SIP/2.0\r\n"
		       "Route: <sip:a;lr>, \"x, \\\"y\" <sip:b>\r\n"
		       "Via: SIP/2.0/UDP h\r\n"
		       "Route: <sip:c,d@e>,, sip:f\r\n"
		       "Route: <sip:g>;p=\"1,2\"\r\nl: 0\r\n\r\n", 0));
	CHECK_EQ(stls_sip_msg_count(&msg, STLS_SIP_HDR_ROUTE), 3);
	CHECK_EQ(stls_sip_msg_count(&msg, STLS_SIP_HDR_VIA), 1);
	CHECK(stls_sip_msg_next(&msg, stls_sip_msg_find(&msg,
							STLS_SIP_HDR_VIA)) ==
	      NULL);
	stls_sip_values_init(&it, &msg, stls_sip_msg_find(&msg,
							  STLS_SIP_HDR_ROUTE));
	while (n < STLS_ARRAY_SIZE(want) &&
	       stls_sip_values_next(&it, &v) == 1) {
		CHECK_STR_EQ(cstr(v), want[n]);
		n++;
	}
	CHECK_EQ(n, STLS_ARRAY_SIZE(want));
	CHECK_EQ(stls_sip_values_next(&it, &v), 0);
	CHECK_OK(parse("OPTIONS sip:a@b SIP/2.0\r\n"
		       "Route: <sip:a;lr, <sip:b>\r\nl: 0\r\n\r\n", 0));
	stls_sip_values_init(&it, &msg, stls_sip_msg_find(&msg,
							  STLS_SIP_HDR_ROUTE));
	CHECK_EQ(stls_sip_values_next(&it, &v), -EBADMSG);
}

TEST(msg_datagram_without_content_length)
{
	CHECK_OK(parse("MESSAGE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\nhi", 0));
	CHECK_STR_EQ(cstr(msg.body), "hi");
	CHECK_EQ(parse("MESSAGE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\nhi",
		       STLS_SIP_PARSE_STREAM), -EBADMSG);
}

TEST(msg_bad_start_lines)
{
	CHECK_EQ(parse("INVITE sip:a@b SIP/3.0\r\n\r\n", 0), -EPROTONOSUPPORT);
	CHECK_EQ(parse("INVITE sip:a@b HTTP/1.1\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("INVITE  sip:a@b SIP/2.0\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("SIP/2.0 99 Low\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("SIP/2.0 700 High\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("SIP/2.0 2000 X\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("INVITE sip:a@b SIP/2.0", 0), -EBADMSG);
	CHECK_STR_HAS(msg.error, "start line");
}

TEST(msg_bad_header_lines)
{
	CHECK_EQ(parse("A sip:a SIP/2.0\r\nNoColon\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("A sip:a SIP/2.0\r\n folded-first: x\r\n\r\n", 0),
		 -EBADMSG);
	CHECK_EQ(parse("A sip:a SIP/2.0\r\nX: a\nb\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("A sip:a SIP/2.0\r\nX: a\rb\r\n\r\n", 0), -EBADMSG);
	CHECK_EQ(parse("A sip:a SIP/2.0\r\nX: a\r\n", 0), -EBADMSG);
	CHECK_STR_HAS(msg.error, "not terminated");
}

TEST(msg_nul_bytes)
{
	static const char ok[] = "A sip:a SIP/2.0\r\nTo: \"a\\\0b\" <sip:a@b>"
				 "\r\nl: 0\r\n\r\n";
	static const char bad1[] = "A sip:a SIP/2.0\r\nTo: a\0b\r\n\r\n";
	static const char bad2[] = "A sip:a\0 SIP/2.0\r\n\r\n";
	static const char bad3[] = "A sip:a SIP/2.0\r\nT\0o: a\r\n\r\n";

	CHECK_OK(stls_sip_msg_parse(ok, sizeof(ok) - 1, 0, &msg));
	CHECK_EQ(stls_sip_msg_parse(bad1, sizeof(bad1) - 1, 0, &msg),
		 -EBADMSG);
	CHECK_EQ(stls_sip_msg_parse(bad2, sizeof(bad2) - 1, 0, &msg),
		 -EBADMSG);
	CHECK_EQ(stls_sip_msg_parse(bad3, sizeof(bad3) - 1, 0, &msg),
		 -EBADMSG);
}

TEST(msg_header_bomb_is_bounded)
{
	size_t n = 5000, i, len = 0;
	char *m = malloc(n * 8 + 64);

	CHECK_NOT_NULL(m);
	len += (size_t)sprintf(m, "A sip:a SIP/2.0\r\n");
	for (i = 0; i < n; i++) {
		len += (size_t)sprintf(m + len, "X: %zu\r\n", i % 10);
	}
	len += (size_t)sprintf(m + len, "\r\n");
	CHECK_EQ(stls_sip_msg_parse(m, len, 0, &msg), -E2BIG);
	CHECK_STR_HAS(msg.error, "too many");
	free(m);
}

TEST(msg_validate_failures)
{
	CHECK_OK(parse("A sip:a SIP/2.0\r\nl: 0\r\n\r\n", 0));
	CHECK_EQ(stls_sip_msg_validate(&msg), -EBADMSG);
	CHECK_STR_EQ(msg.error, "missing Call-ID");
	CHECK_OK(parse("OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS"
		       "\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\n"
		       "Max-Forwards: 256\r\nVia: SIP/2.0/UDP h\r\n\r\n", 0));
	CHECK_EQ(stls_sip_msg_validate(&msg), -EBADMSG);
	CHECK_STR_EQ(msg.error, "bad Max-Forwards");
	CHECK_OK(parse("OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS"
		       "\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\n"
		       "Route: sip:r\r\nVia: SIP/2.0/UDP h\r\n\r\n", 0));
	CHECK_EQ(stls_sip_msg_validate(&msg), -EBADMSG);
	CHECK_STR_EQ(msg.error, "bad Route");
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Every message of <dir>: accepted or rejected as its LIST says. Returns
 * the number accepted; *total gets the number of messages. */
static int torture_dir(const char *dir, int *total)
{
	char path[1024], line[256], name[64], verdict[16];
	int accepted = 0;
	FILE *list;

	snprintf(path, sizeof(path), "%s/sip/%s/LIST", test_data_dir(),
		 dir);
	list = fopen(path, "r");
	CHECK_NOT_NULL(list);
	while (fgets(line, sizeof(line), list)) {
		size_t len = 0;
		char *data;
		int err;

		if (line[0] == '#' || sscanf(line, "%63s %15s", name,
					     verdict) != 2) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/sip/%s/%s.dat",
			 test_data_dir(), dir, name);
		data = read_file(path, &len);
		CHECK_NOT_NULL(data);
		err = stls_sip_msg_parse(data, len, 0, &msg);
		if (!err) {
			err = stls_sip_msg_validate(&msg);
		}
		if (strcmp(verdict, "accept") == 0 && err) {
			fprintf(stderr, "%s: rejected (%s)\n", name, msg.error);
			CHECK(0);
		}
		if (strcmp(verdict, "reject") == 0) {
			if (!err) {
				fprintf(stderr, "%s: accepted\n", name);
			}
			CHECK(err != 0);
			CHECK_NOT_NULL(msg.error);
		}
		accepted += err == 0;
		(*total)++;
		free(data);
	}
	fclose(list);
	return accepted;
}

/* Every RFC 4475 message: accepted or rejected as LIST says. */
TEST(msg_rfc4475_torture_all)
{
	int total = 0;

	CHECK_EQ(torture_dir("rfc4475", &total), 28);
	CHECK_EQ(total, 49);
}

/* Every RFC 5118 (IPv6) message: the same. */
TEST(msg_rfc5118_ipv6_torture_all)
{
	int total = 0;

	CHECK_EQ(torture_dir("rfc5118", &total), 11);
	CHECK_EQ(total, 12);
}
