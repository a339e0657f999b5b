/*
 * Unit tests for lib/db/db_rows.c: result tables, NULL cells, lookup by
 * column name, and the digest that tells two loads apart.
 */
#include "lib/db/db_fixture.h"

TEST(cells_columns_and_nulls)
{
	static const char *const cols[] = { "id", "Name" };
	static const char *const cells[] = { "1", NULL, "2", "" };
	struct stls_db_rows *r = db_rows(cols, 2, cells, 2);

	CHECK_EQ(stls_db_rows_ncols(r), 2);
	CHECK_EQ(stls_db_rows_count(r), 2);
	CHECK_STR_EQ(stls_db_rows_col(r, 1), "Name");
	CHECK_NULL(stls_db_rows_col(r, 2));
	CHECK_EQ(stls_db_rows_find(r, "name"), 1);
	CHECK_EQ(stls_db_rows_find(r, "nope"), -1);
	CHECK_NULL(stls_db_rows_get(r, 0, 1));
	CHECK_STR_EQ(stls_db_rows_get(r, 1, 1), "");
	CHECK_NULL(stls_db_rows_get(r, 2, 0));
	CHECK_NULL(stls_db_rows_get(r, 0, 5));
	stls_db_rows_free(r);
	stls_db_rows_free(NULL);
}

/* Many rows: the table grows. */
TEST(growth)
{
	static const char *const cols[] = { "a" };
	struct stls_db_rows *r = db_rows(cols, 1, NULL, 0);
	char v[16];
	const char *cell[1] = { v };
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		CHECK_OK(stls_db_rows_push(r, cell));
	}
	CHECK_EQ(stls_db_rows_count(r), 1000);
	CHECK_STR_EQ(stls_db_rows_get(r, 999, 0), "999");
	stls_db_rows_free(r);
}

/* Equal tables have equal digests; NULL and "" differ, and so do cells
 * moved across a column boundary. */
TEST(digest_tells_tables_apart)
{
	static const char *const cols[] = { "a", "b" };
	static const char *const t1[] = { "x", NULL };
	static const char *const t2[] = { "x", "" };
	static const char *const t3[] = { "", "x" };
	struct stls_db_rows *a = db_rows(cols, 2, t1, 1);
	struct stls_db_rows *b = db_rows(cols, 2, t1, 1);
	struct stls_db_rows *c = db_rows(cols, 2, t2, 1);
	struct stls_db_rows *d = db_rows(cols, 2, t3, 1);
	uint8_t da[32], db[32], dc[32], dd[32];

	CHECK_OK(stls_db_rows_digest(a, da));
	CHECK_OK(stls_db_rows_digest(b, db));
	CHECK_OK(stls_db_rows_digest(c, dc));
	CHECK_OK(stls_db_rows_digest(d, dd));
	CHECK(memcmp(da, db, 32) == 0);
	CHECK(memcmp(da, dc, 32) != 0);
	CHECK(memcmp(dc, dd, 32) != 0);
	stls_db_rows_free(a);
	stls_db_rows_free(b);
	stls_db_rows_free(c);
	stls_db_rows_free(d);
}
