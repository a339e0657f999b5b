/*
 * The resolver's cache (see cache.h): a chained hash table of entries
 * keyed by the lower-case name and the type, and a least-recently-used
 * list through the same entries. Lookups are O(1); an expired entry is
 * dropped when it is looked up or when the LRU end reaches it.
 */
#include "dns/cache.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *hnext;       /* bucket chain */
	struct entry *lprev, *lnext; /* LRU: head is the most recent */
	uint64_t hash;
	uint64_t expires_ms;
	struct stls_dns_rrset *rs; /* one reference */
	uint16_t type;
	char name[STLS_DNS_NAME_MAX + 1];
};

struct stls_dns_cache {
	struct entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t max, n;
	struct entry *head, *tail;
	struct stls_dns_cache_stats st;
};

/* Lower-cases <name> into key (no trailing dot). */
static int make_key(const char *name, char key[STLS_DNS_NAME_MAX + 1])
{
	size_t n = strlen(name), i;

	if (n && name[n - 1] == '.')
		n--;
	if (n > STLS_DNS_NAME_MAX)
		return -ENAMETOOLONG;
	for (i = 0; i < n; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	key[n] = '\0';
	return 0;
}

static uint64_t hash_of(const char *key, uint16_t type)
{
	uint64_t h = 14695981039346656037ull ^ type;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 1099511628211ull;
	return h;
}

int stls_dns_cache_new(size_t max, struct stls_dns_cache **out)
{
	struct stls_dns_cache *c;
	size_t nb = 16;

	if (max == 0)
		return -EINVAL;
	while (nb < max && nb < ((size_t)1 << 20))
		nb <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	c->n_buckets = nb;
	c->max = max;
	*out = c;
	return 0;
}

static void lru_unlink(struct stls_dns_cache *c, struct entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		c->head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		c->tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_push(struct stls_dns_cache *c, struct entry *e)
{
	e->lprev = NULL;
	e->lnext = c->head;
	if (c->head)
		c->head->lprev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static struct entry **slot_of(struct stls_dns_cache *c, const char *key,
			      uint16_t type, uint64_t h)
{
	struct entry **pp = &c->buckets[h & (c->n_buckets - 1)];

	while (*pp && ((*pp)->hash != h || (*pp)->type != type ||
		       strcmp((*pp)->name, key) != 0))
		pp = &(*pp)->hnext;
	return pp;
}

/* Removes the entry at *pp (its bucket slot). */
static void drop(struct stls_dns_cache *c, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->hnext;
	lru_unlink(c, e);
	stls_dns_rrset_unref(e->rs);
	free(e);
	c->n--;
}

static void drop_entry(struct stls_dns_cache *c, struct entry *e)
{
	drop(c, slot_of(c, e->name, e->type, e->hash));
}

void stls_dns_cache_free(struct stls_dns_cache *c)
{
	if (!c)
		return;
	while (c->head)
		drop_entry(c, c->head);
	free(c->buckets);
	free(c);
}

const struct stls_dns_rrset *stls_dns_cache_get(struct stls_dns_cache *c,
						const char *name,
						uint16_t type,
						uint64_t now_ms)
{
	char key[STLS_DNS_NAME_MAX + 1];
	struct entry **pp;
	uint64_t h;

	if (make_key(name, key)) {
		c->st.misses++;
		return NULL;
	}
	h = hash_of(key, type);
	pp = slot_of(c, key, type, h);
	if (!*pp || now_ms >= (*pp)->expires_ms) {
		if (*pp)
			drop(c, pp);
		c->st.misses++;
		return NULL;
	}
	lru_unlink(c, *pp);
	lru_push(c, *pp);
	if ((*pp)->rs->status == STLS_DNS_OK)
		c->st.hits++;
	else
		c->st.neg_hits++;
	return (*pp)->rs;
}

int stls_dns_cache_put(struct stls_dns_cache *c, const char *name,
		       struct stls_dns_rrset *rs, uint64_t now_ms)
{
	char key[STLS_DNS_NAME_MAX + 1];
	struct entry **pp, *e;
	uint64_t h;
	int err;

	err = make_key(name, key);
	if (err)
		return err;
	h = hash_of(key, rs->type);
	pp = slot_of(c, key, rs->type, h);
	if (*pp)
		drop(c, pp);
	if (rs->ttl == 0)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	while (c->n >= c->max) {
		drop_entry(c, c->tail);
		c->st.evictions++;
	}
	memcpy(e->name, key, strlen(key) + 1);
	e->type = rs->type;
	e->hash = h;
	e->expires_ms = now_ms + (uint64_t)rs->ttl * 1000u;
	stls_dns_rrset_ref(rs);
	e->rs = rs;
	/* The slot may have moved when entries were dropped above. */
	pp = &c->buckets[h & (c->n_buckets - 1)];
	e->hnext = *pp;
	*pp = e;
	lru_push(c, e);
	c->n++;
	return 0;
}

void stls_dns_cache_stats(const struct stls_dns_cache *c,
			  struct stls_dns_cache_stats *out)
{
	*out = c->st;
	out->entries = c->n;
}
