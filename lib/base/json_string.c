/*
 * JSON strings (RFC 8259 section 7): escapes, \u escapes with surrogate
 * pairs, and UTF-8 validation of raw bytes (RFC 3629: no overlong forms, no
 * encoded surrogates, nothing above U+10FFFF). Part of the parser in
 * json.c.
 */
#include "json_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int hex4(struct stls__json_parser *ps, const char *at, unsigned *out)
{
	unsigned v = 0, i;
	char c;

	if (ps->end - at < 4) {
		return stls__json_fail(ps, at, -EINVAL, "truncated \\u escape");
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
			return stls__json_fail(ps, at + i, -EINVAL,
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
static int parse_uescape(struct stls__json_parser *ps, struct sbuf *b)
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
		return stls__json_fail(ps, at, -EINVAL, "lone low surrogate \\u%04X", cp);
	}
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' ||
		    ps->p[1] != 'u') {
			return stls__json_fail(ps, at, -EINVAL,
				    "high surrogate \\u%04X not followed by "
				    "a low one", cp);
		}
		rc = hex4(ps, ps->p + 2, &lo);
		if (rc) {
			return rc;
		}
		if (lo < 0xDC00 || lo > 0xDFFF) {
			return stls__json_fail(ps, at, -EINVAL,
				    "high surrogate \\u%04X not followed by "
				    "a low one", cp);
		}
		ps->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return sbuf_put(b, enc, utf8_encode(cp, enc));
}

static int parse_escape(struct stls__json_parser *ps, struct sbuf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	ps->p++; /* the backslash */
	if (ps->p >= ps->end) {
		return stls__json_fail(ps, ps->p, -EINVAL, "unterminated string");
	}
	if (*ps->p == 'u') {
		ps->p++;
		return parse_uescape(ps, b);
	}
	hit = *ps->p ? strchr(from, *ps->p) : NULL;
	if (!hit) {
		return stls__json_fail(ps, ps->p - 1, -EINVAL, "invalid escape sequence");
	}
	ps->p++;
	return sbuf_put(b, &to[hit - from], 1);
}

int stls__json_parse_string(struct stls__json_parser *ps, char **out, size_t *len)
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
				rc = stls__json_fail(ps, ps->p, -EINVAL,
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
			rc = stls__json_fail(ps, ps->p, -EINVAL, "unterminated string");
		} else if (*ps->p == '"') {
			ps->p++;
			*out = b.p;
			*len = b.len;
			return 0;
		} else if (*ps->p == '\\') {
			rc = parse_escape(ps, &b);
		} else {
			rc = stls__json_fail(ps, ps->p, -EINVAL,
				  "raw control character 0x%02X in string",
				  (unsigned)*ps->p);
		}
	}
out:
	free(b.p);
	return rc;
}
