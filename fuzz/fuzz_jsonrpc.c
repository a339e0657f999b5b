/*
 * Fuzz target: arbitrary bytes into the JSON-RPC request path, as the
 * control server feeds one request line (stls_rpc_handle), with the
 * built-in methods and a few typed test methods registered.
 *
 * Properties checked beyond "no crash, no leak, no UB":
 *	- every reply is valid JSON of a bounded size, never contains a raw
 *	  newline (the framing relies on it), and is an object or an array;
 *	- a reply exists unless the input was a notification or a batch of
 *	  them (the request must then parse as JSON);
 *	- any input that parses as JSON survives a write/parse round trip
 *	  (compact and pretty) unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "stls/json.h"

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
		return stls_rpc_fail_data(call, STLS_RPC_E_FAILED,
					  stls_json_new_str(
						  stls_rpc_param_str(call, 0)),
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

static void check_round_trip(const uint8_t *data, size_t size)
{
	struct stls_json *a = NULL, *b = NULL;
	unsigned flags[] = { STLS_JSON_COMPACT, STLS_JSON_PRETTY,
			     STLS_JSON_ASCII };
	char *out = NULL;
	size_t len, i;

	if (stls_json_parse((const char *)data, size, NULL, &a, NULL)) {
		return;
	}
	for (i = 0; i < 3; i++) {
		if (stls_json_write(a, flags[i], &out, &len)) {
			abort();
		}
		if (stls_json_parse(out, len, &(struct stls_json_limits){
				    .max_size = SIZE_MAX }, &b, NULL) ||
		    !stls_json_equal(a, b)) {
			abort();
		}
		stls_json_free(b);
		free(out);
	}
	stls_json_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stls_rpc *rpc;
	struct stls_json *reply = NULL;
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
	if (resp) {
		if (memchr(resp, '\n', len) || len > 64 * size + 4096 ||
		    stls_json_parse(resp, len, &(struct stls_json_limits){
				    .max_size = SIZE_MAX }, &reply, NULL) ||
		    (!stls_json_is(reply, STLS_JSON_OBJECT) &&
		     !stls_json_is(reply, STLS_JSON_ARRAY))) {
			abort();
		}
		stls_json_free(reply);
		free(resp);
	}
	check_round_trip(data, size);
	return 0;
}
