/*
 * Unit tests for lib/tls/rec13_hs.c: reassembly of a client's KeyUpdate
 * across TLS 1.3 records after the hand-off (RFC 8446 sections 4.6.3 and
 * 5.1), cut at every point, and each refusal. The engine side (records,
 * alerts, the answer to update_requested) is in test_conn_rec13.c.
 */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "tls/tls_int.h"

static const unsigned char ku1[5] = { 24, 0, 0, 1, 1 };

/* Every way to cut a KeyUpdate into two records, and byte by byte. */
TEST(key_update_reassembled_at_every_cut)
{
	struct stls_rec13_hs e;
	struct stls_rec13 r;
	size_t cut, i;

	memset(&r, 0, sizeof(r));
	for (cut = 1; cut < 5; cut++) {
		CHECK_EQ(stls__rec13_hs_feed(&r, ku1, cut, &e), 0);
		CHECK(stls__rec13_hs_pending(&r));
		CHECK_EQ(stls__rec13_hs_feed(&r, ku1 + cut, 5 - cut, &e), 1);
		CHECK_EQ(e.request, 1);
		CHECK(!stls__rec13_hs_pending(&r));
	}
	for (i = 0; i < 4; i++) {
		CHECK_EQ(stls__rec13_hs_feed(&r, ku1 + i, 1, &e), 0);
	}
	CHECK_EQ(stls__rec13_hs_feed(&r, ku1 + 4, 1, &e), 1);
	CHECK_EQ(e.request, 1);
	/* Whole, in one record. */
	CHECK_EQ(stls__rec13_hs_feed(&r, ku1, 5, &e), 1);
	CHECK(!stls__rec13_hs_pending(&r));
}

/* Request values are the caller's to check: any byte is passed on. */
TEST(request_byte_passed_on)
{
	static const unsigned char ku7[5] = { 24, 0, 0, 1, 7 };
	struct stls_rec13_hs e;
	struct stls_rec13 r;

	memset(&r, 0, sizeof(r));
	CHECK_EQ(stls__rec13_hs_feed(&r, ku7, 5, &e), 1);
	CHECK_EQ(e.request, 7);
}

static void refused(const void *a, size_t an, const void *b, size_t bn,
		    unsigned char alert, const char *what)
{
	struct stls_rec13_hs e;
	struct stls_rec13 r;

	memset(&r, 0, sizeof(r));
	if (an) {
		CHECK_EQ(stls__rec13_hs_feed(&r, a, an, &e), 0);
	}
	CHECK_EQ(stls__rec13_hs_feed(&r, b, bn, &e), -EPROTO);
	CHECK_EQ(e.alert, alert);
	CHECK_STR_HAS(e.what, what);
	CHECK(!stls__rec13_hs_pending(&r));
}

TEST(other_messages_lengths_and_trailing_bytes_refused)
{
	/* NewSessionTicket (4), Certificate (11), Finished (20): at the
	 * first byte, whole or cut. */
	refused(NULL, 0, "\x04\x00\x00\x01\x00", 5, 10, "message type 4");
	refused(NULL, 0, "\x0b", 1, 10, "message type 11");
	refused(NULL, 0, "\x14\x00\x00\x20", 4, 10, "message type 20");
	/* A KeyUpdate's length must be 1. */
	refused(NULL, 0, "\x18\x00\x00\x02\x00\x00", 6, 50, "malformed");
	refused(NULL, 0, "\x18\x00\x00\x00", 4, 50, "malformed");
	refused("\x18\x00", 2, "\x01\x00\x00", 3, 50, "malformed");
	refused("\x18", 1, "\xff\xff\xff", 3, 50, "malformed");
	/* Bytes after a KeyUpdate in its record: two coalesced, or a
	 * second message begun. */
	refused(NULL, 0, "\x18\x00\x00\x01\x00\x18\x00\x00\x01\x00", 10, 10,
		"not at the record end");
	refused("\x18\x00\x00", 3, "\x01\x00\x18", 3, 10,
		"not at the record end");
}
