/*
 * JSON (RFC 8259): a strict parser into a small DOM, builders, and a writer.
 *
 * Used by the control plane (JSON-RPC 2.0 in the daemon, siptlsctl). Not on
 * any SIP hot path: clarity and strictness first.
 *
 * The DOM. A value (struct stls_json, opaque) is null, a boolean, an integer,
 * a double, a string, an array or an object. Objects keep their members in
 * input (or insertion) order. Numbers without fraction or exponent that fit
 * in int64_t are integers; every other number is a double (so 1.0 and 1e2
 * are doubles, and 2^63 is a double). Strings are UTF-8 with an explicit
 * length: "\u0000" is allowed and yields an embedded NUL.
 *
 * Strictness. The parser accepts exactly RFC 8259: one value with optional
 * surrounding whitespace, no comments, no trailing commas, no leading zeros,
 * no NaN/Infinity, no raw control characters in strings, no invalid UTF-8
 * (overlong forms, encoded surrogates, code points above U+10FFFF), no lone
 * surrogate escapes, no duplicate keys in one object. Numbers that overflow
 * a double are refused. Limits (struct stls_json_limits) bound the input
 * size, the nesting depth and the members of one array or object. Errors
 * carry the byte offset where parsing stopped.
 *
 * The writer produces compact or pretty (two-space) output, escapes what
 * must be escaped, replaces invalid UTF-8 in strings built by the program
 * with U+FFFD so the output is always valid JSON, writes non-finite doubles
 * as null, and never depends on the process locale.
 *
 * Ownership. Every value has one owner. Functions that "take" a value own
 * it afterwards even when they fail, and accept NULL (reporting -ENOMEM):
 * a builder chain such as
 *	err = stls_json_object_add(obj, "id", stls_json_new_int(7));
 * needs no separate check of the allocation.
 *
 * Threads: values are plain data; no locking, no global state except a
 * lazily created "C" locale (thread-safe).
 */
#ifndef STLS_JSON_H
#define STLS_JSON_H

#include "stls/common.h"

struct stls_json;

enum stls_json_type {
	STLS_JSON_NULL,
	STLS_JSON_BOOL,
	STLS_JSON_INT,
	STLS_JSON_DOUBLE,
	STLS_JSON_STRING,
	STLS_JSON_ARRAY,
	STLS_JSON_OBJECT,
};

/* Default limits: used for any field left 0. */
#define STLS_JSON_DEFAULT_MAX_SIZE (1u << 20)
#define STLS_JSON_DEFAULT_MAX_DEPTH 64
#define STLS_JSON_DEFAULT_MAX_MEMBERS 10000
/* The depth limit can never exceed this (the parser recurses). */
#define STLS_JSON_HARD_MAX_DEPTH 512

struct stls_json_limits {
	size_t max_size;    /* input bytes */
	unsigned max_depth; /* nested arrays/objects; 1 = scalars and one level */
	size_t max_members; /* elements of one array or members of one object */
};

/* Why parsing failed: a sentence and the byte offset it refers to. */
struct stls_json_error {
	size_t offset;
	char msg[96];
};

/*
 * Parses exactly one JSON text of <len> bytes (it need not be
 * NUL-terminated). <lim> may be NULL (defaults). On success *out owns the
 * new value (stls_json_free()). Returns 0; -EINVAL for a syntax or encoding
 * error; -ENOBUFS when a limit is hit; -ENOMEM. On failure *out is NULL and
 * <err> (may be NULL) says what and where. Thread: any.
 */
STLS_MUST_USE int stls_json_parse(const char *text, size_t len,
				  const struct stls_json_limits *lim,
				  struct stls_json **out,
				  struct stls_json_error *err);

/* Frees a value and everything in it. NULL is a no-op. */
void stls_json_free(struct stls_json *v);

/* Deep copy; NULL on allocation failure (or when v is NULL). */
struct stls_json *stls_json_clone(const struct stls_json *v);

/*
 * Structural equality: same types, same numbers, same bytes, same members
 * in the same order. An integer never equals a double.
 */
bool stls_json_equal(const struct stls_json *a, const struct stls_json *b);

/* ---- Reading. All accessors accept NULL and wrong types safely. ---- */

/* Type of v; STLS_JSON_NULL for a NULL pointer. */
enum stls_json_type stls_json_type(const struct stls_json *v);
const char *stls_json_type_name(enum stls_json_type t);
bool stls_json_is(const struct stls_json *v, enum stls_json_type t);

/* Value of a boolean; false for anything else. */
bool stls_json_get_bool(const struct stls_json *v);
/* Value of an integer; 0 for anything else. */
int64_t stls_json_get_int(const struct stls_json *v);
/* Value of a number (integer converted); 0.0 for anything else. */
double stls_json_get_double(const struct stls_json *v);
/*
 * Borrowed, NUL-terminated bytes of a string (valid while v lives), and its
 * length in *len when len is not NULL. NULL for anything else.
 */
const char *stls_json_get_str(const struct stls_json *v, size_t *len);

/* Elements of an array or members of an object; 0 for anything else. */
size_t stls_json_len(const struct stls_json *v);
/* Borrowed element i of an array, or NULL. */
struct stls_json *stls_json_array_get(const struct stls_json *v, size_t i);
/* Borrowed key and value of member i of an object, or NULL. */
const char *stls_json_object_key(const struct stls_json *v, size_t i);
struct stls_json *stls_json_object_value(const struct stls_json *v, size_t i);
/*
 * Borrowed value of the member named <key> (compared byte for byte, whole
 * key), or NULL when v is not an object or has no such member.
 */
struct stls_json *stls_json_object_get(const struct stls_json *v,
				       const char *key);

/* ---- Building. Constructors return NULL on allocation failure. ---- */

struct stls_json *stls_json_new_null(void);
struct stls_json *stls_json_new_bool(bool b);
struct stls_json *stls_json_new_int(int64_t i);
struct stls_json *stls_json_new_double(double d);
/* Copies the NUL-terminated string s (NULL gives a JSON null). */
struct stls_json *stls_json_new_str(const char *s);
/* Copies len bytes (may contain NUL; need not be valid UTF-8). */
struct stls_json *stls_json_new_strn(const char *s, size_t len);
/* printf-style string. */
struct stls_json *stls_json_new_strf(const char *fmt, ...) STLS_PRINTF(1, 2);
struct stls_json *stls_json_new_array(void);
struct stls_json *stls_json_new_object(void);

/*
 * Appends <val> to array <arr>; takes <val> (see the file comment). Returns
 * 0, -EINVAL when arr is not an array or val is arr, -ENOMEM.
 */
STLS_MUST_USE int stls_json_array_push(struct stls_json *arr,
				       struct stls_json *val);

/*
 * Sets member <key> (copied) of object <obj> to <val>, replacing an
 * existing member of that name in place or appending a new one; takes
 * <val>. Returns 0, -EINVAL when obj is not an object, -ENOMEM.
 */
STLS_MUST_USE int stls_json_object_set(struct stls_json *obj, const char *key,
				       struct stls_json *val);

/* Shorthands for stls_json_object_set() with a new scalar. */
STLS_MUST_USE int stls_json_object_set_int(struct stls_json *obj,
					   const char *key, int64_t i);
STLS_MUST_USE int stls_json_object_set_str(struct stls_json *obj,
					   const char *key, const char *s);
STLS_MUST_USE int stls_json_object_set_bool(struct stls_json *obj,
					    const char *key, bool b);

/* ---- Writing (json_write.c). ---- */

enum stls_json_write_flags {
	STLS_JSON_COMPACT = 0,
	STLS_JSON_PRETTY = 1 << 0,  /* newlines and two-space indentation */
	STLS_JSON_ASCII = 1 << 1,   /* escape every non-ASCII character */
};

/*
 * Serialises <v> into a new NUL-terminated buffer in *out (free()), its
 * length without the NUL in *len (may be NULL). Compact output never
 * contains a raw newline. Returns 0 or -ENOMEM (*out is NULL then), -EINVAL
 * for NULL v. Thread: any.
 */
STLS_MUST_USE int stls_json_write(const struct stls_json *v, unsigned flags,
				  char **out, size_t *len);

/*
 * Writes the shortest decimal text that reads back as exactly <d> (at most
 * 17 significant digits), with a ".0" added when it would otherwise read
 * as an integer; "null" when d is not finite. Locale-independent. buf
 * should hold 32 bytes. Returns buf.
 */
const char *stls_json_format_double(double d, char buf[32]);

#endif
