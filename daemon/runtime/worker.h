/*
 * A worker thread: one uv_loop_t, its listening sockets, its connections,
 * its backend socket, its inbox. Visible to the daemon's own files; the
 * handler reaches its worker through c->w and w->hctx.
 */
#ifndef STLSD_WORKER_H
#define STLSD_WORKER_H

#include <uv.h>

#include "runtime/conn_table.h"
#include "runtime/daemon.h"
#include "runtime/mpsc.h"
#include "runtime/stats.h"

struct stls_backend;
struct stls_dns;

/* One listener (a [core] listen line) on one worker. */
struct stls_listener {
	struct stls_worker *w;
	const struct stls_listen_conf *conf;
	const struct stls_addr *local; /* the bound address; NULL: wildcard */
	size_t idx;
	int fd;             /* bound socket; -1 once handed over / closed */
	union {
		uv_poll_t poll; /* tcp:/tls: readable = connections waiting */
		uv_udp_t udp;
	} h;
	bool open;          /* h initialised and not closed */
};

struct stls_worker {
	struct stls_daemon *d;
	unsigned idx;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_sem_t ready;
	int init_err;
	uv_async_t wake;
	uv_idle_t due_idle;   /* keeps poll from blocking with work due */
	uv_check_t due_check; /* flushes output, runs closes after poll */
	uv_timer_t backoff;     /* accept back-off */
	uv_timer_t stop_timer;  /* shutdown grace */
	struct stls_mpsc inbox;
	struct stls_dconn_table table;
	struct stls_listener *listeners; /* d->o.n_listen */
	struct stls_backend *backend;
	struct stls_dns *dns;   /* the DNS part's resolver, or NULL */
	struct stls_stats stats;
	struct stls_dconn *close_head;
	struct stls_dconn *flush_head; /* connections with output held */
	uint8_t *scratch;       /* read buffer shared by the connections */
	uint8_t *scratch2;      /* decoded bytes out of a transform */
	size_t scratch_len;
	bool started;           /* thread created */
	bool loop_ok;           /* loop initialised */
	bool wake_ok;           /* wake handle initialised */
	bool hinit;             /* handler worker_init done */
	atomic_bool stop_req;   /* stls_daemon_stop() was called */
	bool stopping;
	bool finished;          /* stopped: handles closed */
	bool accept_paused;
	unsigned live;          /* connection objects not yet freed */
	void *hctx;             /* the handler's per-worker state */
};

/* The daemon: shared, read-only after start except the atomics. */
struct stls_daemon {
	struct stls_daemon_opts o;
	struct stls_worker *w;
	unsigned n;
	int *fds;                /* [listener * n + worker] */
	struct stls_addr *bound; /* per listener */
	atomic_int n_conns;
	atomic_int idle_ms;
	bool joined;
};

/* Handler shortcuts. */
#define STLS_H(w) ((w)->d->o.handler)
#define STLS_HARG(w) ((w)->d->o.handler_arg)

/*
 * Takes a max_connections slot; false when the daemon is full. Any
 * worker.
 */
bool stls__worker_conn_reserve(struct stls_worker *w);
void stls__worker_conn_release(struct stls_worker *w);

/* Queues c (not queued yet) for stls_dconn_flush() at the end of this
 * loop iteration, or before the next poll when called from a timer. */
void stls__worker_defer_flush(struct stls_worker *w, struct stls_dconn *c);
/* Output is held for the end of this loop turn (backend datagrams): makes
 * sure the turn ends without blocking in poll first. */
void stls__worker_due(struct stls_worker *w);

/* Queues c for closing at the end of this loop iteration. */
void stls__worker_defer_close(struct stls_worker *w, struct stls_dconn *c);

/* A connection finished closing: the worker may be done stopping. */
void stls__worker_conn_gone(struct stls_worker *w);

/*
 * Sends a datagram from listener l (a udp: one) to <to>. Returns 0 or
 * -errno (-EAGAIN when the socket is full: the datagram is dropped).
 */
STLS_MUST_USE int stls_listener_send(struct stls_listener *l,
				     const struct stls_addr *to,
				     const uint8_t *p, size_t n);

/* Binds every listening socket (main thread). */
STLS_MUST_USE int stls__listen_open(struct stls_daemon *d);
void stls__listen_close_fds(struct stls_daemon *d);
/* Worker side: wraps the fds in handles and starts them. */
STLS_MUST_USE int stls__listen_start(struct stls_worker *w);
void stls__listen_pause(struct stls_worker *w);
void stls__listen_resume(struct stls_worker *w);
void stls__listen_stop(struct stls_worker *w);

#endif
