/*
 * Keyword tables of the daemon's own sections ([core], [relay]).
 *
 * A section's keys are rows of one static table: name, kind (the module's
 * own enum), the offsetof binding into the module's settings struct
 * (type-checked by the module with _Generic), range, default as text,
 * flags and a doc string. This file walks such a table for every module:
 * it applies the defaults, applies a section's key = value lines with the
 * errors "FILE:LINE: key: reason", and writes the rows of the generated
 * reference. What a kind means stays in the module (its set function).
 */
#ifndef STLSD_KWTAB_H
#define STLSD_KWTAB_H

#include <stdio.h>

#include "stls/conf.h"
#include "stls/diag.h"

#define STLS_KW_REPEAT 0x1   /* may be written more than once */
#define STLS_KW_REQUIRED 0x2 /* "required" in the docs (module checks) */
#define STLS_KW_AUTO 0x4     /* default resolved after parsing: skipped by
			      * the defaults, and the value "auto" too */
#define STLS_KW_NONE 0x8     /* module-defined: "none" unsets */

struct stls_kw {
	const char *name;
	int kind;                 /* the module's enum */
	size_t off;               /* into the module's settings struct */
	long min, max;
	const char *const *names; /* enumerations, NULL-terminated */
	const char *def;          /* default as text, NULL: none */
	unsigned flags;           /* STLS_KW_* */
	const char *doc;
};

/*
 * Parses <value> for key <k> into <obj> (the module's settings struct).
 * <loc> is where it was written (file NULL for a default); <ctx> is the
 * module's context. Returns 0, or -errno with *why set to a short reason.
 */
typedef int stls_kw_set_fn(const struct stls_kw *k, const char *value,
			   const struct stls_loc *loc, void *obj,
			   const void *ctx, const char **why);

/* Writes the "range" cell of a row (nothing when there is none). */
typedef void stls_kw_range_fn(FILE *f, const struct stls_kw *k);

struct stls_kw_table {
	const char *section;            /* "core" */
	const struct stls_kw *kws;
	size_t n;
	stls_kw_set_fn *set;
	const char *const *kind_text;   /* indexed by kind: doc type cell */
	stls_kw_range_fn *range;
};

/* The row named <name> (exact, lower case), or NULL. */
const struct stls_kw *stls_kw_find(const struct stls_kw_table *t,
				   const char *name);

/* Applies every default (rows with def and without STLS_KW_AUTO). A
 * default the parser refuses is a bug: logged. */
void stls_kw_defaults(const struct stls_kw_table *t, void *obj,
		      const void *ctx);

/*
 * Applies the lines of <sec> (NULL: none) in order. Unknown keys, repeats
 * of a key without STLS_KW_REPEAT and refused values go to <diag>; the walk
 * goes on after each. seen[i] (n entries, zeroed by the caller) is set for
 * every row written. Returns the number of errors added.
 */
size_t stls_kw_apply(const struct stls_kw_table *t,
		     const struct stls_section *sec, void *obj,
		     const void *ctx, bool *seen, struct stls_diag *diag);

/* Writes one Markdown row per key: | key | type | default | range | doc |
 * Returns 0 or -EIO. */
int stls_kw_write_rows(FILE *f, const struct stls_kw_table *t);

/* The range cell of enumerations: `a`, `b`, `c`. */
void stls_kw_print_names(FILE *f, const char *const *names);

#endif
