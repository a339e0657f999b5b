/*
 * Tests for lib/base/hmap.c: the open-addressing table and the
 * case-folded name hash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "test.h"

struct item {
	char key[32];
	int n;
};

static bool item_eq(const void *val, const void *key)
{
	return strcmp(((const struct item *)val)->key, key) == 0;
}

static uint64_t key_hash(const char *k)
{
	return stls__hname(1, k, strlen(k));
}

TEST(add_get_and_grow)
{
	static struct item v[5000];
	struct stls__hmap m;
	size_t i;

	stls__hmap_init(&m);
	CHECK_NULL(stls__hmap_get(&m, 1, item_eq, "x"));
	for (i = 0; i < STLS_ARRAY_SIZE(v); i++) {
		snprintf(v[i].key, sizeof(v[i].key), "key-%zu", i);
		v[i].n = (int)i;
		CHECK_OK(stls__hmap_add(&m, key_hash(v[i].key), &v[i]));
		CHECK(m.n * 2 <= m.cap); /* at most half full */
	}
	CHECK_EQ(m.n, STLS_ARRAY_SIZE(v));
	for (i = 0; i < STLS_ARRAY_SIZE(v); i++) {
		struct item *it = stls__hmap_get(&m, key_hash(v[i].key),
						 item_eq, v[i].key);

		CHECK(it == &v[i]);
	}
	CHECK_NULL(stls__hmap_get(&m, key_hash("key-5000"), item_eq,
				  "key-5000"));
	stls__hmap_fini(&m);
	CHECK_EQ(m.cap, 0);
	CHECK_NULL(stls__hmap_get(&m, key_hash("key-1"), item_eq, "key-1"));
}

/* Values under one hash are told apart by the equality function. */
TEST(equal_hashes_different_keys)
{
	struct item a = { "a", 1 }, b = { "b", 2 }, c = { "c", 3 };
	struct stls__hmap m;

	stls__hmap_init(&m);
	CHECK_OK(stls__hmap_add(&m, 42, &a));
	CHECK_OK(stls__hmap_add(&m, 42, &b));
	CHECK_OK(stls__hmap_add(&m, 42 + 8, &c)); /* same first slot */
	CHECK(stls__hmap_get(&m, 42, item_eq, "a") == &a);
	CHECK(stls__hmap_get(&m, 42, item_eq, "b") == &b);
	CHECK_NULL(stls__hmap_get(&m, 42, item_eq, "c"));
	CHECK(stls__hmap_get(&m, 50, item_eq, "c") == &c);
	stls__hmap_fini(&m);
}

TEST(reserve_keeps_values)
{
	struct item a = { "a", 1 };
	struct stls__hmap m;
	size_t cap;

	stls__hmap_init(&m);
	CHECK_OK(stls__hmap_add(&m, key_hash("a"), &a));
	CHECK_OK(stls__hmap_reserve(&m, 1000));
	cap = m.cap;
	CHECK(cap >= 2000);
	CHECK(stls__hmap_get(&m, key_hash("a"), item_eq, "a") == &a);
	CHECK_OK(stls__hmap_reserve(&m, 10));
	CHECK_EQ(m.cap, cap);
	stls__hmap_fini(&m);
}

/* ASCII case folds; other bytes are kept. */
TEST(name_hash_folds_ascii_case)
{
	CHECK_EQ(stls__hname(7, "Sip.Example.COM", 15),
		 stls__hname(7, "sip.example.com", 15));
	CHECK_NE(stls__hname(7, "sip.example.com", 15),
		 stls__hname(8, "sip.example.com", 15));
	CHECK_NE(stls__hname(7, "\xc3\x89", 2), stls__hname(7, "\xc3\xa9", 2));
	CHECK(stls__fold_eq("AbC-9", "aBc-9", 5));
	CHECK(!stls__fold_eq("\xc3\x89", "\xc3\xa9", 2));
	CHECK(!stls__fold_eq("a[", "A{", 2));
	CHECK_EQ(stls__fold('Z'), 'z');
	CHECK_EQ(stls__fold('@'), '@');
	CHECK_EQ(stls__fold('['), '[');
}

/* One walk from the end gives the hash of every suffix on the way. */
TEST(name_hash_of_every_suffix_in_one_walk)
{
	const char *name = "a.b.Example.com";
	size_t n = strlen(name), i;
	uint64_t h = stls__hname_init(3);

	for (i = n; i-- > 0;) {
		h = stls__hname_step(h, (unsigned char)name[i]);
		CHECK_EQ(stls__hname_fin(h), stls__hname(3, name + i, n - i));
	}
}
