/*
 * The Prometheus text exposition format, version 0.0.4 (what /metrics
 * serves): a growing buffer, one "# HELP" and "# TYPE" line per family,
 * then its samples, "name{label="value",...} value".
 *
 * Label values are escaped as the format asks (backslash, double quote,
 * newline); names are the caller's constants ([a-zA-Z_:][a-zA-Z0-9_:]*).
 * Out of memory is remembered (p->err) and later writes are skipped, so a
 * page is built without checking every call.
 */
#ifndef STLSD_PROM_H
#define STLSD_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mstat.h"

struct stls_prom {
	char *buf;
	size_t len, cap;
	int err; /* 0 or -ENOMEM */
};

void stls_prom_init(struct stls_prom *p);
void stls_prom_fini(struct stls_prom *p);

/* Hands the text over (NUL-terminated; free()), or NULL after an error.
 * *p is empty afterwards. */
char *stls_prom_take(struct stls_prom *p, size_t *len);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void stls_prom_family(struct stls_prom *p, const char *name,
		      const char *type, const char *help);

/*
 * One sample. <labels> is NULL or a list of name, value, name, value, ...
 * ended by NULL (NULL values print as ""). Integer and real values.
 */
void stls_prom_int(struct stls_prom *p, const char *name,
		   const char *const *labels, int64_t v);
void stls_prom_uint(struct stls_prom *p, const char *name,
		    const char *const *labels, uint64_t v);
void stls_prom_real(struct stls_prom *p, const char *name,
		    const char *const *labels, double v);

/*
 * A histogram's samples (the family line is the caller's): name_bucket
 * with cumulative counts for each bound of <spec> in seconds and +Inf,
 * name_sum in seconds, name_count. <labels> as above, may be NULL.
 */
void stls_prom_histo(struct stls_prom *p, const char *name,
		     const char *const *labels,
		     const struct stls_histo_spec *spec,
		     const struct stls_histo_snap *h);

#endif
