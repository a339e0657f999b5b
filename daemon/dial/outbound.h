/*
 * Outbound TCP connections: towards a client that has no connection left
 * (a request from the backend for it), a carrier, or the tcp: backend.
 *
 * The connect is non-blocking; the handshake timer (handshake_timeout)
 * covers connect plus TLS handshake. Data sent before the connect
 * completes is queued (it counts as pending output) and written once the
 * socket is connected; a transform made for the connection (the TLS client
 * engine) sends its first flight then.
 */
#ifndef STLSD_OUTBOUND_H
#define STLSD_OUTBOUND_H

#include "runtime/dconn.h"

/*
 * Opens a connection from worker w to <dst> (from <src> when its family is
 * set; port 0 = any). <kind> is STLS_DCONN_OUTBOUND (counts against
 * max_connections) or STLS_DCONN_BACKEND (does not). <tls>: make the
 * transform with the daemon's xform_new. Runs on worker w.
 * Returns 0 with *out (owned by the worker; it may still fail to connect:
 * it is then closed with reason CONNECT_FAILED or HANDSHAKE_TIMEOUT), or
 * -EMFILE (max_connections reached), -EINVAL (bad address) or another
 * -errno from the socket layer.
 */
STLS_MUST_USE int stls_outbound_open(struct stls_worker *w,
				     const struct stls_addr *dst,
				     const struct stls_addr *src,
				     enum stls_dconn_kind kind, bool tls,
				     struct stls_dconn **out);

#endif
