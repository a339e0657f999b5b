/*
 * Unit tests for daemon/runtime/dconn.c: the transform slot (with a toy transform),
 * handshake timeout, back-pressure and send timeout, overflow, deferred
 * close, and reaching a connection by id from another thread.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <fcntl.h>
#include <pthread.h>

#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"
#include "daemon/runtime/test_xform.h"

/* The transform is on the path both ways: handshake, then encoded echo. */
TEST(conn_transform_slot)
{
	struct stls_stats_snap s;
	struct dh h;
	char buf[64];
	int fd;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.xform_new = tx_new;
	dh_listen(&h, "tls:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HELLO\nearly", 11);
	CHECK_EQ(dh_recv_n(fd, buf, 13), 13);
	CHECK(memcmp(buf, "WELCOME\nEARLY", 13) == 0);
	dh_send_all(fd, "Sip", 3);
	CHECK_EQ(dh_recv_n(fd, buf, 3), 3);
	CHECK(memcmp(buf, "sIP", 3) == 0);
	/* The transform reports a clean close from the peer. */
	dh_send_all(fd, "BYE\n", 4);
	CHECK(dh_closed_within(fd, 2000));
	CHECK(dh_wait_open(&h, 0, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_PEER], 1);
	close(fd);
	dh_free(&h);
}

/* A transform failure closes the connection with reason "transform". */
TEST(conn_transform_failure_closes)
{
	struct stls_stats_snap s;
	struct dh h;
	int fd;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.xform_new = tx_new;
	dh_listen(&h, "tls:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "FAIL", 4);
	CHECK(dh_closed_within(fd, 2000));
	CHECK(dh_wait_open(&h, 0, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_TRANSFORM], 1);
	close(fd);
	dh_free(&h);
}

/* No handshake within handshake_ms: closed; a completed one is kept. */
TEST(conn_handshake_timeout)
{
	struct stls_stats_snap s;
	struct dh h;
	char buf[8];
	int slow, quick;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.xform_new = tx_new;
	h.o.handshake_ms = 300;
	dh_listen(&h, "tls:127.0.0.1:0");
	dh_start(&h);
	slow = dh_connect(stls_daemon_bound(h.d, 0));
	quick = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(quick, "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(quick, buf, 8), 8);
	CHECK(dh_closed_within(slow, 3000));
	CHECK(!dh_closed_within(quick, 500));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_HANDSHAKE_TIMEOUT], 1);
	close(slow);
	close(quick);
	dh_free(&h);
}

static int small_rcvbuf_socket(const struct stls_addr *a)
{
	int fd = dh_socket(a->family), sz = 4096;

	CHECK(fd >= 0);
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)));
	CHECK_OK(dh_connect_fd(fd, a));
	return fd;
}

/* Sends without reading until the socket is full (bounded). */
static size_t stuff(int fd, size_t max)
{
	static char junk[16384];
	size_t sent = 0;
	int idle = 0;

	while (sent < max && idle < 20) {
		ssize_t r = send(fd, junk, sizeof(junk),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0) {
			sent += (size_t)r;
			idle = 0;
		} else {
			idle++;
			dh_sleep_ms(10);
		}
	}
	return sent;
}

/* A peer that does not read: the echo stops reading from it (back-
 * pressure), and after send_ms the connection is closed. */
TEST(conn_send_timeout_on_non_reading_peer)
{
	struct stls_stats_snap s;
	struct dh h;
	size_t sent;
	int fd;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.high_water = 16384;
	h.o.low_water = 4096;
	h.o.send_ms = 400;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = small_rcvbuf_socket(stls_daemon_bound(h.d, 0));
	sent = stuff(fd, 64u << 20);
	CHECK(dh_wait_reason(&h, STLS_DCLOSE_SEND_TIMEOUT, 1, 5000));
	CHECK(dh_wait_open(&h, 0, 2000));
	dh_snap(&h, &s);
	/* Reading stopped: the daemon did not take everything offered. */
	CHECK(s.v[STLS_STAT_BYTES_IN] < sent + 1);
	close(fd);
	dh_free(&h);
}

struct reader {
	int fd;
	size_t want, got;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	char buf[65536];

	while (r->got < r->want) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		r->got += (size_t)n;
	}
	return NULL;
}

/* A slow but reading peer gets every byte back: reading pauses above
 * high water and resumes below low water, with nothing lost. */
TEST(conn_backpressure_pauses_and_resumes)
{
	enum { TOTAL = 4 << 20 };
	static char chunk[65536];
	struct reader r;
	pthread_t t;
	struct dh h;
	size_t sent = 0;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.high_water = 16384;
	h.o.low_water = 4096;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	r.fd = small_rcvbuf_socket(stls_daemon_bound(h.d, 0));
	r.want = TOTAL;
	r.got = 0;
	CHECK_OK(pthread_create(&t, NULL, read_all, &r));
	while (sent < TOTAL) {
		dh_send_all(r.fd, chunk, sizeof(chunk));
		sent += sizeof(chunk);
	}
	pthread_join(t, NULL);
	CHECK_EQ(r.got, TOTAL);
	close(r.fd);
	dh_free(&h);
}

/* A handler that writes far more than it reads overflows the output
 * limit (4 x high water + 64 KiB) and the connection is closed at once. */
static int amplify(struct stls_dconn *c, const uint8_t *p, size_t n,
		   void *arg)
{
	static uint8_t big[32768];
	int i;

	(void)p;
	(void)n;
	(void)arg;
	for (i = 0; i < 512; i++) {
		if (stls_dconn_send(c, big, sizeof(big)) != 0)
			return 0;
	}
	return 0;
}

TEST(conn_overflow_closes)
{
	static const struct stls_handler_ops ops = { .name = "amp",
						     .data = amplify };
	struct stls_stats_snap s;
	struct dh h;
	int fd;

	dh_init(&h, 1, &ops);
	h.o.high_water = 16384;
	h.o.low_water = 4096;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = small_rcvbuf_socket(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "x", 1);
	/* Not reading while the handler writes: a reader that kept pace on
	 * a busy machine could drain all 16 MB and no queue would overflow. */
	CHECK(dh_wait_reason(&h, STLS_DCLOSE_OVERFLOW, 1, 10000));
	CHECK(dh_closed_within(fd, 10000));
	CHECK(dh_wait_open(&h, 0, 3000));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_OVERFLOW], 1);
	close(fd);
	dh_free(&h);
}

/* Recording handler: remembers connection ids as they open. */
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rec_ids[16];
static int rec_n;

static int rec_open(struct stls_dconn *c, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rec_lock);
	if (rec_n < 16)
		rec_ids[rec_n++] = c->id;
	pthread_mutex_unlock(&rec_lock);
	return 0;
}

static uint64_t rec_wait(int i)
{
	uint64_t end = dh_now_ms() + 2000, id = 0;

	while (!id && dh_now_ms() < end) {
		pthread_mutex_lock(&rec_lock);
		id = i < rec_n ? rec_ids[i] : 0;
		pthread_mutex_unlock(&rec_lock);
		if (!id)
			dh_sleep_ms(5);
	}
	return id;
}

static void kill_msg(struct stls_worker *w, struct stls_dconn *c,
		     struct stls_msg *m, bool cancelled)
{
	(void)w;
	if (c && !cancelled)
		stls_dconn_close(c, STLS_DCLOSE_KILLED);
	free(m);
}

/* Any thread reaches a connection by id; a stale id is harmless. */
TEST(conn_reached_by_id_from_other_thread)
{
	struct stls_handler_ops ops = stls_echo_handler;
	struct stls_stats_snap s;
	struct stls_msg *m;
	struct dh h;
	uint64_t id;
	char buf[8];
	int fd;

	ops.open = rec_open;
	dh_init(&h, 2, &ops);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	id = rec_wait(0);
	CHECK_NE(id, 0);
	CHECK_OK(stls_daemon_send(h.d, id, (const uint8_t *)"push", 4));
	CHECK_EQ(dh_recv_n(fd, buf, 4), 4);
	CHECK(memcmp(buf, "push", 4) == 0);
	m = calloc(1, sizeof(*m));
	m->conn_id = id;
	m->fn = kill_msg;
	CHECK_OK(stls_daemon_post(h.d, 0, m));
	CHECK(dh_closed_within(fd, 2000));
	CHECK(dh_wait_open(&h, 0, 2000));
	/* The id is stale now: the message is dropped. */
	CHECK_OK(stls_daemon_send(h.d, id, (const uint8_t *)"late", 4));
	CHECK_EQ(stls_daemon_send(h.d, 0, (const uint8_t *)"x", 1), -ENOENT);
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_KILLED], 1);
	close(fd);
	dh_free(&h);
}

/* A handler that refuses the bytes closes the connection; the close is
 * deferred, so the handler's close callback runs once, after data. */
static atomic_int closes;

static int refuse(struct stls_dconn *c, const uint8_t *p, size_t n,
		  void *arg)
{
	(void)p;
	(void)n;
	(void)arg;
	/* Still usable inside the callback that asked for the close. */
	stls_dconn_close(c, STLS_DCLOSE_HANDLER);
	CHECK_EQ(c->state, STLS_DCONN_CLOSING);
	return -EPROTO;
}

static void count_close(struct stls_dconn *c, void *arg)
{
	(void)c;
	(void)arg;
	atomic_fetch_add(&closes, 1);
}

TEST(conn_handler_refusal_closes_once)
{
	static const struct stls_handler_ops ops = {
		.name = "refuse", .data = refuse, .close = count_close
	};
	struct stls_stats_snap s;
	struct dh h;
	int fd;

	dh_init(&h, 1, &ops);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "junk", 4);
	CHECK(dh_closed_within(fd, 2000));
	CHECK(dh_wait_open(&h, 0, 2000));
	CHECK_EQ(atomic_load(&closes), 1);
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_HANDLER], 1);
	close(fd);
	dh_free(&h);
}

/* Three sends in one callback, then (on "Q") a send and a close. */
static int burst(struct stls_dconn *c, const uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	if (memchr(p, 'Q', n)) {
		if (stls_dconn_send(c, (const uint8_t *)"last", 4))
			return -EIO;
		stls_dconn_close(c, STLS_DCLOSE_SHUTDOWN);
		return 0;
	}
	if (stls_dconn_send(c, (const uint8_t *)"x1", 2) ||
	    stls_dconn_send(c, (const uint8_t *)"x2", 2) ||
	    stls_dconn_send(c, (const uint8_t *)"x3", 2))
		return -EIO;
	return 0;
}

/* Output made in one loop turn goes through the transform in one write
 * (one TLS record), and output held when a close comes still leaves. */
TEST(conn_output_coalesced_and_flushed_before_close)
{
	static const struct stls_handler_ops ops = {
		.name = "burst", .data = burst
	};
	struct dh h;
	char buf[16];
	unsigned before;
	int fd;

	dh_init(&h, 1, &ops);
	h.o.xform_new = tx_new;
	dh_listen(&h, "tls:127.0.0.1:0");
	dh_start(&h);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(fd, buf, 8), 8);
	before = atomic_load(&tx_writes);
	dh_send_all(fd, "ab", 2);
	CHECK_EQ(dh_recv_n(fd, buf, 6), 6);
	CHECK(memcmp(buf, "X1X2X3", 6) == 0);
	CHECK_EQ(atomic_load(&tx_writes) - before, 1);
	dh_send_all(fd, "Q", 1);
	CHECK_EQ(dh_recv_n(fd, buf, 4), 4);
	CHECK(memcmp(buf, "LAST", 4) == 0);
	CHECK(dh_closed_within(fd, 2000));
	close(fd);
	dh_free(&h);
}
