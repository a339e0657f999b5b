/*
 * Unit tests for lib/base/json_write.c: compact and pretty output,
 * escaping, invalid UTF-8 repair, doubles, locale independence.
 */
#include "test.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>

#include "stls/json.h"

static char *write_(const struct stls_json *v, unsigned flags)
{
	char *out = NULL;

	CHECK_OK(stls_json_write(v, flags, &out, NULL));
	return out;
}

static void check_str_out(const char *in, size_t len, unsigned flags,
			  const char *want)
{
	struct stls_json *v = stls_json_new_strn(in, len);
	char *out = write_(v, flags);

	CHECK_STR_EQ(out, want);
	free(out);
	stls_json_free(v);
}

TEST(json_write_compact_and_pretty)
{
	struct stls_json *o = stls_json_new_object(), *a = stls_json_new_array();
	char *out;

	CHECK_OK(stls_json_array_push(a, stls_json_new_int(1)));
	CHECK_OK(stls_json_array_push(a, stls_json_new_object()));
	CHECK_OK(stls_json_object_set(o, "a", a));
	CHECK_OK(stls_json_object_set(o, "e", stls_json_new_array()));
	CHECK_OK(stls_json_object_set(o, "n", stls_json_new_null()));
	out = write_(o, STLS_JSON_COMPACT);
	CHECK_STR_EQ(out, "{\"a\":[1,{}],\"e\":[],\"n\":null}");
	free(out);
	out = write_(o, STLS_JSON_PRETTY);
	CHECK_STR_EQ(out, "{\n  \"a\": [\n    1,\n    {}\n  ],\n"
			  "  \"e\": [],\n  \"n\": null\n}");
	free(out);
	stls_json_free(o);
}

TEST(json_write_escapes)
{
	check_str_out("q\"b\\s/", 6, 0, "\"q\\\"b\\\\s/\"");
	check_str_out("\b\f\n\r\t", 5, 0, "\"\\b\\f\\n\\r\\t\"");
	check_str_out("\x01\x1f\x7f", 3, 0, "\"\\u0001\\u001F\\u007F\"");
	check_str_out("a\0b", 3, 0, "\"a\\u0000b\"");
	/* U+2028 LINE SEPARATOR is escaped even in UTF-8 mode. */
	check_str_out("\xE2\x80\xA8", 3, 0, "\"\\u2028\"");
	check_str_out("\xC3\xA9", 2, 0, "\"\xC3\xA9\"");
	check_str_out("\xC3\xA9\xF0\x9F\x98\x80", 6, STLS_JSON_ASCII,
		      "\"\\u00E9\\uD83D\\uDE00\"");
}

TEST(json_write_repairs_invalid_utf8)
{
	/* Each bad byte becomes U+FFFD; the output always parses. */
	check_str_out("a\xFF" "b\xC3", 4, 0,
		      "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
	check_str_out("\xED\xA0\x80", 3, STLS_JSON_ASCII,
		      "\"\\uFFFD\\uFFFD\\uFFFD\"");
}

TEST(json_write_numbers)
{
	char buf[32];

	CHECK_STR_EQ(stls_json_format_double(0.1, buf), "0.1");
	CHECK_STR_EQ(stls_json_format_double(3.0, buf), "3.0");
	CHECK_STR_EQ(stls_json_format_double(-2.5, buf), "-2.5");
	CHECK_STR_EQ(stls_json_format_double(1e300, buf), "1e+300");
	CHECK_STR_EQ(stls_json_format_double(1.0 / 3, buf),
		     "0.3333333333333333");
	CHECK_STR_EQ(stls_json_format_double(NAN, buf), "null");
	CHECK_STR_EQ(stls_json_format_double(-INFINITY, buf), "null");
	{
		struct stls_json *v = stls_json_new_int(INT64_MIN);
		char *out = write_(v, 0);

		CHECK_STR_EQ(out, "-9223372036854775808");
		free(out);
		stls_json_free(v);
	}
}

TEST(json_write_ignores_process_locale)
{
	char buf[32];

	/* de_DE uses a decimal comma; skip when it is not installed. */
	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") &&
	    !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
		test_skip("no locale with a decimal comma installed");
	}
	CHECK_STR_EQ(stls_json_format_double(1.5, buf), "1.5");
	setlocale(LC_NUMERIC, "C");
}

TEST(json_write_refuses_null)
{
	char *out = (char *)1;

	CHECK_EQ(stls_json_write(NULL, 0, &out, NULL), -EINVAL);
	CHECK_NULL(out);
}
