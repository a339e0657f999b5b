/*
 * Worker-kept measurements for monitoring: histograms and label tables.
 *
 * Both follow the rule of stats.h: each worker owns its own copy and is
 * the only writer of it (a relaxed load and store per update: no locked
 * instruction, no lock on the hot path); readers on any thread load the
 * values with relaxed atomics and add the workers together. A reader may
 * see an update of one field before another (a histogram's sum before its
 * bucket): the numbers are exact once the worker is quiet, and off by the
 * updates in flight otherwise, which monitoring tolerates.
 *
 * Histogram (struct stls_histo): a fixed list of bucket upper bounds in
 * nanoseconds (struct stls_histo_spec, at most STLS_HISTO_MAX), one count
 * per bucket plus one above the last bound, and the sum of the observed
 * values. The count is the sum of the buckets, so a reader's +Inf bucket
 * always equals its count.
 *
 * Label table (struct stls_ltab): counters and gauges per combination of
 * label values, for labels whose values come from a bounded set (TLS
 * versions, cipher suites, profile names: all bounded by the
 * configuration). A row is found by its key (the label values joined by
 * STLS_LTAB_SEP) on the owning worker through a private hash index, and
 * created on first use; rows are appended and never removed, and a reader
 * sees the rows published so far (release/acquire on the row count). At
 * most STLS_LTAB_ROWS rows: past that every new key lands in one overflow
 * row (stls_ltab_row_is_overflow()), so memory stays bounded whatever the
 * peers send.
 */
#ifndef STLSD_MSTAT_H
#define STLSD_MSTAT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stls/common.h"

#define STLS_HISTO_MAX 16

struct stls_histo_spec {
	unsigned n;                         /* bounds used, <= MAX */
	uint64_t le_ns[STLS_HISTO_MAX];     /* increasing upper bounds */
};

struct stls_histo {
	_Atomic uint64_t bucket[STLS_HISTO_MAX + 1]; /* last: above all */
	_Atomic uint64_t sum_ns;
};

/* A summed, plain copy: bucket counts are not cumulative. */
struct stls_histo_snap {
	uint64_t bucket[STLS_HISTO_MAX + 1];
	uint64_t sum_ns;
};

/* Owner thread only: one observation of <ns> nanoseconds. */
void stls_histo_observe(struct stls_histo *h,
			const struct stls_histo_spec *spec, uint64_t ns);

/* Adds h into *acc (zeroed by the caller). Any thread. */
void stls_histo_read(const struct stls_histo *h, struct stls_histo_snap *acc);

/* CLOCK_MONOTONIC in nanoseconds (vDSO: no system call). */
uint64_t stls_mono_ns(void);

/* Joins label values in a key; never appears in a value we count. */
#define STLS_LTAB_SEP '\x1f'
#define STLS_LTAB_KEY_MAX 400
#define STLS_LTAB_VALS 2
#define STLS_LTAB_ROWS 4096
#define STLS_LTAB_CHUNK 64

struct stls_ltab_row {
	char key[STLS_LTAB_KEY_MAX];
	_Atomic int64_t v[STLS_LTAB_VALS];
};

struct stls_ltab {
	/* Chunks of STLS_LTAB_CHUNK rows; a chunk pointer is written before
	 * the count that makes its rows visible. The last row slot of the
	 * table (index STLS_LTAB_ROWS) is the overflow row. */
	struct stls_ltab_row *_Atomic chunk[STLS_LTAB_ROWS / STLS_LTAB_CHUNK];
	struct stls_ltab_row overflow;
	_Atomic size_t n;
	/* Owner only: open addressing, row index + 1, 0 = empty. */
	uint32_t *index;
	size_t index_cap;
};

/* Owner thread (or before the workers start). Zeroes *t. */
void stls_ltab_init(struct stls_ltab *t);

/* After the workers stopped. Frees the rows. */
void stls_ltab_fini(struct stls_ltab *t);

/*
 * Owner thread only: the row for <key> (created with zero values when
 * new), or the overflow row when the table is full, the key too long or
 * memory short. Never NULL; the row lives until stls_ltab_fini().
 */
struct stls_ltab_row *stls_ltab_get(struct stls_ltab *t, const char *key);

/* Owner thread only: adds <d> to value i of row <r>. */
static inline void stls_ltab_add(struct stls_ltab_row *r, unsigned i,
				 int64_t d)
{
	int64_t cur = atomic_load_explicit(&r->v[i], memory_order_relaxed);

	atomic_store_explicit(&r->v[i], cur + d, memory_order_relaxed);
}

/* Rows published so far (any thread); row i < that count. */
size_t stls_ltab_count(const struct stls_ltab *t);
const struct stls_ltab_row *stls_ltab_row(const struct stls_ltab *t,
					  size_t i);

/* The overflow row (any thread) and whether <r> is it. */
const struct stls_ltab_row *stls_ltab_overflow(const struct stls_ltab *t);
bool stls_ltab_row_is_overflow(const struct stls_ltab *t,
			       const struct stls_ltab_row *r);

/*
 * Writes the label values v[0..n) joined by STLS_LTAB_SEP into key
 * (STLS_LTAB_KEY_MAX bytes); NULL values are "". Returns false when it
 * does not fit or a value holds the separator (the caller then counts in
 * the overflow row by passing the truncated key: stls_ltab_get refuses
 * it).
 */
bool stls_ltab_key(char *key, const char *const *v, size_t n);

#endif
