/*
 * Result tables: column names and text cells, NULL for SQL NULL. Cells
 * may hold encrypted keys and passwords, so they are wiped when freed.
 */
#include "db/db_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

struct stls_db_rows {
	size_t ncols, nrows, cap; /* cap: rows allocated */
	char **cols;
	char **cells; /* nrows * ncols */
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int stls_db_rows_new(size_t ncols, const char *const *names,
		     struct stls_db_rows **out)
{
	struct stls_db_rows *r = calloc(1, sizeof(*r));
	size_t j;

	if (!r || !(r->cols = calloc(ncols ? ncols : 1, sizeof(char *)))) {
		free(r);
		return -ENOMEM;
	}
	r->ncols = ncols;
	for (j = 0; j < ncols; j++) {
		r->cols[j] = strdup(names[j] ? names[j] : "");
		if (!r->cols[j]) {
			stls_db_rows_free(r);
			return -ENOMEM;
		}
	}
	*out = r;
	return 0;
}

void stls_db_rows_free(struct stls_db_rows *r)
{
	size_t i;

	if (!r) {
		return;
	}
	for (i = 0; i < r->nrows * r->ncols; i++) {
		wipe_free(r->cells[i]);
	}
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i]);
	}
	free(r->cells);
	free(r->cols);
	free(r);
}

int stls_db_rows_push(struct stls_db_rows *r, const char *const *cells)
{
	char **row;
	size_t j;

	if (r->nrows == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char **v = realloc(r->cells, cap * (r->ncols ? r->ncols : 1) *
						     sizeof(*v));

		if (!v) {
			return -ENOMEM;
		}
		r->cells = v;
		r->cap = cap;
	}
	row = r->cells + r->nrows * r->ncols;
	for (j = 0; j < r->ncols; j++) {
		row[j] = NULL;
		if (cells[j] && !(row[j] = strdup(cells[j]))) {
			while (j-- > 0) {
				wipe_free(row[j]);
			}
			return -ENOMEM;
		}
	}
	r->nrows++;
	return 0;
}

size_t stls_db_rows_ncols(const struct stls_db_rows *r)
{
	return r->ncols;
}

size_t stls_db_rows_count(const struct stls_db_rows *r)
{
	return r->nrows;
}

const char *stls_db_rows_col(const struct stls_db_rows *r, size_t j)
{
	return j < r->ncols ? r->cols[j] : NULL;
}

int stls_db_rows_find(const struct stls_db_rows *r, const char *name)
{
	size_t j;

	for (j = 0; j < r->ncols; j++) {
		if (strcasecmp(r->cols[j], name) == 0) {
			return (int)j;
		}
	}
	return -1;
}

const char *stls_db_rows_get(const struct stls_db_rows *r, size_t i,
			     size_t j)
{
	if (i >= r->nrows || j >= r->ncols) {
		return NULL;
	}
	return r->cells[i * r->ncols + j];
}

/* Feeds one string with its length first, or a NULL marker. */
static int feed(EVP_MD_CTX *md, const char *s)
{
	uint64_t len = s ? (uint64_t)strlen(s) : UINT64_MAX;

	return EVP_DigestUpdate(md, &len, sizeof(len)) &&
	       (!s || EVP_DigestUpdate(md, s, (size_t)len));
}

int stls_db_rows_digest(const struct stls_db_rows *r, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	size_t i;
	int ok;

	if (!md) {
		return -ENOMEM;
	}
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (i = 0; ok && i < r->ncols; i++) {
		ok = feed(md, r->cols[i]);
	}
	for (i = 0; ok && i < r->nrows * r->ncols; i++) {
		ok = feed(md, r->cells[i]);
	}
	ok = ok && EVP_DigestFinal_ex(md, out, &n) && n == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -ENOMEM;
}
