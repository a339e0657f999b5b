/*
 * Unit tests for daemon/runtime/listen.c: accept back-off when descriptors run
 * out, udp: listeners, port 0 shared by every worker's socket, the
 * addresses of an accepted connection, the source filter on the listeners,
 * handshake reads held past the turn budget, the in-flight limit's pause.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/resource.h>

#include "daemon/runtime/daemon_harness.h"
#include "daemon/runtime/test_xform.h"
#include "runtime/handler_echo.h"

static int lowest_free_fd(void)
{
	int fd = dup(0);

	CHECK(fd >= 0);
	close(fd);
	return fd;
}

/*
 * Out of descriptors, the worker pauses accepting (counted) and keeps
 * serving; once descriptors are back, the waiting connections are
 * accepted and served. The test runs in its own forked process, so
 * lowering RLIMIT_NOFILE here touches nothing else.
 */
TEST(listen_emfile_backoff_recovers)
{
	enum { N = 6 };
	struct stls_stats_snap s;
	struct rlimit old, low;
	int fds[N], first, i;
	struct dh h;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.accept_backoff_ms = 50;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	first = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(first, "before");
	for (i = 0; i < N; i++)
		fds[i] = dh_socket(AF_INET);
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd();
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &low));
	for (i = 0; i < N; i++)
		CHECK_OK(dh_connect_fd(fds[i], stls_daemon_bound(h.d, 0)));
	/* The worker cannot accept them, but still serves the first. */
	dh_echo(first, "during");
	dh_sleep_ms(200);
	dh_snap(&h, &s);
	CHECK(s.v[STLS_STAT_ACCEPT_BACKOFF] >= 1);
	CHECK_EQ(s.v[STLS_STAT_ACCEPTED], 1);
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &old));
	for (i = 0; i < N; i++)
		dh_echo(fds[i], "after");
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_ACCEPTED], N + 1);
	for (i = 0; i < N; i++)
		close(fds[i]);
	close(first);
	dh_free(&h);
}

/* udp: every worker has a socket on the same port; datagrams reach the
 * handler and the echo goes back from that port. */
TEST(listen_udp_echo)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen = sizeof(from);
	struct stls_stats_snap s;
	struct timeval tv = { 3, 0 };
	struct stls_addr a, f;
	struct dh h;
	char buf[64];
	int fd, i;

	dh_init(&h, 2, &stls_echo_handler);
	dh_listen(&h, "udp:127.0.0.1:0");
	dh_listen(&h, "udp:[::1]:0");
	dh_start(&h);
	for (i = 0; i < 2; i++) {
		a = *stls_daemon_bound(h.d, (size_t)i);
		CHECK_NE(a.port, 0);
		fd = socket(a.family, SOCK_DGRAM, 0);
		len = stls_addr_to_sockaddr(&a, &ss);
		CHECK_EQ(sendto(fd, "ping", 4, 0, (struct sockaddr *)&ss, len),
			 4);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		CHECK_EQ(recvfrom(fd, buf, sizeof(buf), 0,
				  (struct sockaddr *)&from, &flen), 4);
		stls_addr_from_sockaddr((struct sockaddr *)&from, &f);
		CHECK(stls_addr_eq(&f, &a));
		close(fd);
		flen = sizeof(from);
	}
	CHECK(dh_wait_stat(&h, STLS_STAT_DGRAMS_OUT, 2, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_DGRAMS_IN], 2);
	dh_free(&h);
}

/* Port 0 is chosen once: every worker listens on the same port. */
TEST(listen_port_zero_shared)
{
	struct stls_stats_snap s;
	struct dh h;
	int fds[40], i;

	dh_init(&h, 2, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	for (i = 0; i < 40; i++)
		fds[i] = dh_connect(stls_daemon_bound(h.d, 0));
	for (i = 0; i < 40; i++)
		dh_echo(fds[i], "p");
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_ACCEPTED], 40);
	for (i = 0; i < 40; i++)
		close(fds[i]);
	dh_free(&h);
}

/* The addresses an accepted connection was opened with (handler open). */
static pthread_mutex_t addr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stls_addr seen_peer, seen_local;
static int seen_opens, seen_nodelay = -1;

static int addr_open(struct stls_dconn *c, void *arg)
{
	uv_os_fd_t fd;
	socklen_t len = sizeof(int);
	int on = -1;

	(void)arg;
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
		(void)getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len);
	pthread_mutex_lock(&addr_lock);
	seen_peer = c->peer;
	seen_local = c->local;
	seen_nodelay = on;
	seen_opens++;
	pthread_mutex_unlock(&addr_lock);
	return 0;
}

/* Connects to a listener on <spec> and checks the addresses and Nagle
 * the accepted connection was opened with against what the client sees. */
static void check_accept_addresses(const char *spec)
{
	struct stls_handler_ops ops = stls_echo_handler;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stls_addr mine, theirs, to;
	struct dh h;
	int fd;

	ops.open = addr_open;
	seen_opens = 0;
	dh_init(&h, 1, &ops);
	dh_listen(&h, spec);
	dh_start(&h);
	to = *stls_daemon_bound(h.d, 0);
	CHECK_OK(stls_addr_parse("127.0.0.1", false, &theirs));
	memcpy(to.ip, theirs.ip, 4); /* a wildcard listener: via loopback */
	fd = dh_connect(&to);
	dh_echo(fd, "hello");
	CHECK_OK(getsockname(fd, (struct sockaddr *)&ss, &len));
	stls_addr_from_sockaddr((struct sockaddr *)&ss, &mine);
	len = sizeof(ss);
	CHECK_OK(getpeername(fd, (struct sockaddr *)&ss, &len));
	stls_addr_from_sockaddr((struct sockaddr *)&ss, &theirs);
	pthread_mutex_lock(&addr_lock);
	CHECK_EQ(seen_opens, 1);
	CHECK(stls_addr_eq(&seen_peer, &mine));
	CHECK(stls_addr_eq(&seen_local, &theirs));
	CHECK_EQ(seen_nodelay, 1);
	pthread_mutex_unlock(&addr_lock);
	close(fd);
	dh_free(&h);
}

/* The peer's address comes from accept4(), the local one from the
 * listener's own address (no getsockname()), and Nagle is off through the
 * listener: all match what the client sees. */
TEST(listen_accept_addresses)
{
	check_accept_addresses("tcp:127.0.0.1:0");
}

/* A wildcard listener: the local address comes from getsockname(). */
TEST(listen_accept_addresses_wildcard)
{
	check_accept_addresses("tcp:0.0.0.0:0");
}

/* The SYN filter on one listener of worker <w>: its length, 0: none. */
static int listener_filter_len(struct dh *h, unsigned w, size_t l)
{
	socklen_t len = 0;

	CHECK_OK(getsockopt(h->d->w[w].listeners[l].fd, SOL_SOCKET,
			    SO_GET_FILTER, NULL, &len));
	return (int)len;
}

static int connect_from(const char *src, const struct stls_addr *to,
			int wait_ms, int *out)
{
	struct stls_addr a;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	    soerr = 0;
	struct pollfd p = { fd, POLLOUT, 0 };

	CHECK(fd >= 0);
	*out = fd;
	memset(&a, 0, sizeof(a));
	CHECK_OK(stls_addr_parse_ip(src, &a));
	len = stls_addr_to_sockaddr(&a, &ss);
	CHECK_OK(bind(fd, (struct sockaddr *)&ss, len));
	len = stls_addr_to_sockaddr(to, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 1;
	CHECK_EQ(errno, EINPROGRESS);
	if (poll(&p, 1, wait_ms) == 0)
		return 0; /* no SYN-ACK */
	len = sizeof(soerr);
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
	return soerr ? -soerr : 1;
}

/*
 * source_filter: the source refused by its rate is listed, every
 * worker's direct listener gets the program (the one that built it
 * pokes the other), the proxy_protocol listener never does; the listed
 * source's next connect gets no answer, another source is served.
 */
TEST(listen_source_filter_drops_refused_source)
{
	struct stls_stats_snap s;
	uint64_t end;
	unsigned w;
	int a, b, c, r;
	struct dh h;

	dh_init(&h, 2, &stls_echo_handler);
	h.o.source_rate = 1;
	h.o.source_filter_max = 16;
	h.o.source_filter_hold_ms = 60000;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_listen(&h, "tcp:127.0.0.1:0 proxy_protocol");
	dh_start(&h);
	CHECK_EQ(connect_from("127.0.0.2", stls_daemon_bound(h.d, 0), 2000,
			      &a), 1);
	/* The second within the second: over the rate, reset at accept
	 * (the reset may already be there when the connect is polled). */
	r = connect_from("127.0.0.2", stls_daemon_bound(h.d, 0), 2000, &b);
	CHECK(r == 1 || r == -ECONNRESET);
	CHECK(dh_wait_stat(&h, STLS_STAT_SOURCE_FILTER_LISTED, 1, 2000));
	end = dh_now_ms() + 2000;
	for (w = 0; w < 2; w++) {
		while (listener_filter_len(&h, w, 0) == 0 && dh_now_ms() < end)
			dh_sleep_ms(10);
		CHECK(listener_filter_len(&h, w, 0) > 0);
		CHECK_EQ(listener_filter_len(&h, w, 1), 0);
	}
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_REFUSED_SOURCE_RATE], 1);
	CHECK_EQ(s.v[STLS_STAT_SOURCE_FILTER_REBUILDS], 1);
	CHECK_EQ(stls_daemon_filtered_sources(h.d), 1);
	/* Both workers' listeners drop it: whichever the kernel picks. */
	CHECK_EQ(connect_from("127.0.0.2", stls_daemon_bound(h.d, 0), 300,
			      &c), 0);
	close(c);
	CHECK_EQ(connect_from("127.0.0.2", stls_daemon_bound(h.d, 0), 300,
			      &c), 0);
	close(c);
	CHECK_EQ(connect_from("127.0.0.3", stls_daemon_bound(h.d, 0), 2000,
			      &c), 1);
	CHECK_OK(fcntl(c, F_SETFL, 0));
	dh_echo(c, "served");
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_REFUSED_SOURCE_RATE], 1); /* never saw them */
	close(a);
	close(b);
	close(c);
	dh_free(&h);
}

/* One worker, the echo handler behind the toy transform on a tls:
 * listener, at most <max_hs> handshakes in flight (0: no limit). */
static void start_toy(struct dh *h, int max_hs)
{
	dh_init(h, 1, &stls_echo_handler);
	h->o.xform_new = tx_new;
	h->o.max_handshakes = max_hs;
	dh_listen(h, "tls:127.0.0.1:0");
	dh_start(h);
}

/*
 * Handshake reads past a loop turn's budget (STLS_HS_TURN_BUDGET) are
 * held and served in later turns, each connection's bytes in order: 48
 * connections whose first handshake bytes wait in their sockets before
 * the worker accepts them (so that one poll round finds them all
 * readable), then the rest of each handshake; every handshake completes
 * (the toy transform only answers "HELLO\n" whole) and echoes, an
 * established connection is echoed meanwhile, and the holding is
 * counted.
 */
TEST(listen_handshake_reads_past_the_budget_are_held_in_order)
{
	enum { N = 48 };
	struct stls_stats_snap s;
	int fd[N], est, i;
	char buf[16];
	struct dh h;

	start_toy(&h, 0);
	est = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(est, "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(est, buf, 8), 8);
	for (i = 0; i < N; i++) {
		fd[i] = dh_connect(stls_daemon_bound(h.d, 0));
		dh_send_all(fd[i], "HEL", 3);
	}
	CHECK(dh_wait_open(&h, N + 1, 5000));
	dh_send_all(est, "ping", 4); /* echoed, case swapped by the toy */
	CHECK_EQ(dh_recv_n(est, buf, 4), 4);
	CHECK(memcmp(buf, "PING", 4) == 0);
	for (i = 0; i < N; i++)
		dh_send_all(fd[i], "LO\nab", 5);
	for (i = 0; i < N; i++) {
		CHECK_EQ(dh_recv_n(fd[i], buf, 10), 10);
		CHECK(memcmp(buf, "WELCOME\nAB", 10) == 0);
	}
	dh_send_all(est, "pong", 4);
	CHECK_EQ(dh_recv_n(est, buf, 4), 4);
	CHECK(memcmp(buf, "PONG", 4) == 0);
	dh_snap(&h, &s);
	CHECK(s.v[STLS_STAT_HS_HELD] >= 1);
	CHECK(s.v[STLS_STAT_HS_HELD] <= 2 * N);
	for (i = 0; i < N; i++)
		close(fd[i]);
	close(est);
	dh_free(&h);
}

/*
 * max_handshakes_in_flight = 8: at the limit the worker stops accepting
 * (counted once) and resumes only 2 (a quarter) below it, not at the
 * first handshake that ends: a connection waiting in the backlog is
 * accepted after the second completes, not the first. Handshakes in
 * flight never exceed the limit.
 */
TEST(listen_handshake_limit_resumes_a_quarter_below)
{
	enum { MAX = 8 };
	struct stls_stats_snap s;
	int fd[MAX], extra, i;
	char buf[8];
	struct dh h;

	start_toy(&h, MAX);
	for (i = 0; i < MAX; i++)
		fd[i] = dh_connect(stls_daemon_bound(h.d, 0));
	CHECK(dh_wait_stat(&h, STLS_STAT_ACCEPTED, MAX, 3000));
	extra = dh_connect(stls_daemon_bound(h.d, 0)); /* in the backlog */
	CHECK(dh_wait_stat(&h, STLS_STAT_HANDSHAKE_LIMIT, 1, 3000));
	/* One handshake done: 7 in flight, still paused. */
	dh_send_all(fd[0], "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(fd[0], buf, 8), 8);
	dh_sleep_ms(100);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_ACCEPTED], MAX);
	CHECK_EQ(s.handshaking, MAX - 1);
	/* Two done: 6 = 8 - 8 / 4, accepting again. */
	dh_send_all(fd[1], "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(fd[1], buf, 8), 8);
	CHECK(dh_wait_stat(&h, STLS_STAT_ACCEPTED, MAX + 1, 3000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HANDSHAKE_LIMIT], 1);
	CHECK(s.handshaking <= MAX);
	dh_send_all(extra, "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(extra, buf, 8), 8);
	CHECK(memcmp(buf, "WELCOME\n", 8) == 0);
	for (i = 0; i < MAX; i++)
		close(fd[i]);
	close(extra);
	dh_free(&h);
}
