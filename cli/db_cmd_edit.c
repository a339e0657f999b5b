/*
 * `siptlsctl db add`, `set` and `rm`: one transaction each, which checks
 * the whole table as a daemon would load it before it commits (and rolls
 * back, writing nothing, when it would not load). Values are parsed with
 * the tls.cfg keyword table first (aliases, booleans, enums) and stored
 * by canonical column name; with file_type 1 the files named for
 * certificate, private_key, ca_list, crl (and the "2" keys) are read into
 * the row.
 */
#include "db_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns `set` takes as they are (they are no profile keys). */
static const char *const header_cols[] = { "profile_type", "profile_name",
					   "file_type" };

struct edit {
	struct db_ctx *c;
	struct stls_db_row *row;  /* what to write */
	long long id;
	/* set: the parsed values, to be read as paths or PEM files once the
	 * row's file_type is known */
	struct stls_profile_conf *p;
	const char **nulls;
	size_t nnulls;
};

/* Columns check, the write, then the check of the whole table. */
static int write_checked(struct edit *e, struct stls_db *db, bool insert,
			 struct stls_db_err *err)
{
	struct stls_db_rows *cols = NULL;
	int rc = stls_db_admin_columns(db, &cols, err);

	if (!rc) {
		rc = stls_db_row_check(e->row, cols, stls_db_table(db), err);
	}
	stls_db_rows_free(cols);
	if (!rc) {
		rc = insert ? stls_db_row_insert(db, e->row, &e->id, err)
			    : stls_db_row_update(db, e->id, e->row, err);
	}
	return rc ? rc : stls__db_check(e->c, NULL, err);
}

static int do_add(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	return write_checked(arg, db, true, err);
}

int stls__db_cmd_add(struct db_ctx *c)
{
	struct edit e = { .c = c };
	struct stls_db_err err = { "" };
	char hdr[STLS_ADDR_STRLEN + 32];
	struct stls_diag d;
	int rc;

	rc = stls__db_profile_of_args(c, c->o.pos[0], (char **)c->o.pos + 1,
				      c->o.npos - 1, &e.p, &e.nulls,
				      &e.nnulls);
	if (rc) {
		return rc;
	}
	stls_diag_init(&d);
	rc = stls_db_row_from_profile(e.p, c->o.file_type < 0 ? 0
					   : c->o.file_type, &e.row, &d);
	stls_diag_print(&d, stderr);
	stls_diag_fini(&d);
	if (!rc) {
		rc = stls_db_txn(c->db, STLS_DB_TXN_LOCK, do_add, &e, &err);
		if (rc) {
			stls__db_fail(c, "%s", err.msg);
		}
	}
	if (!rc) {
		printf("added id %lld: %s\n", e.id,
		       stls_profile_conf_header(e.p, hdr, sizeof(hdr)));
	}
	stls_db_row_free(e.row);
	stls_profile_conf_list_free(e.p);
	free(e.nulls);
	return rc ? DB_EXIT_FAIL : DB_EXIT_OK;
}

/* The row's file_type now (-ENOENT: no such row). */
static int current_file_type(struct stls_db *db, long long id, int *ft,
			     struct stls_db_err *err)
{
	char sql[128], idv[24];
	const char *p[] = { idv };
	struct stls_db_rows *r = NULL;
	const char *v;
	int rc;

	snprintf(idv, sizeof(idv), "%lld", id);
	snprintf(sql, sizeof(sql), "SELECT \"file_type\" FROM \"%s\" WHERE "
		 "\"id\" = $1", stls_db_table(db));
	rc = stls_db_query(db, sql, p, 1, &r, err);
	if (!rc && stls_db_rows_count(r) == 0) {
		rc = -ENOENT;
		snprintf(err->msg, sizeof(err->msg), "no row with id %lld", id);
	}
	v = rc ? NULL : stls_db_rows_get(r, 0, 0);
	*ft = v && atoi(v) == 1;
	stls_db_rows_free(r);
	return rc;
}

/* Copies the columns of the given keys from the parsed row. */
static int pick(struct edit *e, const struct stls_db_row *parsed)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < stls_db_row_count(parsed); i++) {
		const char *col = stls_db_row_col(parsed, i);

		if (strcmp(col, header_cols[0]) &&
		    strcmp(col, header_cols[1]) &&
		    strcmp(col, header_cols[2])) {
			rc = stls_db_row_set(e->row, col,
					     stls_db_row_val(parsed, i));
		}
	}
	for (i = 0; !rc && i < e->nnulls; i++) {
		rc = stls_db_row_set(e->row, e->nulls[i], NULL);
	}
	return rc;
}

static int do_set(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct edit *e = arg;
	struct stls_db_row *parsed = NULL;
	struct stls_diag d;
	char ftv[12];
	int ft, rc;

	rc = current_file_type(db, e->id, &ft, err);
	if (rc) {
		return rc;
	}
	ft = e->c->o.file_type >= 0 ? e->c->o.file_type : ft;
	snprintf(ftv, sizeof(ftv), "%d", ft);
	stls_diag_init(&d);
	rc = stls_db_row_from_profile(e->p, ft, &parsed, &d);
	stls_diag_print(&d, stderr);
	stls_diag_fini(&d);
	if (rc) {
		snprintf(err->msg, sizeof(err->msg), "nothing was written");
		return rc;
	}
	rc = pick(e, parsed);
	if (!rc && e->c->o.file_type >= 0) {
		rc = stls_db_row_set(e->row, "file_type", ftv);
	}
	stls_db_row_free(parsed);
	return rc ? rc : write_checked(e, db, false, err);
}

static int parse_id(const char *s, long long *id)
{
	char *end = NULL;

	*id = strtoll(s, &end, 10);
	return *s && !*end && *id > 0 ? 0 : -EINVAL;
}

/* Splits set's arguments: header columns go straight to the row. */
static int split_set_args(struct edit *e, char **kv, int n, char **keys,
			  int *nkeys)
{
	size_t h;
	int i;

	*nkeys = 0;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');

		for (h = 0; eq && h < STLS_ARRAY_SIZE(header_cols); h++) {
			size_t len = strlen(header_cols[h]);

			if ((size_t)(eq - kv[i]) == len &&
			    strncmp(kv[i], header_cols[h], len) == 0) {
				break;
			}
		}
		if (eq && h < STLS_ARRAY_SIZE(header_cols)) {
			if (stls_db_row_set(e->row, header_cols[h],
					    eq[1] ? eq + 1 : NULL)) {
				return -ENOMEM;
			}
		} else {
			keys[(*nkeys)++] = kv[i];
		}
	}
	return 0;
}

int stls__db_cmd_set(struct db_ctx *c)
{
	struct edit e = { .c = c };
	struct stls_db_err err = { "" };
	char *keys[DB_MAX_POS];
	int nkeys = 0, rc;

	if (parse_id(c->o.pos[0], &e.id)) {
		return stls__db_usage(c->cmd, "'%s' is no row id", c->o.pos[0]);
	}
	if (stls_db_row_new(&e.row) ||
	    split_set_args(&e, (char **)c->o.pos + 1, c->o.npos - 1, keys,
			   &nkeys)) {
		stls_db_row_free(e.row);
		return stls__db_fail(c, "out of memory");
	}
	rc = stls__db_profile_of_args(c, "client:default", keys, nkeys, &e.p,
				      &e.nulls, &e.nnulls);
	if (!rc) {
		rc = stls_db_txn(c->db, STLS_DB_TXN_LOCK, do_set, &e, &err);
		rc = rc ? stls__db_fail(c, "%s", err.msg) : DB_EXIT_OK;
	}
	if (!rc) {
		printf("updated id %lld\n", e.id);
	}
	stls_db_row_free(e.row);
	stls_profile_conf_list_free(e.p);
	free(e.nulls);
	return rc;
}

static int do_rm(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct db_ctx *c = arg;
	long long id;
	int i, rc = 0;

	for (i = 0; !rc && i < c->o.npos; i++) {
		if (parse_id(c->o.pos[i], &id)) {
			snprintf(err->msg, sizeof(err->msg), "'%s' is no row "
				 "id", c->o.pos[i]);
			return -EINVAL;
		}
		rc = stls_db_row_delete(db, id, err);
	}
	return rc ? rc : stls__db_check(c, NULL, err);
}

int stls__db_cmd_rm(struct db_ctx *c)
{
	struct stls_db_err err = { "" };
	int i;

	if (stls_db_txn(c->db, STLS_DB_TXN_LOCK, do_rm, c, &err)) {
		return stls__db_fail(c, "%s", err.msg);
	}
	printf("removed id");
	for (i = 0; i < c->o.npos; i++) {
		printf(" %s", c->o.pos[i]);
	}
	printf("\n");
	return DB_EXIT_OK;
}
