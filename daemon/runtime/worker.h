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
struct stls_hsoff;
struct stls_dns;

/* One listener (a [core] listen line) on one worker. */
struct stls_listener {
	struct stls_worker *w;
	const struct stls_listen_conf *conf;
	const struct stls_addr *local; /* the bound address; NULL: wildcard */
	size_t idx;
	int fd;             /* bound socket; -1 once handed over / closed */
	uint64_t synf_gen;  /* source filter generation on it; 0: never */
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
	int wake_fd;          /* eventfd: inbox, stop request, pokes */
	uv_poll_t wake;       /* on wake_fd */
	uv_idle_t due_idle;   /* keeps poll from blocking with work due */
	uv_check_t due_check; /* flushes output, runs closes after poll */
	uv_timer_t backoff;     /* accept back-off */
	uv_timer_t stop_timer;  /* shutdown grace */
	uv_timer_t shed_timer;  /* sheds the oldest handshake at the limit */
	uv_timer_t synf_timer;  /* the source filter's next build or expiry */
	atomic_bool synf_poke;  /* another worker built a source filter */
	struct stls_mpsc inbox;
	struct stls_dconn_table table;
	struct stls_listener *listeners; /* d->o.n_listen */
	struct stls_backend *backend;
	struct stls_dns *dns;   /* the DNS part's resolver, or NULL */
	struct stls_stats stats;
	struct stls_dconn *close_head, *close_tail; /* oldest first */
	bool closes_spent;      /* this iteration's close budget is used */
	struct stls_dconn *flush_head; /* connections with output held */
	uint8_t *scratch;       /* read buffer shared by the connections */
	uint8_t *scratch2;      /* decoded bytes out of a transform */
	size_t scratch_len;
	bool started;           /* thread created */
	bool loop_ok;           /* loop initialised */
	atomic_bool wake_ok;    /* wake handle initialised: other threads
				 * may send it */
	bool hinit;             /* handler worker_init done */
	atomic_bool stop_req;   /* stls_daemon_stop() was called */
	bool stopping;
	bool finished;          /* stopped: handles closed */
	unsigned accept_pause;  /* STLS_ACCEPT_PAUSE_* bits; 0: accepting */
	/* Inbound handshakes in flight, oldest first (dconn hs_next). */
	struct stls_dconn *hs_head, *hs_tail;
	unsigned n_hs;
	unsigned hs_turn;       /* handshake reads this loop turn */
	/* Handshake reads held for a later turn, oldest first (dconn
	 * hsq_next; see stls__hs_turn_take()). */
	struct stls_dconn *hsq_head, *hsq_tail;
	unsigned live;          /* connection objects not yet freed */
	void *hctx;             /* the handler's per-worker state */
};

/* Why a worker does not accept (bits of accept_pause). */
#define STLS_ACCEPT_PAUSE_BACKOFF 0x1 /* out of descriptors */
#define STLS_ACCEPT_PAUSE_HS_LIMIT 0x2 /* max_handshakes in flight */

/* The daemon: shared, read-only after start except the atomics. */
struct stls_daemon {
	struct stls_daemon_opts o;
	struct stls_worker *w;
	unsigned n;
	int *fds;                /* [listener * n + worker] */
	struct stls_addr *bound; /* per listener */
	atomic_int n_conns;
	atomic_int idle_ms;
	struct stls_srclim *srclim; /* per-source limits, NULL: none */
	struct stls_synfilter *synf; /* the SYN filter, NULL: off */
	struct stls_hsoff *hsoff;    /* the handshake threads, NULL: off */
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

/* The close budget of a loop iteration (ns); tests lower it. */
extern uint64_t stls__worker_close_turn_ns;

/* Any thread: wakes w's loop (one write() to its eventfd), which then
 * drains its inbox and looks at stop_req and synf_poke. Nothing before
 * w's wake handle is up (wake_ok). */
void stls__worker_wake(struct stls_worker *w);

/*
 * Sends a datagram from listener l (a udp: one) to <to>. Returns 0 or
 * -errno (-EAGAIN when the socket is full: the datagram is dropped).
 */
STLS_MUST_USE int stls_listener_send(struct stls_listener *l,
				     const struct stls_addr *to,
				     const uint8_t *p, size_t n);

/* Binds every listening socket (main thread). */
STLS_MUST_USE int stls__listen_open(struct stls_daemon *d);
/*
 * Per-source limits ([core] source_max_connections,
 * source_handshake_rate): true when <peer> may open one more connection,
 * *counted then telling whether it holds a slot (released when the
 * connection closes); false counts the refusal. On accept for plain
 * listeners; after the PROXY v2 header (dconn.c) for proxy_protocol ones,
 * whose accepted address is the balancer's. Worker thread.
 */
bool stls__listen_source_admit(struct stls_worker *w,
			       const struct stls_addr *peer, bool *counted);
void stls__listen_close_fds(struct stls_daemon *d);
/* The source filter ([core] source_filter, synfilter.h): brings the
 * program up to date and puts it on this worker's direct stream
 * listeners; a worker that built a new one pokes the others (their wake
 * handle), which call this in turn. Worker thread. */
void stls__listen_synf_run(struct stls_worker *w);
/* Worker side: wraps the fds in handles and starts them. */
STLS_MUST_USE int stls__listen_start(struct stls_worker *w);
/* Stops / restarts accepting for reason <why> (STLS_ACCEPT_PAUSE_*):
 * the worker accepts when no reason is left. */
void stls__listen_pause(struct stls_worker *w, unsigned why);
void stls__listen_resume(struct stls_worker *w, unsigned why);

/* Handshakes in flight (listen.c): an inbound TLS connection starts one
 * (stls_dconn_new()); it ends when the connection is established or
 * starts closing. At max_handshakes the worker pauses accepting, and
 * resumes below it; while paused, half-open connections (nothing sent to
 * them yet: no whole ClientHello) older than shed_ms are closed (SHED),
 * oldest first. */
void stls__hs_begin(struct stls_worker *w, struct stls_dconn *c);
void stls__hs_end(struct stls_worker *w, struct stls_dconn *c);

/*
 * Handshake work per loop turn: a read on a connection in handshake
 * counts one (a ClientHello costs a signature and a key exchange), and a
 * turn serves at most STLS_HS_TURN_BUDGET, so that the turn's reads of
 * established connections are not queued behind hundreds of handshakes.
 *
 * stls__hs_turn_take(): the read <p, n> of handshaking connection <c>.
 * False: serve it now (within the budget, and nothing held before it).
 * True: it was copied and is held (the caller drops it); held reads are
 * served oldest first by stls__hs_turn_end(), at most the budget a turn,
 * at the end of the turn (after the poll's reads of established
 * connections). A connection's reads stay in order: once one is held,
 * the following are held behind it. Nothing is taken off the socket's
 * epoll registration (pausing every handshake at the budget cost two
 * epoll_ctl() calls per connection per turn in a storm). At most
 * STLS_HS_HOLD_MAX bytes per connection are held: past that (or without
 * memory) its held bytes and this read are served at once.
 * stls__hs_turn_end(): from the check handle only (not the idle one, which
 * runs before the poll).
 */
#define STLS_HS_TURN_BUDGET 8
#define STLS_HS_HOLD_MAX (16 * 1024)
bool stls__hs_turn_take(struct stls_worker *w, struct stls_dconn *c,
			const uint8_t *p, size_t n);
void stls__hs_turn_end(struct stls_worker *w);

/*
 * Handshake steps on the handshake threads (hsstep.c; [core]
 * handshake_threads > 0). stls__hs_step_read(): the read <p, n> of <c>.
 * False: not for the threads (no pool, not an inbound connection in
 * handshake, or a transform without step()): the caller feeds it as
 * usual. True: taken: copied into a step for the threads, or, while a
 * step is out, kept to go with the next one (past STLS_HS_HOLD_MAX
 * the connection is closed, OVERFLOW, counted). When the step comes
 * back, its worker does what feed() would have done after the engine
 * (stls__dconn_fed()), then sends the kept bytes on: to the threads
 * while the handshake goes on, to the transform once established. A
 * close meanwhile waits for the step (stls__dconn_finish_close()).
 * stls__hs_step_back(): the pool's done callback (arg: the daemon).
 */
bool stls__hs_step_read(struct stls_dconn *c, const uint8_t *p, size_t n);
struct stls_hsoff_job;
void stls__hs_step_back(void *arg, struct stls_hsoff_job *j);
void stls__listen_stop(struct stls_worker *w);

#endif
