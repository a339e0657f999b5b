/*
 * Unit tests for daemon/runtime/hsstep.c: an inbound connection's
 * handshake steps on the handshake threads, over real loopback sockets
 * and the toy transform (test_xform.h) with a step that a test can hold
 * ("the gate") to catch the connection while its step is out: reads kept
 * in order and fed with the next step, a close (handshake timeout) that
 * waits for the step, the bound on kept bytes, a stop that waits for the
 * steps in flight, and the inline mode (run under TSan too).
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "daemon/runtime/daemon_harness.h"
#include "daemon/runtime/test_xform.h"
#include "runtime/handler_echo.h"

static atomic_bool gate_open = true;
static atomic_int steps_run, steps_waiting, steps_done;
static atomic_int step_nice = 1000;
static atomic_long step_tid;

/* Set by start_with() for the toy's steps: the thread may send their
 * output (step_peek; the toy has no hooks, so all of it), and
 * <flight_extra> bytes of 'x' follow its WELCOME, to make a flight larger
 * than the socket takes at once. */
static atomic_bool thread_sends;
static size_t flight_extra;

/* The toy's feed as a step: waits (at most 10 s) while the gate is
 * closed, notes where and at which priority it ran. A failing step
 * leaves output behind it (an alert), as the engine's does. */
static enum stls_io gated_step(void *x, const uint8_t *p, size_t n)
{
	struct tx *t = x;
	bool was = t->established;
	enum stls_io io;
	uint8_t *blob;
	int i;

	atomic_fetch_add(&steps_waiting, 1);
	for (i = 0; i < 10000 && !atomic_load(&gate_open); i++)
		dh_sleep_ms(1);
	atomic_fetch_sub(&steps_waiting, 1);
	atomic_store(&step_tid, (long)syscall(SYS_gettid));
	atomic_store(&step_nice,
		     getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)));
	atomic_fetch_add(&steps_run, 1);
	io = tx_feed(x, p, n);
	if (io == STLS_IO_FAILED)
		tx_encode(t, (const uint8_t *)"alert\n", 6);
	if (!was && t->established && flight_extra) {
		blob = malloc(flight_extra);
		memset(blob, 'x', flight_extra);
		tx_encode(t, blob, flight_extra);
		free(blob);
	}
	return io;
}

static size_t step_peek(void *x, const uint8_t **p)
{
	if (!atomic_load(&thread_sends)) {
		*p = NULL;
		return 0;
	}
	return tx_peek(x, p);
}

static enum stls_io step_done(void *x, enum stls_io io)
{
	(void)x;
	atomic_fetch_add(&steps_done, 1);
	return io;
}

static const struct stls_xform_ops step_ops = {
	.name = "toy-step",
	.feed = tx_feed,
	.read = tx_read,
	.write = tx_write,
	.peek = tx_peek,
	.consume = tx_consume,
	.established = tx_established,
	.shutdown = tx_shutdown,
	.free = tx_free,
	.step = gated_step,
	.step_done = step_done,
	.step_peek = step_peek,
};

static int step_new(void *arg, struct stls_dconn *c, struct stls_xform *out)
{
	int err = tx_new(arg, c, out);

	out->ops = &step_ops;
	return err;
}

static unsigned start_offload_at; /* h->o.hs_offload_at for start() */

/* What a test asks of the toy's steps (start_with(); start(): none). */
struct flight_opts {
	bool thread_sends;   /* the thread may send the step's output */
	size_t extra;        /* bytes of 'x' after the WELCOME */
	size_t high_water;   /* h->o.high_water, if set */
};

static void start_with(struct dh *h, unsigned threads, int handshake_ms,
		       const struct flight_opts *f)
{
	static const struct flight_opts none;

	if (!f)
		f = &none;
	atomic_store(&thread_sends, f->thread_sends);
	flight_extra = f->extra;
	atomic_store(&gate_open, true);
	atomic_store(&steps_run, 0);
	atomic_store(&steps_done, 0);
	dh_init(h, 1, &stls_echo_handler);
	h->o.xform_new = step_new;
	h->o.hs_threads = threads;
	h->o.hs_nice = 5;
	h->o.hs_offload_at = start_offload_at;
	if (f->high_water)
		h->o.high_water = f->high_water;
	h->o.handshake_ms = handshake_ms;
	dh_listen(h, "tls:127.0.0.1:0");
	dh_start(h);
}

static void start(struct dh *h, unsigned threads, int handshake_ms)
{
	start_with(h, threads, handshake_ms, NULL);
}

static const struct flight_opts thread_sends_on = { .thread_sends = true };

static bool wait_waiting(int n)
{
	int i;

	for (i = 0; i < 500 && atomic_load(&steps_waiting) != n; i++)
		dh_sleep_ms(10);
	return atomic_load(&steps_waiting) == n;
}

static int64_t steps_out(struct dh *h)
{
	struct stls_stats_snap s;

	dh_snap(h, &s);
	return s.steps_out;
}

/* The toy handshake on <fd>: "HELLO\n" answered by "WELCOME\n". */
static void hello(int fd)
{
	char buf[8];

	dh_send_all(fd, "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(fd, buf, 8), 8);
	CHECK(memcmp(buf, "WELCOME\n", 8) == 0);
}

/* The handshake runs on a handshake thread at nice +5; the worker then
 * serves the established connection itself. */
TEST(hsstep_handshake_on_a_thread)
{
	struct stls_stats_snap s;
	int base = getpriority(PRIO_PROCESS, 0);
	struct dh h;
	char buf[32];
	int fd;

	start(&h, 1, 5000);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HELLO\nearly", 11);
	CHECK_EQ(dh_recv_n(fd, buf, 13), 13);
	CHECK(memcmp(buf, "WELCOME\nEARLY", 13) == 0);
	CHECK_NE(atomic_load(&step_tid), (long)syscall(SYS_gettid));
	if (base <= 14)
		CHECK_EQ(atomic_load(&step_nice), base + 5);
	/* Established: no more steps. */
	dh_send_all(fd, "Sip", 3);
	CHECK_EQ(dh_recv_n(fd, buf, 3), 3);
	CHECK(memcmp(buf, "sIP", 3) == 0);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_OFFLOADED], 1);
	CHECK_EQ(atomic_load(&steps_run), 1);
	CHECK_EQ(s.steps_out, 0);
	close(fd);
	dh_free(&h);
}

/* Reads that come while the step is out are kept, in order, and go with
 * the next step; bytes after the handshake reach the handler. */
TEST(hsstep_reads_kept_in_order)
{
	struct stls_stats_snap s;
	struct dh h;
	char buf[32];
	int fd;

	start(&h, 2, 5000);
	atomic_store(&gate_open, false);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HEL", 3);
	CHECK(wait_waiting(1));
	dh_send_all(fd, "LO", 2);
	dh_sleep_ms(50);
	dh_send_all(fd, "\nab", 3);
	dh_sleep_ms(50);
	CHECK_EQ(steps_out(&h), 1);
	atomic_store(&gate_open, true);
	CHECK_EQ(dh_recv_n(fd, buf, 10), 10);
	CHECK(memcmp(buf, "WELCOME\nAB", 10) == 0);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_OFFLOADED], 2);
	CHECK_EQ(s.steps_out, 0);
	close(fd);
	dh_free(&h);
}

/* The handshake timeout fires while the step is out: the connection
 * stops reading, but its transform is neither touched nor freed until
 * the step is back; then the step is still accounted (step_done()) and
 * the connection closes with its reason. */
TEST(hsstep_close_waits_for_the_step)
{
	struct stls_stats_snap s;
	struct dh h;
	int fd;

	start(&h, 1, 200);
	atomic_store(&gate_open, false);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HEL", 3);
	CHECK(wait_waiting(1));
	dh_sleep_ms(500);
	dh_snap(&h, &s);
	CHECK_EQ(s.closed[STLS_DCLOSE_HANDSHAKE_TIMEOUT], 0);
	CHECK_EQ(s.open, 1);
	CHECK_EQ(s.steps_out, 1);
	atomic_store(&gate_open, true);
	CHECK(dh_wait_reason(&h, STLS_DCLOSE_HANDSHAKE_TIMEOUT, 1, 2000));
	CHECK(dh_wait_open(&h, 0, 2000));
	CHECK(dh_closed_within(fd, 2000));
	CHECK_EQ(steps_out(&h), 0);
	CHECK_EQ(atomic_load(&steps_done), 1);
	close(fd);
	dh_free(&h);
}

/* 16 KB read while a step is out: the connection stops reading
 * (counted) until the step is back, then takes the rest in order. */
TEST(hsstep_reads_pause_at_16k)
{
	static char big[40000], got[8 + sizeof(big)];
	struct stls_stats_snap s;
	struct dh h;
	size_t i;
	int fd;

	memset(big, 'a', sizeof(big));
	start(&h, 1, 5000);
	atomic_store(&gate_open, false);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HEL", 3);
	CHECK(wait_waiting(1));
	dh_send_all(fd, "LO\n", 3);
	dh_send_all(fd, big, sizeof(big));
	CHECK(dh_wait_stat(&h, STLS_STAT_HS_STEP_PAUSED, 1, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.open, 1);
	CHECK_EQ(s.steps_out, 1);
	atomic_store(&gate_open, true);
	CHECK_EQ(dh_recv_n(fd, got, sizeof(got)), sizeof(got));
	CHECK(memcmp(got, "WELCOME\n", 8) == 0);
	for (i = 8; i < sizeof(got) && got[i] == 'A'; i++)
		;
	CHECK_EQ(i, sizeof(got));
	dh_snap(&h, &s);
	CHECK_EQ(s.steps_out, 0);
	CHECK_EQ(s.closed[STLS_DCLOSE_OVERFLOW], 0);
	close(fd);
	dh_free(&h);
}

static void *open_gate_later(void *arg)
{
	(void)arg;
	dh_sleep_ms(300);
	atomic_store(&gate_open, true);
	return NULL;
}

/* Stopping with a step out: the worker waits for it, then exits. */
TEST(hsstep_stop_waits_for_steps)
{
	struct dh h;
	pthread_t th;
	uint64_t t0;
	int fd;

	start(&h, 1, 5000);
	atomic_store(&gate_open, false);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HEL", 3);
	CHECK(wait_waiting(1));
	t0 = dh_now_ms();
	CHECK_EQ(pthread_create(&th, NULL, open_gate_later, NULL), 0);
	stls_daemon_stop(h.d);
	stls_daemon_join(h.d);
	CHECK(dh_now_ms() - t0 >= 250);
	CHECK_EQ(atomic_load(&steps_run), 1);
	pthread_join(th, NULL);
	CHECK(dh_closed_within(fd, 2000));
	close(fd);
	dh_free(&h);
}

/* handshake_threads = 0: the worker runs feed() itself. */
TEST(hsstep_inline_when_off)
{
	struct stls_stats_snap s;
	struct dh h;
	int fd;

	start(&h, 0, 5000);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	hello(fd);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_OFFLOADED], 0);
	CHECK_EQ(atomic_load(&steps_run), 0);
	close(fd);
	dh_free(&h);
}

/* Waits until the worker has <n> inbound handshakes in flight. */
static bool wait_handshaking(struct dh *h, int64_t n)
{
	struct stls_stats_snap s;
	int i;

	for (i = 0; i < 500; i++) {
		dh_snap(h, &s);
		if (s.handshaking == n)
			return true;
		dh_sleep_ms(10);
	}
	return false;
}

/* handshake_offload_at = 2: a handshake alone on its worker runs there;
 * with another one in flight beside it, its step goes to a thread. */
TEST(hsstep_inline_below_offload_at)
{
	struct stls_stats_snap s;
	struct dh h;
	int fd, idle, fd2;

	start_offload_at = 2;
	start(&h, 1, 5000);
	start_offload_at = 0;
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	hello(fd);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_OFFLOADED], 0);
	CHECK_EQ(atomic_load(&steps_run), 0);
	/* One connection that sends nothing stays in handshake. */
	idle = dh_connect(stls_daemon_bound(h.d, 0));
	fd2 = dh_connect(stls_daemon_bound(h.d, 0));
	CHECK(wait_handshaking(&h, 2));
	hello(fd2);
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_OFFLOADED], 1);
	CHECK_EQ(atomic_load(&steps_run), 1);
	close(fd);
	close(fd2);
	close(idle);
	dh_free(&h);
}

/* handshake_offload_at above the turn budget: reads held for a later turn
 * (below the threshold the worker runs steps itself, 8 a turn) and steps
 * handed over (once new connections bring it to the threshold) mix on one
 * worker, on the same connections. Each connection's bytes must stay in
 * order (the toy answers only a whole "HELLO\n"; a read handed over ahead
 * of its held bytes would also run the engine on two threads at once):
 * every handshake completes and echoes. The interleaving that broke this
 * (a held read, then the threshold reached, then the next read) depends
 * on the loop's turns: this test does not force it, and passed without
 * the fix in offloads(); the reasoning is in that function's comment. */
TEST(hsstep_held_reads_and_steps_keep_order)
{
	enum { N = 24, M = 12 };
	struct stls_stats_snap s;
	int fd[N], extra[M], i;
	char buf[16];
	struct dh h;

	start_offload_at = N + 4;
	start(&h, 1, 5000);
	start_offload_at = 0;
	for (i = 0; i < N; i++) {
		fd[i] = dh_connect(stls_daemon_bound(h.d, 0));
		dh_send_all(fd[i], "HEL", 3);
	}
	for (i = 0; i < M; i++)
		extra[i] = dh_connect(stls_daemon_bound(h.d, 0));
	for (i = 0; i < N; i++)
		dh_send_all(fd[i], "LO\nab", 5);
	for (i = 0; i < N; i++) {
		CHECK_EQ(dh_recv_n(fd[i], buf, 10), 10);
		CHECK(memcmp(buf, "WELCOME\nAB", 10) == 0);
	}
	for (i = 0; i < M; i++) {
		hello(extra[i]);
	}
	dh_snap(&h, &s);
	CHECK_EQ(s.steps_out, 0);
	for (i = 0; i < N; i++)
		close(fd[i]);
	for (i = 0; i < M; i++)
		close(extra[i]);
	dh_free(&h);
}

/* The step's flight leaves from the handshake thread: the client gets it
 * while the worker's loop is held; the worker then accounts it (bytes
 * out, handshake_flights_direct) and serves the connection on. */
TEST(hsstep_flight_sent_by_the_thread)
{
	struct stls_stats_snap s;
	struct dh h;
	char buf[16];
	int fd;

	start_with(&h, 1, 5000, &thread_sends_on);
	atomic_store(&gate_open, false);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "HELLO\n", 6);
	CHECK(wait_waiting(1));
	dh_hold(&h, 0);
	atomic_store(&gate_open, true);
	CHECK_EQ(dh_recv_n(fd, buf, 8), 8);
	CHECK(memcmp(buf, "WELCOME\n", 8) == 0);
	dh_release();
	dh_send_all(fd, "Sip", 3);
	CHECK_EQ(dh_recv_n(fd, buf, 3), 3);
	CHECK(memcmp(buf, "sIP", 3) == 0);
	/* Counted once the worker's own write returned. */
	CHECK(dh_wait_stat(&h, STLS_STAT_BYTES_OUT, 11, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_FLIGHTS_DIRECT], 1);
	CHECK_EQ(s.steps_out, 0);
	close(fd);
	dh_free(&h);
}

/* A flight larger than the socket takes: the thread writes what it can,
 * the worker queues the rest behind it, and the client reads it all, in
 * order, then its echo. */
TEST(hsstep_flight_rest_from_the_worker)
{
	enum { EXTRA = 8 << 20 };
	struct stls_stats_snap s;
	struct dh h;
	char *got = malloc(8 + EXTRA);
	size_t i;
	int fd;

	CHECK(got != NULL);
	/* What the socket does not take is queued: room for it. */
	start_with(&h, 1, 5000, &(struct flight_opts){ .thread_sends = true,
						  .extra = EXTRA,
						  .high_water = EXTRA });
	/* A small receive window: the socket takes a part of the flight,
	 * not the 8 MB (loopback's buffers could hold it all). */
	fd = dh_socket(AF_INET);
	CHECK(fd >= 0);
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 4096 },
			    sizeof(int)));
	CHECK_OK(dh_connect_fd(fd, stls_daemon_bound(h.d, 0)));
	dh_send_all(fd, "HELLO\nab", 8);
	/* Nothing read until the step is back: the socket fills up. */
	for (i = 0; i < 500 && atomic_load(&steps_done) < 1; i++)
		dh_sleep_ms(10);
	CHECK_EQ(atomic_load(&steps_done), 1);
	dh_sleep_ms(50);
	CHECK_EQ(dh_recv_n(fd, got, 8 + EXTRA), 8 + EXTRA);
	CHECK(memcmp(got, "WELCOME\n", 8) == 0);
	for (i = 8; i < 8 + (size_t)EXTRA && got[i] == 'X'; i++)
		;
	CHECK_EQ(i, 8 + (size_t)EXTRA);
	CHECK_EQ(dh_recv_n(fd, got, 2), 2);
	CHECK(memcmp(got, "AB", 2) == 0);
	CHECK(dh_wait_stat(&h, STLS_STAT_BYTES_OUT, 8 + EXTRA + 2, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_FLIGHTS_DIRECT], 1);
	close(fd);
	dh_free(&h);
	free(got);
}

/* A step that fails with output (the engine's alert): the thread sends
 * nothing; the worker sends the alert, then closes (reason transform). */
TEST(hsstep_failed_step_alert_from_the_worker)
{
	struct stls_stats_snap s;
	struct dh h;
	char buf[8];
	int fd;

	start_with(&h, 1, 5000, &thread_sends_on);
	fd = dh_connect(stls_daemon_bound(h.d, 0));
	dh_send_all(fd, "FAIL\n", 5);
	CHECK_EQ(dh_recv_n(fd, buf, 6), 6);
	CHECK(memcmp(buf, "ALERT\n", 6) == 0);
	CHECK(dh_closed_within(fd, 2000));
	CHECK(dh_wait_reason(&h, STLS_DCLOSE_TRANSFORM, 1, 2000));
	dh_snap(&h, &s);
	CHECK_EQ(s.v[STLS_STAT_HS_FLIGHTS_DIRECT], 0);
	CHECK_EQ(s.v[STLS_STAT_HS_OFFLOADED], 1);
	close(fd);
	dh_free(&h);
}
