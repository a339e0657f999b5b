/*
 * Strict RFC 8259 parser (see stls/json.h for what it accepts).
 *
 * Design: recursive descent over a bounded byte range, one function per
 * grammar rule (RFC 8259 sections 2-7). The depth limit bounds recursion;
 * the member limit bounds each container; the size limit is checked before
 * anything is read. The first error wins: it records a sentence and the
 * byte offset, and every caller unwinds, freeing what it built. Strings
 * (escapes, UTF-8) are parsed in json_string.c.
 */
#include "json_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int stls__json_fail(struct stls__json_parser *ps, const char *at, int rc,
		    const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		ps->err->offset = (size_t)(at - ps->start);
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Describes the byte at ps->p for an error message. */
static int unexpected(struct stls__json_parser *ps, const char *wanted)
{
	unsigned char c;

	if (ps->p >= ps->end) {
		return stls__json_fail(ps, ps->p, -EINVAL,
			    "unexpected end of input, expected %s", wanted);
	}
	c = (unsigned char)*ps->p;
	if (c >= 0x21 && c < 0x7F) {
		return stls__json_fail(ps, ps->p, -EINVAL, "unexpected '%c', expected %s",
			    c, wanted);
	}
	return stls__json_fail(ps, ps->p, -EINVAL, "unexpected byte 0x%02X, expected %s",
		    c, wanted);
}

static void skip_ws(struct stls__json_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r')) {
		ps->p++;
	}
}

static int parse_value(struct stls__json_parser *ps, unsigned depth,
		       struct stls_json **out);

/* ---- Literals and numbers ---- */

static int parse_literal(struct stls__json_parser *ps, struct stls_json **out)
{
	static const struct {
		const char *word;
		enum stls_json_type type;
		bool b;
	} lits[] = {
		{ "true", STLS_JSON_BOOL, true },
		{ "false", STLS_JSON_BOOL, false },
		{ "null", STLS_JSON_NULL, false },
	};
	size_t i, n;

	for (i = 0; i < STLS_ARRAY_SIZE(lits); i++) {
		n = strlen(lits[i].word);
		if ((size_t)(ps->end - ps->p) >= n &&
		    memcmp(ps->p, lits[i].word, n) == 0) {
			*out = stls__json_alloc(lits[i].type);
			if (!*out) {
				return -ENOMEM;
			}
			(*out)->u.b = lits[i].b;
			ps->p += n;
			return 0;
		}
	}
	return unexpected(ps, "a value");
}

static bool is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* Integral text (optional '-', digits) into int64; false on overflow. */
static bool text_to_int(const char *s, const char *e, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

	for (s += neg; s < e; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (acc > (lim - d) / 10) {
			return false;
		}
		acc = acc * 10 + d;
	}
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return true;
}

static int number_value(struct stls__json_parser *ps, const char *s, bool integral,
			struct stls_json **out)
{
	char tmp[64], *copy = tmp, *endp;
	size_t n = (size_t)(ps->p - s);
	int64_t i;
	double d;

	if (integral && text_to_int(s, ps->p, &i)) {
		*out = stls_json_new_int(i);
		return *out ? 0 : -ENOMEM;
	}
	if (n >= sizeof(tmp)) {
		copy = malloc(n + 1);
		if (!copy) {
			return -ENOMEM;
		}
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	errno = 0;
	d = strtod_l(copy, &endp, stls__json_c_locale());
	if (copy != tmp) {
		free(copy);
	}
	/* ERANGE on underflow is fine (the value rounds to 0 or denormal). */
	if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
		return stls__json_fail(ps, s, -EINVAL, "number out of range");
	}
	*out = stls_json_new_double(d);
	return *out ? 0 : -ENOMEM;
}

static int parse_number(struct stls__json_parser *ps, struct stls_json **out)
{
	const char *s = ps->p;
	bool integral = true;

	if (ps->p < ps->end && *ps->p == '-') {
		ps->p++;
	}
	if (!is_digit(ps->p, ps->end)) {
		return unexpected(ps, "a digit");
	}
	if (*ps->p == '0' && is_digit(ps->p + 1, ps->end)) {
		return stls__json_fail(ps, ps->p, -EINVAL, "leading zero in number");
	}
	while (is_digit(ps->p, ps->end)) {
		ps->p++;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		integral = false;
		ps->p++;
		if (!is_digit(ps->p, ps->end)) {
			return unexpected(ps, "a digit after '.'");
		}
		while (is_digit(ps->p, ps->end)) {
			ps->p++;
		}
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integral = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) {
			ps->p++;
		}
		if (!is_digit(ps->p, ps->end)) {
			return unexpected(ps, "a digit in the exponent");
		}
		while (is_digit(ps->p, ps->end)) {
			ps->p++;
		}
	}
	return number_value(ps, s, integral, out);
}

static int parse_string(struct stls__json_parser *ps, struct stls_json **out)
{
	char *s = NULL;
	size_t len = 0;
	int rc;

	rc = stls__json_parse_string(ps, &s, &len);
	if (rc) {
		return rc;
	}
	*out = stls__json_alloc(STLS_JSON_STRING);
	if (!*out) {
		free(s);
		return -ENOMEM;
	}
	(*out)->u.s.p = s;
	(*out)->u.s.len = len;
	return 0;
}

/* ---- Containers ---- */

static int parse_array(struct stls__json_parser *ps, unsigned depth,
		       struct stls_json **out)
{
	struct stls_json *arr, *elt = NULL;
	int rc = 0;

	arr = stls_json_new_array();
	if (!arr) {
		return -ENOMEM;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		*out = arr;
		return 0;
	}
	for (;;) {
		if (arr->u.a.n >= ps->lim.max_members) {
			rc = stls__json_fail(ps, ps->p, -ENOBUFS,
				  "array has more than %zu elements",
				  ps->lim.max_members);
			break;
		}
		rc = parse_value(ps, depth, &elt);
		if (rc || (rc = stls_json_array_push(arr, elt))) {
			break;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			*out = arr;
			return 0;
		}
		rc = unexpected(ps, "',' or ']' in array");
		break;
	}
	stls_json_free(arr);
	return rc;
}

static int cmp_members(const void *a, const void *b)
{
	const struct stls__json_member *x = *(const void *const *)a;
	const struct stls__json_member *y = *(const void *const *)b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	if (c) {
		return c;
	}
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* Is member i a duplicate of one before it? */
static int dup_of(struct stls__json_parser *ps, const struct stls_json *obj, size_t i,
		  const char *at)
{
	const struct stls__json_member *m = obj->u.o.v;
	size_t j;

	for (j = 0; j < i; j++) {
		if (m[j].klen == m[i].klen &&
		    memcmp(m[j].key, m[i].key, m[i].klen) == 0) {
			return stls__json_fail(ps, at, -EINVAL, "duplicate key \"%.40s\"",
				    m[i].key);
		}
	}
	return 0;
}

/*
 * RFC 8259 section 4 leaves duplicate names undefined; we refuse them so
 * that no two readers can disagree on a request (for example on "method").
 * Sorting keeps this O(n log n) for big objects.
 */
static int check_duplicates(struct stls__json_parser *ps, const struct stls_json *obj,
			    const char *at)
{
	const struct stls__json_member **v;
	size_t n = obj->u.o.n, i;
	int rc = 0;

	if (n < 2) {
		return 0;
	}
	if (n <= 16) { /* small objects: pairwise is cheaper than sorting */
		for (i = 1; i < n; i++) {
			rc = dup_of(ps, obj, i, at);
			if (rc) {
				return rc;
			}
		}
		return 0;
	}
	v = malloc(n * sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		v[i] = &obj->u.o.v[i];
	}
	qsort(v, n, sizeof(*v), cmp_members);
	for (i = 1; i < n; i++) {
		if (cmp_members(&v[i - 1], &v[i]) == 0) {
			rc = stls__json_fail(ps, at, -EINVAL, "duplicate key \"%.40s\"",
				  v[i]->key);
			break;
		}
	}
	free(v);
	return rc;
}

/* One "key": value pair; ps->p is at the key's quote. */
static int parse_member(struct stls__json_parser *ps, unsigned depth,
			struct stls_json *obj)
{
	struct stls_json *val = NULL;
	char *key = NULL;
	size_t klen = 0;
	int rc;

	rc = stls__json_parse_string(ps, &key, &klen);
	if (rc) {
		return rc;
	}
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':') {
		free(key);
		return unexpected(ps, "':' after object key");
	}
	ps->p++;
	rc = parse_value(ps, depth, &val);
	if (rc) {
		free(key);
		return rc;
	}
	return stls__json_object_append(obj, key, klen, val);
}

static int parse_object(struct stls__json_parser *ps, unsigned depth,
			struct stls_json **out)
{
	const char *open = ps->p;
	struct stls_json *obj;
	int rc = 0;

	obj = stls_json_new_object();
	if (!obj) {
		return -ENOMEM;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		*out = obj;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			rc = unexpected(ps, "a string key in object");
			break;
		}
		if (obj->u.o.n >= ps->lim.max_members) {
			rc = stls__json_fail(ps, ps->p, -ENOBUFS,
				  "object has more than %zu members",
				  ps->lim.max_members);
			break;
		}
		rc = parse_member(ps, depth, obj);
		if (rc) {
			break;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			rc = check_duplicates(ps, obj, open);
			if (rc) {
				break;
			}
			*out = obj;
			return 0;
		}
		rc = unexpected(ps, "',' or '}' in object");
		break;
	}
	stls_json_free(obj);
	return rc;
}

static int parse_value(struct stls__json_parser *ps, unsigned depth,
		       struct stls_json **out)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		return unexpected(ps, "a value");
	}
	switch (*ps->p) {
	case '{':
	case '[':
		if (depth >= ps->lim.max_depth) {
			return stls__json_fail(ps, ps->p, -ENOBUFS,
				    "nesting deeper than %u levels",
				    ps->lim.max_depth);
		}
		if (*ps->p == '{') {
			return parse_object(ps, depth + 1, out);
		}
		return parse_array(ps, depth + 1, out);
	case '"':
		return parse_string(ps, out);
	case '-':
		return parse_number(ps, out);
	default:
		if (is_digit(ps->p, ps->end)) {
			return parse_number(ps, out);
		}
		return parse_literal(ps, out);
	}
}

int stls_json_parse(const char *text, size_t len,
		    const struct stls_json_limits *lim, struct stls_json **out,
		    struct stls_json_error *err)
{
	struct stls__json_parser ps = { .start = text, .p = text, .end = text + len,
			     .err = err };
	struct stls_json *v = NULL;
	int rc;

	*out = NULL;
	if (lim) {
		ps.lim = *lim;
	}
	if (!ps.lim.max_size) {
		ps.lim.max_size = STLS_JSON_DEFAULT_MAX_SIZE;
	}
	if (!ps.lim.max_depth) {
		ps.lim.max_depth = STLS_JSON_DEFAULT_MAX_DEPTH;
	}
	if (ps.lim.max_depth > STLS_JSON_HARD_MAX_DEPTH) {
		ps.lim.max_depth = STLS_JSON_HARD_MAX_DEPTH;
	}
	if (!ps.lim.max_members) {
		ps.lim.max_members = STLS_JSON_DEFAULT_MAX_MEMBERS;
	}
	if (err) {
		err->offset = 0;
		err->msg[0] = '\0';
	}
	if (len > ps.lim.max_size) {
		return stls__json_fail(&ps, text, -ENOBUFS, "input larger than %zu bytes",
			    ps.lim.max_size);
	}
	rc = parse_value(&ps, 0, &v);
	if (rc == -ENOMEM) {
		stls__json_fail(&ps, ps.p, rc, "out of memory");
	}
	if (!rc) {
		skip_ws(&ps);
		if (ps.p < ps.end) {
			rc = stls__json_fail(&ps, ps.p, -EINVAL,
				  "unexpected data after the value");
		}
	}
	if (rc) {
		stls_json_free(v);
		return rc;
	}
	*out = v;
	return 0;
}
