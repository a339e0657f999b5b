/* Stream framing: Content-Length, CRLF ping/pong, limits, garbage. */
#include <errno.h>
#include <stdlib.h>

#include "stls/sip/framer.h"
#include "lib/sip/sip_samples.h"
#include "test.h"

static void next(struct stls_sip_framer *fr, const char *s, size_t n,
		 struct stls_sip_frame *f)
{
	stls_sip_framer_next(fr, s, n, f);
}

TEST(framer_whole_invite)
{
	static const char m[] = SAMPLE_INVITE;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.msg.len, sizeof(m) - 1);
	CHECK(f.msg.p == m);
	CHECK_EQ(f.consumed, sizeof(m) - 1);
	CHECK_EQ(f.body_len, 157);
}

/* Fed one byte at a time, the message completes exactly at its end. */
TEST(framer_one_byte_at_a_time)
{
	static const char m[] = SAMPLE_INVITE;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	size_t n;

	stls_sip_framer_init(&fr, 0);
	for (n = 1; n < sizeof(m) - 1; n++) {
		next(&fr, m, n, &f);
		CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
		CHECK_EQ(f.consumed, 0);
	}
	next(&fr, m, n, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.msg.len, sizeof(m) - 1);
}

TEST(framer_body_split_across_feeds)
{
	static const char m[] = SAMPLE_INVITE;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	size_t hdr = strstr(m, "\r\n\r\n") - m + 4;

	stls_sip_framer_init(&fr, 0);
	next(&fr, m, hdr + 10, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
	next(&fr, m, hdr + 100, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
	next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.hdr_len, hdr);
}

TEST(framer_pipelined_messages)
{
	static const char m[] = SAMPLE_REGISTER SAMPLE_OPTIONS "\r\n" SAMPLE_BYE;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	size_t off = 0;
	int count = 0;

	stls_sip_framer_init(&fr, 0);
	for (;;) {
		next(&fr, m + off, sizeof(m) - 1 - off, &f);
		off += f.consumed;
		if (f.kind != STLS_SIP_FRAME_MESSAGE) {
			break;
		}
		count++;
	}
	CHECK_EQ(count, 3);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
	CHECK_EQ(off, sizeof(m) - 1);
}

TEST(framer_ping_pong_and_stray_crlf)
{
	static const char m[] = "\r\n\r\n" "\r\n" SAMPLE_OPTIONS;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	next(&fr, m, 2, &f); /* lone CRLF: might become a ping */
	CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
	CHECK_EQ(f.consumed, 0);
	next(&fr, m, 3, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
	next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_PING);
	CHECK_EQ(f.consumed, 4);
	next(&fr, m + 4, sizeof(m) - 5, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.consumed, sizeof(m) - 5);
	CHECK(f.msg.p == m + 6);
}

TEST(framer_double_ping)
{
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	next(&fr, "\r\n\r\n\r\n\r\n", 8, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_PING);
	next(&fr, "\r\n\r\n", 4, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_PING);
}

TEST(framer_compact_l_and_zero)
{
	static const char m[] = "OPTIONS sip:a@b SIP/2.0\r\nl : 0\r\n\r\n";
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.body_len, 0);
}

TEST(framer_folded_content_length)
{
	static const char m[] = "SIP/2.0 200 OK\r\nContent-Length:\r\n 3\r\n\r\nabc";
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.body_len, 3);
	CHECK(!f.is_request);
}

static void expect_err(const char *m, enum stls_sip_frame_err err, bool req)
{
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 1000);
	stls_sip_framer_next(&fr, m, strlen(m), &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_ERROR);
	CHECK_EQ(f.err, err);
	CHECK_EQ(f.is_request, req);
	CHECK_STR_EQ(stls_sip_frame_err_str(err) ? "x" : NULL, "x");
}

TEST(framer_missing_content_length_request_and_response)
{
	expect_err("INVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\n",
		   STLS_SIP_FRAME_NO_CLEN, true);
	expect_err("SIP/2.0 180 Ringing\r\nTo: x\r\n\r\n",
		   STLS_SIP_FRAME_NO_CLEN, false);
}

TEST(framer_bad_content_length_values)
{
	expect_err("A sip:a SIP/2.0\r\nContent-Length: five\r\n\r\n",
		   STLS_SIP_FRAME_BAD_CLEN, true);
	expect_err("A sip:a SIP/2.0\r\nContent-Length: -999\r\n\r\n",
		   STLS_SIP_FRAME_BAD_CLEN, true);
	expect_err("A sip:a SIP/2.0\r\nContent-Length: \r\n\r\n",
		   STLS_SIP_FRAME_BAD_CLEN, true);
	expect_err("A sip:a SIP/2.0\r\nl: 1 2\r\n\r\n",
		   STLS_SIP_FRAME_BAD_CLEN, true);
	expect_err("A sip:a SIP/2.0\r\nContent-Length: 5\r\nl: 13\r\n\r\n",
		   STLS_SIP_FRAME_BAD_CLEN, true);
	expect_err("A sip:a SIP/2.0\r\nContent-Length: 99999999999999999999"
		   "\r\n\r\n", STLS_SIP_FRAME_TOO_BIG, true);
	expect_err("A sip:a SIP/2.0\r\nContent-Length: 990\r\n\r\n",
		   STLS_SIP_FRAME_TOO_BIG, true);
}

TEST(framer_duplicate_equal_content_length_is_fine)
{
	static const char m[] = "A sip:a SIP/2.0\r\nl: 2\r\nContent-Length: 2"
				"\r\n\r\nok";
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	stls_sip_framer_next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
}

TEST(framer_garbage_closes_early)
{
	expect_err("\x16\x03\x01\x02\x00", STLS_SIP_FRAME_GARBAGE, true);
	expect_err("GET / HTTP/1.1\r\nHost: x\r\n\r\n", STLS_SIP_FRAME_GARBAGE,
		   true);
	expect_err("INVITE\x01sip", STLS_SIP_FRAME_GARBAGE, true);
	expect_err(" INVITE sip:a SIP/2.0\r\n", STLS_SIP_FRAME_GARBAGE, true);
	expect_err("\r\nxyz<>", STLS_SIP_FRAME_GARBAGE, true);
}

TEST(framer_garbage_after_valid_message)
{
	static const char m[] = SAMPLE_OPTIONS "@@@ junk\r\n";
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	size_t first = sizeof(SAMPLE_OPTIONS) - 1;

	stls_sip_framer_init(&fr, 0);
	stls_sip_framer_next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	CHECK_EQ(f.consumed, first);
	stls_sip_framer_next(&fr, m + first, sizeof(m) - 1 - first, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_ERROR);
	CHECK_EQ(f.err, STLS_SIP_FRAME_GARBAGE);
}

TEST(framer_oversize_headers_without_end)
{
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	size_t n = 5000, i;
	char *m = malloc(n);

	CHECK_NOT_NULL(m);
	memcpy(m, "INVITE sip:a@b SIP/2.0\r\n", 24);
	for (i = 24; i < n; i++) {
		m[i] = (i % 40 == 39) ? '\n' : (i % 40 == 38) ? '\r' : 'X';
	}
	stls_sip_framer_init(&fr, 4096);
	stls_sip_framer_next(&fr, m, 4000, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_NEED_MORE);
	stls_sip_framer_next(&fr, m, n, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_ERROR);
	CHECK_EQ(f.err, STLS_SIP_FRAME_TOO_BIG);
	free(m);
}

TEST(framer_message_exactly_at_limit)
{
	static const char m[] = "A sip:a SIP/2.0\r\nl: 4\r\n\r\nabcd";
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, sizeof(m) - 1);
	stls_sip_framer_next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_MESSAGE);
	stls_sip_framer_init(&fr, sizeof(m) - 2);
	stls_sip_framer_next(&fr, m, sizeof(m) - 1, &f);
	CHECK_EQ(f.kind, STLS_SIP_FRAME_ERROR);
	CHECK_EQ(f.err, STLS_SIP_FRAME_TOO_BIG);
}

/* Random splits of a pipelined stream always yield the same messages. */
TEST(framer_random_splits)
{
	static const char m[] = "\r\n\r\n" SAMPLE_INVITE "\r\n" SAMPLE_200
		SAMPLE_REGISTER "\r\n\r\n" SAMPLE_BYE;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	unsigned seed = 7, round;

	for (round = 0; round < 200; round++) {
		size_t have = 0, off = 0;
		int msgs = 0, pings = 0;

		stls_sip_framer_init(&fr, 0);
		while (off < sizeof(m) - 1) {
			seed = seed * 1103515245 + 12345;
			have += 1 + (seed >> 16) % 97;
			if (have > sizeof(m) - 1) {
				have = sizeof(m) - 1;
			}
			do {
				stls_sip_framer_next(&fr, m + off, have - off,
						     &f);
				off += f.consumed;
				msgs += f.kind == STLS_SIP_FRAME_MESSAGE;
				pings += f.kind == STLS_SIP_FRAME_PING;
				CHECK(f.kind != STLS_SIP_FRAME_ERROR);
			} while (f.kind != STLS_SIP_FRAME_NEED_MORE);
			if (have == sizeof(m) - 1 && off < have) {
				break;
			}
		}
		CHECK_EQ(msgs, 4);
		CHECK_EQ(pings, 2);
	}
}
