/*
 * JSON-RPC 2.0 dispatch for the control plane: a method table, request
 * validation, parameter checking, and the built-in methods. JSON values
 * are jansson's (json_t, reference counted); see "JSON values" below.
 *
 * Protocol (https://www.jsonrpc.org/specification): a request is an object
 * {"jsonrpc":"2.0","method":NAME,"params":[...] or {...},"id":ID}, or a
 * batch (a non-empty array of such objects). A request without "id" is a
 * notification: it runs but gets no reply. A batch made only of
 * notifications gets no reply at all.
 *
 * Registering methods (the daemon does this before starting the server):
 *
 *	static int tls_kill(struct stls_rpc_call *call, void *arg)
 *	{
 *		struct daemon *d = arg;
 *		int64_t id = stls_rpc_param_int(call, 0);
 *
 *		if (!daemon_kill_conn(d, id))
 *			return stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
 *					     "TLS connection id not found");
 *		return stls_rpc_reply_str(call, "OK");
 *	}
 *
 *	static const struct stls_rpc_method tls_methods[] = {
 *		{ "tls.kill", tls_kill, "id:int",
 *		  "Close the TLS connection with this id.", STLS_RPC_F_WRITE },
 *		STLS_RPC_METHOD_END
 *	};
 *	err = stls_rpc_register(rpc, tls_methods, daemon);
 *
 * Parameter specs. The "params" string of a method lists its parameters in
 * order, separated by spaces: "name:type", optional ones in brackets
 * ("[name:type]", only after the required ones), and an optional final
 * "..." for any number of extra parameters of any type. Types:
 *	str   a string; a number or boolean is accepted and converted to its
 *	      JSON text (siptlsctl sends 180 for the argument "180", and a
 *	      method that wants text must still work: kamcmd users type
 *	      `cfg.set_now_string tls private_key 123`)
 *	int   a 64-bit integer; also a string holding a decimal integer and a
 *	      double with an integral value
 *	bool  true/false; also 0/1 and the strings true, false, yes, no, on,
 *	      off, 1, 0 (any case)
 *	num   an integer or a double (strings holding a number are converted)
 *	any   any JSON value, untouched
 * The dispatcher checks the count and the types, converts as above, and
 * maps named parameters ({"id":5}) onto these positions, before the handler
 * runs. So inside a handler stls_rpc_param_str/int/bool() of a declared
 * parameter cannot fail. Mistakes get -32602 with a message naming the
 * method, the parameter and its usage, e.g.
 *	tls.kill: parameter 'id' must be an integer, got "abc" (usage:
 *	tls.kill id:int)
 *
 * Handlers. A handler runs on the control thread (see rpc_server.h), one
 * call at a time, and must not block for long: every other control client
 * waits meanwhile. It either
 *	- sets a result with stls_rpc_reply() (or a shorthand) and returns 0
 *	  (returning 0 without a result replies null), or
 *	- returns stls_rpc_fail() with an error code and message, or
 *	- returns a negative errno: the client gets -32603 with strerror text.
 * Handlers that need worker state (tls.list, tls.kill) must hand the work
 * to the workers through their queues and wait, with a bounded timeout, for
 * the answers; worker data must never be read directly from the control
 * thread. Handlers that swap shared state (tls.reload) build the new state
 * completely on the control thread and publish it atomically.
 *
 * Errors: the standard codes below, plus application codes (positive, in
 * the HTTP style Kamailio's RPC faults use). docs/operations.md lists them.
 *
 * JSON values. Requests are parsed by jansson strictly: RFC 8259, no
 * duplicate keys, "\u0000" allowed in strings (not in keys), integers
 * that fit in int64_t (json_int_t is long long), at most
 * STLS_RPC_MAX_DEPTH levels of nesting (checked before jansson parses, so
 * that jansson never recurses deeper than that). A json_t has one
 * reference per owner: functions below that "take" a value take the
 * caller's reference, also when they fail; "borrowed" values must not be
 * released (json_decref) by the handler.
 *
 * Threads: stls_rpc_new/register/free on one thread before/after the
 * server runs; stls_rpc_handle() from one thread at a time (the control
 * thread). Registration after the server started is not supported.
 */
#ifndef STLS_RPC_H
#define STLS_RPC_H

#include <jansson.h>

#include "stls/common.h"

struct stls_rpc;
struct stls_rpc_call;

/* Error codes (the "code" member of a JSON-RPC error object). */
enum stls_rpc_code {
	STLS_RPC_E_PARSE = -32700,           /* not JSON */
	STLS_RPC_E_INVALID_REQUEST = -32600, /* JSON, but not a request */
	STLS_RPC_E_NO_METHOD = -32601,       /* no such method */
	STLS_RPC_E_INVALID_PARAMS = -32602,  /* wrong count or type */
	STLS_RPC_E_INTERNAL = -32603,        /* handler failed unexpectedly */
	/* Application errors: */
	STLS_RPC_E_BAD_VALUE = 400,   /* well-typed but unacceptable value */
	STLS_RPC_E_FORBIDDEN = 403,   /* not allowed here or now */
	STLS_RPC_E_NOT_FOUND = 404,   /* the named thing does not exist */
	STLS_RPC_E_CONFLICT = 409,    /* clashes with work in progress */
	STLS_RPC_E_FAILED = 500,      /* attempted and failed (see data) */
	STLS_RPC_E_UNAVAILABLE = 503, /* cannot be done now (shutdown, busy) */
};

/* Method flags. */
enum stls_rpc_flags {
	/* Changes state; refused (403) on read-only transports (TCP). */
	STLS_RPC_F_WRITE = 1 << 0,
	/* Callable but not listed by system.listMethods or --help. */
	STLS_RPC_F_HIDDEN = 1 << 1,
};

/* Per-request context flags, given by the transport. */
enum stls_rpc_ctx {
	STLS_RPC_CTX_READONLY = 1 << 0, /* refuse STLS_RPC_F_WRITE methods */
};

/*
 * A method handler. <arg> is the pointer given to stls_rpc_register().
 * Returns 0 or a negative value (see the file comment).
 */
typedef int stls_rpc_fn(struct stls_rpc_call *call, void *arg);

struct stls_rpc_method {
	const char *name;   /* "group.verb", e.g. "tls.reload" */
	stls_rpc_fn *fn;
	const char *params; /* parameter spec (see above); "" for none */
	const char *doc;    /* one or more sentences for --help */
	unsigned flags;     /* enum stls_rpc_flags */
};

#define STLS_RPC_METHOD_END { NULL, NULL, NULL, NULL, 0 }
/* Parameters one method can declare (not counting "..."). */
#define STLS_RPC_MAX_PARAMS 8
/* Requests one batch can hold. */
#define STLS_RPC_MAX_BATCH 256
/* Default largest request accepted by stls_rpc_handle() (bytes). */
#define STLS_RPC_DEFAULT_MAX_REQUEST (1u << 20)
/*
 * Deepest nesting of arrays and objects in a request (64 = 64 brackets
 * open at once). jansson's own limit is 2048 (compiled in); ours is lower.
 */
#define STLS_RPC_MAX_DEPTH 64

/*
 * Creates a dispatcher with the built-in methods (rpc_builtin.c) registered:
 * system.listMethods, system.methodHelp, core.version, core.uptime,
 * core.echo. The uptime clock starts now. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_new(struct stls_rpc **out);

/* Frees the dispatcher. NULL is a no-op. */
void stls_rpc_free(struct stls_rpc *rpc);

/*
 * Registers every method of <table> (ended by STLS_RPC_METHOD_END). The
 * table is borrowed and must outlive <rpc> (make it static const); <arg> is
 * passed to each handler. All or nothing: returns 0, -EEXIST when a name is
 * already registered (the built-ins included), -EINVAL for a bad name, a
 * NULL handler or a malformed parameter spec (logged), -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_register(struct stls_rpc *rpc,
				    const struct stls_rpc_method *table,
				    void *arg);

/*
 * Handles one request text (<len> bytes: a request object or a batch) and
 * produces the reply text: compact JSON without a trailing newline, in a
 * new buffer in *resp (free()), or *resp = NULL when nothing is to be sent
 * (notifications). <ctx> is a set of enum stls_rpc_ctx. Every client error
 * becomes a JSON-RPC error reply, so this fails only with -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_handle(struct stls_rpc *rpc, const char *req,
				  size_t len, unsigned ctx, char **resp,
				  size_t *resp_len);

/*
 * Writes a lone error reply ({"jsonrpc":"2.0","error":{...},"id":null}),
 * for a transport that refuses a request before parsing it (too large).
 * Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_error_reply(int code, const char *msg, char **resp,
				       size_t *resp_len);

/* Sets the largest request stls_rpc_handle() parses (0 = default). */
void stls_rpc_set_max_request(struct stls_rpc *rpc, size_t max);

/* ---- For handlers (rpc.c) ---- */

/* Name of the method being called. */
const char *stls_rpc_call_method(const struct stls_rpc_call *call);

/*
 * Sets the result; takes <result> (NULL means allocation failed: returns
 * -ENOMEM). A second call replaces the first. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_reply(struct stls_rpc_call *call, json_t *result);
/* Result shorthands. */
STLS_MUST_USE int stls_rpc_reply_str(struct stls_rpc_call *call,
				     const char *s);
STLS_MUST_USE int stls_rpc_reply_int(struct stls_rpc_call *call, int64_t i);

/*
 * Records an error reply with <code> and a printf-style message; the result,
 * if any, is dropped. Returns -EPROTO so that a handler can end with
 * `return stls_rpc_fail(...)`.
 */
int stls_rpc_fail(struct stls_rpc_call *call, int code, const char *fmt, ...)
	STLS_PRINTF(3, 4);
/*
 * Same, with an error "data" member (taken; NULL for none), e.g. the list
 * of "file:line: message" problems of a failed reload.
 */
int stls_rpc_fail_data(struct stls_rpc_call *call, int code, json_t *data,
		       const char *fmt, ...) STLS_PRINTF(4, 5);

/* ---- Parameters (rpc_params.c) ---- */

/* Number of parameters given (declared ones plus any "..." extras). */
size_t stls_rpc_param_count(const struct stls_rpc_call *call);
/*
 * Borrowed parameter i, already converted to its declared type; NULL when
 * an optional parameter was not given or i is out of range. It lives until
 * the handler returns; to keep it in a result, add a reference (for
 * example with json_array_append(), which takes one of its own).
 */
json_t *stls_rpc_param(const struct stls_rpc_call *call, size_t i);
/* Typed reads of declared parameters: NULL/0/false when absent. */
const char *stls_rpc_param_str(const struct stls_rpc_call *call, size_t i);
int64_t stls_rpc_param_int(const struct stls_rpc_call *call, size_t i);
bool stls_rpc_param_bool(const struct stls_rpc_call *call, size_t i);

/*
 * Checked reads for "any" or "..." parameters (rpc.c, with the checks of
 * rpc_params.c): on a wrong type or a value out of [min, max] they record
 * a -32602 error on <call> with a message naming the parameter and return
 * -EPROTO (return it from the handler).
 */
STLS_MUST_USE int stls_rpc_param_get_int(struct stls_rpc_call *call, size_t i,
					 int64_t min, int64_t max,
					 int64_t *out);
STLS_MUST_USE int stls_rpc_param_get_str(struct stls_rpc_call *call, size_t i,
					 const char **out);

/*
 * ---- Building results (rpc_json.c) ----
 *
 * -errno shorthands over jansson for handlers. Setters and push take <v>
 * (also when they fail) and read NULL as a failed allocation, so that
 *	err = stls_rpc_obj_set(o, "closed", json_object());
 * needs no separate check. Strings are copied; bytes that are not
 * well-formed UTF-8 become U+FFFD (stls/utf8.h): jansson holds only valid
 * UTF-8, and a client's SNI or a certificate field can be anything.
 */

/* A JSON string of s (JSON null when s is NULL); NULL when out of memory. */
json_t *stls_rpc_str(const char *s);
/* Same for <len> bytes (may contain NUL). */
json_t *stls_rpc_strn(const char *s, size_t len);
/* A printf-style JSON string; NULL when out of memory. */
json_t *stls_rpc_strf(const char *fmt, ...) STLS_PRINTF(1, 2);

/*
 * Sets member <key> (UTF-8, copied) of <obj> to <v>, replacing an existing
 * one in place; takes <v>. Returns 0, -EINVAL when obj is not an object,
 * -ENOMEM.
 */
STLS_MUST_USE int stls_rpc_obj_set(json_t *obj, const char *key, json_t *v);
STLS_MUST_USE int stls_rpc_obj_set_int(json_t *obj, const char *key,
				       int64_t i);
STLS_MUST_USE int stls_rpc_obj_set_str(json_t *obj, const char *key,
				       const char *s);

/* Appends <v> to <arr>; takes <v>. Returns 0, -EINVAL, -ENOMEM. */
STLS_MUST_USE int stls_rpc_arr_push(json_t *arr, json_t *v);

#endif
