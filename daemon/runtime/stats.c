/*
 * Daemon counters (see stats.h): one worker's counters, kept with relaxed
 * atomics. The sums over the workers are stats_log.c.
 */
#include "runtime/stats.h"

#include <string.h>

const char *const stls_stat_names[STLS_STAT__COUNT] = {
	[STLS_STAT_ACCEPTED] = "accepted",
	[STLS_STAT_REFUSED_MAX_CONN] = "refused_max_conn",
	[STLS_STAT_ACCEPT_BACKOFF] = "accept_backoff",
	[STLS_STAT_OUTBOUND] = "outbound",
	[STLS_STAT_BYTES_IN] = "bytes_in",
	[STLS_STAT_BYTES_OUT] = "bytes_out",
	[STLS_STAT_DGRAMS_IN] = "dgrams_in",
	[STLS_STAT_DGRAMS_OUT] = "dgrams_out",
	[STLS_STAT_BACKEND_SENT] = "backend_sent",
	[STLS_STAT_BACKEND_SEND_ERRORS] = "backend_send_errors",
	[STLS_STAT_BACKEND_RECEIVED] = "backend_received",
	[STLS_STAT_BACKEND_CONNECTS] = "backend_connects",
	[STLS_STAT_HANDSHAKE_LIMIT] = "handshake_limit_pauses",
	[STLS_STAT_SHED] = "shed_handshakes",
	[STLS_STAT_REFUSED_SOURCE_CONNS] = "refused_source_connections",
	[STLS_STAT_REFUSED_SOURCE_RATE] = "refused_source_rate",
	[STLS_STAT_SOURCE_FILTER_LISTED] = "source_filter_listed",
	[STLS_STAT_SOURCE_FILTER_REBUILDS] = "source_filter_rebuilds",
	[STLS_STAT_SOURCE_FILTER_FULL] = "source_filter_full",
	[STLS_STAT_HS_HELD] = "handshake_reads_held",
	[STLS_STAT_HS_OFFLOADED] = "handshake_steps_offloaded",
	[STLS_STAT_HS_STEP_PAUSED] = "handshake_step_pauses",
	[STLS_STAT_CLOSES_DEFERRED] = "closes_deferred",
	[STLS_STAT_HS_FLIGHTS_DIRECT] = "handshake_flights_direct",
};

void stls_stats_closed(struct stls_stats *s, enum stls_dclose r)
{
	uint64_t cur = atomic_load_explicit(&s->closed[r],
					    memory_order_relaxed);

	atomic_store_explicit(&s->closed[r], cur + 1, memory_order_relaxed);
}

void stls_stats_open(struct stls_stats *s, int delta)
{
	int64_t cur = atomic_load_explicit(&s->open, memory_order_relaxed);

	atomic_store_explicit(&s->open, cur + delta, memory_order_relaxed);
}

void stls_stats_handshaking(struct stls_stats *s, int delta)
{
	int64_t cur = atomic_load_explicit(&s->handshaking,
					   memory_order_relaxed);

	atomic_store_explicit(&s->handshaking, cur + delta,
			      memory_order_relaxed);
}

void stls_stats_steps_out(struct stls_stats *s, int delta)
{
	int64_t cur = atomic_load_explicit(&s->steps_out,
					   memory_order_relaxed);

	atomic_store_explicit(&s->steps_out, cur + delta,
			      memory_order_relaxed);
}

void stls_stats_read(const struct stls_stats *s, struct stls_stats_snap *acc)
{
	int i;

	for (i = 0; i < STLS_STAT__COUNT; i++)
		acc->v[i] += atomic_load_explicit(&s->v[i],
						  memory_order_relaxed);
	for (i = 0; i < STLS_DCLOSE__COUNT; i++)
		acc->closed[i] += atomic_load_explicit(&s->closed[i],
						       memory_order_relaxed);
	acc->open += atomic_load_explicit(&s->open, memory_order_relaxed);
	acc->handshaking += atomic_load_explicit(&s->handshaking,
						 memory_order_relaxed);
	acc->steps_out += atomic_load_explicit(&s->steps_out,
					       memory_order_relaxed);
}
