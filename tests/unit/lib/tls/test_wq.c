/*
 * Unit tests for lib/tls/wq.c: the block queue and the clear-text queue
 * limits (per connection and process-wide).
 */
#include "test.h"

#include <errno.h>

#include "tls/tls_int.h"

TEST(wq_push_peek_consume_in_order)
{
	struct stls_wq q = { 0 };
	char out[64];
	size_t n, got = 0;
	const char *p;

	CHECK_OK(stls__wq_push(&q, "abcdef", 6, 4));
	CHECK_OK(stls__wq_push(&q, "ghij", 4, 4));
	CHECK_OK(stls__wq_push(&q, "", 0, 4));
	CHECK_EQ(q.total, 10);
	while ((p = stls__wq_peek(&q, &n)) != NULL) {
		CHECK(n > 0);
		memcpy(out + got, p, 1);
		got++;
		stls__wq_consume(&q, 1);
	}
	CHECK_EQ(got, 10);
	CHECK(memcmp(out, "abcdefghij", 10) == 0);
	CHECK_NULL(q.head);
	CHECK_NULL(q.tail);
	stls__wq_fini(&q);
}

/* Bytes never move once queued, and empty queues hold no blocks. */
TEST(wq_pointer_stable_and_released)
{
	struct stls_wq q = { 0 };
	const void *a, *b;
	size_t n;

	CHECK_OK(stls__wq_push(&q, "xy", 2, 16));
	a = stls__wq_peek(&q, &n);
	CHECK_OK(stls__wq_push(&q, "0123456789abcdefghij", 20, 16));
	b = stls__wq_peek(&q, &n);
	CHECK(a == b);
	CHECK_EQ(n, 16);
	stls__wq_consume(&q, 1000); /* clamped */
	CHECK_EQ(q.total, 0);
	CHECK_NULL(q.head);
	stls__wq_fini(&q);
}

TEST(ctq_limits_keep_earlier_bytes)
{
	struct stls_wq a = { 0 }, b = { 0 };

	CHECK_OK(stls__ctq_push(&a, "12345", 5, 8, 100, 4));
	CHECK_EQ(stls__ctq_push(&a, "6789", 4, 8, 100, 4), -ENOBUFS);
	CHECK_EQ(a.total, 5);
	CHECK_EQ(stls__ctq_total(), 5);
	CHECK_EQ(stls__ctq_push(&b, "123456", 6, 100, 10, 4), -ENOBUFS);
	CHECK_OK(stls__ctq_push(&b, "12345", 5, 100, 10, 4));
	CHECK_EQ(stls__ctq_total(), 10);
	stls__ctq_consume(&a, 2);
	CHECK_EQ(stls__ctq_total(), 8);
	stls__ctq_fini(&a);
	stls__ctq_fini(&b);
	CHECK_EQ(stls__ctq_total(), 0);
	CHECK_EQ(stls__ctq_push(&a, "x", 1, 0, 100, 4), -ENOBUFS);
	stls__ctq_fini(&a);
}
