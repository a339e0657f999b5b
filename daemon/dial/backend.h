/*
 * The inside socket of each worker, towards the backend SIP server.
 *
 * udp: one socket per worker, bound to backend_source (port 0: each
 * worker its own ephemeral port, so replies come back to the worker that
 * sent the request; a fixed port is shared with SO_REUSEPORT and the
 * kernel spreads replies, which the relay routes by flow token).
 * Datagrams from the backend go to the handler's backend callback.
 *
 * tcp: one persistent connection per worker (kind STLS_DCONN_BACKEND,
 * not counted in max_connections), reconnected with back-off (100 ms
 * doubling to 5 s, reset by a successful connect) when it goes away.
 * Bytes from it go to the handler's data callback like any connection;
 * the handler tells it apart by c->kind.
 */
#ifndef STLSD_BACKEND_H
#define STLSD_BACKEND_H

#include "runtime/daemon.h"

/*
 * Sends one message to the backend from worker w (on w's thread).
 * udp: the datagram is copied and leaves at the end of the loop turn,
 * with the others of that turn, in one sendmmsg(); one the kernel then
 * refuses goes to the handler's backend_unsent (the relay answers the
 * request with 503). Returns 0, -ENOTCONN (udp: no socket; tcp: not
 * connected right now, including while a reconnect is in progress:
 * nothing is queued) or another -errno; every failure, now or at the
 * flush, is counted in backend_send_errors.
 */
STLS_MUST_USE int stls_backend_send(struct stls_worker *w, const uint8_t *p,
				    size_t n);

/*
 * Sends one datagram from worker w's udp: inside socket to <to>, another
 * host on the inside network than the backend (a phone served by the
 * backend that sends its in-dialog requests to siptlsd directly), at
 * once. Returns 0, -ENOTSUP (no udp: backend socket) or -errno.
 */
STLS_MUST_USE int stls_backend_send_to(struct stls_worker *w,
				       const struct stls_addr *to,
				       const uint8_t *p, size_t n);

/* tcp: the worker's backend connection (for back-pressure), else NULL. */
struct stls_dconn *stls_backend_conn(struct stls_worker *w);

/*
 * Local address of worker w's backend socket: udp: the bound socket; tcp:
 * the connection's while it is connected. Returns 0, or -ENOTCONN (no
 * backend, tcp: down). Worker w's thread.
 */
STLS_MUST_USE int stls_backend_local(struct stls_worker *w,
				     struct stls_addr *out);

/* tcp: true while the connection is up. udp: true. */
bool stls_backend_is_up(struct stls_worker *w);

/*
 * The backend socket as a worker part (runtime/daemon.h): put it in
 * stls_daemon_opts.parts. It starts nothing when opts.backend is
 * AF_UNSPEC. At the end of each loop turn it sends the datagrams held
 * for a udp: backend; refused ones go to the handler's backend_unsent.
 */
extern const struct stls_worker_part stls_backend_part;

#endif
