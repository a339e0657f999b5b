/*
 * Unit tests for daemon/dbsrc/tksched.c: which keys a ring holds and when
 * the next key is due, over a schedule with lifetime 100.
 */
#include <string.h>

#include "dbsrc/tksched.h"
#include "test.h"

/* Rows newest first, key i marked by its name's first byte. */
static void rows(struct stls_db_tkeys *t, const int64_t *from, size_t n)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		t->v[i].id = (int64_t)(n - i);
		t->v[i].active_from = from[i];
		t->v[i].key.name[0] = (uint8_t)('a' + i);
	}
	t->n = n;
}

TEST(empty_table_needs_a_key_now)
{
	struct stls_db_tkeys t;
	struct stls_tkey k[STLS_TKEYS_MAX];
	enum stls_tkey_use u[STLS_TKEYS_MAX];
	int64_t from = 0;

	rows(&t, NULL, 0);
	CHECK_EQ(stls_tksched_ring(&t, 1000, 100, k, u), 0);
	CHECK(stls_tksched_due(&t, 1000, 100, &from));
	CHECK_EQ(from, 1000);
}

TEST(current_and_previous)
{
	static const int64_t f[] = { 1000, 900, 800 };
	struct stls_db_tkeys t;
	struct stls_tkey k[STLS_TKEYS_MAX];
	enum stls_tkey_use u[STLS_TKEYS_MAX];
	int64_t from = 0;

	rows(&t, f, 3);
	/* Early in the current key's life: previous still opens tickets. */
	CHECK_EQ(stls_tksched_ring(&t, 1010, 100, k, u), 2);
	CHECK_EQ(k[0].name[0], 'a');
	CHECK_EQ(u[0], STLS_TKEY_ENCRYPT);
	CHECK_EQ(k[1].name[0], 'b');
	CHECK_EQ(u[1], STLS_TKEY_RENEW);
	CHECK(!stls_tksched_due(&t, 1010, 100, &from));
	/* A lifetime after it began the previous key is dropped, and the
	 * next key is due (a quarter lifetime ahead), starting at the end. */
	CHECK_EQ(stls_tksched_ring(&t, 1100, 100, k, u), 1);
	CHECK(stls_tksched_due(&t, 1080, 100, &from));
	CHECK_EQ(from, 1100);
	CHECK(!stls_tksched_due(&t, 1070, 100, &from));
	/* Long over: the next starts now. */
	CHECK(stls_tksched_due(&t, 5000, 100, &from));
	CHECK_EQ(from, 5000);
}

TEST(future_key_is_accepted_and_blocks_a_second)
{
	static const int64_t f[] = { 1100, 1000, 900 };
	struct stls_db_tkeys t;
	struct stls_tkey k[STLS_TKEYS_MAX];
	enum stls_tkey_use u[STLS_TKEYS_MAX];
	int64_t from = 0;

	rows(&t, f, 3);
	CHECK_EQ(stls_tksched_ring(&t, 1090, 100, k, u), 3);
	CHECK_EQ(u[0], STLS_TKEY_ACCEPT);
	CHECK_EQ(k[1].name[0], 'b');
	CHECK_EQ(u[1], STLS_TKEY_ENCRYPT);
	CHECK_EQ(u[2], STLS_TKEY_RENEW);
	CHECK(!stls_tksched_due(&t, 1090, 100, &from));
	/* Its time comes: it encrypts, the one before renews, the oldest
	 * goes (two rotations after it was current). */
	CHECK_EQ(stls_tksched_ring(&t, 1100, 100, k, u), 2);
	CHECK_EQ(k[0].name[0], 'a');
	CHECK_EQ(u[0], STLS_TKEY_ENCRYPT);
	CHECK_EQ(k[1].name[0], 'b');
	CHECK_EQ(u[1], STLS_TKEY_RENEW);
}
