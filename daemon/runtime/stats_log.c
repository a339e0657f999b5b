/*
 * The workers' counters summed and logged (see stats.h): the daemon-wide
 * view over every worker's struct stls_stats. Above worker.c; stats.c
 * below it only counts.
 */
#include "runtime/stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/worker.h"
#include "stls/log.h"

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
	char buf[1400];
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
