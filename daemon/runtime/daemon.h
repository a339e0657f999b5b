/*
 * siptlsd's runtime: the types every daemon part shares, and the daemon
 * object that owns the workers.
 *
 * Process model (docs/daemon.md): the main thread parses the config, binds
 * every listening socket (one per listener per worker, SO_REUSEPORT), drops
 * privileges, then starts N worker threads. Each worker runs its own
 * uv_loop_t and owns the connections it accepted or opened, all their life.
 * Threads talk only through per-worker MPSC queues woken by an eventfd; a
 * message for connection id X goes to the worker encoded in X.
 *
 * Two slots make a connection what it is:
 * - the stream transform (struct stls_xform): bytes from the wire in, bytes
 *   for the handler out, and back. Empty (ops == NULL) is the identity
 *   transform of tcp:. The TLS engine plugs in here for tls:.
 * - the message handler (struct stls_handler_ops): receives what the
 *   transform delivers. The SIP framer and relay plug in here; tests use
 *   the echo handler (handler_echo.c) or their own.
 */
#ifndef STLSD_DAEMON_H
#define STLSD_DAEMON_H

#include <stdatomic.h>

#include "config/core_conf.h"
#include "stls/addr.h"
#include "stls/common.h"

struct stls_daemon;
struct stls_worker;
struct stls_dconn;
struct stls_listener;
struct stls_tls_info; /* tls_info.h */
struct stls_dns_conf; /* dns/resolver.h: only a pointer is carried */

/* Why a connection was closed (counted per reason in the stats). */
enum stls_dclose {
	STLS_DCLOSE_NONE,
	STLS_DCLOSE_PEER,              /* EOF, or the transform saw a close */
	STLS_DCLOSE_READ_ERROR,
	STLS_DCLOSE_WRITE_ERROR,
	STLS_DCLOSE_IDLE_TIMEOUT,      /* connection_timeout */
	STLS_DCLOSE_HANDSHAKE_TIMEOUT, /* connect + handshake too slow */
	STLS_DCLOSE_SEND_TIMEOUT,      /* peer did not read */
	STLS_DCLOSE_OVERFLOW,          /* pending output over the hard limit */
	STLS_DCLOSE_TRANSFORM,         /* the transform failed (TLS error) */
	STLS_DCLOSE_HANDLER,           /* the handler refused the bytes */
	STLS_DCLOSE_CONNECT_FAILED,
	STLS_DCLOSE_SHUTDOWN,
	STLS_DCLOSE_KILLED,            /* by request (tls.kill) */
	STLS_DCLOSE_KEEPALIVE,         /* no pong to a keep-alive ping */
	STLS_DCLOSE_SHED,              /* handshake shed at the in-flight limit */
	STLS_DCLOSE_PROXY,             /* PROXY v2: untrusted or bad header */
	STLS_DCLOSE_SOURCE,            /* per-source limit, after PROXY v2 */
	STLS_DCLOSE__COUNT
};

/* "peer", "idle-timeout", ... */
extern const char *const stls_dclose_names[STLS_DCLOSE__COUNT];

/*
 * Stream transform. All functions run on the owning worker and never block.
 * The transform owns its state <x>; free() releases it.
 */
struct stls_xform_ops {
	const char *name;
	/* Wire bytes in (all consumed). DONE or WANT_INPUT: go on; CLOSED:
	 * the peer closed; FAILED: close the connection. */
	enum stls_io (*feed)(void *x, const uint8_t *p, size_t n);
	/* Decoded bytes out: returns the count (0 = none for now). */
	ssize_t (*read)(void *x, uint8_t *buf, size_t cap);
	/* Bytes to encode; may queue them until established. 0 or -errno. */
	int (*write)(void *x, const uint8_t *p, size_t n);
	/* Wire bytes waiting to be sent, and their release. */
	size_t (*peek)(void *x, const uint8_t **p);
	void (*consume)(void *x, size_t n);
	/* True once the handshake is done (the handshake timer stops). */
	bool (*established)(void *x);
	/* Starts a clean close (close_notify); output follows via peek. */
	void (*shutdown)(void *x);
	void (*free)(void *x);
	/* Fills what tls.list shows (optional: NULL for plain transforms). */
	void (*describe)(void *x, struct stls_tls_info *out);
	/*
	 * Handshake steps off the worker (optional; [core]
	 * handshake_threads, hsstep.c). feed() split in two, so that
	 * feed(x, p, n) == step_done(x, step(x, p, n)):
	 * - step(): the engine's part alone. Runs on a handshake thread
	 *   while the worker calls no other op on <x>; it touches only
	 *   <x>'s own state and what the library keeps thread-safe (the
	 *   audit in docs/daemon.md).
	 * - step_done(): the worker's part, on the owning worker with
	 *   step()'s result (counters, hooks); returns the final result.
	 * Used only for inbound connections still in handshake.
	 */
	enum stls_io (*step)(void *x, const uint8_t *p, size_t n);
	enum stls_io (*step_done)(void *x, enum stls_io io);
	/*
	 * Optional, with step(): the wire output that the handshake thread
	 * may write to the socket itself right after step(), under step()'s
	 * rules: 0 for any byte that step_done() may still withhold (a
	 * hook that drops the connection). Not asked after a step that
	 * failed (its alert leaves from the worker). Released with
	 * consume(). NULL: every byte leaves from the worker.
	 */
	size_t (*step_peek)(void *x, const uint8_t **p);
};

struct stls_xform {
	const struct stls_xform_ops *ops; /* NULL: identity */
	void *x;
};

/*
 * Makes the transform for a new connection (tls: listeners, outbound TLS).
 * Called on the owning worker; <c> is set up (addresses, id, listener) but
 * has sent nothing. Returns 0 with *out filled, or -errno (the connection
 * is then closed with reason TRANSFORM).
 */
typedef int stls_xform_new_fn(void *arg, struct stls_dconn *c,
			      struct stls_xform *out);

/*
 * Message handler: what the daemon does with bytes. One set of ops for the
 * whole daemon; per-connection state goes in c->hstate, per-worker state in
 * w->hctx. Every callback runs on the owning worker. Optional ones may be
 * NULL. <arg> is stls_daemon_opts.handler_arg.
 */
struct stls_handler_ops {
	const char *name;
	/* Worker start/stop (optional): set up / free w->hctx. */
	int (*worker_init)(struct stls_worker *w, void *arg);
	void (*worker_fini)(struct stls_worker *w, void *arg);
	/* A new connection, inbound, outbound or backend (optional). */
	int (*open)(struct stls_dconn *c, void *arg);
	/* The transform says established (optional). */
	void (*established)(struct stls_dconn *c, void *arg);
	/* Decoded bytes from c; <p> is only valid during the call. Returns 0,
	 * or -errno to close c (reason HANDLER). */
	int (*data)(struct stls_dconn *c, const uint8_t *p, size_t n,
		    void *arg);
	/* c is closing: release c->hstate (optional). */
	void (*close)(struct stls_dconn *c, void *arg);
	/* A datagram on a udp: listener (optional). */
	void (*datagram)(struct stls_listener *l, const struct stls_addr *from,
			 const uint8_t *p, size_t n, void *arg);
	/* A datagram from the udp: backend (optional). */
	void (*backend)(struct stls_worker *w, const struct stls_addr *from,
			const uint8_t *p, size_t n, void *arg);
	/* A datagram for the udp: backend, held until the end of the loop
	 * turn, that the kernel then refused with <err> (-errno); <p> is
	 * valid during the call (optional). */
	void (*backend_unsent)(struct stls_worker *w, const uint8_t *p,
			       size_t n, int err, void *arg);
};

/*
 * A per-worker part that lives above the runtime (dial/backend.c: the
 * socket towards the backend). The runtime never includes its header: it
 * calls these hooks, on the worker's thread, at fixed points of the
 * worker's life. The part keeps its state where its header says (the
 * backend in w->backend). Every hook is optional.
 */
struct stls_worker_part {
	const char *name;
	/* The loop is ready, before the handler's worker_init. 0 or -errno
	 * (the worker then fails to start). */
	int (*start)(struct stls_worker *w);
	/* The end of every loop turn, before connections flush: output the
	 * part held for the turn leaves now. */
	void (*turn_end)(struct stls_worker *w);
	/* The worker is stopping: close the part's handles. May be called
	 * more than once. */
	void (*stop)(struct stls_worker *w);
	/* The loop has ended: release what is left. */
	void (*free)(struct stls_worker *w);
};

#define STLS_WORKER_PARTS_MAX 4

/* What stls_daemon_new() needs; times in milliseconds. */
struct stls_daemon_opts {
	unsigned workers;
	const struct stls_listen_conf *listen; /* borrowed, outlives d */
	size_t n_listen;
	enum stls_proto backend_proto;         /* UDP or TCP */
	struct stls_addr backend;              /* AF_UNSPEC: no backend */
	struct stls_addr backend_source;       /* AF_UNSPEC: any */
	int max_connections;
	int handshake_ms;
	int send_ms;
	int idle_ms;                           /* -1 never */
	int shutdown_ms;
	int accept_backoff_ms;
	/* Inbound TLS handshakes in flight per worker (0: no limit): at the
	 * limit the worker stops accepting; handshakes older than shed_ms
	 * (0: never) are then closed, oldest first. */
	int max_handshakes;
	int shed_ms;
	/* Handshake threads (hsoff.h; 0: steps on the workers), the
	 * handshakes in flight on a worker from which its steps go there
	 * (0: always), their nice value, or SCHED_IDLE, and their time
	 * slice (µs, 0: the kernel's). */
	unsigned hs_threads;
	unsigned hs_offload_at;
	int hs_nice;
	bool hs_idle;
	unsigned hs_slice_us;
	/* Per source address (IPv6: per /64), 0: no limit: open
	 * connections, and new connections a second (srclim.h). */
	int source_max_conns;
	int source_rate;
	/* Sources the limits refuse go into a socket filter on the direct
	 * listeners for filter_hold_ms (synfilter.h); 0 entries: off. */
	int source_filter_max;
	int source_filter_hold_ms;
	size_t high_water;
	size_t low_water;
	int udp_buffer;                        /* bytes, 0: kernel default */
	const struct stls_handler_ops *handler;
	void *handler_arg;
	stls_xform_new_fn *xform_new;          /* NULL: tls: unsupported */
	void *xform_arg;
	/* The DNS part's settings (dns/dns_part.h), or NULL. */
	const struct stls_dns_conf *dns;
	/* Per-worker parts, called in list order; NULL ends
	 * the list. The backend socket is one (dial/backend.h). */
	const struct stls_worker_part *parts[STLS_WORKER_PARTS_MAX];
};

/* Fills opts from an applied [core] section (handler and xform unset). */
void stls_daemon_opts_from_conf(const struct stls_core_conf *c,
				struct stls_daemon_opts *o);

/*
 * Creates the daemon and binds every listening socket (main thread, before
 * any privilege drop). Port 0 is resolved once and shared by all workers.
 * Returns 0 with *out set, or -errno (the reason is logged: -EADDRINUSE,
 * -EACCES, -ENOTSUP for tls: without xform_new, ...).
 */
STLS_MUST_USE int stls_daemon_new(const struct stls_daemon_opts *o,
				  struct stls_daemon **out);

/*
 * Starts the worker threads and waits until each has its loop running.
 * Returns 0, or -errno when a worker failed to start (the others are
 * stopped and joined again).
 */
STLS_MUST_USE int stls_daemon_start(struct stls_daemon *d);

/*
 * Asks every worker to stop: stop accepting, give connections up to
 * shutdown_ms to flush, close them, exit the loop. Any thread; returns at
 * once (see stls_daemon_join()).
 */
void stls_daemon_stop(struct stls_daemon *d);

/* Waits for the worker threads to exit. Main thread. */
void stls_daemon_join(struct stls_daemon *d);

/* Stops, joins and frees everything. NULL is fine. */
void stls_daemon_free(struct stls_daemon *d);

/* Address listener i is bound to (port 0 resolved). */
const struct stls_addr *stls_daemon_bound(const struct stls_daemon *d,
					  size_t i);

unsigned stls_daemon_workers(const struct stls_daemon *d);

/* Sources in the SYN filter now ([core] source_filter; 0 when off). Any
 * thread. */
size_t stls_daemon_filtered_sources(struct stls_daemon *d);

/* Handshake steps waiting for a handshake thread now ([core]
 * handshake_threads; 0 when off). Any thread. */
size_t stls_daemon_hs_queued(struct stls_daemon *d);

/* Worker i (0 <= i < workers), for posting and stats. */
struct stls_worker *stls_daemon_worker(struct stls_daemon *d, unsigned i);

/* Idle timeout for new connections (cfg.set). Any thread. */
void stls_daemon_set_idle_timeout(struct stls_daemon *d, int ms);

/* Open connections, all workers (inbound and outbound). Any thread. */
int stls_daemon_conn_count(const struct stls_daemon *d);

/*
 * A message for a worker, or for one connection. The sender allocates it
 * (it may be the head of a bigger struct) and gives it up; fn runs on the
 * target worker with the connection (NULL when conn_id is 0 or the
 * connection is gone) and must free the message. <cancelled> is true when
 * the daemon is being freed and the worker no longer runs: release only.
 */
struct stls_msg;
typedef void stls_msg_fn(struct stls_worker *w, struct stls_dconn *c,
			 struct stls_msg *m, bool cancelled);
struct stls_msg {
	struct stls_msg *next; /* owned by the queue */
	uint64_t conn_id;      /* 0: for the worker */
	stls_msg_fn *fn;
};

/*
 * Queues m for the worker that owns m->conn_id, or for worker <widx> when
 * conn_id is 0. Lock-free; any thread, once stls_daemon_start() has
 * returned and until stls_daemon_free() is called. Takes m. Returns 0,
 * or -ENOENT when the id names no worker (m is then still the caller's).
 */
STLS_MUST_USE int stls_daemon_post(struct stls_daemon *d, unsigned widx,
				   struct stls_msg *m);

/*
 * Copies p[0..n) and sends it on connection <id> from any thread (the
 * owning worker does stls_dconn_send()). Returns 0, -ENOENT (bad id) or
 * -ENOMEM. Delivery is best effort: a connection gone meanwhile drops it.
 */
STLS_MUST_USE int stls_daemon_send(struct stls_daemon *d, uint64_t id,
				   const uint8_t *p, size_t n);

/*
 * Sets the receive and send buffers of a UDP socket to <bytes> (0: leave
 * the kernel's). Tries the privileged SO_*BUFFORCE first (not capped by
 * net.core.rmem_max), then the plain options; a refusal is logged, never
 * fatal.
 */
void stls_udp_set_buffers(int fd, int bytes);

/* Worker index encoded in a connection id, or -1 for an invalid id. */
int stls_dconn_id_worker(uint64_t id);

#endif
