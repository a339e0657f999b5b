/*
 * Unit tests for lib/base/json.c: the strict RFC 8259 parser. Valid and
 * invalid texts, limits, numbers, and write/parse round trips. String
 * escapes and UTF-8 are tested in test_json_string.c.
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

TEST(json_scalars)
{
	struct stls_json *v;

	v = parse_ok(" true ");
	CHECK(stls_json_is(v, STLS_JSON_BOOL) && stls_json_get_bool(v));
	stls_json_free(v);
	v = parse_ok("null");
	CHECK(stls_json_is(v, STLS_JSON_NULL));
	stls_json_free(v);
	v = parse_ok("\t\r\n\"x\"\n");
	CHECK_STR_EQ(stls_json_get_str(v, NULL), "x");
	stls_json_free(v);
	v = parse_ok("-0");
	CHECK(stls_json_is(v, STLS_JSON_INT));
	CHECK_EQ(stls_json_get_int(v), 0);
	stls_json_free(v);
}

TEST(json_integers_and_doubles)
{
	struct stls_json *v;

	v = parse_ok("9223372036854775807");
	CHECK_EQ(stls_json_get_int(v), INT64_MAX);
	stls_json_free(v);
	v = parse_ok("-9223372036854775808");
	CHECK(stls_json_is(v, STLS_JSON_INT));
	CHECK(stls_json_get_int(v) == INT64_MIN);
	stls_json_free(v);
	/* One past int64 becomes a double, not a wrapped integer. */
	v = parse_ok("9223372036854775808");
	CHECK(stls_json_is(v, STLS_JSON_DOUBLE));
	CHECK(stls_json_get_double(v) == 9223372036854775808.0);
	stls_json_free(v);
	v = parse_ok("1.0");
	CHECK(stls_json_is(v, STLS_JSON_DOUBLE));
	stls_json_free(v);
	v = parse_ok("-1.5e-3");
	CHECK(stls_json_get_double(v) == -0.0015);
	stls_json_free(v);
	v = parse_ok("1E+2");
	CHECK(stls_json_is(v, STLS_JSON_DOUBLE));
	CHECK(stls_json_get_double(v) == 100.0);
	stls_json_free(v);
	v = parse_ok("1e-400"); /* underflow rounds to zero: accepted */
	CHECK(stls_json_get_double(v) == 0.0);
	stls_json_free(v);
}

TEST(json_bad_numbers)
{
	BAD("01", "leading zero", 0);
	BAD("-", "expected a digit", 1);
	BAD("1.", "digit after '.'", 2);
	BAD(".5", "unexpected '.'", 0);
	BAD("1e", "digit in the exponent", 2);
	BAD("+1", "unexpected '+'", 0);
	BAD("1e400", "out of range", 0);
	BAD("NaN", "unexpected 'N'", 0);
	BAD("-Infinity", "expected a digit", 1);
	BAD("0x10", "after the value", 1);
}

TEST(json_objects_keep_order)
{
	struct stls_json *v = parse_ok("{\"b\":1,\"a\":[true,{}],\"c\":{}}");

	CHECK_EQ(stls_json_len(v), 3);
	CHECK_STR_EQ(stls_json_object_key(v, 0), "b");
	CHECK_STR_EQ(stls_json_object_key(v, 1), "a");
	CHECK_STR_EQ(stls_json_object_key(v, 2), "c");
	CHECK_EQ(stls_json_len(stls_json_object_get(v, "a")), 2);
	CHECK_NULL(stls_json_object_get(v, "z"));
	stls_json_free(v);
}

TEST(json_structural_errors)
{
	BAD("", "unexpected end of input", 0);
	BAD("   ", "unexpected end of input", 3);
	BAD("[1,]", "expected a value", 3);
	BAD("[1 2]", "',' or ']'", 3);
	BAD("{\"a\":1,}", "string key", 7);
	BAD("{\"a\" 1}", "':'", 5);
	BAD("{a:1}", "string key", 1);
	BAD("{\"a\":1", "',' or '}'", 6);
	BAD("[", "expected a value", 1);
	BAD("1 2", "after the value", 2);
	BAD("tru", "unexpected 't'", 0);
	BAD("nulll", "after the value", 4);
	BAD("// c\n1", "unexpected '/'", 0);
	BAD("'a'", "unexpected '''", 0);
	BAD("\xEF\xBB\xBF{}", "0xEF", 0); /* no BOM (RFC 8259 section 8.1) */
}

TEST(json_duplicate_keys_refused)
{
	char big[4096];
	size_t n = 0;
	int i;

	BAD("{\"a\":1,\"a\":2}", "duplicate key \"a\"", 0);
	BAD("[{\"x\":{\"k\":1,\"k\":1}}]", "duplicate key", 6);
	/* Big objects take the sorted path. */
	n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
	for (i = 0; i < 100; i++) {
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\":%d,",
				      i, i);
	}
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k42\":0}");
	parse_bad(big, n, -EINVAL, "duplicate key \"k42\"", 0);
	/* Keys that differ only after an embedded NUL are distinct. */
	stls_json_free(parse_ok("{\"a\\u0000b\":1,\"a\\u0000c\":2,\"a\":3}"));
}

TEST(json_input_is_length_bounded)
{
	struct stls_json *v = NULL;

	/* Bytes past len are never read: "12" of "123" is the integer 12. */
	CHECK_OK(stls_json_parse("123", 2, NULL, &v, NULL));
	CHECK_EQ(stls_json_get_int(v), 12);
	stls_json_free(v);
	parse_bad("[1]\0", 4, -EINVAL, "after the value", 3);
}

TEST(json_depth_limit)
{
	struct stls_json_limits lim = { .max_depth = 3 };
	struct stls_json_error err;
	struct stls_json *v = NULL;
	char deep[2 * STLS_JSON_HARD_MAX_DEPTH + 8];
	size_t i, n;

	CHECK_OK(stls_json_parse("[[[1]]]", 7, &lim, &v, &err));
	stls_json_free(v);
	CHECK_EQ(stls_json_parse("[[[[1]]]]", 9, &lim, &v, &err), -ENOBUFS);
	CHECK_STR_HAS(err.msg, "nesting deeper than 3");
	CHECK_EQ(err.offset, 3);
	/* Default limit (64) refuses 65 levels without exhausting the stack,
	 * and an absurd limit is capped. */
	n = STLS_JSON_HARD_MAX_DEPTH + 4;
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	CHECK_EQ(stls_json_parse(deep, 2 * n, NULL, &v, &err), -ENOBUFS);
	CHECK_EQ(err.offset, STLS_JSON_DEFAULT_MAX_DEPTH);
	lim.max_depth = 100000;
	CHECK_EQ(stls_json_parse(deep, 2 * n, &lim, &v, &err), -ENOBUFS);
	CHECK_EQ(err.offset, STLS_JSON_HARD_MAX_DEPTH);
	/* Exactly 64 levels pass with the defaults. */
	CHECK_OK(stls_json_parse(deep + n - 64, 128, NULL, &v, &err));
	stls_json_free(v);
}

TEST(json_size_and_member_limits)
{
	struct stls_json_limits lim = { .max_size = 8, .max_members = 2 };
	struct stls_json_error err;
	struct stls_json *v = NULL;

	CHECK_EQ(stls_json_parse("[1,2,3,4]", 9, &lim, &v, &err), -ENOBUFS);
	CHECK_STR_HAS(err.msg, "larger than 8 bytes");
	lim.max_size = 0;
	CHECK_EQ(stls_json_parse("[1,2,3]", 7, &lim, &v, &err), -ENOBUFS);
	CHECK_STR_HAS(err.msg, "more than 2 elements");
	CHECK_EQ(err.offset, 5);
	CHECK_EQ(stls_json_parse("{\"a\":1,\"b\":2,\"c\":3}", 19, &lim, &v,
				 &err),
		 -ENOBUFS);
	CHECK_STR_HAS(err.msg, "more than 2 members");
	CHECK_OK(stls_json_parse("[[1,2],[3,4]]", 13, &lim, &v, &err));
	stls_json_free(v);
}

static void round_trip(const char *s, unsigned flags)
{
	struct stls_json *a = parse_ok(s), *b;
	size_t len;
	char *out;

	CHECK_OK(stls_json_write(a, flags, &out, &len));
	CHECK_EQ(strlen(out), len);
	b = parse_ok(out);
	if (!stls_json_equal(a, b)) {
		test_fail(__FILE__, __LINE__, "round trip of %s gave %s", s,
			  out);
	}
	free(out);
	stls_json_free(a);
	stls_json_free(b);
}

TEST(json_round_trip)
{
	static const char *const texts[] = {
		"{\"jsonrpc\":\"2.0\",\"method\":\"tls.list\",\"id\":1}",
		"[0,-0.0,1.5,1e300,-2.2250738585072014e-308,0.1,1.0,3]",
		"[\"\\u0000\\u001f\\u007f\",\"\\ud83d\\ude00\",\"\\u2028\"]",
		"{\"a\":{\"b\":{\"c\":[[],{},null,true,false]}}}",
		"[9223372036854775807,-9223372036854775808,1e19]",
		"\"\xC3\xA9t\xC3\xA9 \\\" \\\\ \\/\"",
	};
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(texts); i++) {
		round_trip(texts[i], STLS_JSON_COMPACT);
		round_trip(texts[i], STLS_JSON_PRETTY);
		round_trip(texts[i], STLS_JSON_ASCII);
	}
}

TEST(json_error_struct_optional)
{
	struct stls_json *v = NULL;

	CHECK_EQ(stls_json_parse("[", 1, NULL, &v, NULL), -EINVAL);
	CHECK_NULL(v);
}
