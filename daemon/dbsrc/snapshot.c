/*
 * The snapshot of the last rows that built (see snapshot.h).
 */
#include "dbsrc/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Column names become quoted identifiers: no quote inside. */
static int create_table(struct stls_db *db, const char *table,
			const struct stls_db_rows *rows,
			struct stls_db_err *err)
{
	size_t j, n = stls_db_rows_ncols(rows), len = 64;
	char *sql, *p;
	int rc;

	for (j = 0; j < n; j++) {
		const char *c = stls_db_rows_col(rows, j);

		if (strchr(c, '"')) {
			snprintf(err->msg, sizeof(err->msg),
				 "snapshot: column name with a quote");
			return -EINVAL;
		}
		len += strlen(c) + 4;
	}
	sql = malloc(len + strlen(table));
	if (!sql)
		return -ENOMEM;
	p = sql + sprintf(sql, "CREATE TABLE \"%s\" (", table);
	for (j = 0; j < n; j++)
		p += sprintf(p, "%s\"%s\"", j ? ", " : "",
			     stls_db_rows_col(rows, j));
	strcpy(p, ")");
	rc = stls_db_query(db, sql, NULL, 0, NULL, err);
	free(sql);
	return rc;
}

struct fill {
	const char *table;
	const struct stls_db_rows *rows;
};

static int fill_rows(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	const struct fill *f = arg;
	size_t i, j, n = stls_db_rows_ncols(f->rows);
	const char **cells = calloc(n ? n : 1, sizeof(*cells));
	char *sql = malloc(64 + strlen(f->table) + 5 * n);
	char *p;
	int rc;

	if (!cells || !sql) {
		free(cells);
		free(sql);
		return -ENOMEM;
	}
	rc = create_table(db, f->table, f->rows, err);
	p = sql + sprintf(sql, "INSERT INTO \"%s\" VALUES (", f->table);
	for (j = 0; j < n; j++)
		p += sprintf(p, "%s$%zu", j ? "," : "", j + 1);
	strcpy(p, ")");
	for (i = 0; !rc && i < stls_db_rows_count(f->rows); i++) {
		for (j = 0; j < n; j++)
			cells[j] = stls_db_rows_get(f->rows, i, j);
		rc = stls_db_query(db, sql, cells, n, NULL, err);
	}
	free(cells);
	free(sql);
	return rc;
}

static int open_file(const char *path, const char *table, unsigned flags,
		     struct stls_db **db, struct stls_db_err *err)
{
	struct stls_db_opts o = { .flags = flags };
	char *cfg = NULL;
	int rc;

	if (asprintf(&cfg, "sqlite:%s?table=%s", path, table) < 0)
		return -ENOMEM;
	rc = stls_db_open(cfg, &o, db, err);
	free(cfg);
	return rc;
}

int stls_snapshot_write(const char *path, const char *table,
			const struct stls_db_rows *rows,
			struct stls_db_err *err)
{
	struct fill f = { table, rows };
	struct stls_db *db = NULL;
	char *tmp = NULL;
	mode_t old;
	int rc;

	if (asprintf(&tmp, "%s.new.%ld", path, (long)getpid()) < 0)
		return -ENOMEM;
	unlink(tmp);
	old = umask(077);
	rc = open_file(tmp, table, STLS_DB_OPEN_WRITE | STLS_DB_OPEN_CREATE,
		       &db, err);
	umask(old);
	if (!rc)
		rc = stls_db_txn(db, 0, fill_rows, &f, err);
	stls_db_free(db);
	if (!rc && rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "snapshot %s: %s", path,
			 strerror(errno));
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int stls_snapshot_read(const char *path, const char *table,
		       struct stls_db_rows **out, struct stls_db_err *err)
{
	struct stls_db *db = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(path, &st) != 0) {
		snprintf(err->msg, sizeof(err->msg), "no snapshot %s", path);
		return -ENOENT;
	}
	rc = open_file(path, table, 0, &db, err);
	if (!rc)
		rc = stls_db_load_rows(db, out, err);
	stls_db_free(db);
	return rc;
}
