/*
 * Strict RFC 8259 parser (see stls/json.h for what it accepts).
 *
 * Design: recursive descent over a bounded byte range, one function per
 * grammar rule (RFC 8259 sections 2-7). The depth limit bounds recursion;
 * the member limit bounds each container; the size limit is checked before
 * anything is read. The first error wins: it records a sentence and the
 * byte offset, and every caller unwinds, freeing what it built.
 */
#include "json_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *start, *p, *end;
	struct stls_json_limits lim;
	struct stls_json_error *err;
};

static int fail(struct parser *ps, const char *at, int rc, const char *fmt,
		...) STLS_PRINTF(4, 5);

static int fail(struct parser *ps, const char *at, int rc, const char *fmt,
		...)
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
static int unexpected(struct parser *ps, const char *wanted)
{
	unsigned char c;

	if (ps->p >= ps->end) {
		return fail(ps, ps->p, -EINVAL,
			    "unexpected end of input, expected %s", wanted);
	}
	c = (unsigned char)*ps->p;
	if (c >= 0x21 && c < 0x7F) {
		return fail(ps, ps->p, -EINVAL, "unexpected '%c', expected %s",
			    c, wanted);
	}
	return fail(ps, ps->p, -EINVAL, "unexpected byte 0x%02X, expected %s",
		    c, wanted);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r')) {
		ps->p++;
	}
}

static int parse_value(struct parser *ps, unsigned depth,
		       struct stls_json **out);

/* ---- Literals and numbers ---- */

static int parse_literal(struct parser *ps, struct stls_json **out)
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

static int number_value(struct parser *ps, const char *s, bool integral,
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
		return fail(ps, s, -EINVAL, "number out of range");
	}
	*out = stls_json_new_double(d);
	return *out ? 0 : -ENOMEM;
}

static int parse_number(struct parser *ps, struct stls_json **out)
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
		return fail(ps, ps->p, -EINVAL, "leading zero in number");
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

/* ---- Strings ---- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 32;
		while (ncap < b->len + n + 1) {
			ncap *= 2;
		}
		np = realloc(b->p, ncap);
		if (!np) {
			return -ENOMEM;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int hex4(struct parser *ps, const char *at, unsigned *out)
{
	unsigned v = 0, i;
	char c;

	if (ps->end - at < 4) {
		return fail(ps, at, -EINVAL, "truncated \\u escape");
	}
	for (i = 0; i < 4; i++) {
		c = at[i];
		v <<= 4;
		if (c >= '0' && c <= '9') {
			v |= (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			v |= (unsigned)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			v |= (unsigned)(c - 'A' + 10);
		} else {
			return fail(ps, at + i, -EINVAL,
				    "invalid hex digit in \\u escape");
		}
	}
	*out = v;
	return 0;
}

static size_t utf8_encode(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* ps->p is just after "\u". Decodes one code point (or a pair). */
static int parse_uescape(struct parser *ps, struct sbuf *b)
{
	const char *at = ps->p - 2;
	unsigned cp, lo;
	char enc[4];
	int rc;

	rc = hex4(ps, ps->p, &cp);
	if (rc) {
		return rc;
	}
	ps->p += 4;
	if (cp >= 0xDC00 && cp <= 0xDFFF) {
		return fail(ps, at, -EINVAL, "lone low surrogate \\u%04X", cp);
	}
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' ||
		    ps->p[1] != 'u') {
			return fail(ps, at, -EINVAL,
				    "high surrogate \\u%04X not followed by "
				    "a low one", cp);
		}
		rc = hex4(ps, ps->p + 2, &lo);
		if (rc) {
			return rc;
		}
		if (lo < 0xDC00 || lo > 0xDFFF) {
			return fail(ps, at, -EINVAL,
				    "high surrogate \\u%04X not followed by "
				    "a low one", cp);
		}
		ps->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return sbuf_put(b, enc, utf8_encode(cp, enc));
}

static int parse_escape(struct parser *ps, struct sbuf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	ps->p++; /* the backslash */
	if (ps->p >= ps->end) {
		return fail(ps, ps->p, -EINVAL, "unterminated string");
	}
	if (*ps->p == 'u') {
		ps->p++;
		return parse_uescape(ps, b);
	}
	hit = *ps->p ? strchr(from, *ps->p) : NULL;
	if (!hit) {
		return fail(ps, ps->p - 1, -EINVAL, "invalid escape sequence");
	}
	ps->p++;
	return sbuf_put(b, &to[hit - from], 1);
}

/* Parses a string at ps->p (a '"') into a malloc'd buffer. */
static int parse_string_raw(struct parser *ps, char **out, size_t *len)
{
	struct sbuf b = { 0 };
	const char *run;
	size_t n;
	int rc = 0;

	ps->p++;
	rc = sbuf_put(&b, "", 0);
	while (!rc) {
		run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
		       (unsigned char)*ps->p >= 0x20) {
			n = stls__json_utf8_len((const unsigned char *)ps->p,
						(size_t)(ps->end - ps->p));
			if (!n) {
				rc = fail(ps, ps->p, -EINVAL,
					  "invalid UTF-8 in string");
				goto out;
			}
			ps->p += n;
		}
		rc = sbuf_put(&b, run, (size_t)(ps->p - run));
		if (rc) {
			break;
		}
		if (ps->p >= ps->end) {
			rc = fail(ps, ps->p, -EINVAL, "unterminated string");
		} else if (*ps->p == '"') {
			ps->p++;
			*out = b.p;
			*len = b.len;
			return 0;
		} else if (*ps->p == '\\') {
			rc = parse_escape(ps, &b);
		} else {
			rc = fail(ps, ps->p, -EINVAL,
				  "raw control character 0x%02X in string",
				  (unsigned)*ps->p);
		}
	}
out:
	free(b.p);
	return rc;
}

static int parse_string(struct parser *ps, struct stls_json **out)
{
	char *s = NULL;
	size_t len = 0;
	int rc;

	rc = parse_string_raw(ps, &s, &len);
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

static int parse_array(struct parser *ps, unsigned depth,
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
			rc = fail(ps, ps->p, -ENOBUFS,
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
static int dup_of(struct parser *ps, const struct stls_json *obj, size_t i,
		  const char *at)
{
	const struct stls__json_member *m = obj->u.o.v;
	size_t j;

	for (j = 0; j < i; j++) {
		if (m[j].klen == m[i].klen &&
		    memcmp(m[j].key, m[i].key, m[i].klen) == 0) {
			return fail(ps, at, -EINVAL, "duplicate key \"%.40s\"",
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
static int check_duplicates(struct parser *ps, const struct stls_json *obj,
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
			rc = fail(ps, at, -EINVAL, "duplicate key \"%.40s\"",
				  v[i]->key);
			break;
		}
	}
	free(v);
	return rc;
}

/* One "key": value pair; ps->p is at the key's quote. */
static int parse_member(struct parser *ps, unsigned depth,
			struct stls_json *obj)
{
	struct stls_json *val = NULL;
	char *key = NULL;
	size_t klen = 0;
	int rc;

	rc = parse_string_raw(ps, &key, &klen);
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

static int parse_object(struct parser *ps, unsigned depth,
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
			rc = fail(ps, ps->p, -ENOBUFS,
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

static int parse_value(struct parser *ps, unsigned depth,
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
			return fail(ps, ps->p, -ENOBUFS,
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
	struct parser ps = { .start = text, .p = text, .end = text + len,
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
		return fail(&ps, text, -ENOBUFS, "input larger than %zu bytes",
			    ps.lim.max_size);
	}
	rc = parse_value(&ps, 0, &v);
	if (rc == -ENOMEM) {
		fail(&ps, ps.p, rc, "out of memory");
	}
	if (!rc) {
		skip_ws(&ps);
		if (ps.p < ps.end) {
			rc = fail(&ps, ps.p, -EINVAL,
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
