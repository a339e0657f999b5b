/*
 * The files one set build has read ahead: each path with the SHA-256 of
 * the bytes read.
 *
 * The threads that parse ahead (profile_ahead.c) read every certificate
 * and key file of the set once and leave what parsed in the file cache
 * (profile_cache.c) under that digest. The build then finds each file's
 * objects by looking the path up here, instead of opening, reading and
 * digesting the file a second time: a set is built from the bytes read
 * once during its build. A file that is not here (not read ahead, or it
 * did not read) is read by the build as before.
 *
 * Not thread-safe: the parsing thread fills it once its helpers are
 * joined, then the build reads it, on the same thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tls/profile_int.h"

struct seen_file {
	const char *path; /* borrowed from the profiles being built */
	unsigned char md[STLS__PC_MD_LEN];
};

struct stls__seen {
	struct stls__hmap map; /* hash of the path -> struct seen_file */
	struct seen_file *v;
	size_t n, cap;
};

static bool path_eq(const void *val, const void *key)
{
	return strcmp(((const struct seen_file *)val)->path, key) == 0;
}

static uint64_t path_hash(const char *path)
{
	return stls__hname(0, path, strlen(path));
}

int stls__seen_new(size_t cap, struct stls__seen **out)
{
	struct stls__seen *t = calloc(1, sizeof(*t));

	if (!t || !(t->v = calloc(cap ? cap : 1, sizeof(*t->v)))) {
		free(t);
		return -ENOMEM;
	}
	stls__hmap_init(&t->map);
	t->cap = cap;
	*out = t;
	return 0;
}

void stls__seen_add(struct stls__seen *t, const char *path,
		    const unsigned char *md)
{
	struct seen_file *e;

	if (t->n == t->cap || stls__seen_md(t, path)) {
		return;
	}
	e = &t->v[t->n];
	e->path = path;
	memcpy(e->md, md, STLS__PC_MD_LEN);
	/* Out of memory: the file is not known, the build reads it. */
	if (stls__hmap_add(&t->map, path_hash(path), e) == 0) {
		t->n++;
	}
}

const unsigned char *stls__seen_md(const struct stls__seen *t,
				   const char *path)
{
	const struct seen_file *e;

	if (!t || !path) {
		return NULL;
	}
	e = stls__hmap_get(&t->map, path_hash(path), path_eq, path);
	return e ? e->md : NULL;
}

void stls__seen_free(struct stls__seen *t)
{
	if (!t) {
		return;
	}
	stls__hmap_fini(&t->map);
	free(t->v);
	free(t);
}
