/*
 * Unit tests for lib/base/utf8.c: the RFC 3629 boundaries of every
 * sequence length, the forms that are refused, and repair.
 */
#include "test.h"

#include <stdlib.h>

#include "stls/utf8.h"

#define VALID(s) stls_utf8_valid(s, sizeof(s) - 1)

TEST(utf8_boundaries_of_each_length)
{
	/* First and last code point of each length, and around the gaps. */
	static const char *const ok[] = {
		"\x00", "\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80",
		"\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF",
		"\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",
	};
	size_t i, len;

	for (i = 0; i < STLS_ARRAY_SIZE(ok); i++) {
		len = ok[i][0] ? strlen(ok[i]) : 1;
		CHECK(stls_utf8_valid(ok[i], len));
		CHECK_EQ(stls_utf8_seq_len(ok[i], len), len);
	}
	CHECK(stls_utf8_valid("", 0));
	CHECK(VALID("caf\xC3\xA9 \xF0\x9F\x98\x80 a\0b"));
}

TEST(utf8_refused_forms)
{
	CHECK(!VALID("\xC0\xAF"));	       /* overlong '/' */
	CHECK(!VALID("\xC1\xBF"));	       /* overlong 2-byte */
	CHECK(!VALID("\xE0\x80\xAF"));	       /* overlong 3-byte */
	CHECK(!VALID("\xF0\x8F\xBF\xBF"));     /* overlong 4-byte */
	CHECK(!VALID("\xED\xA0\x80"));	       /* surrogate U+D800 */
	CHECK(!VALID("\xED\xBF\xBF"));	       /* surrogate U+DFFF */
	CHECK(!VALID("\xF4\x90\x80\x80"));     /* above U+10FFFF */
	CHECK(!VALID("\xF5\x80\x80\x80"));
	CHECK(!VALID("\xC3"));		       /* truncated */
	CHECK(!VALID("\xE2\x82"));	       /* truncated */
	CHECK(!VALID("\xE2\x82" "a"));	       /* bad continuation */
	CHECK(!VALID("\x80"));		       /* stray continuation */
	CHECK(!VALID("\xFF"));
	/* A sequence is never read past <avail>. */
	CHECK_EQ(stls_utf8_seq_len("\xC3\xA9", 1), 0);
}

static void check_repair(const char *in, size_t len, const char *want)
{
	size_t out_len = 0;
	char *out = NULL;

	CHECK_OK(stls_utf8_repair(in, len, &out, &out_len));
	CHECK_EQ(out_len, strlen(want));
	CHECK_STR_EQ(out, want);
	CHECK(stls_utf8_valid(out, out_len));
	free(out);
}

TEST(utf8_repair_replaces_each_bad_byte)
{
	check_repair("a\xFF" "b\xC3", 4, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
	/* An encoded surrogate is three bad bytes. */
	check_repair("\xED\xA0\x80", 3,
		     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	/* A sequence cut short by the end of the input. */
	check_repair("ok\xE2\x82", 4, "ok\xEF\xBF\xBD\xEF\xBF\xBD");
	/* Well-formed text is copied as is. */
	check_repair("caf\xC3\xA9", 5, "caf\xC3\xA9");
	check_repair("", 0, "");
}

TEST(utf8_repair_keeps_nul)
{
	size_t out_len = 0;
	char *out = NULL;

	CHECK_OK(stls_utf8_repair("a\0\xFF", 3, &out, &out_len));
	CHECK_EQ(out_len, 5);
	CHECK(memcmp(out, "a\0\xEF\xBF\xBD", 6) == 0);
	free(out);
}
