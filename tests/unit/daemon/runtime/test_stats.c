/*
 * Unit tests for daemon/runtime/stats.c: names, per-worker sums.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"
#include "tlsx/tlsx.h"

TEST(stats_every_name_set)
{
	int i;

	for (i = 0; i < STLS_STAT__COUNT; i++)
		CHECK_NOT_NULL(stls_stat_names[i]);
	for (i = 0; i < STLS_DCLOSE__COUNT; i++)
		CHECK_NOT_NULL(stls_dclose_names[i]);
}

TEST(stats_read_sums)
{
	struct stls_stats a, b;
	struct stls_stats_snap s;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&s, 0, sizeof(s));
	stls_stats_add(&a, STLS_STAT_BYTES_IN, 10);
	stls_stats_add(&b, STLS_STAT_BYTES_IN, 5);
	stls_stats_open(&a, 2);
	stls_stats_open(&b, 1);
	stls_stats_closed(&b, STLS_DCLOSE_IDLE_TIMEOUT);
	stls_stats_open(&b, -1);
	stls_stats_read(&a, &s);
	stls_stats_read(&b, &s);
	CHECK_EQ(s.v[STLS_STAT_BYTES_IN], 15);
	CHECK_EQ(s.open, 2);
	CHECK_EQ(s.closed[STLS_DCLOSE_IDLE_TIMEOUT], 1);
}

/* The daemon snapshot sums its workers; the log line names them. */
TEST(stats_daemon_snapshot)
{
	struct stls_stats_snap s;
	struct dh h;
	int fd;

	dh_init(&h, 2, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(fd, "12345");
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_ACCEPTED], 1);
	CHECK_EQ(s.v[STLS_STAT_BYTES_IN], 5);
	CHECK_EQ(s.open, 1);
	stls_daemon_stats_log(h.d);
	close(fd);
	dh_free(&h);
}
