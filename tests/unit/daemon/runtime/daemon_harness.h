/*
 * Test helper for in-process daemons: start workers on loopback with a
 * given handler, and talk to them with plain blocking sockets from the
 * test thread. Header-only (static inline) because every test file is its
 * own binary. Every wait is bounded.
 */
#ifndef STLS_TEST_DAEMON_HARNESS_H
#define STLS_TEST_DAEMON_HARNESS_H

#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dial/backend.h"
#include "runtime/dconn.h"
#include "runtime/daemon.h"
#include "runtime/stats.h"
#include "test.h"
#include "runtime/worker.h"

struct dh {
	struct stls_daemon *d;
	struct stls_daemon_opts o;
	struct stls_listen_conf listen[4];
	size_t n_listen;
};

static inline void dh_init(struct dh *h, unsigned workers,
			   const struct stls_handler_ops *handler)
{
	memset(h, 0, sizeof(*h));
	h->o.workers = workers;
	h->o.max_connections = 2000;
	h->o.handshake_ms = 5000;
	h->o.send_ms = 5000;
	h->o.idle_ms = -1;
	h->o.shutdown_ms = 500;
	h->o.accept_backoff_ms = 50;
	h->o.high_water = 65536;
	h->o.low_water = 16384;
	h->o.handler = handler;
	h->o.parts[0] = &stls_backend_part;
}

/* Adds a listener such as "tcp:127.0.0.1:0". */
static inline void dh_listen(struct dh *h, const char *spec)
{
	const char *why = NULL;

	CHECK_OK(stls_core_parse_listen(spec, &h->listen[h->n_listen], &why));
	h->n_listen++;
}

static inline void dh_start(struct dh *h)
{
	h->o.listen = h->listen;
	h->o.n_listen = h->n_listen;
	CHECK_OK(stls_daemon_new(&h->o, &h->d));
	CHECK_OK(stls_daemon_start(h->d));
}

static inline void dh_free(struct dh *h)
{
	size_t i;

	stls_daemon_free(h->d);
	h->d = NULL;
	for (i = 0; i < h->n_listen; i++)
		free(h->listen[i].advertise_host);
}

static inline uint64_t dh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void dh_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A blocking socket (5 s send/receive timeouts), or -errno. */
static inline int dh_socket(int family)
{
	struct timeval tv = { 5, 0 };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static inline int dh_connect_fd(int fd, const struct stls_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = stls_addr_to_sockaddr(a, &ss);

	return connect(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

static inline int dh_connect(const struct stls_addr *a)
{
	int fd = dh_socket(a->family);

	CHECK(fd >= 0);
	CHECK_OK(dh_connect_fd(fd, a));
	return fd;
}

static inline void dh_send_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t r = send(fd, s, n, MSG_NOSIGNAL);

		CHECK(r > 0);
		s += r;
		n -= (size_t)r;
	}
}

/* Reads up to n bytes (stops at EOF, error or timeout). */
static inline size_t dh_recv_n(int fd, void *p, size_t n)
{
	char *s = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, s + got, n - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Sends <msg>, expects it back. */
static inline void dh_echo(int fd, const char *msg)
{
	char buf[256];
	size_t n = strlen(msg);

	CHECK(n < sizeof(buf));
	dh_send_all(fd, msg, n);
	CHECK_EQ(dh_recv_n(fd, buf, n), n);
	CHECK(memcmp(buf, msg, n) == 0);
}

/* True when the server closed fd (EOF or reset) within ms; data still
 * arriving is read and dropped. */
static inline bool dh_closed_within(int fd, int ms)
{
	uint64_t end = dh_now_ms() + (uint64_t)ms;
	static char sink[65536];

	while (dh_now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 50) <= 0)
			continue;
		r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return true;
	}
	return false;
}

static inline void dh_snap(struct dh *h, struct stls_stats_snap *s)
{
	stls_daemon_stats(h->d, s);
}

/* Waits until the daemon's open-connection count equals n. */
static inline bool dh_wait_open(struct dh *h, int64_t n, int ms)
{
	uint64_t end = dh_now_ms() + (uint64_t)ms;
	struct stls_stats_snap s;

	do {
		dh_snap(h, &s);
		if (s.open == n)
			return true;
		dh_sleep_ms(10);
	} while (dh_now_ms() < end);
	return false;
}

/* Waits until counter k reaches n. */
static inline bool dh_wait_stat(struct dh *h, enum stls_stat k, uint64_t n,
				int ms)
{
	uint64_t end = dh_now_ms() + (uint64_t)ms;
	struct stls_stats_snap s;

	do {
		dh_snap(h, &s);
		if (s.v[k] == n)
			return true;
		dh_sleep_ms(10);
	} while (dh_now_ms() < end);
	return false;
}

/* Waits until the daemon counted n closes with reason r. */
static inline bool dh_wait_reason(struct dh *h, enum stls_dclose r,
				  uint64_t n, int ms)
{
	uint64_t end = dh_now_ms() + (uint64_t)ms;
	struct stls_stats_snap s;

	do {
		dh_snap(h, &s);
		if (s.closed[r] == n)
			return true;
		dh_sleep_ms(10);
	} while (dh_now_ms() < end);
	return false;
}

/* Holding a worker's loop: dh_hold() posts a message that waits on the
 * worker until dh_release(), and returns once the worker is inside it. */
static sem_t dh_hold_go;
static atomic_bool dh_hold_in;

static inline void dh_on_hold(struct stls_worker *w, struct stls_dconn *c,
			      struct stls_msg *m, bool cancelled)
{
	(void)w;
	(void)c;
	if (!cancelled) {
		atomic_store(&dh_hold_in, true);
		while (sem_wait(&dh_hold_go) != 0)
			;
	}
	free(m);
}

static inline void dh_hold(struct dh *h, unsigned widx)
{
	struct stls_msg *m = calloc(1, sizeof(*m));
	int i;

	CHECK(m != NULL);
	CHECK_OK(sem_init(&dh_hold_go, 0, 0));
	atomic_store(&dh_hold_in, false);
	m->fn = dh_on_hold;
	CHECK_OK(stls_daemon_post(h->d, widx, m));
	for (i = 0; i < 5000 && !atomic_load(&dh_hold_in); i++)
		dh_sleep_ms(1);
	CHECK(atomic_load(&dh_hold_in));
}

static inline void dh_release(void)
{
	sem_post(&dh_hold_go);
}

#endif
