/*
 * Fuzz target for row-to-profile conversion (lib/db/db_conv.c), the part
 * of lib/db that reads what anyone with write access to the table wrote.
 *
 * Input: a table as text. The first line holds the column names, each
 * further line one row; cells are separated by TAB; "\N" is SQL NULL and
 * "\n", "\t", "\\" are escapes (so cells can hold PEM text). The rows are
 * converted (every header, key, value and file_type path of lib/conf is
 * reached), exported as a tls.cfg to memory, and, when no cell names a
 * file outside /nonexistent (the base directory), built into a profile
 * set: PEM text is then parsed from memory by OpenSSL. Reads no real
 * file, writes none.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stls/db.h"
#include "stls/db_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COLS 40
#define MAX_ROWS 16

/* Splits one line (modified in place) into unescaped cells. */
static size_t split(char *line, char **cells)
{
	size_t n = 0;
	char *r = line, *w = line;

	cells[n++] = w;
	for (; *r && n < MAX_COLS; r++) {
		if (*r == '\t') {
			*w++ = '\0';
			cells[n++] = w;
		} else if (*r == '\\' && r[1]) {
			r++;
			*w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' :
			       *r == 'N' ? '\x01' : *r;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return n;
}

/* The base directory: any path outside it blocks the build. */
static const char base[] = "/nonexistent";

static bool safe_path(const struct stls_profile_conf *p, enum stls_pf f,
		      const char *v)
{
	return !v || !v[0] || stls_profile_conf_is_pem(p, f) ||
	       strncmp(v, base, sizeof(base) - 1) == 0;
}

static bool buildable(const struct stls_profile_conf *list)
{
	const struct stls_profile_conf *p;
	size_t n = 0;

	for (p = list; p; p = p->next, n++) {
		if (!safe_path(p, STLS_PF_CERTIFICATE, p->certificate) ||
		    !safe_path(p, STLS_PF_PRIVATE_KEY, p->private_key) ||
		    !safe_path(p, STLS_PF_CERTIFICATE2, p->certificate2) ||
		    !safe_path(p, STLS_PF_PRIVATE_KEY2, p->private_key2) ||
		    !safe_path(p, STLS_PF_CA_LIST, p->ca_list) ||
		    !safe_path(p, STLS_PF_CRL, p->crl) ||
		    !safe_path(p, STLS_PF_CA_PATH, p->ca_path)) {
			return false;
		}
	}
	return n <= MAX_ROWS;
}

static void use(struct stls_db_rows *rows)
{
	/* "secret" opens the test PKI's encrypted key of the corpus. */
	struct stls_db_conv_opts o = { "tlscfg", base, "secret" };
	struct stls_db_export_opts eo = { "tlscfg", NULL, false };
	struct stls_profile_conf *list = NULL;
	struct stls_profile_set *set = NULL;
	struct stls_settings s;
	struct stls_diag d;
	char *text = NULL, buf[2048];
	size_t len = 0, i;
	FILE *f;

	stls_diag_init(&d);
	if (stls_db_conv_rows(rows, NULL, &o, &list, &d) == 0 &&
	    buildable(list) && stls_settings_init(&s) == 0) {
		if (stls_profile_set_build(&s, list, &d, &set) == 0) {
			stls_profile_set_unref(set);
		}
		stls_settings_fini(&s);
	}
	stls_profile_conf_list_free(list);
	f = open_memstream(&text, &len);
	if (f) {
		/* The result does not matter; reaching the quoting does. */
		int rc = stls_db_export(rows, &eo, f, &d);

		fclose(f);
		(void)rc;
	}
	free(text);
	for (i = 0; i < d.n; i++) {
		stls_diag_format(&d.v[i], buf, sizeof(buf));
	}
	stls_diag_fini(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *save = NULL;
	char *cells[MAX_COLS];
	const char *v[MAX_COLS];
	struct stls_db_rows *rows = NULL;
	size_t ncols = 0, n, j, nrows = 0;

	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line && nrows <= MAX_ROWS;
	     line = strtok_r(NULL, "\n", &save)) {
		n = split(line, cells);
		for (j = 0; j < MAX_COLS; j++) {
			v[j] = j < n && strcmp(cells[j], "\x01") != 0 ? cells[j]
								     : NULL;
		}
		if (!rows) {
			ncols = n;
			if (stls_db_rows_new(ncols, v, &rows)) {
				break;
			}
		} else if (stls_db_rows_push(rows, v) == 0) {
			nrows++;
		}
	}
	if (rows) {
		use(rows);
	}
	stls_db_rows_free(rows);
	free(text);
	return 0;
}
