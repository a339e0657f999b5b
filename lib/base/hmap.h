/*
 * A small open-addressing hash table and the name hash that the profile
 * code uses to look up profiles by name and address without scanning
 * (lib/conf duplicate checks, lib/tls profile index). Internal to
 * libsiptls; no OpenSSL.
 *
 * The table stores (hash, value) pairs, never keys: the caller keeps the
 * key inside the value and passes an equality function to lookups. Linear
 * probing over a power-of-two array kept at most half full, so a lookup
 * touches a few adjacent slots. Values are never removed (the tables are
 * built once and then only read); NULL values are not allowed.
 *
 * Names hash from their last byte to their first, folding ASCII case, so
 * that one right-to-left pass over a host name yields the hash of every
 * suffix (stls__hname_step() at each byte, stls__hname_fin() where a
 * suffix starts): exact and subdomain lookups share one walk.
 *
 * Thread safety: a table that is no longer modified may be read from any
 * number of threads.
 */
#ifndef STLS_BASE_HMAP_H
#define STLS_BASE_HMAP_H

#include "stls/common.h"

#pragma GCC visibility push(hidden)

struct stls__hslot {
	uint64_t hash;
	void *val; /* NULL: empty slot */
};

struct stls__hmap {
	struct stls__hslot *v;
	size_t cap; /* 0 or a power of two */
	size_t n;
};

/* Whether <val> (a stored value) has the key <key>. */
typedef bool stls__hmap_eq_fn(const void *val, const void *key);

/* An empty table; no allocation until the first stls__hmap_add(). */
void stls__hmap_init(struct stls__hmap *m);

/* Frees the slots (not the values). The table is empty again after. */
void stls__hmap_fini(struct stls__hmap *m);

/*
 * Makes room for <n> values in total without growing again. Returns 0 or
 * -ENOMEM (the table is unchanged then).
 */
STLS_MUST_USE int stls__hmap_reserve(struct stls__hmap *m, size_t n);

/*
 * The value stored under <hash> for which eq(value, key) holds, or NULL.
 */
void *stls__hmap_get(const struct stls__hmap *m, uint64_t hash,
		     stls__hmap_eq_fn *eq, const void *key);

/*
 * Stores <val> (not NULL) under <hash>; the caller has checked that no
 * equal value is present. Grows the table as needed. Returns 0 or -ENOMEM
 * (the table is unchanged then).
 */
STLS_MUST_USE int stls__hmap_add(struct stls__hmap *m, uint64_t hash,
				 void *val);

/* ASCII lower case, other bytes unchanged (strcasecmp in the C locale). */
static inline unsigned char stls__fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Equal ignoring ASCII case, over <n> bytes. */
bool stls__fold_eq(const char *a, const char *b, size_t n);

/* The start of a name hash (any seed, the same for a table's life). */
static inline uint64_t stls__hname_init(uint64_t seed)
{
	return seed ^ 0xcbf29ce484222325ull;
}

/* Adds byte <c> to the left of the name hashed so far (case folded). */
static inline uint64_t stls__hname_step(uint64_t h, unsigned char c)
{
	return (h ^ stls__fold(c)) * 0x100000001b3ull;
}

/* The hash of the name hashed so far (a 64-bit finaliser). */
static inline uint64_t stls__hname_fin(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* The hash of the <n> bytes at <s> (case folded). */
uint64_t stls__hname(uint64_t seed, const char *s, size_t n);

/* Mixes <v> into a hash (for keys made of several fields). */
static inline uint64_t stls__hmix(uint64_t h, uint64_t v)
{
	return stls__hname_fin(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6)));
}

#pragma GCC visibility pop

#endif
