/*
 * Fuzz target: arbitrary bytes into the JSON-RPC request path, as the
 * control server feeds one request line (stls_rpc_handle): our use of
 * jansson for parsing (with our depth limit in front of it), method
 * dispatch with parameter binding and conversion (the built-in methods and
 * a few typed test methods), and reply writing. jansson's own parser and
 * writer are not the target; what we ask of them and build with them is.
 *
 * Properties checked beyond "no crash, no leak, no UB":
 *	- every reply is strict JSON (no duplicate keys) of a bounded size,
 *	  never contains a raw newline (the framing relies on it), and is an
 *	  object or an array;
 *	- a reply exists unless the input was a notification or a batch of
 *	  them (the request must then parse as JSON);
 *	- the depth limit: input that jansson alone parses with more than
 *	  STLS_RPC_MAX_DEPTH levels is refused with -32600, input within the
 *	  limit never is, input that is not JSON gets -32700 or -32600;
 *	- a request object with a usable id gets that id back, unchanged;
 *	- the input bytes as a string built for a reply (stls_rpc_strn)
 *	  always serialise, and read back unchanged when they were UTF-8.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "stls/utf8.h"

#define LOAD_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

static int f_typed(struct stls_rpc_call *call, void *arg)
{
	int64_t v;
	int rc;

	(void)arg;
	rc = stls_rpc_param_get_int(call, 3, -5, 5, &v);
	if (rc) {
		return rc;
	}
	if (stls_rpc_param_bool(call, 2)) {
		return stls_rpc_fail_data(
			call, STLS_RPC_E_FAILED,
			stls_rpc_str(stls_rpc_param_str(call, 0)),
			"failed on request");
	}
	return stls_rpc_reply_str(call, stls_rpc_param_str(call, 0));
}

static int f_errno(struct stls_rpc_call *call, void *arg)
{
	(void)call;
	(void)arg;
	return -EINVAL;
}

static const struct stls_rpc_method methods[] = {
	{ "t.typed", f_typed, "s:str i:int b:bool [x:any] [n:num]", "T.",
	  0 },
	{ "t.errno", f_errno, "", "E.", STLS_RPC_F_WRITE },
	STLS_RPC_METHOD_END
};

/* Nesting depth of v (jansson's parser bounds it to 2048). */
static unsigned depth_of(json_t *v)
{
	unsigned d = 0, c;
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			c = depth_of(e);
			d = c > d ? c : d;
		}
		return d + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, e) {
			c = depth_of(e);
			d = c > d ? c : d;
		}
		return d + 1;
	}
	return 0;
}

static int64_t error_code(json_t *reply)
{
	return json_integer_value(
		json_object_get(json_object_get(reply, "error"), "code"));
}

static void check_reply(json_t *doc, json_t *reply)
{
	json_t *id = json_object_get(doc, "id");
	int64_t code = error_code(reply);

	if (!doc) {
		/* Not JSON to jansson: a parse error or a refusal. */
		if (code != STLS_RPC_E_PARSE &&
		    code != STLS_RPC_E_INVALID_REQUEST) {
			abort();
		}
		return;
	}
	if (depth_of(doc) > STLS_RPC_MAX_DEPTH) {
		if (code != STLS_RPC_E_INVALID_REQUEST) {
			abort();
		}
		return;
	}
	if (code == STLS_RPC_E_PARSE) {
		abort(); /* jansson parsed it, within our limit */
	}
	if (json_is_string(id) || json_is_number(id) || json_is_null(id)) {
		if (!json_equal(json_object_get(reply, "id"), id)) {
			abort();
		}
	}
}

/* The input as a reply string: always serialisable. */
static void check_string(const uint8_t *data, size_t size)
{
	json_t *s = stls_rpc_strn((const char *)data, size), *back;
	char *text;

	if (!s) {
		abort();
	}
	text = json_dumps(s, JSON_ENCODE_ANY);
	back = text ? json_loads(text, LOAD_FLAGS, NULL) : NULL;
	if (!back) {
		abort();
	}
	if (stls_utf8_valid((const char *)data, size) &&
	    (json_string_length(back) != size ||
	     memcmp(json_string_value(back), data, size) != 0)) {
		abort();
	}
	json_decref(back);
	free(text);
	json_decref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stls_rpc *rpc;
	json_t *reply, *doc;
	char *resp = NULL;
	size_t len = 0;

	if (!rpc && (stls_rpc_new(&rpc) ||
		     stls_rpc_register(rpc, methods, NULL))) {
		abort();
	}
	if (stls_rpc_handle(rpc, (const char *)data, size,
			    size && (data[0] & 1) ? STLS_RPC_CTX_READONLY : 0,
			    &resp, &len)) {
		abort(); /* only -ENOMEM is allowed, and that is a bug here */
	}
	doc = json_loadb((const char *)data, size, LOAD_FLAGS, NULL);
	if (!resp) {
		if (!doc) {
			abort(); /* what is not JSON must be answered */
		}
	} else {
		reply = json_loadb(resp, len,
				   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
				   NULL);
		if (memchr(resp, '\n', len) || len > 64 * size + 4096 ||
		    (!json_is_object(reply) && !json_is_array(reply))) {
			abort();
		}
		if (json_is_object(reply)) {
			check_reply(doc, reply);
		}
		json_decref(reply);
		free(resp);
	}
	json_decref(doc);
	check_string(data, size);
	return 0;
}
