/*
 * Daemon counters.
 *
 * Each worker has its own struct stls_stats and is the only writer of it
 * (a relaxed load and store: no locked instruction on the hot path).
 * Readers on any thread sum the workers into a snapshot
 * (stls_stats_read()); the RPC tls.info reads them that way.
 */
#ifndef STLSD_STATS_H
#define STLSD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "runtime/daemon.h"

enum stls_stat {
	STLS_STAT_ACCEPTED,          /* inbound connections accepted */
	STLS_STAT_REFUSED_MAX_CONN,  /* accepted and closed: over the limit */
	STLS_STAT_ACCEPT_BACKOFF,    /* accept paused: out of descriptors */
	STLS_STAT_OUTBOUND,          /* outbound connections opened */
	STLS_STAT_BYTES_IN,          /* wire bytes read (streams) */
	STLS_STAT_BYTES_OUT,         /* wire bytes written (streams) */
	STLS_STAT_DGRAMS_IN,         /* datagrams on udp: listeners */
	STLS_STAT_DGRAMS_OUT,
	STLS_STAT_BACKEND_SENT,      /* messages to the backend */
	STLS_STAT_BACKEND_SEND_ERRORS,
	STLS_STAT_BACKEND_RECEIVED,
	STLS_STAT_BACKEND_CONNECTS,  /* tcp: backend (re)connections */
	STLS_STAT_HANDSHAKE_LIMIT,   /* accept paused: handshakes at limit */
	STLS_STAT_SHED,              /* handshakes shed (oldest first) */
	STLS_STAT_REFUSED_SOURCE_CONNS, /* closed at accept: source's open */
	STLS_STAT_REFUSED_SOURCE_RATE,  /* closed at accept: source's rate */
	STLS_STAT_SOURCE_FILTER_LISTED, /* sources put in the SYN filter */
	STLS_STAT_SOURCE_FILTER_REBUILDS, /* filter programs built */
	STLS_STAT_SOURCE_FILTER_FULL,   /* refused sources that did not fit */
	STLS_STAT_HS_HELD,           /* handshake reads held past the turn */
	STLS_STAT_HS_OFFLOADED,      /* handshake steps run off the worker */
	STLS_STAT_HS_STEP_PAUSED,    /* reads paused: 16 KB came during a step */
	STLS_STAT_CLOSES_DEFERRED,   /* turns that left closes for the next */
	STLS_STAT_HS_FLIGHTS_DIRECT, /* steps whose output a thread sent */
	STLS_STAT__COUNT
};

/* "accepted", "refused_max_conn", ... (RPC field names). */
extern const char *const stls_stat_names[STLS_STAT__COUNT];

struct stls_stats {
	_Atomic uint64_t v[STLS_STAT__COUNT];
	_Atomic uint64_t closed[STLS_DCLOSE__COUNT];
	_Atomic int64_t open; /* connections open on this worker */
	_Atomic int64_t handshaking; /* inbound handshakes in flight */
	_Atomic int64_t steps_out;   /* handshake steps on the threads */
};

/* A summed, plain copy. */
struct stls_stats_snap {
	uint64_t v[STLS_STAT__COUNT];
	uint64_t closed[STLS_DCLOSE__COUNT];
	int64_t open;
	int64_t handshaking;
	int64_t steps_out;
};

/* Owner thread only. */
static inline void stls_stats_add(struct stls_stats *s, enum stls_stat k,
				  uint64_t n)
{
	uint64_t cur = atomic_load_explicit(&s->v[k], memory_order_relaxed);

	atomic_store_explicit(&s->v[k], cur + n, memory_order_relaxed);
}

/* Owner thread only: one close with <r>, and one fewer open. */
void stls_stats_closed(struct stls_stats *s, enum stls_dclose r);

/* Owner thread only: delta to the open gauge. */
void stls_stats_open(struct stls_stats *s, int delta);

/* Owner thread only: delta to the handshakes-in-flight gauge. */
void stls_stats_handshaking(struct stls_stats *s, int delta);

/* Owner thread only: delta to the handshake-steps-out gauge. */
void stls_stats_steps_out(struct stls_stats *s, int delta);

/* Adds s into *acc (which the caller zeroes first). Any thread. */
void stls_stats_read(const struct stls_stats *s, struct stls_stats_snap *acc);

/* Sums every worker of d into *out (zeroed here). Any thread. */
void stls_daemon_stats(struct stls_daemon *d, struct stls_stats_snap *out);

/* Logs one line per worker and a total (SIGUSR1, exit). Any thread. */
void stls_daemon_stats_log(struct stls_daemon *d);

#endif
