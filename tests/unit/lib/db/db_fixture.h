/*
 * Helpers for the lib/db tests: a SQLite file in the case's temporary
 * directory, statements that must succeed, and row sets written by hand
 * (column names, then rows of cells; NULL cells are SQL NULL).
 */
#ifndef STLS_TEST_DB_FIXTURE_H
#define STLS_TEST_DB_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stls/db.h"
#include "stls/db_admin.h"
#include "test.h"

/* "sqlite:<tmp>/<name>" (static rotating buffer). */
static inline const char *db_sqlite_config(const char *name)
{
	static char bufs[4][1100];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "sqlite:%s/%s", test_tmp_dir(), name);
	return b;
}

static inline struct stls_db *db_open_ok(const char *config, unsigned flags)
{
	struct stls_db_opts o = { .flags = flags };
	struct stls_db_err err = { "" };
	struct stls_db *db = NULL;
	int rc = stls_db_open(config, &o, &db, &err);

	if (rc) {
		test_fail(__FILE__, __LINE__, "open %s: %d: %s", config, rc,
			  err.msg);
	}
	return db;
}

/* Runs one statement; fails the case with the engine's message. */
#define DB_EXEC(db, ...)                                                   \
	do {                                                               \
		const char *const p_[] = { NULL, __VA_ARGS__ };            \
		struct stls_db_err e_ = { "" };                            \
		int r_ = stls_db_query((db), p_[1],                        \
				       (const char *const *)p_ + 2,        \
				       STLS_ARRAY_SIZE(p_) - 2, NULL, &e_); \
		if (r_)                                                    \
			test_fail(__FILE__, __LINE__, "%s: %d: %s", p_[1], \
				  r_, e_.msg);                             \
	} while (0)

/* kamcli's table as `kamcli tls sqlprint` describes it, for engine k. */
static inline void db_make_kamcli_table(struct stls_db *db)
{
	char *sql = stls_db_schema_create(stls_db_kind(db), stls_db_table(db),
					  true);

	CHECK_NOT_NULL(sql);
	DB_EXEC(db, sql);
	free(sql);
}

/* Rows from a NULL-terminated list of column names and cells. */
static inline struct stls_db_rows *db_rows(const char *const *cols,
					   size_t ncols,
					   const char *const *cells,
					   size_t nrows)
{
	struct stls_db_rows *r = NULL;
	size_t i;

	CHECK_OK(stls_db_rows_new(ncols, cols, &r));
	for (i = 0; i < nrows; i++) {
		CHECK_OK(stls_db_rows_push(r, cells + i * ncols));
	}
	return r;
}

/* The content of a test PKI file (malloc'd). */
static inline char *db_pem(const char *name)
{
	FILE *f = fopen(test_cert_path(name), "r");
	char *buf = calloc(1, 65536);
	size_t n;

	CHECK_NOT_NULL(f);
	CHECK_NOT_NULL(buf);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	CHECK(n > 0);
	return buf;
}

#endif
