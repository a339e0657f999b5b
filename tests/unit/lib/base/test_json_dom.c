/*
 * Unit tests for lib/base/json_dom.c: builders, accessors, ownership rules,
 * clone and equality.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "stls/json.h"

TEST(json_dom_build_object_keeps_insertion_order)
{
	struct stls_json *o = stls_json_new_object();

	CHECK_OK(stls_json_object_set_int(o, "z", 1));
	CHECK_OK(stls_json_object_set_str(o, "a", "x"));
	CHECK_OK(stls_json_object_set_bool(o, "m", true));
	/* Setting an existing key replaces it in place. */
	CHECK_OK(stls_json_object_set_int(o, "z", 2));
	CHECK_EQ(stls_json_len(o), 3);
	CHECK_STR_EQ(stls_json_object_key(o, 0), "z");
	CHECK_EQ(stls_json_get_int(stls_json_object_get(o, "z")), 2);
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_value(o, 1), NULL),
		     "x");
	CHECK(stls_json_get_bool(stls_json_object_get(o, "m")));
	stls_json_free(o);
}

TEST(json_dom_take_semantics)
{
	struct stls_json *a = stls_json_new_array();
	struct stls_json *s = stls_json_new_str("x");

	/* NULL stands for a failed allocation. */
	CHECK_EQ(stls_json_array_push(a, NULL), -ENOMEM);
	CHECK_EQ(stls_json_object_set(a, "k", NULL), -ENOMEM);
	/* Wrong container type: the value is still taken (freed). */
	CHECK_EQ(stls_json_object_set(a, "k", stls_json_new_int(1)), -EINVAL);
	CHECK_EQ(stls_json_array_push(s, stls_json_new_int(1)), -EINVAL);
	/* A container cannot contain itself. */
	CHECK_EQ(stls_json_array_push(a, a), -EINVAL);
	CHECK_OK(stls_json_array_push(a, s));
	CHECK_EQ(stls_json_len(a), 1);
	CHECK(stls_json_array_get(a, 0) == s);
	CHECK_NULL(stls_json_array_get(a, 1));
	stls_json_free(a);
	stls_json_free(NULL);
}

TEST(json_dom_accessors_tolerate_wrong_types)
{
	struct stls_json *i = stls_json_new_int(5);

	CHECK_NULL(stls_json_get_str(i, NULL));
	CHECK(!stls_json_get_bool(i));
	CHECK(stls_json_get_double(i) == 5.0);
	CHECK_EQ(stls_json_len(i), 0);
	CHECK_NULL(stls_json_object_get(i, "a"));
	CHECK_NULL(stls_json_object_key(i, 0));
	CHECK_EQ(stls_json_type(NULL), STLS_JSON_NULL);
	CHECK_STR_EQ(stls_json_type_name(STLS_JSON_OBJECT), "object");
	CHECK_STR_EQ(stls_json_type_name((enum stls_json_type)99), "?");
	stls_json_free(i);
}

TEST(json_dom_strings)
{
	struct stls_json *v = stls_json_new_strn("a\0b", 3);
	size_t len = 0;

	CHECK(memcmp(stls_json_get_str(v, &len), "a\0b", 4) == 0);
	CHECK_EQ(len, 3);
	stls_json_free(v);
	v = stls_json_new_strf("%s-%d", "id", 7);
	CHECK_STR_EQ(stls_json_get_str(v, NULL), "id-7");
	stls_json_free(v);
	v = stls_json_new_str(NULL);
	CHECK(stls_json_is(v, STLS_JSON_NULL));
	stls_json_free(v);
}

TEST(json_dom_clone_and_equal)
{
	struct stls_json *o = stls_json_new_object(), *a = stls_json_new_array();
	struct stls_json *c;

	CHECK_OK(stls_json_array_push(a, stls_json_new_double(1.5)));
	CHECK_OK(stls_json_array_push(a, stls_json_new_null()));
	CHECK_OK(stls_json_object_set(o, "list", a));
	CHECK_OK(stls_json_object_set_str(o, "s", "t"));
	c = stls_json_clone(o);
	CHECK(stls_json_equal(o, c));
	CHECK_OK(stls_json_object_set_int(c, "s", 1));
	CHECK(!stls_json_equal(o, c));
	/* An integer never equals a double of the same value. */
	{
		struct stls_json *i = stls_json_new_int(1);
		struct stls_json *d = stls_json_new_double(1.0);

		CHECK(!stls_json_equal(i, d));
		stls_json_free(i);
		stls_json_free(d);
	}
	CHECK(stls_json_equal(NULL, NULL));
	CHECK(!stls_json_equal(o, NULL));
	stls_json_free(o);
	stls_json_free(c);
}
