/*
 * Internals shared by the files of the JSON-RPC dispatcher. Not for
 * handlers, which use rpc.h.
 *
 * Calls run one way, from the top of this list down, never back up:
 *	rpc_server.c   the control socket: reads request lines, calls
 *	               stls_rpc_handle() and stls_rpc_error_reply() (rpc.c)
 *	rpc_builtin.c  stls_rpc_new() and the built-in methods: calls the
 *	               registry and reply functions of rpc.c, the
 *	               parameter getters of rpc_params.c and rpc_json.c
 *	rpc.c          registry, dispatch, replies and errors: calls
 *	               rpc_parse.c for the request text, rpc_params.c to
 *	               bind a call's params, then the handler through its
 *	               method table (never by name), and rpc_json.c for
 *	               strings
 *	rpc_parse.c    request text to JSON (jansson, our limits): calls
 *	               nothing here
 *	rpc_params.c   parameter specs, conversion, binding and getters:
 *	               calls nothing above; a binding or checked-read
 *	               failure comes back as -EINVAL with its message,
 *	               and rpc.c writes the -32602 reply
 *	rpc_json.c     building results over jansson: calls nothing here
 * Handlers elsewhere (daemon/ctl) call rpc.h only.
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
	json_t **p; /* converted parameters, one reference each, n of them */
	size_t n;
	json_t *result; /* owned reference, or NULL */
	bool failed;
	int code;
	char *msg;    /* owned */
	json_t *data; /* owned reference, or NULL */
};

/*
 * Parses a parameter spec. Returns 0 or -EINVAL (with a log line naming
 * <method>).
 */
int stls__rpc_sig_parse(const char *method, const char *spec,
			struct stls__rpc_sig *sig) STLS__RPC_HIDDEN;

/*
 * Parses one request of <len> bytes (jansson, with the flags and the depth
 * limit of rpc.h). Returns 0 with a new reference in *out; -EINVAL when it
 * is not JSON (reply -32700) or -ENOBUFS when a limit refuses it (size or
 * depth: reply -32600), msg[size] holding the reply's text with the byte
 * offset; -ENOMEM.
 */
int stls__rpc_parse(const char *text, size_t len, size_t max_size,
		    json_t **out, char *msg, size_t size) STLS__RPC_HIDDEN;

/* Room for the message of a parameter error. */
#define STLS__RPC_MSG_MAX 512

/*
 * Checks <params> (NULL, an array or an object) against the call's
 * signature and fills call->p with converted values. Returns 0, -EINVAL
 * (msg[size] holds the text of the -32602 reply: method, problem and
 * usage) or -ENOMEM.
 */
int stls__rpc_params_bind(struct stls_rpc_call *call, const json_t *params,
			  char *msg, size_t size) STLS__RPC_HIDDEN;

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

/* Releases call->p (every reference, then the array). */
void stls__rpc_params_fini(struct stls_rpc_call *call) STLS__RPC_HIDDEN;

/* The entry named by <len> bytes of <name>, or NULL. */
const struct stls__rpc_entry *stls__rpc_find(const struct stls_rpc *rpc,
					     const char *name,
					     size_t len) STLS__RPC_HIDDEN;

/* Writes "method spec" into buf (the usage line). Returns buf. */
const char *stls__rpc_usage(const struct stls__rpc_entry *e, char *buf,
			    size_t size) STLS__RPC_HIDDEN;

#endif
