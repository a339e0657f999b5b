/*
 * Unit tests for daemon/dial/backend.c: a real UDP or TCP socket in the test
 * plays the backend. The test handler relays client bytes to the backend
 * and backend bytes to the last client (one worker).
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <netinet/in.h>

#include "dial/backend.h"
#include "daemon/runtime/daemon_harness.h"

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

/* A one-worker daemon with handler <ops> relaying to a udp: backend that
 * the test plays on *bfd (its receive buffer <rcvbuf> bytes, 0: the
 * default); returns a client connection to its tcp: listener. */
static int udp_backend_daemon(struct dh *h, const struct stls_handler_ops *ops,
			      int *bfd, int rcvbuf)
{
	struct stls_addr b;

	*bfd = bound_socket(SOCK_DGRAM, &b);
	if (rcvbuf)
		setsockopt(*bfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	dh_init(h, 1, ops);
	h->o.backend_proto = STLS_PROTO_UDP;
	h->o.backend = b;
	CHECK_OK(stls_addr_parse("127.0.0.1", false, &h->o.backend_source));
	dh_listen(h, "tcp:127.0.0.1:0");
	dh_start(h);
	return dh_connect(stls_daemon_bound(h->d, 0));
}

TEST(backend_udp_round_trip)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct stls_stats_snap s;
	struct stls_addr f;
	struct dh h;
	char buf[64];
	int bfd, fd;

	fd = udp_backend_daemon(&h, &relay_ops, &bfd, 0);
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

/* A burst of more datagrams than one event reads (MMSG_ROUNDS x
 * MMSG_SLOTS = 32), one of them near the largest UDP payload: every one
 * arrives, whole and in order (the rest wait for the next event). */
TEST(backend_udp_burst_all_delivered_in_order)
{
	enum { N = 40, BIG = 60000 };
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct stls_stats_snap s;
	static uint8_t want[N * 8 + BIG], got[sizeof(want)], big[BIG];
	size_t len = 0;
	struct dh h;
	char buf[64];
	int bfd, fd, i;

	/* The daemon's socket keeps the kernel's default buffer: 40
	 * datagrams of 8 bytes and one of 60,000 fit it. */
	fd = udp_backend_daemon(&h, &relay_ops, &bfd, 0);
	dh_send_all(fd, "REGISTER", 8);
	CHECK_EQ(recvfrom(bfd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			  &flen), 8);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < N; i++) {
		char d[9];
		const uint8_t *p = (const uint8_t *)d;
		size_t n = 8;

		snprintf(d, sizeof(d), "DGRAM%03d", i);
		if (i == N / 2) {
			memcpy(big, d, 8);
			p = big;
			n = BIG;
		}
		CHECK_EQ(sendto(bfd, p, n, 0, (struct sockaddr *)&from, flen),
			 (ssize_t)n);
		memcpy(want + len, p, n);
		len += n;
	}
	CHECK_EQ(dh_recv_n(fd, got, len), len);
	CHECK(memcmp(got, want, len) == 0);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_BACKEND_RECEIVED], N);
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

/* udp: batching. Each client line is one datagram; "BIG" is one the kernel
 * refuses (over the UDP maximum), "MANY" is 100 of them (more than one
 * batch) with a refused one among the first batch. */
static atomic_int unsent_calls, unsent_err, unsent_reentered;
static atomic_size_t unsent_len;
static bool in_data; /* worker thread only */

static void send_line(struct stls_worker *w, const char *l, size_t n)
{
	static uint8_t big[65520];
	int r;

	if (n == 3 && memcmp(l, "BIG", 3) == 0)
		r = stls_backend_send(w, big, sizeof(big));
	else
		r = stls_backend_send(w, (const uint8_t *)l, n);
	if (r != 0)
		atomic_fetch_add(&send_errors, 1);
}

static int lines_data(struct stls_dconn *c, const uint8_t *p, size_t n,
		      void *arg)
{
	const char *s = (const char *)p, *e = s + n, *nl;
	char buf[16];
	int i;

	(void)arg;
	in_data = true;
	for (; s < e && (nl = memchr(s, '\n', (size_t)(e - s))); s = nl + 1) {
		if (nl - s == 4 && memcmp(s, "MANY", 4) == 0) {
			for (i = 0; i < 100; i++) {
				snprintf(buf, sizeof(buf), "m%d", i);
				send_line(c->w, i == 10 ? "BIG" : buf,
					  i == 10 ? 3 : strlen(buf));
			}
		} else {
			send_line(c->w, s, (size_t)(nl - s));
		}
	}
	in_data = false;
	return 0;
}

static void lines_unsent(struct stls_worker *w, const uint8_t *p, size_t n,
			 int err, void *arg)
{
	(void)w;
	(void)p;
	(void)arg;
	if (in_data)
		atomic_fetch_add(&unsent_reentered, 1);
	atomic_store(&unsent_len, n);
	atomic_store(&unsent_err, err);
	atomic_fetch_add(&unsent_calls, 1);
}

static void recv_dgram(int bfd, const char *want)
{
	char buf[64];
	ssize_t r = recv(bfd, buf, sizeof(buf) - 1, 0);

	CHECK(r > 0);
	buf[r > 0 ? r : 0] = '\0';
	CHECK_STR_EQ(buf, want);
}

/* Datagrams of one turn leave together, in order; one the kernel refuses
 * is counted and handed to backend_unsent at the end of the turn (never
 * inside the handler's own send), and the others still leave. */
TEST(backend_udp_batched_refusals_reported)
{
	static const struct stls_handler_ops ops = {
		.name = "lines", .data = lines_data,
		.backend_unsent = lines_unsent
	};
	struct stls_stats_snap s;
	struct dh h;
	char want[16];
	int bfd, fd, i;

	fd = udp_backend_daemon(&h, &ops, &bfd, 1 << 20);
	dh_send_all(fd, "a\nBIG\nb\n", 8);
	recv_dgram(bfd, "a");
	recv_dgram(bfd, "b");
	CHECK(dh_wait_stat(&h, STLS_STAT_BACKEND_SEND_ERRORS, 1, 2000));
	CHECK_EQ(atomic_load(&unsent_calls), 1);
	CHECK_EQ(atomic_load(&unsent_len), 65520);
	CHECK_EQ(atomic_load(&unsent_err), -EMSGSIZE);
	dh_send_all(fd, "MANY\n", 5);
	for (i = 0; i < 100; i++) {
		if (i == 10)
			continue;
		snprintf(want, sizeof(want), "m%d", i);
		recv_dgram(bfd, want);
	}
	CHECK(dh_wait_stat(&h, STLS_STAT_BACKEND_SEND_ERRORS, 2, 2000));
	CHECK_EQ(atomic_load(&unsent_calls), 2);
	CHECK_EQ(atomic_load(&unsent_reentered), 0);
	CHECK(dh_wait_stat(&h, STLS_STAT_BACKEND_SENT, 101, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_BACKEND_SENT], 101);
	CHECK_EQ(atomic_load(&send_errors), 0); /* refused later, not now */
	close(fd);
	close(bfd);
	dh_free(&h);
}
