/*
 * Unit tests for cli/table.c: siptlsctl -t rendering.
 */
#include "test.h"

#include <stdlib.h>

#include "table.h"

static void expect(const char *json, const char *want)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_NOT_NULL(v);
	CHECK_OK(stls_table_print(f, v));
	fclose(f);
	CHECK_STR_EQ(buf, want);
	free(buf);
	json_decref(v);
}

TEST(table_array_of_objects_as_columns)
{
	expect("[{\"id\":1,\"sni\":\"a.example\",\"state\":\"established\"},"
	       "{\"id\":22,\"sni\":\"N/A\",\"state\":\"tls_accept\"}]",
	       "id  sni        state\n"
	       "1   a.example  established\n"
	       "22  N/A        tls_accept\n");
}

TEST(table_missing_cells_and_union_of_keys)
{
	expect("[{\"a\":1},{\"b\":true,\"a\":null}]",
	       "a     b\n"
	       "1     -\n"
	       "null  true\n");
}

TEST(table_nested_values_and_newlines)
{
	/* Cipher descriptions carry a newline: one row per line anyway. */
	expect("[{\"cipher\":\"TLS_AES_128_GCM_SHA256 TLSv1.3\\n\","
	       "\"x\":[1,{\"k\":\"v\"}]}]",
	       "cipher                          x\n"
	       "TLS_AES_128_GCM_SHA256 TLSv1.3  [1,{\"k\":\"v\"}]\n");
}

TEST(table_object_as_key_value_lines)
{
	expect("{\"max_connections\":2048,\"opened_connections\":3,"
	       "\"s\":\"caf\xC3\xA9\"}",
	       "max_connections:    2048\n"
	       "opened_connections: 3\n"
	       "s:                  caf\xC3\xA9\n");
}

TEST(table_utf8_width_alignment)
{
	expect("[{\"n\":\"\xC3\xA9t\xC3\xA9\",\"v\":1},{\"n\":\"ab\",\"v\":2}]",
	       "n    v\n"
	       "\xC3\xA9t\xC3\xA9  1\n"
	       "ab   2\n");
}

TEST(table_scalars_and_plain_arrays)
{
	expect("\"Ok. TLS configuration reloaded.\"",
	       "Ok. TLS configuration reloaded.\n");
	expect("42", "42\n");
	expect("null", "null\n");
	expect("[\"core.echo\",\"core.uptime\"]", "core.echo\ncore.uptime\n");
	expect("[]", "(empty)\n");
	expect("{}", "");
	expect("[1,{\"a\":1}]", "1\n{\"a\":1}\n");
}

TEST(table_keeps_the_daemons_member_order)
{
	/* Not sorted: the order the daemon wrote (jansson keeps it). */
	expect("{\"z\":1,\"a\":2,\"m\":3}", "z: 1\na: 2\nm: 3\n");
	expect("[{\"z\":1,\"a\":2},{\"m\":3,\"a\":4}]",
	       "z  a  m\n"
	       "1  2  -\n"
	       "-  4  3\n");
}

TEST(table_numbers_as_jansson_writes_them)
{
	/* Doubles carry 17 significant digits (docs/operations.md). */
	expect("[0.5,0.1,1e300,-0.0,3.0]",
	       "0.5\n0.10000000000000001\n1.0000000000000001e300\n-0.0\n"
	       "3.0\n");
}
