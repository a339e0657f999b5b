/*
 * JSON values: allocation, accessors, builders, clone and equality (see
 * stls/json.h). Parsing lives in json.c, writing in json_write.c.
 */
#include "json_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t stls__json_c_locale(void)
{
	pthread_once(&c_locale_once, make_c_locale);
	return c_locale;
}

size_t stls__json_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0) {
			lo = 0xA0; /* no overlong forms */
		} else if (c == 0xED) {
			hi = 0x9F; /* no UTF-16 surrogates */
		}
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0) {
			lo = 0x90;
		} else if (c == 0xF4) {
			hi = 0x8F; /* nothing above U+10FFFF */
		}
	} else {
		return 0;
	}
	if (avail < n || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return 0;
		}
	}
	return n;
}

struct stls_json *stls__json_alloc(enum stls_json_type t)
{
	struct stls_json *v = calloc(1, sizeof(*v));

	if (v) {
		v->type = t;
	}
	return v;
}

void stls_json_free(struct stls_json *v)
{
	size_t i;

	if (!v) {
		return;
	}
	switch (v->type) {
	case STLS_JSON_STRING:
		free(v->u.s.p);
		break;
	case STLS_JSON_ARRAY:
		for (i = 0; i < v->u.a.n; i++) {
			stls_json_free(v->u.a.v[i]);
		}
		free(v->u.a.v);
		break;
	case STLS_JSON_OBJECT:
		for (i = 0; i < v->u.o.n; i++) {
			free(v->u.o.v[i].key);
			stls_json_free(v->u.o.v[i].val);
		}
		free(v->u.o.v);
		break;
	default:
		break;
	}
	free(v);
}

/* ---- Accessors ---- */

enum stls_json_type stls_json_type(const struct stls_json *v)
{
	return v ? v->type : STLS_JSON_NULL;
}

const char *stls_json_type_name(enum stls_json_type t)
{
	static const char *const names[] = {
		[STLS_JSON_NULL] = "null",     [STLS_JSON_BOOL] = "boolean",
		[STLS_JSON_INT] = "integer",   [STLS_JSON_DOUBLE] = "number",
		[STLS_JSON_STRING] = "string", [STLS_JSON_ARRAY] = "array",
		[STLS_JSON_OBJECT] = "object",
	};

	if ((unsigned)t >= STLS_ARRAY_SIZE(names)) {
		return "?";
	}
	return names[t];
}

bool stls_json_is(const struct stls_json *v, enum stls_json_type t)
{
	return stls_json_type(v) == t;
}

bool stls_json_get_bool(const struct stls_json *v)
{
	return v && v->type == STLS_JSON_BOOL && v->u.b;
}

int64_t stls_json_get_int(const struct stls_json *v)
{
	return v && v->type == STLS_JSON_INT ? v->u.i : 0;
}

double stls_json_get_double(const struct stls_json *v)
{
	if (v && v->type == STLS_JSON_DOUBLE) {
		return v->u.d;
	}
	if (v && v->type == STLS_JSON_INT) {
		return (double)v->u.i;
	}
	return 0.0;
}

const char *stls_json_get_str(const struct stls_json *v, size_t *len)
{
	if (!v || v->type != STLS_JSON_STRING) {
		return NULL;
	}
	if (len) {
		*len = v->u.s.len;
	}
	return v->u.s.p;
}

size_t stls_json_len(const struct stls_json *v)
{
	if (v && v->type == STLS_JSON_ARRAY) {
		return v->u.a.n;
	}
	if (v && v->type == STLS_JSON_OBJECT) {
		return v->u.o.n;
	}
	return 0;
}

struct stls_json *stls_json_array_get(const struct stls_json *v, size_t i)
{
	if (!v || v->type != STLS_JSON_ARRAY || i >= v->u.a.n) {
		return NULL;
	}
	return v->u.a.v[i];
}

const char *stls_json_object_key(const struct stls_json *v, size_t i)
{
	if (!v || v->type != STLS_JSON_OBJECT || i >= v->u.o.n) {
		return NULL;
	}
	return v->u.o.v[i].key;
}

struct stls_json *stls_json_object_value(const struct stls_json *v, size_t i)
{
	if (!v || v->type != STLS_JSON_OBJECT || i >= v->u.o.n) {
		return NULL;
	}
	return v->u.o.v[i].val;
}

static struct stls__json_member *find_member(const struct stls_json *v,
					     const char *key)
{
	size_t klen = strlen(key), i;

	for (i = 0; i < v->u.o.n; i++) {
		if (v->u.o.v[i].klen == klen &&
		    memcmp(v->u.o.v[i].key, key, klen) == 0) {
			return &v->u.o.v[i];
		}
	}
	return NULL;
}

struct stls_json *stls_json_object_get(const struct stls_json *v,
				       const char *key)
{
	struct stls__json_member *m;

	if (!v || !key || v->type != STLS_JSON_OBJECT) {
		return NULL;
	}
	m = find_member(v, key);
	return m ? m->val : NULL;
}

/* ---- Builders ---- */

struct stls_json *stls_json_new_null(void)
{
	return stls__json_alloc(STLS_JSON_NULL);
}

struct stls_json *stls_json_new_bool(bool b)
{
	struct stls_json *v = stls__json_alloc(STLS_JSON_BOOL);

	if (v) {
		v->u.b = b;
	}
	return v;
}

struct stls_json *stls_json_new_int(int64_t i)
{
	struct stls_json *v = stls__json_alloc(STLS_JSON_INT);

	if (v) {
		v->u.i = i;
	}
	return v;
}

struct stls_json *stls_json_new_double(double d)
{
	struct stls_json *v = stls__json_alloc(STLS_JSON_DOUBLE);

	if (v) {
		v->u.d = d;
	}
	return v;
}

struct stls_json *stls_json_new_strn(const char *s, size_t len)
{
	struct stls_json *v = stls__json_alloc(STLS_JSON_STRING);

	if (!v) {
		return NULL;
	}
	v->u.s.p = malloc(len + 1);
	if (!v->u.s.p) {
		free(v);
		return NULL;
	}
	if (len) {
		memcpy(v->u.s.p, s, len);
	}
	v->u.s.p[len] = '\0';
	v->u.s.len = len;
	return v;
}

struct stls_json *stls_json_new_str(const char *s)
{
	if (!s) {
		return stls_json_new_null();
	}
	return stls_json_new_strn(s, strlen(s));
}

struct stls_json *stls_json_new_strf(const char *fmt, ...)
{
	struct stls_json *v;
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return NULL;
	}
	v = stls__json_alloc(STLS_JSON_STRING);
	if (!v) {
		free(s);
		return NULL;
	}
	v->u.s.p = s;
	v->u.s.len = (size_t)n;
	return v;
}

struct stls_json *stls_json_new_array(void)
{
	return stls__json_alloc(STLS_JSON_ARRAY);
}

struct stls_json *stls_json_new_object(void)
{
	return stls__json_alloc(STLS_JSON_OBJECT);
}

/* Makes room for one more element of size elt in *v (n used, cap held). */
static int grow(void **v, size_t *cap, size_t n, size_t elt)
{
	size_t ncap;
	void *nv;

	if (n < *cap) {
		return 0;
	}
	ncap = *cap ? *cap * 2 : 4;
	nv = realloc(*v, ncap * elt);
	if (!nv) {
		return -ENOMEM;
	}
	*v = nv;
	*cap = ncap;
	return 0;
}

int stls_json_array_push(struct stls_json *arr, struct stls_json *val)
{
	if (!val) {
		return -ENOMEM;
	}
	if (!arr || arr->type != STLS_JSON_ARRAY || val == arr) {
		stls_json_free(val == arr ? NULL : val);
		return -EINVAL;
	}
	if (grow((void **)&arr->u.a.v, &arr->u.a.cap, arr->u.a.n,
		 sizeof(*arr->u.a.v))) {
		stls_json_free(val);
		return -ENOMEM;
	}
	arr->u.a.v[arr->u.a.n++] = val;
	return 0;
}

int stls__json_object_append(struct stls_json *obj, char *key, size_t klen,
			     struct stls_json *val)
{
	struct stls__json_member *m;

	if (!key || !val ||
	    grow((void **)&obj->u.o.v, &obj->u.o.cap, obj->u.o.n,
		 sizeof(*obj->u.o.v))) {
		free(key);
		stls_json_free(val);
		return -ENOMEM;
	}
	m = &obj->u.o.v[obj->u.o.n++];
	m->key = key;
	m->klen = klen;
	m->val = val;
	return 0;
}

int stls_json_object_set(struct stls_json *obj, const char *key,
			 struct stls_json *val)
{
	struct stls__json_member *m;

	if (!val) {
		return -ENOMEM;
	}
	if (!obj || !key || obj->type != STLS_JSON_OBJECT || val == obj) {
		stls_json_free(val == obj ? NULL : val);
		return -EINVAL;
	}
	m = find_member(obj, key);
	if (m) {
		stls_json_free(m->val);
		m->val = val;
		return 0;
	}
	return stls__json_object_append(obj, strdup(key), strlen(key), val);
}

int stls_json_object_set_int(struct stls_json *obj, const char *key, int64_t i)
{
	return stls_json_object_set(obj, key, stls_json_new_int(i));
}

int stls_json_object_set_str(struct stls_json *obj, const char *key,
			     const char *s)
{
	return stls_json_object_set(obj, key, stls_json_new_str(s));
}

int stls_json_object_set_bool(struct stls_json *obj, const char *key, bool b)
{
	return stls_json_object_set(obj, key, stls_json_new_bool(b));
}

/* ---- Clone and equality ---- */

static int clone_children(const struct stls_json *v, struct stls_json *c)
{
	size_t i;
	char *k;

	if (v->type == STLS_JSON_ARRAY) {
		for (i = 0; i < v->u.a.n; i++) {
			if (stls_json_array_push(c,
						 stls_json_clone(v->u.a.v[i]))) {
				return -ENOMEM;
			}
		}
		return 0;
	}
	for (i = 0; i < v->u.o.n; i++) {
		k = malloc(v->u.o.v[i].klen + 1);
		if (k) {
			memcpy(k, v->u.o.v[i].key, v->u.o.v[i].klen + 1);
		}
		if (stls__json_object_append(c, k, v->u.o.v[i].klen,
					     stls_json_clone(v->u.o.v[i].val))) {
			return -ENOMEM;
		}
	}
	return 0;
}

struct stls_json *stls_json_clone(const struct stls_json *v)
{
	struct stls_json *c;

	if (!v) {
		return NULL;
	}
	if (v->type == STLS_JSON_STRING) {
		return stls_json_new_strn(v->u.s.p, v->u.s.len);
	}
	c = stls__json_alloc(v->type);
	if (!c) {
		return NULL;
	}
	if (v->type != STLS_JSON_ARRAY && v->type != STLS_JSON_OBJECT) {
		c->u = v->u;
		return c;
	}
	if (clone_children(v, c)) {
		stls_json_free(c);
		return NULL;
	}
	return c;
}

bool stls_json_equal(const struct stls_json *a, const struct stls_json *b)
{
	size_t i;

	if (!a || !b || a->type != b->type) {
		return a == b;
	}
	switch (a->type) {
	case STLS_JSON_NULL:
		return true;
	case STLS_JSON_BOOL:
		return a->u.b == b->u.b;
	case STLS_JSON_INT:
		return a->u.i == b->u.i;
	case STLS_JSON_DOUBLE:
		return a->u.d == b->u.d;
	case STLS_JSON_STRING:
		return a->u.s.len == b->u.s.len &&
		       memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
	case STLS_JSON_ARRAY:
		if (a->u.a.n != b->u.a.n) {
			return false;
		}
		for (i = 0; i < a->u.a.n; i++) {
			if (!stls_json_equal(a->u.a.v[i], b->u.a.v[i])) {
				return false;
			}
		}
		return true;
	case STLS_JSON_OBJECT:
		if (a->u.o.n != b->u.o.n) {
			return false;
		}
		for (i = 0; i < a->u.o.n; i++) {
			if (a->u.o.v[i].klen != b->u.o.v[i].klen ||
			    memcmp(a->u.o.v[i].key, b->u.o.v[i].key,
				   a->u.o.v[i].klen) != 0 ||
			    !stls_json_equal(a->u.o.v[i].val,
					     b->u.o.v[i].val)) {
				return false;
			}
		}
		return true;
	}
	return false;
}
