/*
 * Text tables for siptlsctl -t (see table.h).
 *
 * Widths count UTF-8 code points, not bytes, so names with accents stay
 * aligned; wide (East Asian) characters are not measured specially.
 */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Renders a value as one cell of text (a new string). */
static char *cell_text(const struct stls_json *v)
{
	const char *s = stls_json_get_str(v, NULL);
	char *out = NULL, *p;

	if (!v) {
		return strdup("-");
	}
	if (s) {
		out = strdup(s);
	} else if (stls_json_write(v, STLS_JSON_COMPACT, &out, NULL)) {
		return NULL;
	}
	for (p = out; p && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7F) {
			*p = ' '; /* keep one row per line */
		}
	}
	while (p && p > out && p[-1] == ' ') {
		*--p = '\0';
	}
	return out;
}

static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		n += ((unsigned char)*s & 0xC0) != 0x80;
	}
	return n;
}

static void pad(FILE *f, const char *s, size_t w)
{
	size_t n = width(s);

	fputs(s, f);
	while (n++ < w) {
		fputc(' ', f);
	}
}

/* Column names: the union of the keys of every row, first seen first. */
static int collect_columns(const struct stls_json *rows, const char ***cols,
			   size_t *ncols)
{
	size_t i, j, k, cap = 0;
	const char **v = NULL, **nv;

	*ncols = 0;
	for (i = 0; i < stls_json_len(rows); i++) {
		const struct stls_json *row = stls_json_array_get(rows, i);

		for (j = 0; j < stls_json_len(row); j++) {
			const char *key = stls_json_object_key(row, j);

			for (k = 0; k < *ncols && strcmp(v[k], key); k++) {
			}
			if (k < *ncols) {
				continue;
			}
			if (*ncols == cap) {
				cap = cap ? cap * 2 : 8;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[(*ncols)++] = key;
		}
	}
	*cols = v;
	return 0;
}

static void free_cells(char **cells, size_t n)
{
	size_t i;

	for (i = 0; cells && i < n; i++) {
		free(cells[i]);
	}
	free(cells);
}

static int print_rows(FILE *f, const struct stls_json *rows)
{
	size_t nrows = stls_json_len(rows), ncols = 0, r, c;
	const char **cols = NULL;
	size_t *w = NULL;
	char **cells = NULL;
	int rc;

	rc = collect_columns(rows, &cols, &ncols);
	if (rc || ncols == 0) {
		free(cols);
		return rc;
	}
	w = calloc(ncols, sizeof(*w));
	cells = calloc(nrows * ncols, sizeof(*cells));
	rc = w && cells ? 0 : -ENOMEM;
	for (c = 0; !rc && c < ncols; c++) {
		w[c] = width(cols[c]);
		for (r = 0; !rc && r < nrows; r++) {
			cells[r * ncols + c] = cell_text(stls_json_object_get(
				stls_json_array_get(rows, r), cols[c]));
			if (!cells[r * ncols + c]) {
				rc = -ENOMEM;
			} else if (width(cells[r * ncols + c]) > w[c]) {
				w[c] = width(cells[r * ncols + c]);
			}
		}
	}
	for (r = 0; !rc && r <= nrows; r++) {
		for (c = 0; c < ncols; c++) {
			const char *s = r ? cells[(r - 1) * ncols + c] : cols[c];

			if (c + 1 == ncols) {
				fputs(s, f); /* no trailing blanks */
			} else {
				pad(f, s, w[c] + 2);
			}
		}
		fputc('\n', f);
	}
	free_cells(cells, cells ? nrows * ncols : 0);
	free(w);
	free(cols);
	return rc;
}

static int print_object(FILE *f, const struct stls_json *o)
{
	size_t n = stls_json_len(o), kw = 0, i;
	char *s;

	for (i = 0; i < n; i++) {
		if (width(stls_json_object_key(o, i)) > kw) {
			kw = width(stls_json_object_key(o, i));
		}
	}
	for (i = 0; i < n; i++) {
		s = cell_text(stls_json_object_value(o, i));
		if (!s) {
			return -ENOMEM;
		}
		fputs(stls_json_object_key(o, i), f);
		fputc(':', f);
		pad(f, "", kw - width(stls_json_object_key(o, i)) + 1);
		fprintf(f, "%s\n", s);
		free(s);
	}
	return 0;
}

static bool all_objects(const struct stls_json *a)
{
	size_t i;

	for (i = 0; i < stls_json_len(a); i++) {
		if (!stls_json_is(stls_json_array_get(a, i), STLS_JSON_OBJECT)) {
			return false;
		}
	}
	return stls_json_len(a) > 0;
}

int stls_table_print(FILE *f, const struct stls_json *v)
{
	size_t i;
	char *s;
	int rc = 0;

	if (stls_json_is(v, STLS_JSON_ARRAY) && all_objects(v)) {
		rc = print_rows(f, v);
	} else if (stls_json_is(v, STLS_JSON_OBJECT)) {
		rc = print_object(f, v);
	} else if (stls_json_is(v, STLS_JSON_ARRAY)) {
		if (stls_json_len(v) == 0) {
			fputs("(empty)\n", f);
		}
		for (i = 0; !rc && i < stls_json_len(v); i++) {
			s = cell_text(stls_json_array_get(v, i));
			rc = s ? 0 : -ENOMEM;
			if (s) {
				fprintf(f, "%s\n", s);
			}
			free(s);
		}
	} else {
		s = cell_text(v);
		if (!s) {
			return -ENOMEM;
		}
		fprintf(f, "%s\n", s);
		free(s);
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
	}
	return rc;
}
