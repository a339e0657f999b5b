/*
 * Open-addressing hash table and case-folded name hash (see hmap.h).
 */
#include "base/hmap.h"

#include <errno.h>
#include <stdlib.h>

void stls__hmap_init(struct stls__hmap *m)
{
	m->v = NULL;
	m->cap = 0;
	m->n = 0;
}

void stls__hmap_fini(struct stls__hmap *m)
{
	free(m->v);
	stls__hmap_init(m);
}

/* Places <val> in the first free slot of its probe sequence. */
static void place(struct stls__hslot *v, size_t cap, uint64_t hash,
		  void *val)
{
	size_t i = (size_t)hash & (cap - 1);

	while (v[i].val) {
		i = (i + 1) & (cap - 1);
	}
	v[i].hash = hash;
	v[i].val = val;
}

int stls__hmap_reserve(struct stls__hmap *m, size_t n)
{
	struct stls__hslot *v;
	size_t cap = m->cap ? m->cap : 8, i;

	/* At most half full: short probe sequences. */
	while (cap / 2 < n) {
		if (cap > SIZE_MAX / 4 / sizeof(*v)) {
			return -ENOMEM;
		}
		cap *= 2;
	}
	if (cap == m->cap) {
		return 0;
	}
	v = calloc(cap, sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (m->v[i].val) {
			place(v, cap, m->v[i].hash, m->v[i].val);
		}
	}
	free(m->v);
	m->v = v;
	m->cap = cap;
	return 0;
}

void *stls__hmap_get(const struct stls__hmap *m, uint64_t hash,
		     stls__hmap_eq_fn *eq, const void *key)
{
	size_t i;

	if (m->cap == 0) {
		return NULL;
	}
	for (i = (size_t)hash & (m->cap - 1); m->v[i].val;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].hash == hash && eq(m->v[i].val, key)) {
			return m->v[i].val;
		}
	}
	return NULL;
}

int stls__hmap_add(struct stls__hmap *m, uint64_t hash, void *val)
{
	int err = stls__hmap_reserve(m, m->n + 1);

	if (err) {
		return err;
	}
	place(m->v, m->cap, hash, val);
	m->n++;
	return 0;
}

bool stls__fold_eq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (stls__fold((unsigned char)a[i]) !=
		    stls__fold((unsigned char)b[i])) {
			return false;
		}
	}
	return true;
}

uint64_t stls__hname(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = stls__hname_init(seed);

	while (n > 0) {
		h = stls__hname_step(h, (unsigned char)s[--n]);
	}
	return stls__hname_fin(h);
}
