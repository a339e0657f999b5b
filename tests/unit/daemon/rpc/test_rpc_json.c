/*
 * Unit tests for daemon/rpc/rpc_json.c: strings from any bytes (repaired
 * UTF-8, NUL kept, NULL as JSON null), and the take-on-failure rules of the
 * setters, checked on reference counts.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/rpc/rpc_test.h"
#include "rpc/rpc.h"

static void check_dump(json_t *v, const char *want)
{
	char *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	CHECK_NOT_NULL(out);
	CHECK_STR_EQ(out, want);
	free(out);
}

TEST(rpc_json_strings_from_any_bytes)
{
	json_t *v;

	v = stls_rpc_str("caf\xC3\xA9");
	check_dump(v, "\"caf\xC3\xA9\"");
	json_decref(v);
	/* A client's SNI or a certificate field: bad bytes become U+FFFD,
	 * so the reply can still be written. */
	v = stls_rpc_str("a\xFF" "b\xC3");
	check_dump(v, "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
	json_decref(v);
	/* A "%.3s" that cut a character in two. */
	v = stls_rpc_strf("%.3s", "a\xC3\xA9\xC3\xA9");
	check_dump(v, "\"a\xC3\xA9\"");
	json_decref(v);
	v = stls_rpc_strf("%.2s", "a\xC3\xA9");
	check_dump(v, "\"a\xEF\xBF\xBD\"");
	json_decref(v);
	v = stls_rpc_strn("a\0b", 3);
	CHECK_EQ(json_string_length(v), 3);
	check_dump(v, "\"a\\u0000b\"");
	json_decref(v);
	v = stls_rpc_str(NULL);
	CHECK(json_is_null(v));
	json_decref(v);
	/* Controls are escaped by jansson; DEL and U+2028 are not. */
	v = stls_rpc_str("\t\x01\x7F\xE2\x80\xA8\"\\/");
	check_dump(v, "\"\\t\\u0001\x7F\xE2\x80\xA8\\\"\\\\/\"");
	json_decref(v);
}

TEST(rpc_json_setters_keep_order_and_replace_in_place)
{
	json_t *o = json_object();

	CHECK_OK(stls_rpc_obj_set_int(o, "z", 1));
	CHECK_OK(stls_rpc_obj_set_str(o, "a", "x"));
	CHECK_OK(stls_rpc_obj_set(o, "m", json_true()));
	CHECK_OK(stls_rpc_obj_set_int(o, "z", 2));
	CHECK_STR_EQ(rt_key_at(o, 0), "z");
	CHECK_STR_EQ(rt_key_at(o, 1), "a");
	CHECK_STR_EQ(rt_key_at(o, 2), "m");
	check_dump(o, "{\"z\":2,\"a\":\"x\",\"m\":true}");
	json_decref(o);
}

TEST(rpc_json_setters_take_the_value_also_on_failure)
{
	json_t *o = json_object(), *a = json_array();
	json_t *v = json_integer(7);

	/* NULL stands for a failed allocation. */
	CHECK_EQ(stls_rpc_obj_set(o, "k", NULL), -ENOMEM);
	CHECK_EQ(stls_rpc_arr_push(a, NULL), -ENOMEM);
	/* Wrong container: v is still taken (our extra reference shows
	 * that exactly one was released). */
	json_incref(v);
	CHECK_EQ(stls_rpc_obj_set(a, "k", v), -EINVAL);
	CHECK_EQ(v->refcount, 1);
	json_incref(v);
	CHECK_EQ(stls_rpc_arr_push(o, v), -EINVAL);
	CHECK_EQ(v->refcount, 1);
	/* On success the container holds the reference given to it. */
	json_incref(v);
	CHECK_OK(stls_rpc_arr_push(a, v));
	CHECK_EQ(v->refcount, 2);
	json_decref(v);
	/* A container is never put into itself, nor released by trying. */
	CHECK_EQ(stls_rpc_arr_push(a, a), -EINVAL);
	CHECK_EQ(stls_rpc_obj_set(o, "self", o), -EINVAL);
	CHECK_EQ(a->refcount, 1);
	CHECK_EQ(o->refcount, 1);
	CHECK_EQ(json_array_size(a), 1);
	json_decref(a);
	json_decref(o);
}
