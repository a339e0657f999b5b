/*
 * Unit tests for lib/base/json_string.c: escapes, \u escapes and
 * surrogate pairs, UTF-8 validation, embedded NUL.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "stls/json.h"

static struct stls_json *parse_ok(const char *s)
{
	struct stls_json_error err;
	struct stls_json *v = NULL;
	int rc = stls_json_parse(s, strlen(s), NULL, &v, &err);

	if (rc) {
		test_fail(__FILE__, __LINE__, "parse(%s): %d at %zu: %s", s, rc,
			  err.offset, err.msg);
	}
	return v;
}

/* Expects failure with rc and an error message containing <msg>. */
static void parse_bad(const char *s, size_t len, int rc, const char *msg,
		      size_t offset)
{
	struct stls_json_error err;
	struct stls_json *v = (struct stls_json *)1;

	CHECK_EQ(stls_json_parse(s, len, NULL, &v, &err), rc);
	CHECK_NULL(v);
	CHECK_STR_HAS(err.msg, msg);
	if (offset != (size_t)-1) {
		CHECK_EQ(err.offset, offset);
	}
}

#define BAD(s, msg, off) parse_bad(s, sizeof(s) - 1, -EINVAL, msg, off)

TEST(json_strings_and_escapes)
{
	struct stls_json *v;
	size_t len;

	v = parse_ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
	CHECK_STR_EQ(stls_json_get_str(v, NULL), "\"\\/\b\f\n\r\t");
	stls_json_free(v);
	v = parse_ok("\"\\u00e9\\u20AC\\ud83d\\ude00\"");
	CHECK_STR_EQ(stls_json_get_str(v, NULL),
		     "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	stls_json_free(v);
	v = parse_ok("\"a\\u0000b\"");
	CHECK(memcmp(stls_json_get_str(v, &len), "a\0b", 3) == 0);
	CHECK_EQ(len, 3);
	stls_json_free(v);
	v = parse_ok("\"\xF4\x8F\xBF\xBF caf\xC3\xA9\""); /* U+10FFFF ok */
	CHECK_EQ(stls_json_len(v), 0);
	stls_json_free(v);
}

TEST(json_bad_strings)
{
	BAD("\"abc", "unterminated string", 4);
	BAD("\"a\nb\"", "raw control character 0x0A", 2);
	BAD("\"\\x\"", "invalid escape", 1);
	BAD("\"\\u12G4\"", "invalid hex digit", 5);
	BAD("\"\\u12\"", "truncated \\u escape", 3);
	BAD("\"\\ud800\"", "not followed by a low one", 1);
	BAD("\"\\ud800\\u0041\"", "not followed by a low one", 1);
	BAD("\"\\udc00\"", "lone low surrogate", 1);
	BAD("\"\xC0\xAF\"", "invalid UTF-8", 1);         /* overlong '/' */
	BAD("\"\xE0\x80\xAF\"", "invalid UTF-8", 1);     /* overlong */
	BAD("\"\xED\xA0\x80\"", "invalid UTF-8", 1);     /* surrogate */
	BAD("\"\xF4\x90\x80\x80\"", "invalid UTF-8", 1); /* > U+10FFFF */
	BAD("\"\xC3\"", "invalid UTF-8", 1);             /* truncated */
	BAD("\"\x80\"", "invalid UTF-8", 1);             /* stray */
	BAD("\"\xFF\"", "invalid UTF-8", 1);
	BAD("{\"\xFE\":1}", "invalid UTF-8", 2);
}


TEST(json_string_utf8_boundaries)
{
	/* First and last code point of each UTF-8 length are accepted. */
	static const char *const ok[] = {
		"\"\xC2\x80\"", "\"\xDF\xBF\"", "\"\xE0\xA0\x80\"",
		"\"\xED\x9F\xBF\"", "\"\xEE\x80\x80\"", "\"\xEF\xBF\xBF\"",
		"\"\xF0\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\"",
		"\"\\uD800\\uDC00\"", "\"\\uDBFF\\uDFFF\"", "\"\\u0080\"",
	};
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(ok); i++) {
		stls_json_free(parse_ok(ok[i]));
	}
	BAD("\"\xC1\xBF\"", "invalid UTF-8", 1);     /* overlong 2-byte */
	BAD("\"\xF0\x8F\xBF\xBF\"", "invalid UTF-8", 1); /* overlong 4-byte */
	BAD("\"\xF5\x80\x80\x80\"", "invalid UTF-8", 1);
	BAD("\"\xE2\x82\"", "invalid UTF-8", 1); /* cut short by the quote */
}
