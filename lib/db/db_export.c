/*
 * A tls.cfg from the rows (siptlsctl db export), like `kamcli tls
 * cfgprint`: one section per row, in id order, with every non-blank key
 * column. PEM text (file_type 1) goes to files named <column>_<id>.pem in
 * the directory given, written atomically (keys 0600), and the section
 * names them. Values are quoted where the tls.cfg grammar needs it, so
 * that loading the export gives the profiles the rows give.
 */
#include "db/db_int.h"
#include "stls/db_admin.h"
#include "stls/x509.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Longest value a tls.cfg token holds (lib/conf's lexer). */
#define TOKEN_MAX 511

struct exp {
	const struct stls_db_rows *rows;
	const struct stls_db_export_opts *o;
	const char *table;
	FILE *out;
	struct stls_diag *diag;
	size_t row;
	char at[128];
	int file_type;
};

static const char *cell(const struct exp *e, const char *col)
{
	int j = stls_db_rows_find(e->rows, col);

	return j < 0 ? NULL : stls_db_rows_get(e->rows, e->row, (size_t)j);
}

static bool blank(const char *s)
{
	while (s && isspace((unsigned char)*s)) {
		s++;
	}
	return !s || !*s;
}

/* Characters an unquoted tls.cfg value may hold. */
static bool plain(int c)
{
	return isalnum(c) || c == '_' || strchr("=:;.,?[]/@!$%&*()-+|'", c);
}

/*
 * Writes "key = value" with value trimmed and quoted when needed. Returns
 * 0, or -EINVAL (reported) for a value tls.cfg cannot hold.
 */
static int put_kv(struct exp *e, const char *key, const char *v)
{
	size_t n, i;
	bool quote = false;

	while (isspace((unsigned char)*v)) {
		v++;
	}
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1])) {
		n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			break;
		}
		quote |= !plain(c) || (i == 0 && c == '\\');
	}
	if (i < n || n > TOKEN_MAX) {
		stls_diag_err(e->diag, e->at, 0,
			      "%s: the value cannot be written in tls.cfg "
			      "(control characters, or over %d bytes)", key,
			      TOKEN_MAX);
		return -EINVAL;
	}
	fprintf(e->out, "%s = %s", key, quote ? "\"" : "");
	for (i = 0; i < n; i++) {
		const char *esc = v[i] == '"'  ? "\\\"" :
				  v[i] == '\\' ? "\\\\" :
				  v[i] == '\n' ? "\\n" :
				  v[i] == '\r' ? "\\r" :
				  v[i] == '\t' ? "\\t" : NULL;

		if (esc && quote) {
			fputs(esc, e->out);
		} else {
			fputc(v[i], e->out);
		}
	}
	fprintf(e->out, "%s\n", quote ? "\"" : "");
	return 0;
}

/* Writes PEM text to <pem_dir>/<col>_<id>.pem; the path into buf. */
static int put_pem_file(struct exp *e, const char *col, const char *pem,
			char *path, size_t len)
{
	bool key = strncmp(col, "private_key", 11) == 0;
	struct stls_x509_err xe;
	int rc;

	if (!e->o->pem_dir) {
		stls_diag_err(e->diag, e->at, 0,
			      "%s: PEM text needs a directory to go to "
			      "(--pem-dir)", col);
		return -EINVAL;
	}
	snprintf(path, len, "%s/%s_%s.pem", e->o->pem_dir, col,
		 cell(e, "id") ? cell(e, "id") : "null");
	rc = stls_x509_file_write(path, pem, strlen(pem), key ? 0600 : 0644,
				  e->o->force, &xe);
	if (rc) {
		stls_diag_err(e->diag, e->at, 0, "%s: %s", col, xe.msg);
		return rc == -ENOMEM ? rc : -EIO;
	}
	return 0;
}

static int put_column(struct exp *e, const struct stls_db_col *c)
{
	const char *v = cell(e, c->name), *pw;
	struct stls_pkey_info ki;
	char path[4096];
	int rc;

	if (c->key < 0 || blank(v) || !stls_profile_key_at((size_t)c->key,
							    &ki)) {
		return 0;
	}
	if (ki.field == STLS_PF_SERVER_NAME_MODE &&
	    blank(cell(e, "server_name"))) {
		return 0;
	}
	if (e->file_type != 1 || !ki.pem || !strstr(v, "-----BEGIN ")) {
		return put_kv(e, c->name, v);
	}
	rc = put_pem_file(e, c->name, v, path, sizeof(path));
	pw = ki.field == STLS_PF_PRIVATE_KEY  ? "private_key_password" :
	     ki.field == STLS_PF_PRIVATE_KEY2 ? "private_key_password2" :
						NULL;
	if (!rc && pw && strstr(v, "ENCRYPTED") && blank(cell(e, pw))) {
		/* Its password came from the main config or a file. */
		fprintf(e->out, "# %s is encrypted and the row has no "
			"password: add %s\n", c->name, pw);
	}
	return rc ? rc : put_kv(e, c->name, path);
}

/* file_type 1, key column blank: the key follows the certificate. */
static void put_key_follows(struct exp *e, const char *key, const char *cert)
{
	if (e->file_type == 1 && blank(cell(e, key)) &&
	    !blank(cell(e, cert))) {
		fprintf(e->out, "%s = \"\"\n", key);
	}
}

static int put_row(struct exp *e)
{
	const char *type = cell(e, "profile_type");
	const char *name = cell(e, "profile_name");
	const char *ft = cell(e, "file_type");
	struct stls_db_col c;
	size_t i;
	int rc = 0;

	e->file_type = !blank(ft) && atoi(ft) == 1;
	fprintf(e->out, "\n# %s\n[", e->at);
	for (; *type; type++) {
		if (!isspace((unsigned char)*type)) {
			fputc(*type, e->out);
		}
	}
	fputc(':', e->out);
	for (; *name; name++) {
		if (!isspace((unsigned char)*name)) {
			fputc(*name, e->out);
		}
	}
	fputs("]\n", e->out);
	for (i = 0; !rc && stls_db_col_at(i, &c); i++) {
		rc = put_column(e, &c);
	}
	put_key_follows(e, "private_key", "certificate");
	put_key_follows(e, "private_key2", "certificate2");
	return rc;
}

int stls_db_export(const struct stls_db_rows *rows,
		   const struct stls_db_export_opts *o, FILE *out,
		   struct stls_diag *diag)
{
	static const struct stls_db_export_opts none;
	struct stls_db_conv_opts co = { 0 };
	struct stls_profile_conf *list = NULL;
	struct exp e = { .rows = rows, .o = o ? o : &none, .out = out,
			 .diag = diag };
	int rc;

	e.table = e.o->table ? e.o->table : STLS_DB_TABLE_DEFAULT;
	co.table = e.table;
	/* A table that would not load is not exported. */
	rc = stls_db_conv_rows(rows, NULL, &co, &list, diag);
	stls_profile_conf_list_free(list);
	if (rc) {
		return rc;
	}
	fprintf(out, "# tls.cfg written by siptlsctl db export from table "
		"%s (%zu profiles)\n", e.table, stls_db_rows_count(rows));
	for (e.row = 0; !rc && e.row < stls_db_rows_count(rows); e.row++) {
		snprintf(e.at, sizeof(e.at), "%s id=%.40s", e.table,
			 cell(&e, "id") ? cell(&e, "id") : "NULL");
		rc = put_row(&e);
	}
	if (!rc && fflush(out) != 0) {
		rc = -EIO;
	}
	return rc;
}
