/*
 * Per-source limits: open connections and new connections (handshakes)
 * per second from one source, checked right after accept() and before
 * any per-connection state exists, so that a refusal costs one accept()
 * and one close().
 *
 * A source is one IPv4 address, or one IPv6 /64 (a host usually owns a
 * whole /64: counting single IPv6 addresses would let it walk around the
 * limit). The rate is a token bucket per source: <rate> tokens a second,
 * at most <rate> saved up (a burst of one second's worth).
 *
 * One table for the whole daemon (SO_REUSEPORT spreads one source's
 * connections over every worker, so per-worker tables would multiply the
 * limit by the worker count), split into shards with a mutex each: the
 * lock is held for one hash lookup, far below a handshake's cost.
 *
 * Memory: an entry per source that has a connection open or a bucket not
 * yet full again; idle entries are swept when a shard grows (amortised,
 * no timer). Any thread.
 */
#ifndef STLSD_SRCLIM_H
#define STLSD_SRCLIM_H

#include <stdbool.h>
#include <stdint.h>

#include "stls/addr.h"
#include "stls/common.h"

struct stls_srclim;

/* Why a source was refused. */
enum stls_srclim_verdict {
	STLS_SRCLIM_OK,
	STLS_SRCLIM_CONNS, /* max open connections from this source */
	STLS_SRCLIM_RATE,  /* over its new connections per second */
	STLS_SRCLIM_NOMEM, /* no entry could be made: let it in */
};

/*
 * A table for <max_conns> open connections (0: no limit) and <rate> new
 * connections per second (0: no limit) per source. Returns NULL when both
 * are 0 (nothing to enforce: callers skip the table) or out of memory
 * (*err is then -ENOMEM).
 */
struct stls_srclim *stls_srclim_new(int max_conns, int rate, int *err);
void stls_srclim_free(struct stls_srclim *t);

/*
 * One new connection from <peer> at <now_ms> (a monotonic clock). OK (and
 * NOMEM) take an open-connection slot that stls_srclim_release() gives
 * back; the others take nothing.
 */
STLS_MUST_USE enum stls_srclim_verdict
stls_srclim_admit(struct stls_srclim *t, const struct stls_addr *peer,
		  uint64_t now_ms);

/* The connection admitted for <peer> closed. */
void stls_srclim_release(struct stls_srclim *t, const struct stls_addr *peer);

/* Sources in the table (tests, tls.info). */
size_t stls_srclim_sources(struct stls_srclim *t);

#endif
