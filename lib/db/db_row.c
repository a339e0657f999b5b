/*
 * Rows to write (siptlsctl db import, add, set, rm): column/value lists,
 * the row of a parsed profile, and INSERT, UPDATE and DELETE by id. Only
 * names of the schema's columns are ever put into SQL (they are checked
 * against stls_db_col_find()); values always travel as parameters.
 */
#include "db/db_int.h"
#include "stls/db_admin.h"
#include "stls/hsm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest PEM file stored in a row (a CA list of a few hundred roots). */
#define PEM_FILE_MAX (4u << 20)

struct stls_db_row {
	size_t n, cap;
	char **cols, **vals;
};

int stls_db_row_new(struct stls_db_row **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void stls_db_row_free(struct stls_db_row *r)
{
	size_t i;

	if (!r) {
		return;
	}
	for (i = 0; i < r->n; i++) {
		if (r->vals[i]) {
			explicit_bzero(r->vals[i], strlen(r->vals[i]));
		}
		free(r->vals[i]);
		free(r->cols[i]);
	}
	free(r->vals);
	free(r->cols);
	free(r);
}

int stls_db_row_set(struct stls_db_row *r, const char *col, const char *val)
{
	char *v = NULL;
	size_t i;

	if (val && !(v = strdup(val))) {
		return -ENOMEM;
	}
	for (i = 0; i < r->n; i++) {
		if (strcasecmp(r->cols[i], col) == 0) {
			free(r->vals[i]);
			r->vals[i] = v;
			return 0;
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char **c = realloc(r->cols, cap * sizeof(*c));
		char **w = c ? realloc(r->vals, cap * sizeof(*w)) : NULL;

		r->cols = c ? c : r->cols;
		r->vals = w ? w : r->vals;
		if (!c || !w) {
			free(v);
			return -ENOMEM;
		}
		r->cap = cap;
	}
	r->cols[r->n] = strdup(col);
	if (!r->cols[r->n]) {
		free(v);
		return -ENOMEM;
	}
	r->vals[r->n++] = v;
	return 0;
}

size_t stls_db_row_count(const struct stls_db_row *r)
{
	return r->n;
}

const char *stls_db_row_col(const struct stls_db_row *r, size_t i)
{
	return i < r->n ? r->cols[i] : NULL;
}

const char *stls_db_row_val(const struct stls_db_row *r, size_t i)
{
	return i < r->n ? r->vals[i] : NULL;
}

/* Reads a PEM file for a file_type 1 row. NULL after reporting. */
static char *read_pem(const struct stls_loc *at, const char *key,
		      const char *path, struct stls_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		stls_diag_err(diag, at->file, at->line,
			      "%s: cannot read '%s': %s", key, path,
			      strerror(errno));
		return NULL;
	}
	buf = malloc(PEM_FILE_MAX + 1);
	n = buf ? fread(buf, 1, PEM_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!buf) {
		stls_diag_err(diag, at->file, at->line,
			      "%s: cannot read '%s': out of memory", key, path);
		return NULL;
	}
	buf[n > PEM_FILE_MAX ? PEM_FILE_MAX : n] = '\0';
	if (n > PEM_FILE_MAX || strlen(buf) != n) {
		stls_diag_err(diag, at->file, at->line,
			      "%s: '%s' is not a PEM file (binary, or over "
			      "%u bytes)", key, path, PEM_FILE_MAX);
	} else if (!strstr(buf, "-----BEGIN ")) {
		stls_diag_err(diag, at->file, at->line,
			      "%s: no PEM text in '%s'", key, path);
	} else {
		return buf;
	}
	explicit_bzero(buf, n > PEM_FILE_MAX ? PEM_FILE_MAX : n);
	free(buf);
	return NULL;
}

/* The key written as "" means "follows the certificate" (see header). */
static const char *empty_key(const struct stls_profile_conf *p,
			     enum stls_pf f)
{
	if (f == STLS_PF_PRIVATE_KEY) {
		return p->certificate;
	}
	return f == STLS_PF_PRIVATE_KEY2 ? p->certificate2 : NULL;
}

static int add_key(struct stls_db_row *r, const struct stls_profile_conf *p,
		   size_t k, int file_type, struct stls_diag *diag)
{
	struct stls_pkey_info ki;
	char buf[64], *pem;
	const char *v;
	int rc;

	if (!stls_profile_key_at(k, &ki) ||
	    !stls_loc_is_set(&p->field_loc[ki.field])) {
		return 0; /* not written: the template's default */
	}
	v = stls_profile_key_format(p, k, buf, sizeof(buf));
	if (v && !v[0] && ki.pem) {
		v = file_type == 1 ? NULL : empty_key(p, ki.field);
	}
	if (!v || !v[0] || file_type != 1 || !ki.pem ||
	    stls_profile_conf_is_pem(p, ki.field) || stls_hsm_is_key_id(v)) {
		return stls_db_row_set(r, ki.name, v && v[0] ? v : NULL);
	}
	pem = read_pem(&p->field_loc[ki.field], ki.name, v, diag);
	if (!pem) {
		return -EINVAL;
	}
	rc = stls_db_row_set(r, ki.name, pem);
	explicit_bzero(pem, strlen(pem));
	free(pem);
	return rc;
}

static int add_header(struct stls_db_row *r, const struct stls_profile_conf *p,
		      int file_type)
{
	char name[STLS_ADDR_STRLEN], ft[4];
	const char *n = name;
	int rc;

	if (p->kind == STLS_PROF_DEFAULT) {
		n = "default";
	} else if (p->kind == STLS_PROF_ANY) {
		n = "any";
	} else {
		stls_addr_str(&p->addr, true, name);
	}
	snprintf(ft, sizeof(ft), "%d", file_type);
	rc = stls_db_row_set(r, "profile_type", p->role == STLS_ROLE_SERVER ?
							"server" : "client");
	if (!rc) {
		rc = stls_db_row_set(r, "profile_name", n);
	}
	return rc ? rc : stls_db_row_set(r, "file_type", ft);
}

int stls_db_row_from_profile(const struct stls_profile_conf *p, int file_type,
			     struct stls_db_row **out,
			     struct stls_diag *diag)
{
	struct stls_db_row *r = NULL;
	size_t k, errors0 = diag->errors;
	int rc = stls_db_row_new(&r);

	if (!rc) {
		rc = add_header(r, p, file_type);
	}
	for (k = 0; k < stls_profile_key_count() && rc != -ENOMEM; k++) {
		int e = add_key(r, p, k, file_type, diag);

		rc = e == -ENOMEM ? e : rc;
	}
	if (!rc && diag->errors > errors0) {
		rc = -EINVAL;
	}
	if (rc) {
		stls_db_row_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int stls_db_row_check(const struct stls_db_row *r,
		      const struct stls_db_rows *cols, const char *table,
		      struct stls_db_err *err)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (stls_db_col_find(r->cols[i]) < 0 ||
		    strcasecmp(r->cols[i], "id") == 0) {
			return stls__db_err(err, NULL, -EINVAL,
					    "'%s' is no column of %s",
					    r->cols[i], table);
		}
		if (stls_db_rows_find(cols, r->cols[i]) < 0) {
			return stls__db_err(err, NULL, -ENOENT,
					    "column %s is missing from %s: run "
					    "`siptlsctl db upgrade`",
					    r->cols[i], table);
		}
	}
	return 0;
}

/* A statement being built; NULL once out of memory. */
static void add(char **sql, const char *fmt, ...) STLS_PRINTF(2, 3);

static void add(char **sql, const char *fmt, ...)
{
	char *more = NULL, *s = NULL;
	va_list ap;
	int n;

	if (!*sql) {
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&s, "%s%s", *sql, more) < 0) {
		s = NULL;
	}
	free(n < 0 ? NULL : more);
	free(*sql);
	*sql = s;
}

/* Refuses column names that are not the schema's (they go into SQL). */
static int check_names(const struct stls_db_row *r, struct stls_db_err *err)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (stls_db_col_find(r->cols[i]) < 0 ||
		    strcasecmp(r->cols[i], "id") == 0) {
			return stls__db_err(err, NULL, -EINVAL,
					    "'%s' is no column", r->cols[i]);
		}
	}
	return r->n ? 0 : stls__db_err(err, NULL, -EINVAL, "nothing to write");
}

int stls_db_row_insert(struct stls_db *db, const struct stls_db_row *r,
		       long long *id, struct stls_db_err *err)
{
	struct stls_db_rows *res = NULL;
	char *sql = NULL;
	size_t i;
	int rc = check_names(r, err);

	if (rc) {
		return rc;
	}
	if (asprintf(&sql, "INSERT INTO %s (", db->quoted_table) < 0) {
		return -ENOMEM;
	}
	for (i = 0; i < r->n; i++) {
		add(&sql, "%s\"%s\"", i ? ", " : "", r->cols[i]);
	}
	add(&sql, ") VALUES (");
	for (i = 0; i < r->n; i++) {
		add(&sql, "%s$%zu", i ? ", " : "", i + 1);
	}
	add(&sql, ") RETURNING \"id\"");
	if (!sql) {
		return -ENOMEM;
	}
	rc = stls_db_query(db, sql, (const char *const *)r->vals, r->n, &res,
			   err);
	free(sql);
	if (!rc && id && stls_db_rows_count(res) == 1) {
		*id = strtoll(stls_db_rows_get(res, 0, 0), NULL, 10);
	}
	stls_db_rows_free(res);
	return rc;
}

/* Runs sql (... WHERE "id" = $n RETURNING "id") and maps "no row". */
static int by_id(struct stls_db *db, const char *sql,
		 const char *const *params, size_t n, long long id,
		 struct stls_db_err *err)
{
	struct stls_db_rows *res = NULL;
	int rc = stls_db_query(db, sql, params, n, &res, err);

	if (!rc && stls_db_rows_count(res) == 0) {
		rc = stls__db_err(err, db, -ENOENT, "no row with id %lld", id);
	}
	stls_db_rows_free(res);
	return rc;
}

int stls_db_row_update(struct stls_db *db, long long id,
		       const struct stls_db_row *r, struct stls_db_err *err)
{
	const char **params;
	char *sql = NULL, idv[24];
	size_t i;
	int rc = check_names(r, err);

	if (rc) {
		return rc;
	}
	params = calloc(r->n + 1, sizeof(*params));
	if (!params || asprintf(&sql, "UPDATE %s SET ", db->quoted_table) < 0) {
		free(params);
		return -ENOMEM;
	}
	for (i = 0; i < r->n; i++) {
		add(&sql, "%s\"%s\" = $%zu", i ? ", " : "", r->cols[i], i + 1);
		params[i] = r->vals[i];
	}
	snprintf(idv, sizeof(idv), "%lld", id);
	params[r->n] = idv;
	add(&sql, " WHERE \"id\" = $%zu RETURNING \"id\"", r->n + 1);
	rc = sql ? by_id(db, sql, params, r->n + 1, id, err) : -ENOMEM;
	free(sql);
	free(params);
	return rc;
}

int stls_db_row_delete(struct stls_db *db, long long id,
		       struct stls_db_err *err)
{
	char *sql = NULL, idv[24];
	const char *params[] = { idv };
	int rc;

	snprintf(idv, sizeof(idv), "%lld", id);
	if (asprintf(&sql, "DELETE FROM %s WHERE \"id\" = $1 RETURNING \"id\"",
		     db->quoted_table) < 0) {
		return -ENOMEM;
	}
	rc = by_id(db, sql, params, 1, id, err);
	free(sql);
	return rc;
}
