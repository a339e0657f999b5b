/*
 * Per-worker table of connections by id.
 *
 * A connection id is 64 bits: bits 56..63 hold the worker index + 1 (so 0
 * is never a valid id), bits 32..55 a generation that changes each time a
 * slot is reused, bits 0..31 the slot. Lookup is an array index and one
 * compare; a stale id (connection closed, slot reused) finds nothing. Only
 * the owning worker touches its table: no lock.
 */
#ifndef STLSD_CONN_TABLE_H
#define STLSD_CONN_TABLE_H

#include "runtime/daemon.h"

struct stls_dconn_table {
	struct stls_dconn **slot; /* NULL: free */
	uint32_t *gen;
	uint32_t *next_free;
	uint32_t free_head;       /* UINT32_MAX: none */
	uint32_t cap;
	uint32_t count;
	unsigned widx;
};

/* Worker widx (0..254). Returns 0 or -ENOMEM / -EINVAL. */
STLS_MUST_USE int stls_dconn_table_init(struct stls_dconn_table *t,
					unsigned widx);

/* Frees the table (not the connections). */
void stls_dconn_table_fini(struct stls_dconn_table *t);

/*
 * Adds c (borrowed: the table never frees it) and returns its new id,
 * or 0 when out of memory.
 */
STLS_MUST_USE uint64_t stls_dconn_table_add(struct stls_dconn_table *t,
					    struct stls_dconn *c);

/* Removes the entry for id (no-op when absent). */
void stls_dconn_table_remove(struct stls_dconn_table *t, uint64_t id);

/* The connection with this id, or NULL. */
struct stls_dconn *stls_dconn_table_get(const struct stls_dconn_table *t,
					uint64_t id);

/*
 * Calls fn on every connection (slot order). fn may close connections
 * (closing is deferred, so the table does not change during the walk).
 */
void stls_dconn_table_foreach(const struct stls_dconn_table *t,
			      void (*fn)(struct stls_dconn *c, void *arg),
			      void *arg);

#endif
