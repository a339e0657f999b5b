/*
 * One TCP connection of the daemon (inbound, outbound or to the backend).
 *
 * Lifecycle (docs/daemon.md has the diagram):
 *   CONNECTING -> HANDSHAKING -> ESTABLISHED -> CLOSING -> CLOSED
 * Inbound connections start in HANDSHAKING (ESTABLISHED at once for the
 * identity transform); outbound ones in CONNECTING. stls_dconn_close() only
 * marks the connection and queues it: the worker closes it at the end of
 * the loop iteration, so a connection never disappears under a callback.
 *
 * Output: on a connection with a transform (TLS), stls_dconn_send() holds
 * the clear bytes until the end of the loop iteration (or until 16 KiB are
 * held), so that all the messages produced for one connection in one turn
 * become one transform write (one TLS record) and one system call. Plain
 * connections, and the flush, try a direct write first (no copy when the
 * socket takes everything); the rest is copied into one chunk per call and
 * queued. `pending` counts queued wire bytes, `held` the clear bytes not
 * yet through the transform. Above send_high_water the
 * connection is congested: sources waiting on it (stls_dconn_wait_drain())
 * stop reading until it drains below send_low_water, and send_timeout
 * runs; above 4 x send_high_water + 64 KiB (one read buffer) it is closed
 * (OVERFLOW).
 *
 * Timers: one uv_timer_t per connection, re-armed lazily: activity only
 * stores a timestamp, and the timer, when it fires, either closes the
 * connection or sleeps until the next deadline (idle, handshake, send).
 *
 * Threads: a connection belongs to one worker; every function here runs on
 * that worker. Other threads reach it by id (stls_daemon_post()).
 */
#ifndef STLSD_CONN_H
#define STLSD_CONN_H

#include <uv.h>

#include "runtime/daemon.h"

enum stls_dconn_state {
	STLS_DCONN_CONNECTING,
	STLS_DCONN_HANDSHAKING,
	STLS_DCONN_ESTABLISHED,
	STLS_DCONN_CLOSING,
	STLS_DCONN_CLOSED,
	STLS_DCONN__COUNT
};

extern const char *const stls_dconn_state_names[STLS_DCONN__COUNT];

enum stls_dconn_kind {
	STLS_DCONN_INBOUND,  /* accepted on a listener */
	STLS_DCONN_OUTBOUND, /* opened by us towards a client or carrier */
	STLS_DCONN_BACKEND,  /* the worker's tcp: backend connection */
};

/* Why reading is paused (bits). */
#define STLS_PAUSE_BACKPRESSURE 0x1
#define STLS_PAUSE_SHUTDOWN 0x2
#define STLS_PAUSE_STEP 0x4 /* 16 KB read while a handshake step is out */

struct stls_dconn;
/* Called once when a connection is being closed (owner bookkeeping). */
typedef void stls_dconn_closed_fn(struct stls_dconn *c);

struct stls_dconn {
	uint64_t id;
	struct stls_worker *w;
	enum stls_dconn_kind kind;
	enum stls_dconn_state state;
	enum stls_dclose reason;
	const struct stls_listen_conf *listener; /* inbound only */
	struct stls_addr local;
	struct stls_addr peer;
	uint64_t created_ms;      /* uv_now() of the worker loop */
	uint64_t last_active_ms;
	uint64_t congested_ms;    /* 0: not congested */
	int idle_ms;              /* -1 never; fixed at creation */
	uint64_t bytes_in;
	uint64_t bytes_out;
	size_t pending;           /* queued wire bytes */
	unsigned pause;           /* STLS_PAUSE_* */
	bool counted;             /* holds a max_connections slot */
	bool draining;            /* close once pending reaches 0 */
	bool hopen;               /* the handler's open succeeded */
	bool connected;           /* outbound: the TCP connect succeeded */
	bool hs_listed;           /* on the worker's handshakes list */
	bool src_counted;         /* holds a per-source slot (srclim.h) */
	struct stls_dconn *hs_prev, *hs_next;
	/* Handshake bytes held for a later turn (stls__hs_turn_take());
	 * on the worker's held list (hsq_*) exactly while hs_hold is set. */
	struct stls_dconn *hsq_prev, *hsq_next;
	uint8_t *hs_hold;
	size_t hs_hold_len;
	/* A handshake step is out on a handshake thread (hsstep.c): no
	 * transform op runs while it is set. Reads meanwhile gather in
	 * step_buf (from STLS_HS_HOLD_MAX bytes on, reading pauses until
	 * the step is back), fed with the next step; a close waits for the
	 * step to come back (close_waits). */
	bool step_out;
	bool close_waits;
	uint8_t *step_buf;
	size_t step_len;
	stls_dconn_closed_fn *on_closed; /* optional, for the opener */

	struct stls_xform xform;  /* the stream transform slot */
	void *hstate;             /* the handler's per-connection state */
	void *user;               /* free for the owner of an outbound conn */

	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect_req;
	int open_handles;         /* closed when this reaches 0 */
	uint8_t *pre;             /* output queued while CONNECTING */
	size_t pre_len, pre_cap;
	uint64_t *waiters;        /* ids of sources blocked on our drain */
	size_t n_waiters, cap_waiters;
	struct stls_dconn *close_next;
	bool proxy_wait;          /* a PROXY v2 header is still to come */
	uint8_t *proxy_buf;       /* its bytes so far (proxy_len) */
	size_t proxy_len;
	uint8_t *held;            /* clear output for the end of the turn */
	size_t held_len, held_cap;
	struct stls_dconn *flush_next; /* the worker's flush list */
	struct stls_dconn **flush_pprev; /* NULL: not on it */
};

/*
 * Creates a connection object on worker w for an already-open socket
 * (inbound: fd from accept) or for a connect (fd < 0: the caller then
 * calls uv_tcp_connect on c->tcp; <peer> is the destination, set before
 * the transform is made; inbound: the peer's address when the caller
 * has it, else NULL and getpeername() finds it). Registers it in the
 * table, arms its timer, makes the transform (tls: listeners / <tls>)
 * and calls the handler's open. Inbound connections start reading at once.
 * Takes the fd, and for the inbound and outbound kinds the caller's
 * max_connections slot (stls__worker_conn_reserve()), in every case.
 * Returns 0 with *out (owned by the worker), or -errno (the object, if
 * any, is already queued for closing).
 */
STLS_MUST_USE int stls_dconn_new(struct stls_worker *w, int fd,
				 enum stls_dconn_kind kind,
				 const struct stls_listen_conf *listener,
				 const struct stls_addr *local,
				 const struct stls_addr *peer, bool tls,
				 struct stls_dconn **out);

/*
 * Sends bytes through the transform. Copies what cannot be written now;
 * with a transform the bytes leave at the end of the loop iteration (a
 * transform failure then closes the connection, reason TRANSFORM).
 * Returns 0, -EPIPE (closing or closed), -ENOMEM, or -ENOBUFS when the
 * connection overflowed and is now closing. Check
 * stls_dconn_is_congested() after.
 */
STLS_MUST_USE int stls_dconn_send(struct stls_dconn *c, const uint8_t *p,
				  size_t n);

/*
 * Sends the held output now (through the transform, then to the socket)
 * and takes c off the worker's flush list; call it before looking at
 * c->pending. A draining connection with nothing left pending closes.
 */
void stls_dconn_flush(struct stls_dconn *c);

/* Pending output (queued wire bytes plus held clear bytes) above
 * send_high_water. */
bool stls_dconn_is_congested(const struct stls_dconn *c);

/*
 * Back-pressure: <src> stops reading until <dst> drains below
 * send_low_water (or closes). src == dst is allowed (echo). Both on the
 * same worker. No-op when dst is not congested.
 */
void stls_dconn_wait_drain(struct stls_dconn *src, struct stls_dconn *dst);

/* Deferred close: marks c and queues it. Later calls keep the first
 * reason. */
void stls_dconn_close(struct stls_dconn *c, enum stls_dclose r);

/* Marks c established (transform done); idempotent. */
void stls_dconn_set_established(struct stls_dconn *c);

/* Worker internals (worker.c calls them). */
void stls__dconn_start_read(struct stls_dconn *c);
/* Bytes read from <c>'s socket, to its transform or handler (a closing
 * connection drops them). */
void stls__dconn_input(struct stls_dconn *c, const uint8_t *p, size_t n);
/* What follows the transform's feed() (or a step's step_done()): acts
 * on its result <io>, reads the decoded bytes to the handler, sends the
 * transform's output. */
void stls__dconn_fed(struct stls_dconn *c, enum stls_io io);
/* Accounts <n> bytes written to c's socket (bytes_out, activity). */
void stls__dconn_sent(struct stls_dconn *c, size_t n);
void stls__dconn_pause(struct stls_dconn *c, unsigned why);
void stls__dconn_resume(struct stls_dconn *c, unsigned why);
void stls__dconn_arm_timer(struct stls_dconn *c);
void stls__dconn_finish_close(struct stls_dconn *c);
void stls__dconn_connected(struct stls_dconn *c);

#endif
