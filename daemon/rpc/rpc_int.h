/*
 * Internals shared by the files of the JSON-RPC dispatcher. Not for
 * handlers, which use rpc.h.
 *
 * Calls run one way, from the top of this list down, never back up:
 *	rpc_server.c   the control socket: reads request lines, calls
 *	               stls_rpc_handle() and stls_rpc_error_reply() (rpc.c)
 *	rpc_builtin.c  stls_rpc_new() and the built-in methods: calls the
 *	               registry and reply functions of rpc.c and the
 *	               parameter getters of rpc_params.c
 *	rpc.c          registry, dispatch, replies and errors: calls
 *	               rpc_params.c to bind a call's params, then the
 *	               handler through its method table (never by name)
 *	rpc_params.c   parameter specs, conversion, binding and getters:
 *	               calls nothing above; a binding or checked-read
 *	               failure comes back as -EINVAL with its message,
 *	               and rpc.c writes the -32602 reply
 */
#ifndef STLS_RPC_INT_H
#define STLS_RPC_INT_H

#include <time.h>

#include "rpc/rpc.h"

#define STLS__RPC_HIDDEN __attribute__((visibility("hidden")))

enum stls__rpc_kind {
	STLS__RPC_STR,
	STLS__RPC_INT,
	STLS__RPC_BOOL,
	STLS__RPC_NUM,
	STLS__RPC_ANY,
};

/* A parsed parameter spec ("id:int [name:str] ..."). */
struct stls__rpc_sig {
	struct {
		char name[32];
		enum stls__rpc_kind kind;
	} p[STLS_RPC_MAX_PARAMS];
	unsigned n;        /* declared parameters */
	unsigned required; /* the first <required> of them */
	bool rest;         /* "...": extra parameters allowed */
};

struct stls__rpc_entry {
	const struct stls_rpc_method *m;
	void *arg;
	struct stls__rpc_sig sig;
};

/* The dispatcher (rpc.c). */
struct stls_rpc {
	struct stls__rpc_entry *v;
	size_t n, cap;
	size_t max_request;
	struct timespec start_mono;
	time_t start_wall;
};

struct stls_rpc_call {
	struct stls_rpc *rpc;
	const struct stls__rpc_entry *e;
	struct stls_json **p; /* converted parameters (owned), n of them */
	size_t n;
	struct stls_json *result; /* owned */
	bool failed;
	int code;
	char *msg;              /* owned */
	struct stls_json *data; /* owned */
};

/*
 * Parses a parameter spec. Returns 0 or -EINVAL (with a log line naming
 * <method>).
 */
int stls__rpc_sig_parse(const char *method, const char *spec,
			struct stls__rpc_sig *sig) STLS__RPC_HIDDEN;

/* Room for the message of a parameter error. */
#define STLS__RPC_MSG_MAX 512

/*
 * Checks <params> (NULL, an array or an object) against the call's
 * signature and fills call->p with converted values. Returns 0, -EINVAL
 * (msg[size] holds the text of the -32602 reply: method, problem and
 * usage) or -ENOMEM.
 */
int stls__rpc_params_bind(struct stls_rpc_call *call,
			  const struct stls_json *params, char *msg,
			  size_t size) STLS__RPC_HIDDEN;

/*
 * The checks behind stls_rpc_param_get_int() and stls_rpc_param_get_str()
 * (see rpc.h): 0 with *out set, or -EINVAL with the -32602 text in
 * msg[size].
 */
int stls__rpc_param_check_int(const struct stls_rpc_call *call, size_t i,
			      int64_t min, int64_t max, int64_t *out,
			      char *msg, size_t size) STLS__RPC_HIDDEN;
int stls__rpc_param_check_str(const struct stls_rpc_call *call, size_t i,
			      const char **out, char *msg,
			      size_t size) STLS__RPC_HIDDEN;

/* Frees call->p. */
void stls__rpc_params_fini(struct stls_rpc_call *call) STLS__RPC_HIDDEN;

/* The entry named by <len> bytes of <name>, or NULL. */
const struct stls__rpc_entry *stls__rpc_find(const struct stls_rpc *rpc,
					     const char *name,
					     size_t len) STLS__RPC_HIDDEN;

/* Writes "method spec" into buf (the usage line). Returns buf. */
const char *stls__rpc_usage(const struct stls__rpc_entry *e, char *buf,
			    size_t size) STLS__RPC_HIDDEN;

#endif
