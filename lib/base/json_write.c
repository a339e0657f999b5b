/*
 * JSON writer (see stls/json.h): compact or pretty, always valid output.
 *
 * Strings are escaped per RFC 8259 section 7: '"', '\\' and the control
 * characters below U+0020 always; DEL and U+2028/U+2029 are escaped too so
 * the text is safe to paste into logs and JavaScript. Bytes that are not
 * well-formed UTF-8 become U+FFFD. Doubles are formatted under a private
 * "C" locale (uselocale() is per thread), so a daemon that ever calls
 * setlocale() still writes "1.5", not "1,5".
 */
#include "json_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
	int err;
	unsigned flags;
};

static void put(struct out *o, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (o->err) {
		return;
	}
	if (o->len + n + 1 > o->cap) {
		ncap = o->cap ? o->cap : 256;
		while (ncap < o->len + n + 1) {
			ncap *= 2;
		}
		np = realloc(o->p, ncap);
		if (!np) {
			o->err = -ENOMEM;
			return;
		}
		o->p = np;
		o->cap = ncap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u(struct out *o, unsigned cp)
{
	char tmp[16];

	/* cp is a UTF-16 unit (<= 0xFFFF): always 6 characters. */
	snprintf(tmp, sizeof(tmp), "\\u%04X", cp & 0xFFFFu);
	put(o, tmp, 6);
}

/* Code point of a well-formed sequence of n bytes. */
static unsigned decode(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	unsigned cp = p[0] & lead_mask[n];
	size_t i;

	for (i = 1; i < n; i++) {
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	return cp;
}

static void put_non_ascii(struct out *o, const unsigned char *p, size_t n)
{
	unsigned cp = decode(p, n);

	if (cp == 0x2028 || cp == 0x2029) {
		put_u(o, cp);
	} else if (!(o->flags & STLS_JSON_ASCII)) {
		put(o, (const char *)p, n);
	} else if (cp < 0x10000) {
		put_u(o, cp);
	} else {
		cp -= 0x10000;
		put_u(o, 0xD800 + (cp >> 10));
		put_u(o, 0xDC00 + (cp & 0x3FF));
	}
}

static void put_string(struct out *o, const char *s, size_t len)
{
	static const char short_esc[] = "\b\f\n\r\t\"\\", short_to[] = "bfnrt\"\\";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	const unsigned char *run;
	const char *hit;
	char esc[2] = { '\\', 0 };
	size_t n;

	put(o, "\"", 1);
	while (p < end) {
		run = p;
		while (p < end && *p >= 0x20 && *p < 0x7F && *p != '"' &&
		       *p != '\\') {
			p++;
		}
		put(o, (const char *)run, (size_t)(p - run));
		if (p >= end) {
			break;
		}
		hit = *p ? strchr(short_esc, *p) : NULL;
		if (hit) {
			esc[1] = short_to[hit - short_esc];
			put(o, esc, 2);
			p++;
		} else if (*p < 0x80) {
			put_u(o, *p++); /* other controls and DEL */
		} else if ((n = stls__json_utf8_len(p, (size_t)(end - p)))) {
			put_non_ascii(o, p, n);
			p += n;
		} else {
			put_non_ascii(o, (const unsigned char *)"\xEF\xBF\xBD",
				      3);
			p++;
		}
	}
	put(o, "\"", 1);
}

const char *stls_json_format_double(double d, char buf[32])
{
	locale_t loc = stls__json_c_locale(), old = (locale_t)0;
	int prec;

	if (!isfinite(d)) {
		strcpy(buf, "null");
		return buf;
	}
	if (loc) {
		old = uselocale(loc);
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, d);
		if ((loc ? strtod_l(buf, NULL, loc) : strtod(buf, NULL)) == d) {
			break;
		}
	}
	if (old) {
		uselocale(old);
	}
	/* Keep the type on a round trip: "3" would read back as an integer. */
	if (!strpbrk(buf, ".eE")) {
		strcat(buf, ".0");
	}
	return buf;
}

static void newline(struct out *o, unsigned level)
{
	static const char spaces[] = "                                ";
	unsigned n = level * 2;

	if (!(o->flags & STLS_JSON_PRETTY)) {
		return;
	}
	put(o, "\n", 1);
	while (n) {
		unsigned k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put(o, spaces, k);
		n -= k;
	}
}

static void write_value(struct out *o, const struct stls_json *v,
			unsigned level);

static void write_container(struct out *o, const struct stls_json *v,
			    unsigned level)
{
	bool obj = v->type == STLS_JSON_OBJECT;
	size_t n = stls_json_len(v), i;

	put(o, obj ? "{" : "[", 1);
	for (i = 0; i < n; i++) {
		if (i) {
			put(o, ",", 1);
		}
		newline(o, level + 1);
		if (obj) {
			put_string(o, v->u.o.v[i].key, v->u.o.v[i].klen);
			puts_(o, o->flags & STLS_JSON_PRETTY ? ": " : ":");
			write_value(o, v->u.o.v[i].val, level + 1);
		} else {
			write_value(o, v->u.a.v[i], level + 1);
		}
	}
	if (n) {
		newline(o, level);
	}
	put(o, obj ? "}" : "]", 1);
}

static void write_value(struct out *o, const struct stls_json *v,
			unsigned level)
{
	char buf[32];

	switch (v->type) {
	case STLS_JSON_NULL:
		puts_(o, "null");
		break;
	case STLS_JSON_BOOL:
		puts_(o, v->u.b ? "true" : "false");
		break;
	case STLS_JSON_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->u.i);
		puts_(o, buf);
		break;
	case STLS_JSON_DOUBLE:
		puts_(o, stls_json_format_double(v->u.d, buf));
		break;
	case STLS_JSON_STRING:
		put_string(o, v->u.s.p, v->u.s.len);
		break;
	case STLS_JSON_ARRAY:
	case STLS_JSON_OBJECT:
		write_container(o, v, level);
		break;
	}
}

int stls_json_write(const struct stls_json *v, unsigned flags, char **out,
		    size_t *len)
{
	struct out o = { .flags = flags };

	*out = NULL;
	if (!v) {
		return -EINVAL;
	}
	write_value(&o, v, 0);
	if (!o.err && !o.p) {
		o.err = -ENOMEM;
	}
	if (o.err) {
		free(o.p);
		return o.err;
	}
	*out = o.p;
	if (len) {
		*len = o.len;
	}
	return 0;
}
