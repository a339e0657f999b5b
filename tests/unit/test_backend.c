/*
 * Unit tests for daemon/backend.c: a real UDP or TCP socket in the test
 * plays the backend. The test handler relays client bytes to the backend
 * and backend bytes to the last client (one worker).
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <netinet/in.h>

#include "backend.h"
#include "daemon_harness.h"

static uint64_t last_client; /* worker thread only */
static atomic_int send_errors;

static void to_client(struct stls_worker *w, const uint8_t *p, size_t n)
{
	struct stls_dconn *c = stls_dconn_table_get(&w->table, last_client);

	if (c && stls_dconn_send(c, p, n) != 0)
		return;
}

static int relay_data(struct stls_dconn *c, const uint8_t *p, size_t n,
		      void *arg)
{
	(void)arg;
	if (c->kind == STLS_DCONN_BACKEND) {
		to_client(c->w, p, n);
		return 0;
	}
	last_client = c->id;
	if (stls_backend_send(c->w, p, n) != 0)
		atomic_fetch_add(&send_errors, 1);
	return 0;
}

static void relay_backend(struct stls_worker *w, const struct stls_addr *from,
			  const uint8_t *p, size_t n, void *arg)
{
	(void)from;
	(void)arg;
	to_client(w, p, n);
}

static const struct stls_handler_ops relay_ops = {
	.name = "test-relay", .data = relay_data, .backend = relay_backend
};

static int bound_socket(int type, struct stls_addr *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct timeval tv = { 3, 0 };
	int fd = socket(AF_INET, type, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	if (type == SOCK_STREAM)
		CHECK_OK(listen(fd, 8));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	stls_addr_from_sockaddr((struct sockaddr *)&sa, a);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

TEST(backend_udp_round_trip)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct stls_stats_snap s;
	struct stls_addr b, f;
	struct dh h;
	char buf[64];
	int bfd, fd;

	bfd = bound_socket(SOCK_DGRAM, &b);
	dh_init(&h, 1, &relay_ops);
	h.o.backend_proto = STLS_PROTO_UDP;
	h.o.backend = b;
	CHECK_OK(stls_addr_parse("127.0.0.1", false, &h.o.backend_source));
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "REGISTER", 8);
	CHECK_EQ(recvfrom(bfd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			  &flen), 8);
	CHECK(memcmp(buf, "REGISTER", 8) == 0);
	stls_addr_from_sockaddr((struct sockaddr *)&from, &f);
	CHECK_STR_EQ(stls_addr_str(&f, false, buf), "127.0.0.1");
	CHECK_EQ(sendto(bfd, "200 OK", 6, 0, (struct sockaddr *)&from, flen),
		 6);
	CHECK_EQ(dh_recv_n(fd, buf, 6), 6);
	CHECK(memcmp(buf, "200 OK", 6) == 0);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_BACKEND_SENT], 1);
	CHECK_EQ(s.v[STLS_STAT_BACKEND_RECEIVED], 1);
	close(fd);
	close(bfd);
	dh_free(&h);
}

static int accept_backend(int lfd)
{
	struct timeval tv = { 3, 0 };
	int fd = accept(lfd, NULL, NULL);

	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* tcp: one persistent connection per worker, reconnected when the
 * backend drops it; sends while it is down fail and are counted. */
TEST(backend_tcp_reconnects)
{
	struct stls_stats_snap s;
	struct stls_addr b;
	struct dh h;
	char buf[64];
	int lfd, bfd, fd;

	lfd = bound_socket(SOCK_STREAM, &b);
	dh_init(&h, 1, &relay_ops);
	h.o.backend_proto = STLS_PROTO_TCP;
	h.o.backend = b;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	bfd = accept_backend(lfd);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_sleep_ms(100); /* the worker sees its connect complete */
	dh_send_all(fd, "INVITE", 6);
	CHECK_EQ(dh_recv_n(bfd, buf, 6), 6);
	dh_send_all(bfd, "100 Trying", 10);
	CHECK_EQ(dh_recv_n(fd, buf, 10), 10);
	CHECK(memcmp(buf, "100 Trying", 10) == 0);
	/* The backend goes away and comes back: the worker reconnects. */
	close(bfd);
	bfd = accept_backend(lfd);
	CHECK(dh_wait_stat(&h, STLS_STAT_BACKEND_CONNECTS, 2, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_PEER], 1);
	dh_sleep_ms(100);
	dh_send_all(fd, "BYE", 3);
	CHECK_EQ(dh_recv_n(bfd, buf, 3), 3);
	/* Down for good: sends fail and are counted, clients stay. */
	close(bfd);
	close(lfd);
	dh_sleep_ms(100);
	dh_send_all(fd, "ACK", 3);
	CHECK(dh_wait_stat(&h, STLS_STAT_BACKEND_SEND_ERRORS, 1, 2000));
	CHECK(!dh_closed_within(fd, 100));
	close(fd);
	dh_free(&h);
}

/* Sending with no backend configured fails cleanly. */
TEST(backend_none_configured)
{
	struct dh h;
	int fd;

	dh_init(&h, 1, &relay_ops);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "x", 1);
	CHECK(dh_wait_stat(&h, STLS_STAT_BACKEND_SEND_ERRORS, 1, 2000));
	CHECK(!stls_backend_is_up(stls_daemon_worker(h.d, 0)));
	CHECK_NULL(stls_backend_conn(stls_daemon_worker(h.d, 0)));
	close(fd);
	dh_free(&h);
}
