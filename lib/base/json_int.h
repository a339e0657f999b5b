/*
 * Internals shared by json.c, json_string.c, json_dom.c and json_write.c. Not part of
 * the public API.
 */
#ifndef STLS_JSON_INT_H
#define STLS_JSON_INT_H

#include <locale.h>

#include "stls/json.h"

struct stls__json_member {
	char *key; /* NUL-terminated copy; may also contain NUL bytes */
	size_t klen;
	struct stls_json *val;
};

struct stls_json {
	enum stls_json_type type;
	union {
		bool b;
		int64_t i;
		double d;
		struct {
			char *p; /* NUL-terminated */
			size_t len;
		} s;
		struct {
			struct stls_json **v;
			size_t n, cap;
		} a;
		struct {
			struct stls__json_member *v;
			size_t n, cap;
		} o;
	} u;
};

/* Parser state (json.c, json_string.c). */
struct stls__json_parser {
	const char *start, *p, *end;
	struct stls_json_limits lim;
	struct stls_json_error *err;
};

/*
 * Records the first error (a sentence and the offset of <at>) and returns
 * <rc>.
 */
int stls__json_fail(struct stls__json_parser *ps, const char *at, int rc,
		    const char *fmt, ...) STLS_PRINTF(4, 5)
	__attribute__((visibility("hidden")));

/*
 * Parses the string whose opening quote is at ps->p into a new
 * NUL-terminated buffer (*out, *len bytes; may contain NUL) and moves past
 * the closing quote. Returns 0, -EINVAL (error recorded) or -ENOMEM.
 */
int stls__json_parse_string(struct stls__json_parser *ps, char **out,
			    size_t *len) __attribute__((visibility("hidden")));

/*
 * Length (1-4) of the well-formed UTF-8 sequence at p, looking at no more
 * than avail bytes, or 0 when it is not well formed (RFC 3629).
 */
size_t stls__json_utf8_len(const unsigned char *p, size_t avail)
	__attribute__((visibility("hidden")));

/* The "C" locale, created once; (locale_t)0 if that failed. */
locale_t stls__json_c_locale(void) __attribute__((visibility("hidden")));

/* Allocates a bare value of type t (no payload). NULL on failure. */
struct stls_json *stls__json_alloc(enum stls_json_type t)
	__attribute__((visibility("hidden")));

/*
 * Appends a member without looking for an existing key; takes key (a
 * malloc'd buffer of klen bytes plus NUL) and val in every case. Returns 0
 * or -ENOMEM.
 */
int stls__json_object_append(struct stls_json *obj, char *key, size_t klen,
			     struct stls_json *val)
	__attribute__((visibility("hidden")));

#endif
