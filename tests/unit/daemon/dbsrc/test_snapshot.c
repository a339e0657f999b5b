/*
 * Unit tests for daemon/dbsrc/snapshot.c: rows written to an SQLite file
 * (mode 0600, atomically: a failed write leaves the old snapshot) and
 * read back cell for cell, NULLs and PEM text included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbsrc/snapshot.h"
#include "test.h"

static struct stls_db_rows *sample(const char *name)
{
	static const char *const cols[] = { "id", "profile_type",
					    "profile_name", "certificate" };
	const char *r1[] = { "1", "server", "default", NULL };
	const char *r2[] = { "2", "server", "any",
			     "-----BEGIN CERTIFICATE-----\nAA'\"==\n" };
	struct stls_db_rows *r = NULL;

	r2[2] = name;
	if (stls_db_rows_new(4, cols, &r) || stls_db_rows_push(r, r1) ||
	    stls_db_rows_push(r, r2))
		abort();
	return r;
}

TEST(write_and_read_back)
{
	char dir[] = "/tmp/stls-snapXXXXXX", path[128];
	struct stls_db_rows *in, *out = NULL;
	struct stls_db_err err;
	uint8_t a[32], b[32];
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/profiles-tlscfg.db", dir);
	CHECK_EQ(stls_snapshot_read(path, "tlscfg", &out, &err), -ENOENT);
	in = sample("any");
	CHECK_OK(stls_snapshot_write(path, "tlscfg", in, &err));
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_OK(stls_snapshot_read(path, "tlscfg", &out, &err));
	CHECK_EQ(stls_db_rows_count(out), 2);
	CHECK_NULL(stls_db_rows_get(out, 0, 3));
	CHECK_OK(stls_db_rows_digest(in, a));
	CHECK_OK(stls_db_rows_digest(out, b));
	CHECK(memcmp(a, b, 32) == 0);
	stls_db_rows_free(out);
	stls_db_rows_free(in);
	/* A second write replaces it whole. */
	in = sample("10.0.0.1:5061");
	CHECK_OK(stls_snapshot_write(path, "tlscfg", in, &err));
	CHECK_OK(stls_snapshot_read(path, "tlscfg", &out, &err));
	CHECK_STR_EQ(stls_db_rows_get(out, 1, 2), "10.0.0.1:5061");
	stls_db_rows_free(out);
	stls_db_rows_free(in);
	unlink(path);
	rmdir(dir);
}

TEST(failed_write_keeps_the_old_one)
{
	static const char *const bad_cols[] = { "id", "we\"ird" };
	const char *cells[] = { "1", "x" };
	char dir[] = "/tmp/stls-snapXXXXXX", path[128];
	struct stls_db_rows *in = sample("any"), *bad = NULL, *out = NULL;
	struct stls_db_err err;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/p.db", dir);
	CHECK_OK(stls_snapshot_write(path, "tlscfg", in, &err));
	CHECK_OK(stls_db_rows_new(2, bad_cols, &bad));
	CHECK_OK(stls_db_rows_push(bad, cells));
	CHECK(stls_snapshot_write(path, "tlscfg", bad, &err) != 0);
	CHECK_OK(stls_snapshot_read(path, "tlscfg", &out, &err));
	CHECK_EQ(stls_db_rows_count(out), 2);
	stls_db_rows_free(out);
	stls_db_rows_free(bad);
	stls_db_rows_free(in);
	unlink(path);
	rmdir(dir);
}
