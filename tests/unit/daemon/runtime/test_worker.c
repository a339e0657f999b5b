/*
 * Unit tests for daemon/runtime/worker.c: workers started in-process on loopback,
 * driven by plain sockets from the test thread. Threaded: run under TSan
 * too (ctest label tsan).
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"

/* Data reaches the handler and comes back, on IPv4 and IPv6. */
TEST(worker_echo_ipv4_ipv6)
{
	struct dh h;
	int fd4, fd6;

	dh_init(&h, 2, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_listen(&h, "tcp:[::1]:0");
	dh_start(&h);
	CHECK_NE(stls_daemon_bound(h.d, 0)->port, 0);
	CHECK_EQ(stls_daemon_bound(h.d, 1)->family, AF_INET6);
	fd4 = dh_connect(stls_daemon_bound(h.d, 0));
	fd6 = dh_connect(stls_daemon_bound(h.d, 1));
	dh_echo(fd4, "OPTIONS sip:a SIP/2.0\r\n\r\n");
	dh_echo(fd6, "hello over ::1");
	close(fd4);
	close(fd6);
	CHECK(dh_wait_open(&h, 0, 2000));
	dh_free(&h);
}

/* Many connections are spread over the workers by SO_REUSEPORT and each
 * is served by the worker that accepted it. */
TEST(worker_connections_spread_over_workers)
{
	enum { N = 300, W = 4 };
	struct stls_stats_snap s, one;
	static int fds[N];
	struct dh h;
	unsigned i, busy = 0;
	char msg[32];

	dh_init(&h, W, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	for (i = 0; i < N; i++)
		fds[i] = dh_connect(stls_daemon_bound(h.d, 0));
	for (i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "msg %u", i);
		dh_echo(fds[i], msg);
	}
	CHECK(dh_wait_open(&h, N, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_ACCEPTED], N);
	for (i = 0; i < W; i++) {
		memset(&one, 0, sizeof(one));
		stls_stats_read(&stls_daemon_worker(h.d, i)->stats, &one);
		if (one.v[STLS_STAT_ACCEPTED] > 0)
			busy++;
	}
	CHECK_EQ(busy, W);
	for (i = 0; i < N; i++)
		close(fds[i]);
	CHECK(dh_wait_open(&h, 0, 3000));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_PEER], N);
	dh_free(&h);
}

/* An idle connection is closed after idle_ms; a runtime change of the
 * timeout applies to new connections only. */
TEST(worker_idle_timeout)
{
	struct stls_stats_snap s;
	struct dh h;
	int a, b;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.idle_ms = 300;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	a = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(a, "x");
	stls_daemon_set_idle_timeout(h.d, -1);
	b = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(b, "y");
	CHECK(dh_closed_within(a, 3000));
	CHECK(!dh_closed_within(b, 600));
	dh_echo(b, "still here");
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_IDLE_TIMEOUT], 1);
	close(a);
	close(b);
	dh_free(&h);
}

/* Activity pushes the idle deadline back. */
TEST(worker_activity_defers_idle_timeout)
{
	struct dh h;
	int a, i;

	dh_init(&h, 1, &stls_echo_handler);
	h.o.idle_ms = 400;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	a = dh_connect(stls_daemon_bound(h.d, 0));
	for (i = 0; i < 6; i++) {
		dh_sleep_ms(150);
		dh_echo(a, "tick");
	}
	CHECK(dh_closed_within(a, 3000));
	close(a);
	dh_free(&h);
}

/* Over max_connections: accepted and closed at once, counted; the
 * others keep being served. */
TEST(worker_max_connections)
{
	enum { MAX = 5, EXTRA = 3 };
	struct stls_stats_snap s;
	int fds[MAX + EXTRA], i, closed = 0;
	struct dh h;

	dh_init(&h, 2, &stls_echo_handler);
	h.o.max_connections = MAX;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	for (i = 0; i < MAX; i++) {
		fds[i] = dh_connect(stls_daemon_bound(h.d, 0));
		dh_echo(fds[i], "in");
	}
	for (i = MAX; i < MAX + EXTRA; i++)
		fds[i] = dh_connect(stls_daemon_bound(h.d, 0));
	for (i = MAX; i < MAX + EXTRA; i++)
		closed += dh_closed_within(fds[i], 2000);
	CHECK_EQ(closed, EXTRA);
	for (i = 0; i < MAX; i++)
		dh_echo(fds[i], "still served");
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_REFUSED_MAX_CONN], EXTRA);
	CHECK_EQ(stls_daemon_conn_count(h.d), MAX);
	/* A slot freed is a slot usable again. */
	close(fds[0]);
	CHECK(dh_wait_open(&h, MAX - 1, 2000));
	fds[0] = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(fds[0], "back in");
	for (i = 0; i < MAX + EXTRA; i++)
		close(fds[i]);
	dh_free(&h);
}

/* Stopping closes every connection (clients see EOF) and the threads
 * exit; posts after that are released, not run. */
TEST(worker_stop_closes_connections)
{
	struct stls_stats_snap s;
	struct dh h;
	int a, b;

	dh_init(&h, 2, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	a = dh_connect(stls_daemon_bound(h.d, 0));
	b = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(a, "a");
	dh_echo(b, "b");
	stls_daemon_stop(h.d);
	stls_daemon_join(h.d);
	CHECK(dh_closed_within(a, 1000));
	CHECK(dh_closed_within(b, 1000));
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_SHUTDOWN], 2);
	CHECK_EQ(s.open, 0);
	CHECK_EQ(stls_daemon_conn_count(h.d), 0);
	close(a);
	close(b);
	dh_free(&h);
}

/* Peers that all leave in one loop turn: their closes are spread over
 * later turns (counted in closes_deferred), every one of them is done,
 * and a connection that stays is served after them. */
TEST(worker_mass_close_spread_over_turns)
{
	enum { WANT = 1500 };
	static int fds[WANT];
	struct stls_stats_snap s;
	struct rlimit rl;
	struct dh h;
	int i, n = WANT, stay;

	/* Two descriptors a connection, here and in the worker. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * WANT + 64) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * WANT + 64)
			n = ((int)rl.rlim_cur - 64) / 2;
	}
	CHECK(n >= 200);
	/* 8 closes a loop iteration, whatever this machine's speed. */
	stls__worker_close_turn_ns = 0;
	dh_init(&h, 1, &stls_echo_handler);
	h.o.max_connections = n + 10;
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	stay = dh_connect(stls_daemon_bound(h.d, 0));
	dh_echo(stay, "stays");
	for (i = 0; i < n; i++) {
		fds[i] = dh_connect(stls_daemon_bound(h.d, 0));
		dh_echo(fds[i], "in");
	}
	CHECK(dh_wait_open(&h, n + 1, 5000));
	/* The worker waits while every peer leaves: one poll sees them all. */
	dh_hold(&h, 0);
	for (i = 0; i < n; i++)
		close(fds[i]);
	dh_sleep_ms(50);
	dh_release();
	/* The slot is released last: then the close is done. */
	for (i = 0; i < 1000 && stls_daemon_conn_count(h.d) != 1; i++)
		dh_sleep_ms(10);
	CHECK_EQ(stls_daemon_conn_count(h.d), 1);
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_PEER], (uint64_t)n);
	CHECK_EQ(s.open, 1);
	/* n closes, 8 an iteration: spread over at least n / 8 of them. */
	CHECK(s.v[STLS_STAT_CLOSES_DEFERRED] >= (uint64_t)n / 8 - 1);
	dh_echo(stay, "still served");
	close(stay);
	dh_free(&h);
	stls__worker_close_turn_ns = 500000;
}

static atomic_int posted_on[4];

static void on_post(struct stls_worker *w, struct stls_dconn *c,
		    struct stls_msg *m, bool cancelled)
{
	if (!cancelled && !c)
		atomic_fetch_add(&posted_on[w->idx], 1);
	free(m);
}

struct poster {
	struct stls_daemon *d;
	int n;
};

static void *post_many(void *arg)
{
	struct poster *p = arg;
	int i;

	for (i = 0; i < p->n; i++) {
		struct stls_msg *m = calloc(1, sizeof(*m));

		m->fn = on_post;
		if (stls_daemon_post(p->d, (unsigned)i % 4, m) != 0)
			free(m);
	}
	return NULL;
}

/* Several threads post to every worker at once: every message runs once,
 * on the worker it was sent to. */
TEST(worker_post_from_many_threads)
{
	struct poster p;
	pthread_t t[3];
	struct dh h;
	uint64_t end;
	int i, total;

	dh_init(&h, 4, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	p.d = h.d;
	p.n = 2000;
	for (i = 0; i < 3; i++)
		CHECK_OK(pthread_create(&t[i], NULL, post_many, &p));
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	end = dh_now_ms() + 5000;
	do {
		total = 0;
		for (i = 0; i < 4; i++)
			total += atomic_load(&posted_on[i]);
		if (total == 3 * 2000)
			break;
		dh_sleep_ms(10);
	} while (dh_now_ms() < end);
	CHECK_EQ(total, 3 * 2000);
	for (i = 0; i < 4; i++)
		CHECK_EQ(atomic_load(&posted_on[i]), 3 * 500);
	{
		struct stls_msg bad = { NULL, 7, on_post };

		CHECK_EQ(stls_daemon_post(h.d, 0, &bad), -ENOENT);
		bad.conn_id = 0;
		CHECK_EQ(stls_daemon_post(h.d, 9, &bad), -ENOENT);
	}
	dh_free(&h);
}

/* A worker that cannot start makes start fail cleanly. */
static int failing_init(struct stls_worker *w, void *arg)
{
	(void)arg;
	return w->idx == 1 ? -EPERM : 0;
}

TEST(worker_start_failure_is_reported)
{
	struct stls_handler_ops ops = stls_echo_handler;
	struct dh h;

	ops.worker_init = failing_init;
	dh_init(&h, 3, &ops);
	dh_listen(&h, "tcp:127.0.0.1:0");
	h.o.listen = h.listen;
	h.o.n_listen = h.n_listen;
	CHECK_OK(stls_daemon_new(&h.o, &h.d));
	CHECK_EQ(stls_daemon_start(h.d), -EPERM);
	dh_free(&h);
}

/* Bad options and an unwired TLS engine are refused before binding. */
TEST(worker_new_refuses_bad_options)
{
	struct stls_daemon *d = NULL;
	struct dh h;

	dh_init(&h, 0, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	h.o.listen = h.listen;
	h.o.n_listen = h.n_listen;
	CHECK_EQ(stls_daemon_new(&h.o, &d), -EINVAL);
	h.o.workers = 1;
	h.o.low_water = h.o.high_water;
	CHECK_EQ(stls_daemon_new(&h.o, &d), -EINVAL);
	h.o.low_water = 1;
	dh_listen(&h, "tls:127.0.0.1:0");
	h.o.n_listen = h.n_listen;
	CHECK_EQ(stls_daemon_new(&h.o, &d), -ENOTSUP);
	CHECK_NULL(d);
	h.d = NULL;
	dh_free(&h);
}

/* Binding a port already taken (without SO_REUSEPORT) fails with
 * -EADDRINUSE. */
TEST(worker_bind_conflict)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct stls_daemon *d = NULL;
	socklen_t len = sizeof(sa);
	char spec[64];
	struct dh h;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 1));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
	dh_init(&h, 1, &stls_echo_handler);
	dh_listen(&h, spec);
	h.o.listen = h.listen;
	h.o.n_listen = h.n_listen;
	CHECK_EQ(stls_daemon_new(&h.o, &d), -EADDRINUSE);
	close(fd);
	dh_free(&h);
}
