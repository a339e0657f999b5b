/*
 * The control socket server: JSON-RPC 2.0 (rpc.h) over a Unix stream
 * socket, and optionally over a loopback-only TCP port, served by one
 * control thread of its own with a poll(2) loop. SIP worker threads never
 * run RPC handlers; handlers run here, one request at a time.
 *
 * Framing: one JSON value (a request or a batch) per line, ended by "\n"
 * ("\r\n" accepted); replies are compact JSON, one per line, in request
 * order. Requests must therefore not contain raw newlines (JSON never needs
 * them outside strings, where they are escaped). Blank lines are ignored.
 * A last request without a newline is served when the client shuts down
 * its sending side (EOF). Notifications get no line back.
 *
 * Limits: a line longer than max_request bytes gets a -32600 error and the
 * connection is closed (the stream cannot be resynchronised). Each client
 * must complete every request, and read every reply, within idle_timeout
 * of its previous activity, or it is closed: a slow or silent client holds
 * only its own slot. At most max_clients at once; one more gets a 503 error
 * line and is closed.
 *
 * Security: the Unix socket is the access control (mode, default 0660,
 * never world-writable; put operators in the daemon's group). The TCP port
 * has no authentication, so it binds loopback addresses only and is
 * read-only (STLS_RPC_F_WRITE methods refused with 403) unless
 * tcp_allow_write is set.
 */
#ifndef STLS_RPC_SERVER_H
#define STLS_RPC_SERVER_H

#include "rpc/rpc.h"

struct stls_rpc_server;

#define STLS_RPC_DEFAULT_MODE 0660
#define STLS_RPC_DEFAULT_IDLE_MS 10000
#define STLS_RPC_DEFAULT_MAX_CLIENTS 32

struct stls_rpc_server_conf {
	const char *unix_path;    /* required: e.g. STLS_RPC_SOCKET_PATH */
	unsigned unix_mode;       /* permission bits; 0 = 0660 */
	const char *tcp;          /* NULL, or "127.0.0.1:PORT", "[::1]:PORT"
				     (PORT 0 = any free port) */
	bool tcp_allow_write;     /* allow STLS_RPC_F_WRITE methods on TCP */
	size_t max_request;       /* bytes per line; 0 = 1 MiB */
	unsigned idle_timeout_ms; /* 0 = STLS_RPC_DEFAULT_IDLE_MS */
	unsigned max_clients;     /* 0 = STLS_RPC_DEFAULT_MAX_CLIENTS */
};

/*
 * Opens the sockets and starts the control thread. <rpc> is borrowed: keep
 * it alive, and register no more methods, until stls_rpc_server_stop().
 * The Unix socket: refused (-EEXIST) when <unix_path> exists and is not a
 * socket; refused (-EADDRINUSE) when a live server answers on it; a stale
 * socket (nobody listening) is replaced. The mode is set before listen(),
 * so nobody can connect through looser permissions. Refuses a mode with
 * the world-write bit or bits outside 0777 (-EINVAL), a path too long for
 * sun_path (-ENAMETOOLONG), a TCP address that is not loopback
 * (-EADDRNOTAVAIL) or does not parse (-EINVAL). Each refusal is logged
 * with the reason. Returns 0 with *out set, or -errno (nothing left open).
 * Thread: the caller's (the main thread at start-up).
 */
STLS_MUST_USE int stls_rpc_server_start(struct stls_rpc *rpc,
					const struct stls_rpc_server_conf *conf,
					struct stls_rpc_server **out);

/* The bound TCP port (useful with port 0), or 0 when TCP is off. */
uint16_t stls_rpc_server_tcp_port(const struct stls_rpc_server *srv);

/*
 * Stops the control thread and joins it (a handler in progress finishes
 * first), closes every client, removes the Unix socket if it is still the
 * one we created, and frees <srv>. NULL is a no-op.
 */
void stls_rpc_server_stop(struct stls_rpc_server *srv);

#endif
