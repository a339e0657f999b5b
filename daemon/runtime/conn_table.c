/*
 * Per-worker connection table (see conn_table.h).
 */
#include "runtime/conn_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NO_SLOT UINT32_MAX
#define GEN_MASK 0xffffffu
#define INITIAL_CAP 64u

static uint64_t make_id(const struct stls_dconn_table *t, uint32_t slot)
{
	return ((uint64_t)(t->widx + 1) << 56) |
	       ((uint64_t)(t->gen[slot] & GEN_MASK) << 32) | slot;
}

int stls_dconn_id_worker(uint64_t id)
{
	unsigned w = (unsigned)(id >> 56);

	return w == 0 ? -1 : (int)w - 1;
}

static int grow(struct stls_dconn_table *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : INITIAL_CAP, i;
	struct stls_dconn **slot;
	uint32_t *gen, *next;

	if (t->cap >= (1u << 31))
		return -ENOMEM;
	slot = realloc(t->slot, cap * sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	t->slot = slot;
	gen = realloc(t->gen, cap * sizeof(*gen));
	if (!gen)
		return -ENOMEM;
	t->gen = gen;
	next = realloc(t->next_free, cap * sizeof(*next));
	if (!next)
		return -ENOMEM;
	t->next_free = next;
	/* New slots join the free list in ascending order. */
	for (i = cap; i-- > t->cap;) {
		slot[i] = NULL;
		gen[i] = 0;
		next[i] = t->free_head;
		t->free_head = i;
	}
	t->cap = cap;
	return 0;
}

int stls_dconn_table_init(struct stls_dconn_table *t, unsigned widx)
{
	memset(t, 0, sizeof(*t));
	if (widx > 254)
		return -EINVAL;
	t->widx = widx;
	t->free_head = NO_SLOT;
	return grow(t);
}

void stls_dconn_table_fini(struct stls_dconn_table *t)
{
	free(t->slot);
	free(t->gen);
	free(t->next_free);
	memset(t, 0, sizeof(*t));
}

uint64_t stls_dconn_table_add(struct stls_dconn_table *t, struct stls_dconn *c)
{
	uint32_t s;

	if (t->free_head == NO_SLOT && grow(t) != 0)
		return 0;
	s = t->free_head;
	t->free_head = t->next_free[s];
	t->slot[s] = c;
	t->count++;
	return make_id(t, s);
}

struct stls_dconn *stls_dconn_table_get(const struct stls_dconn_table *t,
					uint64_t id)
{
	uint32_t s = (uint32_t)id;

	if (stls_dconn_id_worker(id) != (int)t->widx || s >= t->cap ||
	    !t->slot[s] || make_id(t, s) != id) {
		return NULL;
	}
	return t->slot[s];
}

void stls_dconn_table_remove(struct stls_dconn_table *t, uint64_t id)
{
	uint32_t s = (uint32_t)id;

	if (!stls_dconn_table_get(t, id))
		return;
	t->slot[s] = NULL;
	t->gen[s] = (t->gen[s] + 1) & GEN_MASK;
	t->next_free[s] = t->free_head;
	t->free_head = s;
	t->count--;
}

void stls_dconn_table_foreach(const struct stls_dconn_table *t,
			      void (*fn)(struct stls_dconn *c, void *arg),
			      void *arg)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++) {
		if (t->slot[i])
			fn(t->slot[i], arg);
	}
}
