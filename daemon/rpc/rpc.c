/*
 * JSON-RPC 2.0 dispatch (see rpc.h): method registry, request validation,
 * batches and notifications, reply building, built-in methods.
 *
 * One request goes: parse (limits: the request size, depth 64) -> for each
 * request object: validate the envelope -> find the method -> check the
 * transport may call it -> bind and convert params -> run the handler ->
 * build {"jsonrpc","result"|"error","id"}. Envelope errors are always
 * answered (with "id": null when the id itself is unusable), because an
 * invalid request is not a notification; errors of a valid notification
 * are not (JSON-RPC 2.0 section 4.1). The built-in methods and
 * stls_rpc_new(), which registers them, are in rpc_builtin.c: this file
 * calls handlers only through the method tables (rpc_int.h says which
 * file calls which).
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

int stls_rpc_reply(struct stls_rpc_call *call, struct stls_json *result)
{
	if (!result) {
		return -ENOMEM;
	}
	stls_json_free(call->result);
	call->result = result;
	return 0;
}

int stls_rpc_reply_str(struct stls_rpc_call *call, const char *s)
{
	return stls_rpc_reply(call, stls_json_new_str(s));
}

int stls_rpc_reply_int(struct stls_rpc_call *call, int64_t i)
{
	return stls_rpc_reply(call, stls_json_new_int(i));
}

static int vfail(struct stls_rpc_call *call, int code, struct stls_json *data,
		 const char *fmt, va_list ap) STLS_PRINTF(4, 0);

static int vfail(struct stls_rpc_call *call, int code, struct stls_json *data,
		 const char *fmt, va_list ap)
{
	free(call->msg);
	call->msg = NULL;
	if (vasprintf(&call->msg, fmt, ap) < 0) {
		call->msg = NULL; /* the reply falls back to a fixed text */
	}
	stls_json_free(call->data);
	call->data = data;
	stls_json_free(call->result);
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

int stls_rpc_fail_data(struct stls_rpc_call *call, int code,
		       struct stls_json *data, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(call, code, data, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Builds a response object; takes <id> (NULL: "id": null), <result> and
 * <data>. Exactly one of result/msg is used. NULL on allocation failure.
 */
static struct stls_json *response(struct stls_json *id,
				  struct stls_json *result, int code,
				  const char *msg, struct stls_json *data)
{
	struct stls_json *r = stls_json_new_object(), *err;
	int rc;

	rc = stls_json_object_set_str(r, "jsonrpc", "2.0");
	if (!rc && msg) {
		err = stls_json_new_object();
		rc = stls_json_object_set(r, "error", err); /* r owns err */
		if (!rc) {
			rc = stls_json_object_set_int(err, "code", code);
		}
		if (!rc) {
			rc = stls_json_object_set_str(err, "message", msg);
		}
		if (!rc && data) {
			rc = stls_json_object_set(err, "data", data);
			data = NULL;
		}
	} else if (!rc) {
		rc = stls_json_object_set(r, "result",
					  result ? result
						 : stls_json_new_null());
		result = NULL;
	}
	if (!rc) {
		rc = stls_json_object_set(r, "id",
					  id ? id : stls_json_new_null());
		id = NULL;
	}
	stls_json_free(data);
	stls_json_free(result);
	stls_json_free(id);
	if (rc) {
		stls_json_free(r);
		return NULL;
	}
	return r;
}

/* An error response; <id> is borrowed (cloned). */
static int error_out(const struct stls_json *id, int code, const char *msg,
		     struct stls_json **out)
{
	*out = response(id ? stls_json_clone(id) : NULL, NULL, code, msg,
			NULL);
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

/* Runs a validated call and builds its response (NULL for notifications). */
static int run(struct stls_rpc *rpc, const struct stls__rpc_entry *e,
	       const struct stls_json *params, const struct stls_json *id,
	       struct stls_json **out)
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
		*out = response(stls_json_clone(id), call.result, call.code,
				call.failed ? (call.msg ? call.msg : "error")
					    : NULL,
				call.data);
		call.result = NULL;
		call.data = NULL;
		rc = *out ? 0 : -ENOMEM;
	}
	stls_json_free(call.result);
	stls_json_free(call.data);
	free(call.msg);
	return rc;
}

static bool valid_id(const struct stls_json *id)
{
	switch (stls_json_type(id)) {
	case STLS_JSON_NULL:
	case STLS_JSON_INT:
	case STLS_JSON_DOUBLE:
	case STLS_JSON_STRING:
		return true;
	default:
		return false;
	}
}

/* One request object (of a batch or alone) -> its response or NULL. */
static int handle_one(struct stls_rpc *rpc, const struct stls_json *req,
		      unsigned ctx, struct stls_json **out)
{
	const struct stls_json *id = stls_json_object_get(req, "id");
	const struct stls_json *params = stls_json_object_get(req, "params");
	const char *ver = stls_json_get_str(
		stls_json_object_get(req, "jsonrpc"), NULL);
	const struct stls__rpc_entry *e;
	const char *method;
	size_t mlen = 0;
	char msg[160];

	if (!stls_json_is(req, STLS_JSON_OBJECT)) {
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
	method = stls_json_get_str(stls_json_object_get(req, "method"), &mlen);
	if (!method) {
		return error_out(id, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: \"method\" must be a string",
				 out);
	}
	if (params && !stls_json_is(params, STLS_JSON_ARRAY) &&
	    !stls_json_is(params, STLS_JSON_OBJECT)) {
		return error_out(id, STLS_RPC_E_INVALID_REQUEST,
				 "invalid request: \"params\" must be an "
				 "array or an object",
				 out);
	}
	e = stls__rpc_find(rpc, method, mlen);
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

static int handle_batch(struct stls_rpc *rpc, const struct stls_json *batch,
			unsigned ctx, struct stls_json **out)
{
	struct stls_json *replies, *r = NULL;
	size_t n = stls_json_len(batch), i;
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
	replies = stls_json_new_array();
	if (!replies) {
		return -ENOMEM;
	}
	for (i = 0; i < n && !rc; i++) {
		rc = handle_one(rpc, stls_json_array_get(batch, i), ctx, &r);
		if (!rc && r) {
			rc = stls_json_array_push(replies, r);
		}
	}
	if (rc || stls_json_len(replies) == 0) {
		stls_json_free(replies);
		replies = NULL;
	}
	*out = replies;
	return rc;
}

static int serialize(struct stls_json *v, char **resp, size_t *resp_len)
{
	int rc = stls_json_write(v, STLS_JSON_COMPACT, resp, resp_len);

	stls_json_free(v);
	return rc;
}

int stls_rpc_error_reply(int code, const char *msg, char **resp,
			 size_t *resp_len)
{
	struct stls_json *v = NULL;

	*resp = NULL;
	if (error_out(NULL, code, msg, &v)) {
		return -ENOMEM;
	}
	return serialize(v, resp, resp_len);
}

int stls_rpc_handle(struct stls_rpc *rpc, const char *req, size_t len,
		    unsigned ctx, char **resp, size_t *resp_len)
{
	struct stls_json_limits lim = { .max_size = rpc->max_request };
	struct stls_json_error jerr;
	struct stls_json *doc = NULL, *out = NULL;
	char msg[160];
	int rc;

	*resp = NULL;
	if (resp_len) {
		*resp_len = 0;
	}
	rc = stls_json_parse(req, len, &lim, &doc, &jerr);
	if (rc == -ENOMEM) {
		return rc;
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "%s at byte %zu: %s",
			 rc == -ENOBUFS ? "request refused" : "parse error",
			 jerr.offset, jerr.msg);
		return stls_rpc_error_reply(rc == -ENOBUFS
						    ? STLS_RPC_E_INVALID_REQUEST
						    : STLS_RPC_E_PARSE,
					    msg, resp, resp_len);
	}
	if (stls_json_is(doc, STLS_JSON_ARRAY)) {
		rc = handle_batch(rpc, doc, ctx, &out);
	} else {
		rc = handle_one(rpc, doc, ctx, &out);
	}
	stls_json_free(doc);
	if (rc || !out) {
		stls_json_free(out);
		return rc;
	}
	return serialize(out, resp, resp_len);
}
