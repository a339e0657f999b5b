/*
 * Collected configuration diagnostics (see stls/diag.h).
 */
#include "stls/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void stls_diag_init(struct stls_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void stls_diag_fini(struct stls_diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void stls_diag_add(struct stls_diag *d, enum stls_diag_level level,
		   const char *file, int line, const char *fmt, ...)
{
	struct stls_diag_entry *e;
	va_list ap;
	char *msg = NULL;
	int rc;

	if (level == STLS_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct stls_diag_entry *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return;
	e = &d->v[d->n++];
	e->level = level;
	e->file = file ? strdup(file) : NULL;
	e->line = line;
	e->msg = msg;
}

const char *stls_diag_format(const struct stls_diag_entry *e, char *buf,
			     size_t len)
{
	const char *sev = e->level == STLS_DIAG_WARNING ? "warning: " : "";

	if (e->file && e->line > 0)
		snprintf(buf, len, "%s:%d: %s%s", e->file, e->line, sev,
			 e->msg);
	else if (e->file)
		snprintf(buf, len, "%s: %s%s", e->file, sev, e->msg);
	else
		snprintf(buf, len, "%s%s", sev, e->msg);
	return buf;
}

void stls_diag_print(const struct stls_diag *d, FILE *f)
{
	char buf[2048];
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(f, "%s\n", stls_diag_format(&d->v[i], buf, sizeof(buf)));
}

void stls_diag_move(struct stls_diag *dst, struct stls_diag *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		struct stls_diag_entry *e = &src->v[i];

		stls_diag_add(dst, e->level, e->file, e->line, "%s", e->msg);
	}
	stls_diag_fini(src);
}
