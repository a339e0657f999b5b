/*
 * Unit tests for daemon/runtime/handler_echo.c.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"

TEST(echo_handler_echoes_large_message)
{
	static char big[200000], back[200000];
	struct dh h;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	dh_init(&h, 1, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, big, sizeof(big));
	CHECK_EQ(dh_recv_n(fd, back, sizeof(back)), sizeof(back));
	CHECK(memcmp(big, back, sizeof(big)) == 0);
	close(fd);
	dh_free(&h);
}

TEST(discard_handler_reads_and_drops)
{
	struct stls_stats_snap s;
	struct pollfd p;
	struct dh h;
	int fd;

	dh_init(&h, 1, &stls_discard_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "gone", 4);
	p.fd = fd;
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, 300), 0);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_BYTES_IN], 4);
	CHECK_EQ(s.v[STLS_STAT_BYTES_OUT], 0);
	close(fd);
	dh_free(&h);
}
