/*
 * Small helpers of the configuration layer: value parsing shared by the
 * settings table and the profile keys, path resolution as the seed
 * documents it, and the reference-counted block of file names that
 * locations (struct stls_loc) point into.
 */
#include "conf_int.h"
#include "base/hmap.h"
#include "stls/p11uri.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const true_words[] = {
	"yes", "true", "enable", "enabled", "1", "on",
};
static const char *const false_words[] = {
	"no", "false", "disable", "disabled", "0", "off",
};

int stls__conf_parse_bool(const char *v, int *out)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(true_words); i++) {
		if (strcasecmp(v, true_words[i]) == 0) {
			*out = 1;
			return 0;
		}
	}
	for (i = 0; i < STLS_ARRAY_SIZE(false_words); i++) {
		if (strcasecmp(v, false_words[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int stls__conf_parse_int(const char *v, int *out)
{
	const char *p = v;
	long long acc = 0;
	bool neg = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9') {
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			return -EINVAL;
		}
		acc = acc * 10 + (*p - '0');
		if (acc > (long long)INT_MAX + 1) {
			/* Keep scanning: a later non-digit is a syntax error. */
			acc = (long long)INT_MAX + 2;
		}
	}
	if (neg) {
		acc = -acc;
	}
	if (acc > INT_MAX || acc < INT_MIN) {
		return -ERANGE;
	}
	*out = (int)acc;
	return 0;
}

const char *stls_loc_format(const struct stls_loc *loc, char *buf,
			    size_t len)
{
	if (loc->file && loc->line > 0) {
		snprintf(buf, len, "%s:%d", loc->file, loc->line);
	} else if (loc->file) {
		snprintf(buf, len, "%s", loc->file);
	} else {
		snprintf(buf, len, "(built-in)");
	}
	return buf;
}

int stls__conf_enum_find(const char *const *names, int n, const char *v)
{
	int i;

	if (names == stls_method_names) {
		/* The seed's aliases for TLS 1.0. */
		if (strcasecmp(v, "TLSv1.0") == 0) {
			return STLS_METHOD_TLSV1;
		}
		if (strcasecmp(v, "TLSv1.0+") == 0) {
			return STLS_METHOD_TLSV1_PLUS;
		}
	}
	for (i = 0; i < n; i++) {
		if (names[i] && strcasecmp(v, names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

int stls__conf_path_resolve(const char *base_dir, const char *v, char **out)
{
	char *r;

	/* An RFC 7512 key id ("pkcs11:...") is no path either. */
	if (v[0] == '\0' || v[0] == '/' || v[0] == '.' || !base_dir ||
	    !base_dir[0] || stls_p11uri_is(v)) {
		r = strdup(v);
	} else if (asprintf(&r, "%s%s%s", base_dir,
			    base_dir[strlen(base_dir) - 1] == '/' ? "" : "/",
			    v) < 0) {
		r = NULL;
	}
	if (!r) {
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

int stls__conf_staple_norm(const char *base_dir, const char *v, char **out)
{
	char *path = NULL, *r = NULL;
	int err;

	if (strcasecmp(v, "off") == 0 || strcasecmp(v, "on") == 0) {
		r = strdup(strcasecmp(v, "on") == 0 ? "on" : "off");
	} else if (strncasecmp(v, "file:", 5) == 0 && v[5] != '\0') {
		err = stls__conf_path_resolve(base_dir, v + 5, &path);
		if (err) {
			return err;
		}
		if (asprintf(&r, "file:%s", path) < 0) {
			r = NULL;
		}
		free(path);
	} else {
		return -EINVAL;
	}
	if (!r) {
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

char *stls__conf_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		return strdup(".");
	}
	if (slash == path) {
		return strdup("/");
	}
	return strndup(path, (size_t)(slash - path));
}

/*
 * Interned names: file names of a tls.cfg (a few), and the labels of
 * database records (several per row: a hash index keeps 10,000 rows
 * linear).
 */
struct stls__names {
	int refs;
	size_t n, cap;
	char **v;
	struct stls__hmap idx; /* hash of the bytes -> v[i] */
};

struct stls__names *stls__names_new(void)
{
	struct stls__names *n = calloc(1, sizeof(*n));

	if (n) {
		n->refs = 1;
		stls__hmap_init(&n->idx);
	}
	return n;
}

struct stls__names *stls__names_ref(struct stls__names *n)
{
	if (n) {
		__atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
	}
	return n;
}

void stls__names_unref(struct stls__names *n)
{
	size_t i;

	if (!n || __atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) > 0) {
		return;
	}
	for (i = 0; i < n->n; i++) {
		free(n->v[i]);
	}
	free(n->v);
	stls__hmap_fini(&n->idx);
	free(n);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	}
	return h;
}

static bool name_eq(const void *val, const void *key)
{
	return strcmp(val, key) == 0;
}

const char *stls__names_add(struct stls__names *n, const char *file)
{
	uint64_t h = name_hash(file);
	char *copy = stls__hmap_get(&n->idx, h, name_eq, file);

	if (copy) {
		return copy;
	}
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;
		char **v = realloc(n->v, cap * sizeof(*v));

		if (!v) {
			return NULL;
		}
		n->v = v;
		n->cap = cap;
	}
	copy = strdup(file);
	if (!copy) {
		return NULL;
	}
	if (stls__hmap_add(&n->idx, h, copy)) {
		free(copy);
		return NULL;
	}
	n->v[n->n++] = copy;
	return copy;
}
