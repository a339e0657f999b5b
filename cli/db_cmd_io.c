/*
 * `siptlsctl db import TLS_CFG` and `export`. Import writes every profile
 * written in a tls.cfg (file or directory) as a row, in one transaction
 * that is checked before it commits; with --file-type 1 the PEM files are
 * read into the rows. Export writes the tls.cfg the rows make (like
 * `kamcli tls cfgprint`), PEM text going to files in --pem-dir.
 */
#include "db_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stls/x509.h"

struct import {
	struct db_ctx *c;
	struct stls_profile_conf *list;
	int file_type;
	size_t n;
	long long first, last;
};

static int do_import(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct import *im = arg;
	struct stls_profile_conf *p;
	struct stls_db_rows *cols = NULL;
	struct stls_db_row *r = NULL;
	struct stls_diag d;
	char sql[96];
	int rc = stls_db_admin_columns(db, &cols, err);

	if (!rc && im->c->o.replace) {
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"",
			 stls_db_table(db));
		rc = stls_db_query(db, sql, NULL, 0, NULL, err);
	}
	stls_diag_init(&d);
	for (p = im->list; !rc && p; p = p->next) {
		if (p->implicit) {
			continue; /* a default nobody wrote */
		}
		rc = stls_db_row_from_profile(p, im->file_type, &r, &d);
		if (rc) {
			stls_diag_print(&d, stderr);
			snprintf(err->msg, sizeof(err->msg), "cannot make the "
				 "rows; nothing was written");
			break;
		}
		rc = stls_db_row_check(r, cols, stls_db_table(db), err);
		if (!rc) {
			rc = stls_db_row_insert(db, r, &im->last, err);
		}
		im->first = im->n++ ? im->first : im->last;
		stls_db_row_free(r);
		r = NULL;
	}
	stls_diag_fini(&d);
	stls_db_rows_free(cols);
	return rc ? rc : stls__db_check(im->c, NULL, err);
}

/* The profiles written in a tls.cfg; relative paths as siptlsd reads
 * them (the main config's directory with -c, else the file's own). */
static int read_tls_cfg(struct db_ctx *c, const char *path,
			struct stls_profile_conf **list)
{
	struct stls_settings s;
	struct stls_diag d;
	char *dir = NULL, *slash;
	int rc;

	if (stls_settings_init(&s)) {
		return stls__db_fail(c, "out of memory");
	}
	s.config = realpath(path, NULL);
	if (!s.config) {
		stls_settings_fini(&s);
		return stls__db_fail(c, "cannot read '%s': %s", path,
				     strerror(errno));
	}
	if (!c->conf && (dir = strdup(s.config)) &&
	    (slash = strrchr(dir, '/'))) {
		*slash = '\0';
	}
	stls_diag_init(&d);
	rc = stls_conf_load_profiles(&s, c->conf ? c->base_dir : dir, list,
				     &d);
	stls_diag_print(&d, stderr);
	stls_diag_fini(&d);
	stls_settings_fini(&s);
	free(dir);
	return rc ? stls__db_fail(c, "'%s' does not load: nothing was "
				  "imported", path) : 0;
}

int stls__db_cmd_import(struct db_ctx *c)
{
	struct import im = { c, NULL, c->o.file_type < 0 ? 0 : c->o.file_type,
			     0, 0, 0 };
	struct stls_db_err err = { "" };
	int rc = read_tls_cfg(c, c->o.pos[0], &im.list);

	if (rc) {
		return rc;
	}
	rc = stls_db_txn(c->db, STLS_DB_TXN_LOCK, do_import, &im, &err);
	stls_profile_conf_list_free(im.list);
	if (rc) {
		return stls__db_fail(c, "%s", err.msg);
	}
	printf("imported %zu profile%s into %s", im.n, im.n == 1 ? "" : "s",
	       stls_db_table(c->db));
	if (im.n) {
		printf(" (ids %lld..%lld)", im.first, im.last);
	}
	printf("\n");
	return DB_EXIT_OK;
}

int stls__db_cmd_export(struct db_ctx *c)
{
	/* Absolute, so that the tls.cfg works from any directory. */
	char *pem_dir = c->o.pem_dir ? realpath(c->o.pem_dir, NULL) : NULL;
	struct stls_db_export_opts o = { stls_db_table(c->db), pem_dir,
					 c->o.force };
	struct stls_db_rows *rows = NULL;
	struct stls_x509_err xe;
	struct stls_db_err err;
	struct stls_diag d;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (c->o.pem_dir && !pem_dir) {
		return stls__db_fail(c, "--pem-dir '%s': %s", c->o.pem_dir,
				     strerror(errno));
	}
	if (stls_db_load_rows(c->db, &rows, &err)) {
		free(pem_dir);
		return stls__db_fail(c, "%s", err.msg);
	}
	f = open_memstream(&text, &len);
	stls_diag_init(&d);
	rc = f ? stls_db_export(rows, &o, f, &d) : -ENOMEM;
	if (f) {
		fclose(f);
	}
	stls_diag_print(&d, stderr);
	stls_diag_fini(&d);
	stls_db_rows_free(rows);
	if (!rc && c->o.out) {
		rc = stls_x509_file_write(c->o.out, text, len, 0644, true, &xe);
		if (rc) {
			fprintf(stderr, "siptlsctl db export: %s\n", xe.msg);
		}
	} else if (!rc) {
		fwrite(text, 1, len, stdout);
	}
	free(text);
	free(pem_dir);
	return rc ? stls__db_fail(c, "nothing exported") : DB_EXIT_OK;
}
