/*
 * Tests for daemon/runtime/mstat.c: histogram buckets and sums, label
 * table rows (found again, bounded, the overflow row), and a reader
 * thread summing while the owner writes.
 * ctest-label: tsan
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runtime/mstat.h"
#include "test.h"

static const struct stls_histo_spec spec = { 3, { 10, 100, 1000 } };

TEST(histo_buckets)
{
	struct stls_histo h;
	struct stls_histo_snap s;

	memset(&h, 0, sizeof(h));
	stls_histo_observe(&h, &spec, 0);
	stls_histo_observe(&h, &spec, 10);   /* le is inclusive */
	stls_histo_observe(&h, &spec, 11);
	stls_histo_observe(&h, &spec, 1000);
	stls_histo_observe(&h, &spec, 5000); /* above every bound */
	memset(&s, 0, sizeof(s));
	stls_histo_read(&h, &s);
	CHECK_EQ(s.bucket[0], 2);
	CHECK_EQ(s.bucket[1], 1);
	CHECK_EQ(s.bucket[2], 1);
	CHECK_EQ(s.bucket[3], 1);
	CHECK_EQ(s.sum_ns, 6021);
	/* Reading adds: two workers sum. */
	stls_histo_read(&h, &s);
	CHECK_EQ(s.bucket[0], 4);
	CHECK_EQ(s.sum_ns, 12042);
}

TEST(mono_clock_moves)
{
	uint64_t a = stls_mono_ns(), b = stls_mono_ns();

	CHECK(a > 0);
	CHECK(b >= a);
}

TEST(ltab_rows_found_again)
{
	const char *v[3] = { "ok", "TLSv1.3", NULL };
	struct stls_ltab_row *r1, *r2;
	char key[STLS_LTAB_KEY_MAX];
	struct stls_ltab t;

	stls_ltab_init(&t);
	CHECK(stls_ltab_key(key, v, 3));
	CHECK_STR_EQ(key, "ok\x1fTLSv1.3\x1f");
	r1 = stls_ltab_get(&t, key);
	stls_ltab_add(r1, 0, 2);
	stls_ltab_add(r1, 1, -1);
	r2 = stls_ltab_get(&t, key);
	CHECK(r1 == r2);
	CHECK_EQ(stls_ltab_count(&t), 1);
	CHECK_EQ(stls_ltab_row(&t, 0)->v[0], 2);
	CHECK_EQ(stls_ltab_row(&t, 0)->v[1], -1);
	CHECK(!stls_ltab_row_is_overflow(&t, r1));
	stls_ltab_fini(&t);
}

TEST(ltab_bounded)
{
	struct stls_ltab_row *r;
	char key[32];
	struct stls_ltab t;
	unsigned i;

	stls_ltab_init(&t);
	for (i = 0; i < STLS_LTAB_ROWS; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		r = stls_ltab_get(&t, key);
		CHECK(!stls_ltab_row_is_overflow(&t, r));
		stls_ltab_add(r, 0, 1);
	}
	CHECK_EQ(stls_ltab_count(&t), STLS_LTAB_ROWS);
	r = stls_ltab_get(&t, "one more");
	CHECK(stls_ltab_row_is_overflow(&t, r));
	CHECK(r == stls_ltab_overflow(&t));
	/* Known keys are still found. */
	r = stls_ltab_get(&t, "k4000");
	CHECK(!stls_ltab_row_is_overflow(&t, r));
	CHECK_EQ(r->v[0], 1);
	stls_ltab_fini(&t);
}

TEST(ltab_key_too_long_or_separator)
{
	char big[STLS_LTAB_KEY_MAX], key[STLS_LTAB_KEY_MAX];
	const char *v[2] = { big, "x" };
	const char *sep[1] = { "a\x1f" "b" };
	struct stls_ltab t;

	memset(big, 'a', sizeof(big) - 3);
	big[sizeof(big) - 3] = '\0';
	stls_ltab_init(&t);
	CHECK(!stls_ltab_key(key, v, 2));
	CHECK(stls_ltab_row_is_overflow(&t, stls_ltab_get(&t, key)));
	CHECK(!stls_ltab_key(key, sep, 1));
	CHECK(stls_ltab_row_is_overflow(&t, stls_ltab_get(&t, key)));
	CHECK_EQ(stls_ltab_count(&t), 0);
	stls_ltab_fini(&t);
}

struct race {
	struct stls_ltab t;
	struct stls_histo h;
	atomic_bool done;
	uint64_t seen_rows;
};

static void *reader(void *arg)
{
	struct race *rc = arg;
	struct stls_histo_snap s;
	size_t i, n;
	int64_t sum;

	while (!atomic_load(&rc->done)) {
		n = stls_ltab_count(&rc->t);
		for (i = 0, sum = 0; i < n; i++)
			sum += atomic_load_explicit(
				&stls_ltab_row(&rc->t, i)->v[0],
				memory_order_relaxed);
		CHECK(sum >= 0);
		memset(&s, 0, sizeof(s));
		stls_histo_read(&rc->h, &s);
		rc->seen_rows = n;
	}
	return NULL;
}

/* The owner appends and counts while another thread reads. */
TEST(reader_while_owner_writes)
{
	static struct race rc;
	struct stls_histo_snap s;
	pthread_t th;
	char key[32];
	unsigned i;

	stls_ltab_init(&rc.t);
	CHECK_OK(pthread_create(&th, NULL, reader, &rc));
	for (i = 0; i < 200000; i++) {
		snprintf(key, sizeof(key), "k%u", i % 300);
		stls_ltab_add(stls_ltab_get(&rc.t, key), 0, 1);
		stls_histo_observe(&rc.h, &spec, i % 2000);
	}
	atomic_store(&rc.done, true);
	CHECK_OK(pthread_join(th, NULL));
	CHECK_EQ(stls_ltab_count(&rc.t), 300);
	memset(&s, 0, sizeof(s));
	stls_histo_read(&rc.h, &s);
	CHECK_EQ(s.bucket[0] + s.bucket[1] + s.bucket[2] + s.bucket[3],
		 200000);
	stls_ltab_fini(&rc.t);
}
