/*
 * Daemon counters (see stats.h).
 */
#include "runtime/stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stls/log.h"
#include "runtime/worker.h"

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
}

void stls_daemon_stats(struct stls_daemon *d, struct stls_stats_snap *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < stls_daemon_workers(d); i++)
		stls_stats_read(&stls_daemon_worker(d, i)->stats, out);
}

/* Formats the non-zero counters of s as "name=value ...". */
static void format_snap(const struct stls_stats_snap *s, char *buf,
			size_t len)
{
	size_t off = 0;
	int i, n;

	n = snprintf(buf, len, "open=%" PRId64, s->open);
	off = n > 0 ? (size_t)n : 0;
	for (i = 0; i < STLS_STAT__COUNT && off < len; i++) {
		n = snprintf(buf + off, len - off, " %s=%" PRIu64,
			     stls_stat_names[i], s->v[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	for (i = 1; i < STLS_DCLOSE__COUNT && off < len; i++) {
		if (!s->closed[i])
			continue;
		n = snprintf(buf + off, len - off, " closed_%s=%" PRIu64,
			     stls_dclose_names[i], s->closed[i]);
		off += n > 0 ? (size_t)n : 0;
	}
}

void stls_daemon_stats_log(struct stls_daemon *d)
{
	struct stls_stats_snap one, all;
	char buf[900];
	unsigned i;

	memset(&all, 0, sizeof(all));
	for (i = 0; i < stls_daemon_workers(d); i++) {
		memset(&one, 0, sizeof(one));
		stls_stats_read(&stls_daemon_worker(d, i)->stats, &one);
		stls_stats_read(&stls_daemon_worker(d, i)->stats, &all);
		format_snap(&one, buf, sizeof(buf));
		STLS_NOTICE("stats: worker %u: %s", i, buf);
	}
	format_snap(&all, buf, sizeof(buf));
	STLS_NOTICE("stats: total: %s", buf);
}
