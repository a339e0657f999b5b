/*
 * siptlsctl's JSON-RPC client: connect to the control socket (Unix path or
 * loopback TCP), send requests as newline-framed compact JSON, read the
 * matching reply line. Blocking, with a per-operation timeout. Also turns
 * command-line arguments into JSON-RPC params.
 */
#ifndef STLS_RPC_CLIENT_H
#define STLS_RPC_CLIENT_H

#include "stls/common.h"
#include "stls/json.h"

struct stls_rpc_client;

/* A JSON-RPC error reply, as received. */
struct stls_rpc_client_error {
	int64_t code;
	char message[512];
	struct stls_json *data; /* owned; NULL when absent */
};

/*
 * Connects to the Unix socket <unix_path>, or to <tcp> ("IP:PORT",
 * "[IPv6]:PORT" or "localhost:PORT") when tcp is not NULL. Every later
 * send or receive waits at most <timeout_ms>. On failure writes a sentence
 * naming the socket and the reason (and a hint) into why[why_len].
 * Returns 0 with *out set, or -errno.
 */
STLS_MUST_USE int stls_rpc_client_connect(const char *unix_path,
					  const char *tcp, int timeout_ms,
					  struct stls_rpc_client **out,
					  char *why, size_t why_len);

/*
 * Calls <method> with <params> (taken; NULL sends no params) and waits for
 * the reply. Returns 0 with *result set (owned by the caller); -EPROTO when
 * the daemon answered with an error (*err filled; release err->data with
 * stls_json_free); -EBADMSG when the reply is not a JSON-RPC response;
 * -ETIMEDOUT; -ECONNRESET when the connection closed; other -errno.
 */
STLS_MUST_USE int stls_rpc_client_call(struct stls_rpc_client *c,
				       const char *method,
				       struct stls_json *params,
				       struct stls_json **result,
				       struct stls_rpc_client_error *err);

/* Closes the connection and frees <c>. NULL is a no-op. */
void stls_rpc_client_free(struct stls_rpc_client *c);

/*
 * Builds a params array from command-line words: a decimal integer that
 * fits int64 without leading zeros or '+' ("180", "-1") becomes a number,
 * "true"/"false" a boolean, anything else a string; with <all_strings>
 * every word stays a string. Returns 0 with *out set, or -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_client_params_from_args(int argc,
						   char *const *argv,
						   bool all_strings,
						   struct stls_json **out);

#endif
