/*
 * Unit tests for daemon/rpc/rpc.c: JSON-RPC 2.0 envelope rules, every error
 * code, batches, notifications, ids of every type, registration, read-only
 * transports. The built-in methods are tested in test_rpc_builtin.c, the
 * request parser (limits, strictness) in test_rpc_parse.c.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/rpc/rpc_test.h"
#include "rpc/rpc.h"

static int notes; /* how many times the "test.note" handler ran */

static int t_add(struct stls_rpc_call *call, void *arg)
{
	(void)arg;
	return stls_rpc_reply_int(call, stls_rpc_param_int(call, 0) +
						stls_rpc_param_int(call, 1));
}

static int t_note(struct stls_rpc_call *call, void *arg)
{
	(void)call;
	(void)arg;
	notes++;
	return 0;
}

static int t_fail(struct stls_rpc_call *call, void *arg)
{
	json_t *data = json_array();

	(void)arg;
	if (stls_rpc_arr_push(data, stls_rpc_str("tls.cfg:3: bad"))) {
		return -ENOMEM;
	}
	return stls_rpc_fail_data(call, STLS_RPC_E_FAILED, data,
				  "reload failed: %d problem", 1);
}

static int t_errno(struct stls_rpc_call *call, void *arg)
{
	(void)call;
	(void)arg;
	return -EIO;
}

static int t_set(struct stls_rpc_call *call, void *arg)
{
	int64_t v;
	int rc;

	*(int *)arg += 1;
	rc = stls_rpc_param_get_int(call, 2, 0, 1000, &v);
	if (rc) {
		return rc;
	}
	return stls_rpc_reply_str(call, stls_rpc_param_str(call, 0));
}

static int set_calls;

static const struct stls_rpc_method test_methods[] = {
	{ "test.add", t_add, "a:int [b:int]", "Add two integers.", 0 },
	{ "test.note", t_note, "", "Count a notification.", 0 },
	{ "test.fail", t_fail, "", "Always fails with data.", 0 },
	{ "test.errno", t_errno, "", "Returns -EIO.", STLS_RPC_F_HIDDEN },
	{ "test.set", t_set, "group:str name:str value:any", "Set a value.",
	  STLS_RPC_F_WRITE },
	STLS_RPC_METHOD_END
};

static struct stls_rpc *new_rpc(void)
{
	struct stls_rpc *rpc = NULL;

	CHECK_OK(stls_rpc_new(&rpc));
	CHECK_OK(stls_rpc_register(rpc, test_methods, &set_calls));
	return rpc;
}

/* Handles <req>; returns the parsed reply (NULL when there is none). */
static json_t *call_ctx(struct stls_rpc *rpc, const char *req,
			unsigned ctx)
{
	json_t *v;
	char *resp = NULL;
	size_t len = 0;

	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), ctx, &resp, &len));
	if (!resp) {
		return NULL;
	}
	CHECK(!memchr(resp, '\n', len)); /* framing relies on this */
	CHECK_EQ(strlen(resp), len);
	v = rt_parse(resp, len);
	free(resp);
	return v;
}

/* The reply text itself, as the socket sends it (NULL when none). */
static char *reply_text(struct stls_rpc *rpc, const char *req)
{
	char *resp = NULL;

	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), 0, &resp, NULL));
	return resp;
}

static void expect_text(struct stls_rpc *rpc, const char *req,
			const char *want)
{
	char *got = reply_text(rpc, req);

	CHECK_STR_EQ(got, want);
	free(got);
}

static json_t *call(struct stls_rpc *rpc, const char *req)
{
	return call_ctx(rpc, req, 0);
}

static int64_t err_code(const json_t *r)
{
	return json_integer_value(json_object_get(
		json_object_get(r, "error"), "code"));
}

static const char *err_msg(const json_t *r)
{
	return json_string_value(json_object_get(
		json_object_get(r, "error"), "message"));
}

/* Expects an error reply with <code>, a message containing <msg>. */
static void expect_error(struct stls_rpc *rpc, const char *req, int code,
			 const char *msg)
{
	json_t *r = call(rpc, req);

	CHECK_NOT_NULL(r);
	CHECK_STR_EQ(json_string_value(json_object_get(r, "jsonrpc")),
		     "2.0");
	CHECK_EQ(err_code(r), code);
	CHECK_STR_HAS(err_msg(r), msg);
	CHECK_NULL(json_object_get(r, "result"));
	CHECK_NOT_NULL(json_object_get(r, "id"));
	json_decref(r);
}

#define REQ(m, p, id) \
	"{\"jsonrpc\":\"2.0\",\"method\":\"" m "\",\"params\":" p ",\"id\":" id "}"

TEST(rpc_success_reply_shape)
{
	struct stls_rpc *rpc = new_rpc();

	/* Members in this order, compact, no trailing newline. */
	expect_text(rpc, REQ("test.add", "[2,3]", "\"x\""),
		    "{\"jsonrpc\":\"2.0\",\"result\":5,\"id\":\"x\"}");
	expect_text(rpc, REQ("test.fail", "[]", "7"),
		    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":500,"
		    "\"message\":\"reload failed: 1 problem\",\"data\":"
		    "[\"tls.cfg:3: bad\"]},\"id\":7}");
	stls_rpc_free(rpc);
}

TEST(rpc_ids_of_every_type_come_back_unchanged)
{
	static const char *const ids[] = {
		"1", "-7", "0", "9223372036854775807", "-9223372036854775808",
		"1.5", "-0.0", "\"abc\"", "\"\"", "\"x\\u0000y\"",
		"\"caf\xC3\xA9\"", "null",
	};
	char req[256], want[256];
	size_t i;
	struct stls_rpc *rpc = new_rpc();

	for (i = 0; i < STLS_ARRAY_SIZE(ids); i++) {
		snprintf(req, sizeof(req), REQ("test.add", "[1]", "%s"),
			 ids[i]);
		snprintf(want, sizeof(want),
			 "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":%s}",
			 ids[i]);
		expect_text(rpc, req, want);
	}
	/* Booleans, arrays and objects are not ids: -32600, "id": null. */
	expect_text(rpc, REQ("test.add", "[1]", "true"),
		    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,"
		    "\"message\":\"invalid request: \\\"id\\\" must be a "
		    "string, a number or null\"},\"id\":null}");
	expect_error(rpc, REQ("test.add", "[1]", "{}"), -32600, "\"id\"");
	expect_error(rpc, REQ("test.add", "[1]", "[1]"), -32600, "\"id\"");
	stls_rpc_free(rpc);
}

TEST(rpc_parse_error_32700)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r;

	expect_error(rpc, "{\"jsonrpc\":\"2.0\",", -32700,
		     "parse error at byte 17: ");
	expect_error(rpc, "", -32700, "parse error at byte 0: ");
	/* jansson counts the offending token in: it stopped after it. */
	expect_error(rpc, "nulll", -32700,
		     "parse error at byte 5: invalid token near 'nulll'");
	/* The strictness of the parser: test_rpc_parse.c. */
	r = call(rpc, "[1,");
	CHECK(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	stls_rpc_free(rpc);
}

TEST(rpc_invalid_request_32600)
{
	struct stls_rpc *rpc = new_rpc();

	expect_error(rpc, "1", -32600, "not an object");
	expect_error(rpc, "{\"method\":\"core.echo\",\"id\":1}", -32600,
		     "\"jsonrpc\" must be \"2.0\"");
	expect_error(rpc, "{\"jsonrpc\":\"1.0\",\"method\":\"x\",\"id\":1}",
		     -32600, "\"jsonrpc\"");
	expect_error(rpc, "{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":1}", -32600,
		     "\"method\" must be a string");
	expect_error(rpc, REQ("core.echo", "\"bar\"", "1"), -32600,
		     "\"params\" must be an array or an object");
	expect_error(rpc, REQ("core.echo", "[]", "[1]"), -32600,
		     "\"id\" must be");
	expect_error(rpc, "[]", -32600, "empty batch");
	/* An invalid request without id still gets an answer. */
	expect_error(rpc, "{\"jsonrpc\":\"2.0\"}", -32600, "\"method\"");
	stls_rpc_free(rpc);
}

TEST(rpc_method_not_found_32601)
{
	struct stls_rpc *rpc = new_rpc();

	expect_error(rpc, REQ("tls.nope", "[]", "1"), -32601,
		     "method not found: tls.nope");
	/* Names compare by length: an embedded NUL does not match a prefix. */
	expect_error(rpc, REQ("core.echo\\u0000x", "[]", "1"), -32601,
		     "method not found");
	/* A name cut at 64 bytes inside a character: still valid UTF-8,
	 * the half character shown as U+FFFD. */
	expect_error(rpc,
		     REQ("a\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
			 "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
			 "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
			 "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
			 "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
			 "\xC3\xA9\xC3\xA9\xC3\xA9",
			 "[]", "1"),
		     -32601, "\xC3\xA9\xC3\xA9\xEF\xBF\xBD");
	stls_rpc_free(rpc);
}

TEST(rpc_invalid_params_32602)
{
	struct stls_rpc *rpc = new_rpc();

	expect_error(rpc, REQ("test.add", "[]", "1"), -32602,
		     "test.add: missing parameter 'a' (usage: test.add a:int "
		     "[b:int])");
	expect_error(rpc, REQ("test.add", "[1,2,3]", "1"), -32602,
		     "too many parameters: expected at most 2, got 3");
	expect_error(rpc, REQ("test.add", "[\"abc\"]", "1"), -32602,
		     "parameter 'a' must be an integer, got \"abc\"");
	expect_error(rpc, REQ("test.add", "[1.5]", "1"), -32602,
		     "got number");
	expect_error(rpc, REQ("test.add", "{\"b\":1}", "1"), -32602,
		     "missing parameter 'a'");
	expect_error(rpc, REQ("test.add", "{\"a\":1,\"c\":2}", "1"), -32602,
		     "unknown parameter 'c'");
	expect_error(rpc, REQ("system.methodHelp", "[null]", "1"), -32602,
		     "'name' must be a string, got null");
	/* Checked reads in a handler report the same way. */
	expect_error(rpc, REQ("test.set", "[\"tls\",\"x\",\"big\"]", "1"),
		     -32602, "parameter 'value' must be an integer in [0, 1000]");
	stls_rpc_free(rpc);
}

TEST(rpc_internal_error_32603)
{
	struct stls_rpc *rpc = new_rpc();

	expect_error(rpc, REQ("test.errno", "[]", "1"), -32603,
		     "test.errno: Input/output error");
	stls_rpc_free(rpc);
}

TEST(rpc_application_error_with_data)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r = call(rpc, REQ("test.fail", "[]", "7"));
	const json_t *data;

	CHECK_EQ(err_code(r), STLS_RPC_E_FAILED);
	CHECK_STR_EQ(err_msg(r), "reload failed: 1 problem");
	data = json_object_get(json_object_get(r, "error"), "data");
	CHECK_STR_EQ(json_string_value(json_array_get(data, 0)),
		     "tls.cfg:3: bad");
	CHECK_EQ(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);
	stls_rpc_free(rpc);
}

TEST(rpc_params_positional_like_kamcmd)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r;

	/* cfg.set_now_int tls connection_timeout 180 */
	r = call(rpc, REQ("test.set", "[\"tls\",\"connection_timeout\",180]",
			  "1"));
	CHECK_STR_EQ(json_string_value(json_object_get(r, "result")),
		     "tls");
	json_decref(r);
	/* Integers given as text are converted; so are named params. */
	r = call(rpc, REQ("test.add", "[\"40\",\"2\"]", "1"));
	CHECK_EQ(json_integer_value(json_object_get(r, "result")), 42);
	json_decref(r);
	r = call(rpc, REQ("test.add", "{\"b\":2,\"a\":1}", "1"));
	CHECK_EQ(json_integer_value(json_object_get(r, "result")), 3);
	json_decref(r);
	/* Optional parameter absent, or given as null. */
	r = call(rpc, REQ("test.add", "[4,null]", "1"));
	CHECK_EQ(json_integer_value(json_object_get(r, "result")), 4);
	json_decref(r);
	/* No "params" at all reads as []. */
	r = call(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"core.echo\",\"id\":1}");
	CHECK(json_is_array(json_object_get(r, "result")));
	json_decref(r);
	stls_rpc_free(rpc);
}

TEST(rpc_notifications_get_no_reply)
{
	struct stls_rpc *rpc = new_rpc();
	char *resp = (char *)1;
	const char *n1 = "{\"jsonrpc\":\"2.0\",\"method\":\"test.note\"}";
	const char *n2 = "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}";

	notes = 0;
	CHECK_OK(stls_rpc_handle(rpc, n1, strlen(n1), 0, &resp, NULL));
	CHECK_NULL(resp);
	CHECK_EQ(notes, 1);
	/* Even errors of a valid notification are not answered. */
	CHECK_OK(stls_rpc_handle(rpc, n2, strlen(n2), 0, &resp, NULL));
	CHECK_NULL(resp);
	/* "id": null is a request, not a notification. */
	{
		json_t *r = call(rpc, REQ("test.note", "[]", "null"));

		CHECK_NOT_NULL(r);
		CHECK(json_is_null(json_object_get(r, "result")));
		json_decref(r);
	}
	stls_rpc_free(rpc);
}

TEST(rpc_batch)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r;
	const char *all_notes =
		"[{\"jsonrpc\":\"2.0\",\"method\":\"test.note\"},"
		"{\"jsonrpc\":\"2.0\",\"method\":\"test.note\"}]";
	char *resp = (char *)1;

	r = call(rpc, "[" REQ("test.add", "[1,2]", "1") ","
		      "{\"jsonrpc\":\"2.0\",\"method\":\"test.note\"},"
		      "1," REQ("nope", "[]", "\"b\"") "]");
	CHECK_EQ(json_array_size(r), 3);
	CHECK_EQ(json_integer_value(json_object_get(
			 json_array_get(r, 0), "result")),
		 3);
	CHECK_EQ(err_code(json_array_get(r, 1)), -32600);
	CHECK_EQ(err_code(json_array_get(r, 2)), -32601);
	json_decref(r);
	/* A batch of notifications gets no reply at all. */
	notes = 0;
	CHECK_OK(stls_rpc_handle(rpc, all_notes, strlen(all_notes), 0, &resp,
				 NULL));
	CHECK_NULL(resp);
	CHECK_EQ(notes, 2);
	stls_rpc_free(rpc);
}

TEST(rpc_batch_size_limit)
{
	struct stls_rpc *rpc = new_rpc();
	size_t cap = 300 * 40, n = 0;
	char *req = malloc(cap);
	int i;

	n += (size_t)snprintf(req + n, cap - n, "[");
	for (i = 0; i < STLS_RPC_MAX_BATCH + 1; i++) {
		n += (size_t)snprintf(req + n, cap - n,
				      "%s{\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
				      i ? "," : "");
	}
	snprintf(req + n, cap - n, "]");
	expect_error(rpc, req, -32600, "batch of more than 256");
	free(req);
	stls_rpc_free(rpc);
}

TEST(rpc_request_size_limit)
{
	struct stls_rpc *rpc = new_rpc();

	stls_rpc_set_max_request(rpc, 32);
	expect_error(rpc, REQ("core.echo", "[\"0123456789\"]", "1"), -32600,
		     "request refused at byte 0: input larger than 32 bytes");
	stls_rpc_free(rpc);
}

TEST(rpc_readonly_transport_refuses_write_methods)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r;

	set_calls = 0;
	r = call_ctx(rpc, REQ("test.set", "[\"a\",\"b\",1]", "1"),
		     STLS_RPC_CTX_READONLY);
	CHECK_EQ(err_code(r), STLS_RPC_E_FORBIDDEN);
	CHECK_STR_HAS(err_msg(r), "read-only");
	CHECK_EQ(set_calls, 0);
	json_decref(r);
	r = call_ctx(rpc, REQ("test.add", "[1]", "1"), STLS_RPC_CTX_READONLY);
	CHECK_EQ(json_integer_value(json_object_get(r, "result")), 1);
	json_decref(r);
	stls_rpc_free(rpc);
}

TEST(rpc_register_rejects_bad_tables)
{
	static const struct stls_rpc_method dup[] = {
		{ "core.echo", t_note, "", "dup", 0 }, STLS_RPC_METHOD_END
	};
	static const struct stls_rpc_method bad_spec[] = {
		{ "x.ok", t_note, "", "fine", 0 },
		{ "x.y", t_note, "[a:int] b:int", "bad", 0 },
		STLS_RPC_METHOD_END
	};
	static const struct stls_rpc_method bad_type[] = {
		{ "x.y", t_note, "a:float", "bad", 0 }, STLS_RPC_METHOD_END
	};
	static const struct stls_rpc_method bad_name[] = {
		{ "x y", t_note, "", "bad", 0 }, STLS_RPC_METHOD_END
	};
	static const struct stls_rpc_method no_fn[] = {
		{ "x.y", NULL, "", "bad", 0 }, STLS_RPC_METHOD_END
	};
	struct stls_rpc *rpc = new_rpc();
	json_t *r;

	CHECK_EQ(stls_rpc_register(rpc, dup, NULL), -EEXIST);
	CHECK_EQ(stls_rpc_register(rpc, test_methods, NULL), -EEXIST);
	CHECK_EQ(stls_rpc_register(rpc, bad_spec, NULL), -EINVAL);
	CHECK_EQ(stls_rpc_register(rpc, bad_type, NULL), -EINVAL);
	CHECK_EQ(stls_rpc_register(rpc, bad_name, NULL), -EINVAL);
	CHECK_EQ(stls_rpc_register(rpc, no_fn, NULL), -EINVAL);
	/* All or nothing: x.ok of the refused table is not registered. */
	r = call(rpc, REQ("x.ok", "[]", "1"));
	CHECK_EQ(err_code(r), -32601);
	json_decref(r);
	stls_rpc_free(rpc);
}

TEST(rpc_error_reply_for_transports)
{
	char *resp = NULL;

	CHECK_OK(stls_rpc_error_reply(-32600, "too big", &resp, NULL));
	CHECK_STR_EQ(resp, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,"
			   "\"message\":\"too big\"},\"id\":null}");
	free(resp);
}
