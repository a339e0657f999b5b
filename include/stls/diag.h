/*
 * Diagnostics: the problems found while loading a configuration.
 *
 * Loading never stops at the first problem when it can go on: every problem
 * is collected here with the file and line it belongs to, so that
 * `siptlsd --check` and `tls.reload` can report all of them at once as
 * "FILE:LINE: message" (errors) or "FILE:LINE: warning: message".
 * A diag is owned by its caller; messages are copied in.
 */
#ifndef STLS_DIAG_H
#define STLS_DIAG_H

#include <stdio.h>

#include "stls/common.h"

enum stls_diag_level {
	STLS_DIAG_ERROR,
	STLS_DIAG_WARNING,
};

struct stls_diag_entry {
	enum stls_diag_level level;
	char *file; /* NULL when the problem has no file */
	int line;   /* 0 when unknown */
	char *msg;
};

struct stls_diag {
	struct stls_diag_entry *v;
	size_t n, cap;
	size_t errors, warnings;
};

void stls_diag_init(struct stls_diag *d);
void stls_diag_fini(struct stls_diag *d);

/* Adds one entry. Out of memory is remembered as an error with no text. */
void stls_diag_add(struct stls_diag *d, enum stls_diag_level level,
		   const char *file, int line, const char *fmt, ...)
	STLS_PRINTF(5, 6);

#define stls_diag_err(d, file, line, ...) \
	stls_diag_add(d, STLS_DIAG_ERROR, file, line, __VA_ARGS__)
#define stls_diag_warn(d, file, line, ...) \
	stls_diag_add(d, STLS_DIAG_WARNING, file, line, __VA_ARGS__)

/*
 * Formats one entry as "FILE:LINE: message", "FILE:LINE: warning: message",
 * "FILE: message" (no line) or "message" (no file). Returns buf.
 */
const char *stls_diag_format(const struct stls_diag_entry *e, char *buf,
			     size_t len);

/* Prints every entry, one per line. */
void stls_diag_print(const struct stls_diag *d, FILE *f);

/* Moves every entry of src to the end of dst (src is left empty). */
void stls_diag_move(struct stls_diag *dst, struct stls_diag *src);

#endif
