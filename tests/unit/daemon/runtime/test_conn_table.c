/*
 * Unit tests for daemon/runtime/conn_table.c: ids, lookup, reuse, growth.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "runtime/conn_table.h"

TEST(table_ids_encode_worker)
{
	struct stls_dconn_table t;
	struct stls_dconn *a = (struct stls_dconn *)0x1000;
	uint64_t id;

	CHECK_OK(stls_dconn_table_init(&t, 7));
	id = stls_dconn_table_add(&t, a);
	CHECK_NE(id, 0);
	CHECK_EQ(stls_dconn_id_worker(id), 7);
	CHECK(stls_dconn_table_get(&t, id) == a);
	CHECK_EQ(stls_dconn_id_worker(0), -1);
	CHECK_NULL(stls_dconn_table_get(&t, 0));
	/* The same slot seen from another worker's id is not found. */
	CHECK_NULL(stls_dconn_table_get(&t, id + (1ull << 56)));
	stls_dconn_table_fini(&t);
	CHECK_EQ(stls_dconn_table_init(&t, 255), -EINVAL);
}

TEST(table_stale_id_not_found_after_reuse)
{
	struct stls_dconn_table t;
	struct stls_dconn *a = (struct stls_dconn *)0x1000;
	struct stls_dconn *b = (struct stls_dconn *)0x2000;
	uint64_t ida, idb;

	CHECK_OK(stls_dconn_table_init(&t, 0));
	ida = stls_dconn_table_add(&t, a);
	stls_dconn_table_remove(&t, ida);
	CHECK_EQ(t.count, 0);
	idb = stls_dconn_table_add(&t, b);
	CHECK_EQ((uint32_t)ida, (uint32_t)idb); /* same slot */
	CHECK_NE(ida, idb);                     /* new generation */
	CHECK_NULL(stls_dconn_table_get(&t, ida));
	CHECK(stls_dconn_table_get(&t, idb) == b);
	stls_dconn_table_remove(&t, ida); /* stale: no-op */
	CHECK_EQ(t.count, 1);
	stls_dconn_table_fini(&t);
}

static void count_fn(struct stls_dconn *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
}

TEST(table_grows_and_walks)
{
	enum { N = 5000 };
	struct stls_dconn_table t;
	static uint64_t ids[N];
	int i, n = 0;

	CHECK_OK(stls_dconn_table_init(&t, 3));
	for (i = 0; i < N; i++) {
		ids[i] = stls_dconn_table_add(
			&t, (struct stls_dconn *)(uintptr_t)(i + 1));
		CHECK_NE(ids[i], 0);
	}
	CHECK_EQ(t.count, N);
	for (i = 0; i < N; i += 2)
		stls_dconn_table_remove(&t, ids[i]);
	for (i = 1; i < N; i += 2)
		CHECK_EQ((uintptr_t)stls_dconn_table_get(&t, ids[i]), i + 1);
	stls_dconn_table_foreach(&t, count_fn, &n);
	CHECK_EQ(n, N / 2);
	stls_dconn_table_fini(&t);
}
