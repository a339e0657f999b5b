/*
 * Unit tests for daemon/rpc/rpc_parse.c: request text to JSON with jansson
 * within our limits. Size and depth limits (and that a deep request costs
 * no recursion), which error wins when a deep request is also broken, and
 * the strictness the control socket relies on: BOM, surrogates, NUL,
 * duplicate keys, big numbers, bad UTF-8.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "rpc/rpc_int.h"

/* Parses <len> bytes; returns the rc, the value in *out, the text in msg. */
static int parse(const char *s, size_t len, json_t **out, char *msg)
{
	msg[0] = '\0';
	return stls__rpc_parse(s, len, STLS_RPC_DEFAULT_MAX_REQUEST, out, msg,
			       256);
}

static json_t *parse_ok(const char *s, size_t len)
{
	char msg[256];
	json_t *v = NULL;

	if (parse(s, len, &v, msg)) {
		test_fail(__FILE__, __LINE__, "parse(%.*s): %s", (int)len, s,
			  msg);
	}
	return v;
}

/* Expects <rc> and a message containing <want>. */
static void parse_bad(const char *s, size_t len, int rc, const char *want)
{
	json_t *v = (json_t *)1;
	char msg[256];

	CHECK_EQ(parse(s, len, &v, msg), rc);
	CHECK_NULL(v);
	CHECK_STR_HAS(msg, want);
}

#define OK(s) json_decref(parse_ok(s, sizeof(s) - 1))
#define BAD(s, want) parse_bad(s, sizeof(s) - 1, -EINVAL, want)

/* <n> '[' then <n> ']' (or only the '[' when !close), in a new buffer. */
static char *nest(size_t n, bool close, size_t *len)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	CHECK_NOT_NULL(s);
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[n + i] = ']';
	}
	*len = close ? 2 * n : n;
	s[*len] = '\0';
	return s;
}

TEST(rpc_parse_size_limit)
{
	json_t *v = NULL;
	char msg[256];

	CHECK_EQ(stls__rpc_parse("[1,2,3]", 7, 6, &v, msg, sizeof(msg)),
		 -ENOBUFS);
	CHECK_STR_EQ(msg, "request refused at byte 0: input larger than 6 "
			  "bytes");
	CHECK_OK(stls__rpc_parse("[1,2,3]", 7, 7, &v, msg, sizeof(msg)));
	json_decref(v);
}

TEST(rpc_parse_depth_limit_is_ours)
{
	size_t len;
	char *s;

	/* 64 levels pass; the 65th bracket is refused where it stands. */
	s = nest(STLS_RPC_MAX_DEPTH, true, &len);
	json_decref(parse_ok(s, len));
	free(s);
	s = nest(STLS_RPC_MAX_DEPTH + 1, true, &len);
	parse_bad(s, len, -ENOBUFS,
		  "request refused at byte 64: nesting deeper than 64 levels");
	free(s);
	/* Far beyond jansson's own 2048: refused just the same, and only 65
	 * levels are ever parsed (ASan would see a deep recursion). */
	s = nest(1000000, false, &len);
	parse_bad(s, len, -ENOBUFS, "at byte 64: nesting deeper");
	free(s);
	/* Objects count as levels too. */
	s = malloc(7 * 70 + 1);
	CHECK_NOT_NULL(s);
	for (len = 0; len < 7 * 70; len += 5) {
		memcpy(s + len, "{\"a\":", 5);
	}
	parse_bad(s, len, -ENOBUFS, "at byte 320: nesting deeper");
	free(s);
}

TEST(rpc_parse_brackets_in_strings_do_not_nest)
{
	char buf[512];
	size_t n = 0, i;

	n += (size_t)snprintf(buf, sizeof(buf), "[\"");
	for (i = 0; i < 100; i++) {
		buf[n++] = i % 2 ? '[' : '{';
	}
	/* An escaped quote does not end the string. */
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\\"[[\",1]");
	json_decref(parse_ok(buf, n));
}

TEST(rpc_parse_first_error_wins_over_depth)
{
	char buf[256];
	size_t len, n;
	char *s = nest(STLS_RPC_MAX_DEPTH, false, &len);

	/* A syntax error before the 65th bracket: -32700 at that error. */
	n = (size_t)snprintf(buf, sizeof(buf), "%s,[", s);
	parse_bad(buf, n, -EINVAL, "parse error at byte 65: ");
	/* The 65th bracket itself out of place ("1[") is a syntax error. */
	n = (size_t)snprintf(buf, sizeof(buf), "%s1[]]", s);
	parse_bad(buf, n, -EINVAL, "parse error at byte 66: ");
	/* A NUL outside strings ends what jansson reads. */
	memcpy(buf, s, len);
	memcpy(buf + len, "\0[[", 3);
	parse_bad(buf, len + 3, -EINVAL, "parse error at byte ");
	free(s);
}

TEST(rpc_parse_positions_and_messages)
{
	BAD("{\"jsonrpc\":\"2.0\",", "parse error at byte 17: ");
	BAD("", "parse error at byte 0: ");
	BAD("[1,]", "parse error at byte 4: ");
	BAD("1 2", "parse error at byte 3: end of file expected");
	BAD("[1]\0", "parse error at byte 4: ");
	BAD("01", "invalid token");
	BAD("// c\n1", "invalid token");
	BAD("'a'", "invalid token");
	BAD("NaN", "invalid token");
	BAD("\"a\nb\"", "unexpected newline");
	BAD("\"a\x01\"", "control character 0x1");
}

TEST(rpc_parse_any_value_at_the_top)
{
	json_t *v = parse_ok("1", 1);

	CHECK(json_is_integer(v));
	json_decref(v);
	/* Bytes past len are never read: "12" of "123" is 12. */
	v = parse_ok("123", 2);
	CHECK_EQ(json_integer_value(v), 12);
	json_decref(v);
}

TEST(rpc_parse_bom_refused)
{
	/* RFC 8259 section 8.1: a sender must not add one. */
	BAD("\xEF\xBB\xBF{}", "parse error at byte ");
}

TEST(rpc_parse_surrogates)
{
	json_t *v;

	BAD("\"\\ud800\"", "invalid Unicode '\\uD800'");
	BAD("\"\\ud800\\u0041\"", "invalid Unicode");
	BAD("\"\\udc00\"", "invalid Unicode '\\uDC00'");
	v = parse_ok("\"\\ud83d\\ude00\"", 14);
	CHECK_STR_EQ(json_string_value(v), "\xF0\x9F\x98\x80");
	json_decref(v);
}

TEST(rpc_parse_nul_in_strings_not_in_keys)
{
	json_t *v = parse_ok("\"a\\u0000b\"", 10);

	CHECK_EQ(json_string_length(v), 3);
	CHECK(memcmp(json_string_value(v), "a\0b", 3) == 0);
	json_decref(v);
	/* jansson keeps keys as C strings: refused, not cut short. */
	BAD("{\"a\\u0000b\":1}", "NUL byte in object key");
}

TEST(rpc_parse_duplicate_keys_refused)
{
	char big[4096];
	size_t n = 0;
	int i;

	BAD("{\"a\":1,\"a\":2}", "duplicate object key");
	BAD("[{\"x\":{\"k\":1,\"k\":1}}]", "duplicate object key");
	n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
	for (i = 0; i < 100; i++) {
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\":%d,",
				      i, i);
	}
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k42\":0}");
	parse_bad(big, n, -EINVAL, "duplicate object key near '\"k42\"'");
}

TEST(rpc_parse_numbers)
{
	json_t *v;

	v = parse_ok("[9223372036854775807,-9223372036854775808,-0,1e-400]",
		     52);
	CHECK(json_integer_value(json_array_get(v, 0)) == INT64_MAX);
	CHECK(json_integer_value(json_array_get(v, 1)) == INT64_MIN);
	CHECK(json_is_integer(json_array_get(v, 2)));
	CHECK(json_is_real(json_array_get(v, 3)));
	json_decref(v);
	/* jansson holds integers as long long and refuses the rest (our own
	 * parser made them doubles): docs/operations.md. */
	BAD("9223372036854775808", "too big integer");
	BAD("-9223372036854775809", "too big negative integer");
	BAD("1e400", "real number overflow");
}

TEST(rpc_parse_bad_utf8)
{
	BAD("\"\xC0\xAF\"", "unable to decode byte 0xc0");
	BAD("\"\xED\xA0\x80\"", "unable to decode byte 0xed");
	BAD("\"\xF4\x90\x80\x80\"", "unable to decode byte 0xf4");
	BAD("{\"\xFE\":1}", "unable to decode byte 0xfe");
	OK("\"\xF4\x8F\xBF\xBF caf\xC3\xA9\"");
}
