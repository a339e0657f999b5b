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

/* Renders a value as one cell of text (a new string, free()). */
static char *cell_text(const json_t *v)
{
	const char *s = json_string_value(v);
	char *out, *p;

	if (!v) {
		return strdup("-");
	}
	/* jansson's text is malloc()ed: we never change its allocator. */
	out = s ? strdup(s) : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!out) {
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

/*
 * Column names: the union of the keys of every row, first seen first. The
 * names are borrowed from the rows.
 */
static int collect_columns(json_t *rows, const char ***cols, size_t *ncols)
{
	size_t i, k, cap = 0;
	const char **v = NULL, **nv;
	const char *key;
	json_t *row, *val;

	*ncols = 0;
	json_array_foreach(rows, i, row) {
		json_object_foreach(row, key, val) {
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

static int print_rows(FILE *f, json_t *rows)
{
	size_t nrows = json_array_size(rows), ncols = 0, r, c;
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
			cells[r * ncols + c] = cell_text(json_object_get(
				json_array_get(rows, r), cols[c]));
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

static int print_object(FILE *f, json_t *o)
{
	size_t kw = 0;
	const char *key;
	json_t *val;
	char *s;

	json_object_foreach(o, key, val) {
		if (width(key) > kw) {
			kw = width(key);
		}
	}
	json_object_foreach(o, key, val) {
		s = cell_text(val);
		if (!s) {
			return -ENOMEM;
		}
		fputs(key, f);
		fputc(':', f);
		pad(f, "", kw - width(key) + 1);
		fprintf(f, "%s\n", s);
		free(s);
	}
	return 0;
}

static bool all_objects(const json_t *a)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++) {
		if (!json_is_object(json_array_get(a, i))) {
			return false;
		}
	}
	return json_array_size(a) > 0;
}

int stls_table_print(FILE *f, json_t *v)
{
	size_t i;
	char *s;
	int rc = 0;

	if (json_is_array(v) && all_objects(v)) {
		rc = print_rows(f, v);
	} else if (json_is_object(v)) {
		rc = print_object(f, v);
	} else if (json_is_array(v)) {
		if (json_array_size(v) == 0) {
			fputs("(empty)\n", f);
		}
		for (i = 0; !rc && i < json_array_size(v); i++) {
			s = cell_text(json_array_get(v, i));
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
