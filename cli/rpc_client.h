/*
 * siptlsctl's JSON-RPC client: connect to the control socket (Unix path or
 * loopback TCP), send requests as newline-framed compact JSON, read the
 * matching reply line. Blocking, with a per-operation timeout. Also turns
 * command-line arguments into JSON-RPC params.
 *
 * JSON values are jansson's json_t, one reference per owner: "taken"
 * arguments take the caller's reference (also on failure), results are new
 * references the caller releases with json_decref().
 */
#ifndef STLS_RPC_CLIENT_H
#define STLS_RPC_CLIENT_H

#include <jansson.h>

#include "stls/common.h"

struct stls_rpc_client;

/* A JSON-RPC error reply, as received. */
struct stls_rpc_client_error {
	int64_t code;
	char message[512];
	json_t *data; /* owned reference; NULL when absent */
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
 * the reply. Returns 0 with *result set (a reference the caller owns);
 * -EPROTO when the daemon answered with an error (*err filled; release
 * err->data with json_decref); -EBADMSG when the reply is not a JSON-RPC
 * response (or not strict JSON: duplicate keys are refused); -ETIMEDOUT;
 * -ECONNRESET when the connection closed; other -errno. Text that is not
 * UTF-8 (method, arguments) is sent with each bad byte as U+FFFD.
 */
STLS_MUST_USE int stls_rpc_client_call(struct stls_rpc_client *c,
				       const char *method, json_t *params,
				       json_t **result,
				       struct stls_rpc_client_error *err);

/* Closes the connection and frees <c>. NULL is a no-op. */
void stls_rpc_client_free(struct stls_rpc_client *c);

/*
 * Builds a params array from command-line words: a decimal integer that
 * fits int64 without leading zeros or '+' ("180", "-1") becomes a number,
 * "true"/"false" a boolean, anything else a string; with <all_strings>
 * every word stays a string (bytes that are not UTF-8 become U+FFFD).
 * Returns 0 with *out set (a new reference), or -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_client_params_from_args(int argc,
						   char *const *argv,
						   bool all_strings,
						   json_t **out);

/* A JSON string of s, each byte that is not UTF-8 as U+FFFD; NULL: OOM. */
json_t *stls_rpc_client_text(const char *s);

#endif
