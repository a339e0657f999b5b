/*
 * JSON-RPC 2.0 dispatch (see rpc.h): method registry, request validation,
 * batches and notifications, reply building.
 *
 * One request goes: parse (rpc_parse.c: jansson, limits: the request size,
 * depth 64) -> for each request object: validate the envelope -> find the
 * method -> check the transport may call it -> bind and convert params
 * (rpc_params.c) -> run the handler -> build
 * {"jsonrpc","result"|"error","id"} (jansson keeps members in insertion
 * order, so the reply reads in that order) -> json_dumps(), compact.
 * Envelope errors are always answered (with "id": null when the id itself
 * is unusable), because an invalid request is not a notification; errors
 * of a valid notification are not (JSON-RPC 2.0 section 4.1). The
 * built-in methods and stls_rpc_new(), which registers them, are in
 * rpc_builtin.c: this file calls handlers only through the method tables
 * (rpc_int.h says which file calls which).
 */
#include "rpc/rpc_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stls/log.h"

/* ---- Registry ---- */

static bool valid_method_name(const char *s)
{
	size_t i;

	if (!s || !*s || strlen(s) > 64) {
		return false;
	}
	for (i = 0; s[i]; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.')) {
			return false;
		}
	}
	return true;
}

const struct stls__rpc_entry *stls__rpc_find(const struct stls_rpc *rpc,
					     const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < rpc->n; i++) {
		if (strlen(rpc->v[i].m->name) == len &&
		    memcmp(rpc->v[i].m->name, name, len) == 0) {
			return &rpc->v[i];
		}
	}
	return NULL;
}

/* Checks table entry i against the registry and the entries before it. */
static int check_entry(const struct stls_rpc *rpc,
		       const struct stls_rpc_method *t, size_t i,
		       struct stls__rpc_sig *sig)
{
	size_t j;

	if (!valid_method_name(t[i].name) || !t[i].fn) {
		STLS_ERR("rpc: bad method entry \"%s\"",
			 t[i].name ? t[i].name : "(null)");
		return -EINVAL;
	}
	if (stls__rpc_find(rpc, t[i].name, strlen(t[i].name))) {
		return -EEXIST;
	}
	for (j = 0; j < i; j++) {
		if (strcmp(t[j].name, t[i].name) == 0) {
			return -EEXIST;
		}
	}
	return stls__rpc_sig_parse(t[i].name, t[i].params, sig);
}

int stls_rpc_register(struct stls_rpc *rpc,
		      const struct stls_rpc_method *table, void *arg)
{
	struct stls__rpc_sig sig;
	struct stls__rpc_entry *nv;
	size_t n = 0, i;
	int rc;

	for (n = 0; table[n].name || table[n].fn; n++) {
		rc = check_entry(rpc, table, n, &sig);
		if (rc) {
			return rc;
		}
	}
	if (rpc->n + n > rpc->cap) {
		nv = realloc(rpc->v, (rpc->n + n + 8) * sizeof(*nv));
		if (!nv) {
			return -ENOMEM;
		}
		rpc->v = nv;
		rpc->cap = rpc->n + n + 8;
	}
	for (i = 0; i < n; i++) {
		rpc->v[rpc->n].m = &table[i];
		rpc->v[rpc->n].arg = arg;
		/* Parsed once already: cannot fail now. */
		(void)stls__rpc_sig_parse(table[i].name, table[i].params,
					  &rpc->v[rpc->n].sig);
		rpc->n++;
	}
	return 0;
}

void stls_rpc_free(struct stls_rpc *rpc)
{
	if (!rpc) {
		return;
	}
	free(rpc->v);
	free(rpc);
}

void stls_rpc_set_max_request(struct stls_rpc *rpc, size_t max)
{
	rpc->max_request = max ? max : STLS_RPC_DEFAULT_MAX_REQUEST;
}

/* ---- Replies ---- */

const char *stls_rpc_call_method(const struct stls_rpc_call *call)
{
	return call->e->m->name;
}

int stls_rpc_reply(struct stls_rpc_call *call, json_t *result)
{
	if (!result) {
		return -ENOMEM;
	}
	json_decref(call->result);
	call->result = result; /* the caller's reference */
	return 0;
}

int stls_rpc_reply_str(struct stls_rpc_call *call, const char *s)
{
	return stls_rpc_reply(call, stls_rpc_str(s));
}

int stls_rpc_reply_int(struct stls_rpc_call *call, int64_t i)
{
	return stls_rpc_reply(call, json_integer(i));
}

static int vfail(struct stls_rpc_call *call, int code, json_t *data,
		 const char *fmt, va_list ap) STLS_PRINTF(4, 0);

static int vfail(struct stls_rpc_call *call, int code, json_t *data,
		 const char *fmt, va_list ap)
{
	free(call->msg);
	call->msg = NULL;
	if (vasprintf(&call->msg, fmt, ap) < 0) {
		call->msg = NULL; /* the reply falls back to a fixed text */
	}
	json_decref(call->data);
	call->data = data; /* the caller's reference */
	json_decref(call->result);
	call->result = NULL;
	call->failed = true;
	call->code = code;
	return -EPROTO;
}

int stls_rpc_fail(struct stls_rpc_call *call, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(call, code, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int stls_rpc_fail_data(struct stls_rpc_call *call, int code, json_t *data,
		       const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(call, code, data, fmt, ap);
	va_end(ap);
	return rc;
}

/* {"code": code, "message": msg[, "data": data]}; takes <data>. */
static json_t *error_object(int code, const char *msg, json_t *data)
{
	json_t *e = json_object();
	int rc;

	rc = stls_rpc_obj_set_int(e, "code", code);
	if (!rc) {
		/* msg may end in a character cut in two: repaired there. */
		rc = stls_rpc_obj_set_str(e, "message", msg);
	}
	if (!rc && data) {
		rc = stls_rpc_obj_set(e, "data", data);
		data = NULL;
	}
	json_decref(data);
	if (rc) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/*
 * Builds a response object: {"jsonrpc", "result" or "error", "id"}. <id>
 * is borrowed (the response takes a reference of its own; NULL writes
 * "id": null). <result> and <data> are taken. Exactly one of result/msg
 * is used. NULL on allocation failure.
 */
static json_t *response(json_t *id, json_t *result, int code,
			const char *msg, json_t *data)
{
	json_t *r = json_object();
	int rc;

	rc = stls_rpc_obj_set_str(r, "jsonrpc", "2.0");
	if (!rc && msg) {
		rc = stls_rpc_obj_set(r, "error",
				      error_object(code, msg, data));
		data = NULL;
	} else if (!rc) {
		rc = stls_rpc_obj_set(r, "result",
				      result ? result : json_null());
		result = NULL;
	}
	if (!rc) {
		/* json_incref: the request keeps its own reference to id. */
		rc = stls_rpc_obj_set(r, "id", id ? json_incref(id)
						  : json_null());
	}
	json_decref(data);
	json_decref(result);
	if (rc) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* An error response; <id> is borrowed. */
static int error_out(json_t *id, int code, const char *msg, json_t **out)
{
	*out = response(id, NULL, code, msg, NULL);
	return *out ? 0 : -ENOMEM;
}

/* ---- Checked reads of parameters (the checks are in rpc_params.c) ---- */

int stls_rpc_param_get_int(struct stls_rpc_call *call, size_t i, int64_t min,
			   int64_t max, int64_t *out)
{
	char msg[STLS__RPC_MSG_MAX];
	int rc;

	rc = stls__rpc_param_check_int(call, i, min, max, out, msg,
				       sizeof(msg));
	if (rc == -EINVAL) {
		return stls_rpc_fail(call, STLS_RPC_E_INVALID_PARAMS, "%s",
				     msg);
	}
	return rc;
}

int stls_rpc_param_get_str(struct stls_rpc_call *call, size_t i,
			   const char **out)
{
	char msg[STLS__RPC_MSG_MAX];
	int rc;

	rc = stls__rpc_param_check_str(call, i, out, msg, sizeof(msg));
	if (rc == -EINVAL) {
		return stls_rpc_fail(call, STLS_RPC_E_INVALID_PARAMS, "%s",
				     msg);
	}
	return rc;
}

/* ---- Dispatch ---- */

/*
 * Runs a validated call and builds its response (NULL for notifications).
 * <params> and <id> are borrowed from the request.
 */
static int run(struct stls_rpc *rpc, const struct stls__rpc_entry *e,
	       const json_t *params, json_t *id, json_t **out)
{
	struct stls_rpc_call call = { .rpc = rpc, .e = e };
	char msg[STLS__RPC_MSG_MAX];
	int rc;

	rc = stls__rpc_params_bind(&call, params, msg, sizeof(msg));
	if (rc == -EINVAL) {
		rc = stls_rpc_fail(&call, STLS_RPC_E_INVALID_PARAMS, "%s", msg);
	} else if (!rc) {
		rc = e->m->fn(&call, e->arg);
	}
	if (rc == -ENOMEM && !call.failed) {
		stls_rpc_fail(&call, STLS_RPC_E_INTERNAL, "out of memory");
	} else if (rc < 0 && !call.failed) {
		stls_rpc_fail(&call, STLS_RPC_E_INTERNAL, "%s: %s",
			      e->m->name, strerror(-rc));
	}
	stls__rpc_params_fini(&call);
	rc = 0;
	*out = NULL;
	if (id) {
		*out = response(id, call.result, call.code,
				call.failed ? (call.msg ? call.msg : "error")
					    : NULL,
				call.data);
		call.result = NULL; /* taken by response() */
		call.data = NULL;
		rc = *out ? 0 : -ENOMEM;
	}
	json_decref(call.result);
	json_decref(call.data);
	free(call.msg);
	return rc;
}

static bool valid_id(const json_t *id)
{
	return json_is_null(id) || json_is_number(id) || json_is_string(id);
}

/* One request object (of a batch or alone) -> its response or NULL. */
static int handle_one(struct stls_rpc *rpc, json_t *req, unsigned ctx,
		      json_t **out)
{
	json_t *id = json_object_get(req, "id");
	const json_t *params = json_object_get(req, "params");
	const json_t *m = json_object_get(req, "method");
	const char *ver = json_string_value(json_object_get(req, "jsonrpc"));
	const struct stls__rpc_entry *e;
	const char *method = json_string_value(m);
	char msg[160];

	if (!json_is_object(req)) {
		return error_out(NULL, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: not an object", out);
	}
	if (id && !valid_id(id)) {
		return error_out(NULL, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: \"id\" must be a string, "
				 "a number or null",
				 out);
	}
	if (!ver || strcmp(ver, "2.0") != 0) {
		return error_out(id, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: \"jsonrpc\" must be "
				 "\"2.0\"",
				 out);
	}
	if (!method) {
		return error_out(id, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: \"method\" must be a string",
				 out);
	}
	if (params && !json_is_array(params) && !json_is_object(params)) {
		return error_out(id, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: \"params\" must be an "
				 "array or an object",
				 out);
	}
	/* By length: "core.echo\u0000x" is not core.echo. */
	e = stls__rpc_find(rpc, method, json_string_length(m));
	*out = NULL;
	if (!e && !id) {
		return 0;
	}
	if (!e) {
		snprintf(msg, sizeof(msg), "method not found: %.64s", method);
		return error_out(id, STLS_RPC_E_NO_METHOD, msg, out);
	}
	if ((e->m->flags & STLS_RPC_F_WRITE) && (ctx & STLS_RPC_CTX_READONLY)) {
		if (!id) {
			return 0;
		}
		snprintf(msg, sizeof(msg),
			 "%s changes state: not allowed on this read-only "
			 "control connection",
			 e->m->name);
		return error_out(id, STLS_RPC_E_FORBIDDEN, msg, out);
	}
	return run(rpc, e, params, id, out);
}

static int handle_batch(struct stls_rpc *rpc, const json_t *batch,
			unsigned ctx, json_t **out)
{
	size_t n = json_array_size(batch), i;
	json_t *replies, *r = NULL;
	int rc = 0;

	if (n == 0) {
		return error_out(NULL, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: empty batch", out);
	}
	if (n > STLS_RPC_MAX_BATCH) {
		return error_out(NULL, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: batch of more than "
				 "256 requests",
				 out);
	}
	replies = json_array();
	if (!replies) {
		return -ENOMEM;
	}
	for (i = 0; i < n && !rc; i++) {
		rc = handle_one(rpc, json_array_get(batch, i), ctx, &r);
		if (!rc && r) {
			rc = stls_rpc_arr_push(replies, r);
		}
	}
	if (rc || json_array_size(replies) == 0) {
		json_decref(replies);
		replies = NULL;
	}
	*out = replies;
	return rc;
}

/*
 * Compact JSON text of <v> (taken) into *resp. jansson allocates it with
 * malloc() (we never change its allocator), so callers free() it. Strings
 * never hold a raw newline: JSON escapes it.
 */
static int serialize(json_t *v, char **resp, size_t *resp_len)
{
	*resp = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (!*resp) {
		return -ENOMEM;
	}
	if (resp_len) {
		*resp_len = strlen(*resp);
	}
	return 0;
}

int stls_rpc_error_reply(int code, const char *msg, char **resp,
			 size_t *resp_len)
{
	json_t *v = NULL;

	*resp = NULL;
	if (error_out(NULL, code, msg, &v)) {
		return -ENOMEM;
	}
	return serialize(v, resp, resp_len);
}

int stls_rpc_handle(struct stls_rpc *rpc, const char *req, size_t len,
		    unsigned ctx, char **resp, size_t *resp_len)
{
	json_t *doc = NULL, *out = NULL;
	char msg[256];
	int rc;

	*resp = NULL;
	if (resp_len) {
		*resp_len = 0;
	}
	rc = stls__rpc_parse(req, len, rpc->max_request, &doc, msg,
			     sizeof(msg));
	if (rc == -ENOMEM) {
		return rc;
	}
	if (rc) {
		return stls_rpc_error_reply(rc == -ENOBUFS
						    ? STLS_RPC_E_INVALID_REQUEST
						    : STLS_RPC_E_PARSE,
					    msg, resp, resp_len);
	}
	if (json_is_array(doc)) {
		rc = handle_batch(rpc, doc, ctx, &out);
	} else {
		rc = handle_one(rpc, doc, ctx, &out);
	}
	/* The reply holds references of its own to what it shares (ids,
	 * echoed params), so the request can go first. */
	json_decref(doc);
	if (rc || !out) {
		json_decref(out);
		return rc;
	}
	return serialize(out, resp, resp_len);
}
