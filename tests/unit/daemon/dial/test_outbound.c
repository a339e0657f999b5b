/*
 * Unit tests for daemon/dial/outbound.c: connections the daemon opens, started
 * on a worker through a posted message, against sockets of the test.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"
#include "dial/outbound.h"
#include "daemon/runtime/test_xform.h"

struct open_msg {
	struct stls_msg m;
	struct stls_addr dst;
	bool tls;
	const char *first; /* sent at once, before the connect completes */
};

static atomic_int open_result = 1;

static void do_open(struct stls_worker *w, struct stls_dconn *c,
		    struct stls_msg *m, bool cancelled)
{
	struct open_msg *om = (struct open_msg *)m;
	int err = -ECANCELED;

	(void)c;
	if (!cancelled) {
		err = stls_outbound_open(w, &om->dst, NULL,
					 STLS_DCONN_OUTBOUND, om->tls, &c);
		if (!err && om->first) {
			CHECK_EQ(c->state, STLS_DCONN_CONNECTING);
			err = stls_dconn_send(c, (const uint8_t *)om->first,
					      strlen(om->first));
		}
	}
	atomic_store(&open_result, err);
	free(om);
}

static int open_on_worker(struct dh *h, const struct stls_addr *dst,
			  bool tls, const char *first)
{
	struct open_msg *om = calloc(1, sizeof(*om));
	uint64_t end = dh_now_ms() + 2000;
	int r;

	om->m.fn = do_open;
	om->dst = *dst;
	om->tls = tls;
	om->first = first;
	atomic_store(&open_result, 1);
	CHECK_OK(stls_daemon_post(h->d, 0, &om->m));
	while ((r = atomic_load(&open_result)) == 1 && dh_now_ms() < end)
		dh_sleep_ms(5);
	return r;
}

static int listener(struct stls_addr *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 8));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	stls_addr_from_sockaddr((struct sockaddr *)&sa, a);
	return fd;
}

static int accept_one(int lfd)
{
	struct timeval tv = { 3, 0 };
	int fd = accept(lfd, NULL, NULL);

	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Data sent while connecting is queued and arrives first; then the
 * connection is served by the handler like an inbound one. */
TEST(outbound_queues_behind_connect)
{
	struct stls_stats_snap s;
	struct stls_addr a;
	struct dh h;
	char buf[32];
	int lfd, fd;

	lfd = listener(&a);
	dh_init(&h, 1, &stls_echo_handler);
	dh_start(&h);
	CHECK_OK(open_on_worker(&h, &a, false, "OPTIONS early"));
	fd = accept_one(lfd);
	CHECK_EQ(dh_recv_n(fd, buf, 13), 13);
	CHECK(memcmp(buf, "OPTIONS early", 13) == 0);
	dh_echo(fd, "served");
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_OUTBOUND], 1);
	CHECK_EQ(stls_daemon_conn_count(h.d), 1);
	close(fd);
	close(lfd);
	dh_free(&h);
}

TEST(outbound_connect_refused)
{
	struct stls_addr a;
	struct dh h;
	int lfd;

	lfd = listener(&a);
	close(lfd); /* nothing listens there now */
	dh_init(&h, 1, &stls_echo_handler);
	dh_start(&h);
	CHECK_OK(open_on_worker(&h, &a, false, "lost"));
	CHECK(dh_wait_reason(&h, STLS_DCLOSE_CONNECT_FAILED, 1, 3000));
	CHECK(dh_wait_open(&h, 0, 1000));
	CHECK_EQ(stls_daemon_conn_count(h.d), 0);
	dh_free(&h);
}

/* With a transform: its first flight goes out on connect, writes wait for
 * the handshake, and a peer that never answers hits handshake_ms. */
TEST(outbound_transform_and_handshake_timeout)
{
	struct stls_addr a;
	struct dh h;
	char buf[32];
	int lfd, good, mute;

	lfd = listener(&a);
	dh_init(&h, 1, &stls_echo_handler);
	h.o.xform_new = tx_new;
	h.o.handshake_ms = 400;
	dh_start(&h);
	CHECK_OK(open_on_worker(&h, &a, true, "early"));
	good = accept_one(lfd);
	CHECK_EQ(dh_recv_n(good, buf, 6), 6);
	CHECK(memcmp(buf, "HELLO\n", 6) == 0);
	dh_send_all(good, "WELCOME\n", 8);
	CHECK_EQ(dh_recv_n(good, buf, 5), 5);
	CHECK(memcmp(buf, "EARLY", 5) == 0);
	CHECK_OK(open_on_worker(&h, &a, true, NULL));
	mute = accept_one(lfd);
	CHECK_EQ(dh_recv_n(mute, buf, 6), 6);
	CHECK(dh_wait_reason(&h, STLS_DCLOSE_HANDSHAKE_TIMEOUT, 1, 3000));
	CHECK(!dh_closed_within(good, 200));
	close(good);
	close(mute);
	close(lfd);
	dh_free(&h);
}

/* Outbound connections count against max_connections. */
TEST(outbound_respects_max_connections)
{
	struct stls_stats_snap s;
	struct stls_addr a;
	struct dh h;
	int lfd, in;

	lfd = listener(&a);
	dh_init(&h, 1, &stls_echo_handler);
	h.o.max_connections = 1;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	in = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(in, "hold the only slot");
	CHECK_EQ(open_on_worker(&h, &a, false, NULL), -EMFILE);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_REFUSED_MAX_CONN], 1);
	CHECK_EQ(s.v[STLS_STAT_OUTBOUND], 0);
	close(in);
	close(lfd);
	dh_free(&h);
}

TEST(outbound_refuses_bad_address)
{
	struct stls_addr none = { 0 };
	struct dh h;

	dh_init(&h, 1, &stls_echo_handler);
	dh_start(&h);
	CHECK_EQ(open_on_worker(&h, &none, false, NULL), -EINVAL);
	dh_free(&h);
}

/* TCP_NODELAY seen on the socket of the connection that got data. */
static atomic_int out_nodelay = -1;

static int nodelay_data(struct stls_dconn *c, const uint8_t *p, size_t n,
			void *arg)
{
	uv_os_fd_t fd;
	socklen_t len = sizeof(int);
	int on = -1;

	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
		(void)getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len);
	atomic_store(&out_nodelay, on);
	return stls_echo_handler.data(c, p, n, arg);
}

/* Outbound sockets have Nagle off too (libuv sets it at connect). */
TEST(outbound_nodelay)
{
	struct stls_handler_ops ops = stls_echo_handler;
	struct stls_addr a;
	struct dh h;
	int lfd, fd;

	ops.data = nodelay_data;
	lfd = listener(&a);
	dh_init(&h, 1, &ops);
	dh_start(&h);
	CHECK_OK(open_on_worker(&h, &a, false, NULL));
	fd = accept_one(lfd);
	dh_echo(fd, "ping");
	CHECK_EQ(atomic_load(&out_nodelay), 1);
	close(fd);
	close(lfd);
	dh_free(&h);
}
