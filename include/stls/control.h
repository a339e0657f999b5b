/*
 * Names the daemon and siptlsctl share about the control socket.
 *
 * The daemon listens on `[core] rpc_socket` (default below); siptlsctl
 * connects to -s SOCKET, else $SIPTLS_SOCKET, else the default.
 */
#ifndef STLS_CONTROL_H
#define STLS_CONTROL_H

#define STLS_RPC_SOCKET_PATH "/run/siptls/siptlsd.sock"
#define STLS_RPC_SOCKET_ENV "SIPTLS_SOCKET"

#endif
