/*
 * Rows to profiles (stls_db_conv_rows): each row becomes the record that
 * lib/conf turns into a profile with the tls.cfg keyword table, so that a
 * row and the tls.cfg section `kamcli tls cfgprint` would print for it
 * mean the same. What is ours: columns are matched by name (any order,
 * unknown ones warned about once), blank cells are unset (kamcli prints
 * only non-blank ones), server_name_mode counts only with a server_name
 * (kamcli again), and file_type 1 turns the file columns into PEM text.
 * Labels name the row and column: "tlscfg id=17 column=certificate".
 */
#include "db/db_int.h"
#include "stls/hsm.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct conv {
	const struct stls_db_rows *rows;
	const struct stls_db_conv_opts *o;
	const char *table;
	struct stls_conf_recs *r;
	struct stls_diag *diag;
	int c_id, c_type, c_name, c_ft;
	int *key_of;  /* per column: profile key index, or -1 */
	size_t row;   /* the row being converted */
	char at[128]; /* "tlscfg id=17" */
	int file_type;
};

/* A key column: the column named exactly as a profile key. */
static int key_column(const char *name)
{
	struct stls_pkey_info ki;
	int k = stls_profile_key_find(name);

	if (k < 0 || !stls_profile_key_at((size_t)k, &ki) ||
	    strcasecmp(ki.name, name) != 0) {
		return -1;
	}
	return k;
}

static int map_columns(struct conv *c)
{
	size_t j, n = stls_db_rows_ncols(c->rows);
	const char *need[] = { "id", "profile_type", "profile_name" };
	int *idx[] = { &c->c_id, &c->c_type, &c->c_name };
	size_t i;

	c->key_of = calloc(n ? n : 1, sizeof(int));
	if (!c->key_of) {
		return -ENOMEM;
	}
	for (i = 0; i < 3; i++) {
		*idx[i] = stls_db_rows_find(c->rows, need[i]);
		if (*idx[i] < 0) {
			stls_diag_err(c->diag, c->table, 0,
				      "no column '%s' (is this a profile "
				      "table?)", need[i]);
			return -EINVAL;
		}
	}
	c->c_ft = stls_db_rows_find(c->rows, "file_type");
	for (j = 0; j < n; j++) {
		const char *name = stls_db_rows_col(c->rows, j);

		c->key_of[j] = key_column(name);
		if (c->key_of[j] < 0 && (int)j != c->c_id &&
		    (int)j != c->c_type && (int)j != c->c_name &&
		    (int)j != c->c_ft) {
			stls_diag_warn(c->diag, c->table, 0,
				       "column '%s' is no profile key: "
				       "ignored", name);
		}
	}
	return 0;
}

static const char *cell(const struct conv *c, int j)
{
	return j < 0 ? NULL : stls_db_rows_get(c->rows, c->row, (size_t)j);
}

static bool blank(const char *s)
{
	while (s && isspace((unsigned char)*s)) {
		s++;
	}
	return !s || !*s;
}

/* The cell of the column named name in this row, or NULL. */
static const char *cell_of(const struct conv *c, const char *name)
{
	return cell(c, stls_db_rows_find(c->rows, name));
}

static const char *label(const struct conv *c, const char *col, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%s column=%s", c->at, col);
	return buf;
}

/* value without surrounding white space (as a tls.cfg line reads it). */
static int apply_trimmed(struct conv *c, const char *key, const char *value,
			 const char *at)
{
	size_t n;
	char *v;
	int rc;

	while (isspace((unsigned char)*value)) {
		value++;
	}
	n = strlen(value);
	while (n > 0 && isspace((unsigned char)value[n - 1])) {
		n--;
	}
	v = strndup(value, n);
	if (!v) {
		return -ENOMEM;
	}
	rc = stls_conf_recs_apply(c->r, key, v, at, c->diag);
	free(v);
	return rc;
}

static int parse_file_type(struct conv *c)
{
	const char *v = cell(c, c->c_ft);
	char at[256];

	c->file_type = 0;
	if (blank(v)) {
		return 0;
	}
	while (isspace((unsigned char)*v)) {
		v++;
	}
	if ((v[0] == '0' || v[0] == '1') && blank(v + 1)) {
		c->file_type = v[0] - '0';
		return 0;
	}
	stls_diag_err(c->diag, label(c, "file_type", at, sizeof(at)), 0,
		      "file_type: 0 (paths) or 1 (PEM text), not '%.40s'", v);
	return -EINVAL;
}

/* One key column of the row. */
static int apply_column(struct conv *c, size_t j)
{
	const char *name = stls_db_rows_col(c->rows, j);
	const char *v = cell(c, (int)j);
	struct stls_pkey_info ki;
	char at[256];

	if (c->key_of[j] < 0 || blank(v) ||
	    !stls_profile_key_at((size_t)c->key_of[j], &ki)) {
		return 0;
	}
	if (ki.field == STLS_PF_SERVER_NAME_MODE &&
	    blank(cell_of(c, "server_name"))) {
		return 0;
	}
	label(c, name, at, sizeof(at));
	if (ki.pem && c->file_type == 0 && strstr(v, "-----BEGIN ")) {
		/* Never let key material pass for a file name (messages
		 * would print it). */
		stls_diag_err(c->diag, at, 0,
			      "%s: the value is PEM text but file_type is 0 "
			      "(file_type 1 takes PEM text)", ki.name);
		return -EINVAL;
	}
	/* An HSM key id (docs/hsm.md) is never PEM text, whatever file_type. */
	if (c->file_type != 1 || !ki.pem || stls_hsm_is_key_id(v)) {
		return apply_trimmed(c, ki.name, v, at);
	}
	if (!strstr(v, "-----BEGIN ")) {
		stls_diag_err(c->diag, at, 0,
			      "%s: file_type is 1 but the value is not PEM "
			      "text (file_type 0 takes a path)", ki.name);
		return -EINVAL;
	}
	return stls_conf_recs_apply_pem(c->r, ki.name, v, at, c->diag);
}

/*
 * file_type 1: an empty key column means the key follows the certificate
 * in its PEM text, and a PEM key without a password of its own gets the
 * one given for keys held in rows.
 */
static int pem_key_extras(struct conv *c, const char *key, const char *cert,
			  const char *pw)
{
	const char *kv = cell_of(c, key);
	char at[256];
	int rc = 0;

	if (c->file_type != 1 || (blank(kv) && blank(cell_of(c, cert)))) {
		return 0;
	}
	if (blank(kv)) {
		rc = stls_conf_recs_apply(c->r, key, "",
					  label(c, key, at, sizeof(at)),
					  c->diag);
	}
	if (!rc && (blank(kv) || !stls_hsm_is_key_id(kv)) &&
	    blank(cell_of(c, pw)) &&
	    c->o->key_password && c->o->key_password[0]) {
		rc = stls_conf_recs_apply(c->r, pw, c->o->key_password,
					  label(c, pw, at, sizeof(at)),
					  c->diag);
	}
	return rc;
}

static int convert_row(struct conv *c)
{
	const char *type = cell(c, c->c_type);
	const char *name = cell(c, c->c_name);
	char tat[256], nat[256];
	struct stls_conf_rec_hdr h = { type ? type : "",
				       label(c, "profile_type", tat,
					     sizeof(tat)),
				       name ? name : "",
				       label(c, "profile_name", nat,
					     sizeof(nat)),
				       c->at };
	size_t j;
	int rc = 0, r;

	r = stls_conf_recs_push(c->r, &h, c->diag);
	if (r) {
		return r == -ENOMEM ? r : 0;
	}
	if (parse_file_type(c)) {
		return 0;
	}
	for (j = 0; j < stls_db_rows_ncols(c->rows) && rc != -ENOMEM; j++) {
		rc = apply_column(c, j);
	}
	if (rc != -ENOMEM) {
		rc = pem_key_extras(c, "private_key", "certificate",
				    "private_key_password");
	}
	if (rc != -ENOMEM) {
		rc = pem_key_extras(c, "private_key2", "certificate2",
				    "private_key_password2");
	}
	return rc == -ENOMEM ? rc : 0;
}

int stls_db_conv_rows(const struct stls_db_rows *rows,
		      const struct stls_conf *conf,
		      const struct stls_db_conv_opts *o,
		      struct stls_profile_conf **list,
		      struct stls_diag *diag)
{
	static const struct stls_db_conv_opts none;
	struct conv c = { .rows = rows, .o = o ? o : &none, .diag = diag };
	size_t errors0 = diag->errors;
	int rc;

	*list = NULL;
	c.table = c.o->table ? c.o->table : STLS_DB_TABLE_DEFAULT;
	rc = stls_conf_recs_new(c.o->base_dir, &c.r);
	if (!rc) {
		rc = map_columns(&c);
	}
	for (c.row = 0; !rc && c.row < stls_db_rows_count(rows); c.row++) {
		const char *id = cell(&c, c.c_id);

		if (id) {
			snprintf(c.at, sizeof(c.at), "%s id=%.40s", c.table,
				 id);
		} else {
			snprintf(c.at, sizeof(c.at), "%s row %zu (id NULL)",
				 c.table, c.row + 1);
		}
		rc = convert_row(&c);
	}
	if (!rc) {
		rc = stls_conf_recs_build(c.r, conf, list, diag);
	}
	if (!rc && diag->errors > errors0) {
		stls_profile_conf_list_free(*list);
		*list = NULL;
		rc = -EINVAL;
	}
	free(c.key_of);
	stls_conf_recs_free(c.r);
	return rc;
}
