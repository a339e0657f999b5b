/*
 * `siptlsctl db show [ID]`: the rows, one line each (id, the profile
 * header, every non-blank column), or one row as "column: value" lines.
 * PEM text is summed up, never printed ("PEM: 2 certificates, 1480
 * bytes"; a key says whether it is encrypted) and passwords show as
 * "...".
 */
#include "db_cmd.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* What a cell is shown as; buf for summaries. */
static const char *shown(const char *col, const char *v, char *buf,
			 size_t len)
{
	size_t certs, crls;

	if (strstr(col, "password")) {
		return "...";
	}
	if (!strstr(v, "-----BEGIN ")) {
		return v;
	}
	certs = count(v, "-----BEGIN CERTIFICATE-----");
	crls = count(v, "-----BEGIN X509 CRL-----");
	if (strstr(v, "PRIVATE KEY-----")) {
		snprintf(buf, len, "PEM: %s key%s, %zu bytes",
			 strstr(v, "ENCRYPTED") ? "encrypted" :
						  "NOT ENCRYPTED (refused)",
			 certs ? " after a certificate" : "", strlen(v));
	} else {
		snprintf(buf, len, "PEM: %zu certificate%s, %zu CRL%s, %zu "
			 "bytes", certs, certs == 1 ? "" : "s", crls,
			 crls == 1 ? "" : "s", strlen(v));
	}
	return buf;
}

static bool blank(const char *s)
{
	while (s && isspace((unsigned char)*s)) {
		s++;
	}
	return !s || !*s;
}

static bool skipped(const char *col)
{
	return strcmp(col, "id") == 0 || strcmp(col, "profile_type") == 0 ||
	       strcmp(col, "profile_name") == 0;
}

static void show_line(const struct stls_db_rows *r, size_t i)
{
	char buf[160];
	size_t j;

	printf("%s [%s:%s]", stls_db_rows_get(r, i, 0) ?
	       stls_db_rows_get(r, i, 0) : "NULL",
	       stls_db_rows_get(r, i, 1) ? stls_db_rows_get(r, i, 1) : "",
	       stls_db_rows_get(r, i, 2) ? stls_db_rows_get(r, i, 2) : "");
	for (j = 3; j < stls_db_rows_ncols(r); j++) {
		const char *col = stls_db_rows_col(r, j);
		const char *v = stls_db_rows_get(r, i, j);

		if (!blank(v) && !skipped(col)) {
			printf(" %s=%s", col, shown(col, v, buf, sizeof(buf)));
		}
	}
	printf("\n");
}

static void show_one(const struct stls_db_rows *r, size_t i)
{
	char buf[160];
	size_t j;

	for (j = 0; j < stls_db_rows_ncols(r); j++) {
		const char *col = stls_db_rows_col(r, j);
		const char *v = stls_db_rows_get(r, i, j);

		if (!blank(v)) {
			printf("%s: %s\n", col, shown(col, v, buf,
						       sizeof(buf)));
		}
	}
}

int stls__db_cmd_show(struct db_ctx *c)
{
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	size_t i, found = 0;

	if (stls_db_load_rows(c->db, &r, &err)) {
		return stls__db_fail(c, "%s", err.msg);
	}
	if (stls_db_rows_find(r, "id") != 0 ||
	    stls_db_rows_find(r, "profile_type") != 1 ||
	    stls_db_rows_find(r, "profile_name") != 2) {
		stls_db_rows_free(r);
		return stls__db_fail(c, "%s is no profile table (id, "
				     "profile_type, profile_name first)",
				     stls_db_table(c->db));
	}
	for (i = 0; i < stls_db_rows_count(r); i++) {
		const char *id = stls_db_rows_get(r, i, 0);

		if (!c->o.npos) {
			show_line(r, i);
		} else if (id && strcmp(id, c->o.pos[0]) == 0) {
			show_one(r, i);
			found++;
		}
	}
	stls_db_rows_free(r);
	if (c->o.npos && !found) {
		return stls__db_fail(c, "no row with id %s", c->o.pos[0]);
	}
	return DB_EXIT_OK;
}
