/*
 * The Prometheus text exposition writer (see prom.h).
 */
#include "metrics/prom.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stls_prom_init(struct stls_prom *p)
{
	memset(p, 0, sizeof(*p));
}

void stls_prom_fini(struct stls_prom *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

char *stls_prom_take(struct stls_prom *p, size_t *len)
{
	char *b = p->err ? NULL : p->buf;

	*len = b ? p->len : 0;
	if (!b)
		free(p->buf);
	memset(p, 0, sizeof(*p));
	return b;
}

static int reserve(struct stls_prom *p, size_t n)
{
	size_t cap;
	char *nb;

	if (p->err)
		return p->err;
	if (p->len + n + 1 <= p->cap)
		return 0;
	cap = p->cap ? p->cap : 4096;
	while (cap < p->len + n + 1)
		cap *= 2;
	nb = realloc(p->buf, cap);
	if (!nb) {
		p->err = -ENOMEM;
		return p->err;
	}
	p->buf = nb;
	p->cap = cap;
	return 0;
}

static void put(struct stls_prom *p, const char *s, size_t n)
{
	if (reserve(p, n) != 0)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct stls_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

static void putf(struct stls_prom *p, const char *fmt, ...)
	STLS_PRINTF(2, 3);

static void putf(struct stls_prom *p, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(p, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
						     : sizeof(tmp) - 1);
}

/* A label value with \, " and newline escaped. */
static void put_value(struct stls_prom *p, const char *v)
{
	const char *s;

	for (s = v ? v : ""; *s; s++) {
		if (*s == '\\')
			puts_(p, "\\\\");
		else if (*s == '"')
			puts_(p, "\\\"");
		else if (*s == '\n')
			puts_(p, "\\n");
		else
			put(p, s, 1);
	}
}

void stls_prom_family(struct stls_prom *p, const char *name,
		      const char *type, const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	/* HELP text escapes backslash and newline only. */
	for (; *help; help++) {
		if (*help == '\\')
			puts_(p, "\\\\");
		else if (*help == '\n')
			puts_(p, "\\n");
		else
			put(p, help, 1);
	}
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, type);
	put(p, "\n", 1);
}

/* name{a="x",b="y"} with an optional extra label (le). */
static void head(struct stls_prom *p, const char *name, const char *suffix,
		 const char *const *labels, const char *le)
{
	bool any = false;
	size_t i;

	puts_(p, name);
	if (suffix)
		puts_(p, suffix);
	for (i = 0; labels && labels[i]; i += 2) {
		put(p, any ? "," : "{", 1);
		puts_(p, labels[i]);
		puts_(p, "=\"");
		put_value(p, labels[i + 1]);
		put(p, "\"", 1);
		any = true;
	}
	if (le) {
		put(p, any ? "," : "{", 1);
		puts_(p, "le=\"");
		puts_(p, le);
		put(p, "\"", 1);
		any = true;
	}
	if (any)
		put(p, "}", 1);
	put(p, " ", 1);
}

void stls_prom_int(struct stls_prom *p, const char *name,
		   const char *const *labels, int64_t v)
{
	head(p, name, NULL, labels, NULL);
	putf(p, "%" PRId64 "\n", v);
}

void stls_prom_uint(struct stls_prom *p, const char *name,
		    const char *const *labels, uint64_t v)
{
	head(p, name, NULL, labels, NULL);
	putf(p, "%" PRIu64 "\n", v);
}

static void put_real(struct stls_prom *p, double v)
{
	if (isnan(v))
		puts_(p, "NaN");
	else if (isinf(v))
		puts_(p, v > 0 ? "+Inf" : "-Inf");
	else
		putf(p, "%.17g", v);
}

void stls_prom_real(struct stls_prom *p, const char *name,
		    const char *const *labels, double v)
{
	head(p, name, NULL, labels, NULL);
	put_real(p, v);
	put(p, "\n", 1);
}

void stls_prom_histo(struct stls_prom *p, const char *name,
		     const char *const *labels,
		     const struct stls_histo_spec *spec,
		     const struct stls_histo_snap *h)
{
	uint64_t cum = 0;
	char le[32];
	unsigned i;

	for (i = 0; i < spec->n; i++) {
		cum += h->bucket[i];
		snprintf(le, sizeof(le), "%.9g", (double)spec->le_ns[i] / 1e9);
		head(p, name, "_bucket", labels, le);
		putf(p, "%" PRIu64 "\n", cum);
	}
	for (; i <= STLS_HISTO_MAX; i++)
		cum += h->bucket[i];
	head(p, name, "_bucket", labels, "+Inf");
	putf(p, "%" PRIu64 "\n", cum);
	head(p, name, "_sum", labels, NULL);
	put_real(p, (double)h->sum_ns / 1e9);
	put(p, "\n", 1);
	head(p, name, "_count", labels, NULL);
	putf(p, "%" PRIu64 "\n", cum);
}
