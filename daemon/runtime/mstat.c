/*
 * Worker-kept histograms and label tables (see mstat.h).
 */
#include "runtime/mstat.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void bump(_Atomic uint64_t *p, uint64_t d)
{
	uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);

	atomic_store_explicit(p, cur + d, memory_order_relaxed);
}

void stls_histo_observe(struct stls_histo *h,
			const struct stls_histo_spec *spec, uint64_t ns)
{
	unsigned i = 0;

	while (i < spec->n && ns > spec->le_ns[i])
		i++;
	bump(&h->bucket[i], 1);
	bump(&h->sum_ns, ns);
}

void stls_histo_read(const struct stls_histo *h, struct stls_histo_snap *acc)
{
	unsigned i;

	for (i = 0; i <= STLS_HISTO_MAX; i++)
		acc->bucket[i] += atomic_load_explicit(&h->bucket[i],
						       memory_order_relaxed);
	acc->sum_ns += atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}

uint64_t stls_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void stls_ltab_init(struct stls_ltab *t)
{
	memset(t, 0, sizeof(*t));
}

void stls_ltab_fini(struct stls_ltab *t)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(t->chunk); i++)
		free(atomic_load_explicit(&t->chunk[i],
					  memory_order_relaxed));
	free(t->index);
	memset(t, 0, sizeof(*t));
}

/* FNV-1a. */
static uint32_t key_hash(const char *k)
{
	uint32_t h = 2166136261u;

	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 16777619u;
	return h;
}

static struct stls_ltab_row *row_at(const struct stls_ltab *t, size_t i)
{
	struct stls_ltab_row *c = atomic_load_explicit(
		&t->chunk[i / STLS_LTAB_CHUNK], memory_order_relaxed);

	return &c[i % STLS_LTAB_CHUNK];
}

/* The index slot of <key>: its row + 1, or 0 where it would go. */
static uint32_t *slot_of(struct stls_ltab *t, const char *key)
{
	size_t mask = t->index_cap - 1;
	size_t i = key_hash(key) & mask;

	while (t->index[i] &&
	       strcmp(row_at(t, t->index[i] - 1)->key, key) != 0)
		i = (i + 1) & mask;
	return &t->index[i];
}

static struct stls_ltab_row *append(struct stls_ltab *t, const char *key)
{
	size_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
	size_t ci = n / STLS_LTAB_CHUNK;
	struct stls_ltab_row *c, *r;

	c = atomic_load_explicit(&t->chunk[ci], memory_order_relaxed);
	if (!c) {
		c = calloc(STLS_LTAB_CHUNK, sizeof(*c));
		if (!c)
			return NULL;
		atomic_store_explicit(&t->chunk[ci], c, memory_order_relaxed);
	}
	r = &c[n % STLS_LTAB_CHUNK];
	strcpy(r->key, key);
	/* The row (and its chunk) before the count that shows it. */
	atomic_store_explicit(&t->n, n + 1, memory_order_release);
	return r;
}

struct stls_ltab_row *stls_ltab_get(struct stls_ltab *t, const char *key)
{
	size_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
	struct stls_ltab_row *r;
	uint32_t *slot;

	/* stls_ltab_key() marks a key that did not fit by its length. */
	if (strlen(key) >= STLS_LTAB_KEY_MAX - 1)
		return &t->overflow;
	if (!t->index) {
		/* Twice the rows: probes stay short when full. */
		t->index = calloc(2 * STLS_LTAB_ROWS, sizeof(*t->index));
		if (!t->index)
			return &t->overflow;
		t->index_cap = 2 * STLS_LTAB_ROWS;
	}
	slot = slot_of(t, key);
	if (*slot)
		return row_at(t, *slot - 1);
	if (n >= STLS_LTAB_ROWS)
		return &t->overflow;
	r = append(t, key);
	if (!r)
		return &t->overflow;
	*slot = (uint32_t)n + 1;
	return r;
}

size_t stls_ltab_count(const struct stls_ltab *t)
{
	return atomic_load_explicit(&t->n, memory_order_acquire);
}

const struct stls_ltab_row *stls_ltab_row(const struct stls_ltab *t,
					  size_t i)
{
	return row_at(t, i);
}

const struct stls_ltab_row *stls_ltab_overflow(const struct stls_ltab *t)
{
	return &t->overflow;
}

bool stls_ltab_row_is_overflow(const struct stls_ltab *t,
			       const struct stls_ltab_row *r)
{
	return r == &t->overflow;
}

bool stls_ltab_key(char *key, const char *const *v, size_t n)
{
	size_t len = 0, l, i;

	key[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *s = v[i] ? v[i] : "";

		l = strlen(s);
		if (strchr(s, STLS_LTAB_SEP) ||
		    len + l + 3 > STLS_LTAB_KEY_MAX) {
			/* Too long for any row: stls_ltab_get gives the
			 * overflow row. */
			memset(key, 'x', STLS_LTAB_KEY_MAX - 1);
			key[STLS_LTAB_KEY_MAX - 1] = '\0';
			return false;
		}
		if (i > 0)
			key[len++] = STLS_LTAB_SEP;
		memcpy(key + len, s, l);
		len += l;
		key[len] = '\0';
	}
	return true;
}
