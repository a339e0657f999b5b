/*
 * Unit tests for daemon/rpc/rpc_params.c: parameter specs and the conversions
 * that make positional, typed-as-text arguments work (kamcmd style), and
 * binding errors handed back as text for rpc.c to reply with.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/rpc/rpc_test.h"
#include "rpc/rpc_int.h"

static int t_types(struct stls_rpc_call *call, void *arg)
{
	json_t *o = json_object();
	int rc;

	(void)arg;
	rc = stls_rpc_obj_set_str(o, "s", stls_rpc_param_str(call, 0));
	if (!rc) {
		rc = stls_rpc_obj_set_int(o, "i",
					  stls_rpc_param_int(call, 1));
	}
	if (!rc) {
		rc = stls_rpc_obj_set(
			o, "b", json_boolean(stls_rpc_param_bool(call, 2)));
	}
	if (!rc && stls_rpc_param(call, 3)) {
		/* The param is borrowed: the result takes its own reference. */
		rc = stls_rpc_obj_set(o, "n",
				      json_incref(stls_rpc_param(call, 3)));
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	return stls_rpc_reply(call, o);
}

static int t_rest(struct stls_rpc_call *call, void *arg)
{
	const char *s;
	int rc;

	(void)arg;
	rc = stls_rpc_param_get_str(call, 1, &s);
	if (rc) {
		return rc;
	}
	return stls_rpc_reply_int(call, (int64_t)stls_rpc_param_count(call));
}

static const struct stls_rpc_method methods[] = {
	{ "t.types", t_types, "s:str i:int b:bool [n:num]", "Types.", 0 },
	{ "t.rest", t_rest, "first:int ...", "Variadic.", 0 },
	STLS_RPC_METHOD_END
};

static json_t *result_of(const char *params, int64_t *code)
{
	struct stls_rpc *rpc = NULL;
	json_t *v, *res;
	char req[512], *resp = NULL;
	const char *m = strstr(params, "REST") ? "t.rest" : "t.types";

	CHECK_OK(stls_rpc_new(&rpc));
	CHECK_OK(stls_rpc_register(rpc, methods, NULL));
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\","
		 "\"params\":%s}",
		 m, strstr(params, "REST") ? params + 4 : params);
	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), 0, &resp, NULL));
	v = rt_parse(resp, strlen(resp));
	*code = json_integer_value(json_object_get(
		json_object_get(v, "error"), "code"));
	/* Keep the result past the reply: a reference of its own. */
	res = json_object_get(v, "result");
	json_incref(res);
	json_decref(v);
	free(resp);
	stls_rpc_free(rpc);
	return res;
}

static void expect(const char *params, const char *want_json)
{
	json_t *want = rt_parse(want_json, strlen(want_json)), *got;
	int64_t code;
	char *out;

	got = result_of(params, &code);
	CHECK_EQ(code, 0);
	/* json_equal: an integer never equals a double (3 vs 3.0). */
	if (!json_equal(got, want)) {
		out = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		test_fail(__FILE__, __LINE__, "%s gave %s, want %s", params,
			  out, want_json);
	}
	json_decref(want);
	json_decref(got);
}

static void refused(const char *params)
{
	int64_t code;
	json_t *got = result_of(params, &code);

	CHECK_EQ(code, -32602);
	CHECK_NULL(got);
}

TEST(rpc_params_native_types)
{
	expect("[\"a\",7,true,1.5]", "{\"s\":\"a\",\"i\":7,\"b\":true,"
				       "\"n\":1.5}");
	expect("[\"a\",7,false]", "{\"s\":\"a\",\"i\":7,\"b\":false}");
}

TEST(rpc_params_text_converts_to_declared_type)
{
	/* What siptlsctl -S (all strings) sends. */
	expect("[\"a\",\"-12\",\"yes\",\"2.5\"]",
	       "{\"s\":\"a\",\"i\":-12,\"b\":true,\"n\":2.5}");
	expect("[\"a\",\"0\",\"OFF\",\"3\"]",
	       "{\"s\":\"a\",\"i\":0,\"b\":false,\"n\":3}");
	/* Numbers and booleans become text where text is wanted. */
	expect("[123,1,1]", "{\"s\":\"123\",\"i\":1,\"b\":true}");
	expect("[false,1,0]", "{\"s\":\"false\",\"i\":1,\"b\":false}");
	expect("[2.5,1,0]", "{\"s\":\"2.5\",\"i\":1,\"b\":false}");
	/* An integral double is an integer. */
	expect("[\"a\",180.0,0]", "{\"s\":\"a\",\"i\":180,\"b\":false}");
}

TEST(rpc_params_conversion_refusals)
{
	refused("[null,1,true]");
	refused("[[1],1,true]");
	refused("[\"a\",\"12x\",true]");
	refused("[\"a\",\" 12\",true]");
	refused("[\"a\",\"99999999999999999999\",true]");
	refused("[\"a\",1e300,true]");
	refused("[\"a\",true,true]");
	refused("[\"a\",1,2]");
	refused("[\"a\",1,\"maybe\"]");
	refused("[\"a\",1,true,\"x\"]");
	refused("[\"a\",1,true,\"1.5.\"]");
}

TEST(rpc_params_variadic)
{
	int64_t code;
	json_t *r;

	r = result_of("REST[1,\"x\",{},[]]", &code);
	CHECK_EQ(json_integer_value(r), 4);
	json_decref(r);
	/* Extra params are type "any": a checked read reports misuse. */
	r = result_of("REST[1,2]", &code);
	CHECK_EQ(code, -32602);
	json_decref(r);
	r = result_of("REST[\"x\"]", &code);
	CHECK_EQ(code, -32602);
	json_decref(r);
}

TEST(rpc_params_doubles_as_text_are_short)
{
	/* The shortest text that reads back the same, not jansson's 17
	 * digits ("0.10000000000000001"). */
	expect("[0.1,1,0]", "{\"s\":\"0.1\",\"i\":1,\"b\":false}");
	expect("[3.0,1,0]", "{\"s\":\"3.0\",\"i\":1,\"b\":false}");
	expect("[1e300,1,0]", "{\"s\":\"1e+300\",\"i\":1,\"b\":false}");
	expect("[-0.0,1,0]", "{\"s\":\"-0.0\",\"i\":1,\"b\":false}");
	expect("[0.3333333333333333,1,0]",
	       "{\"s\":\"0.3333333333333333\",\"i\":1,\"b\":false}");
}

TEST(rpc_params_strings_keep_their_bytes)
{
	/* A string param is the request's own value; a reader of the C
	 * string stops at an embedded NUL. */
	expect("[\"caf\\u00e9\",1,0]",
	       "{\"s\":\"caf\xC3\xA9\",\"i\":1,\"b\":false}");
	expect("[\"a\\u0000b\",1,0]", "{\"s\":\"a\",\"i\":1,\"b\":false}");
}

/* A call of method <m> as rpc.c sets it up, without a dispatcher. */
static void bind_setup(const struct stls_rpc_method *m,
		       struct stls__rpc_entry *e, struct stls_rpc_call *call)
{
	memset(e, 0, sizeof(*e));
	memset(call, 0, sizeof(*call));
	e->m = m;
	CHECK_OK(stls__rpc_sig_parse(m->name, m->params, &e->sig));
	call->e = e;
}

TEST(rpc_params_bind_hands_back_its_error_text)
{
	static const struct stls_rpc_method m = {
		"t.x", t_rest, "a:int [b:str]", "X.", 0
	};
	struct stls__rpc_entry e;
	struct stls_rpc_call call;
	char msg[STLS__RPC_MSG_MAX];
	json_t *params = json_pack("[s]", "abc");
	int64_t v = 0;

	bind_setup(&m, &e, &call);
	CHECK_EQ(stls__rpc_params_bind(&call, params, msg, sizeof(msg)),
		 -EINVAL);
	CHECK_STR_EQ(msg, "t.x: parameter 'a' must be an integer, got "
			  "\"abc\" (usage: t.x a:int [b:str])");
	/* Nothing recorded on the call: the reply is rpc.c's to write. */
	CHECK(!call.failed);
	CHECK_NULL(call.msg);
	stls__rpc_params_fini(&call);
	json_decref(params);

	bind_setup(&m, &e, &call);
	params = json_pack("{s:s}", "a", "12");
	CHECK_OK(stls__rpc_params_bind(&call, params, msg, sizeof(msg)));
	CHECK_EQ(stls_rpc_param_int(&call, 0), 12);
	CHECK_NULL(stls_rpc_param(&call, 1));
	CHECK_OK(stls__rpc_param_check_int(&call, 0, 0, 20, &v, msg,
					   sizeof(msg)));
	CHECK_EQ(v, 12);
	CHECK_EQ(stls__rpc_param_check_int(&call, 0, 0, 10, &v, msg,
					   sizeof(msg)),
		 -EINVAL);
	CHECK_STR_HAS(msg, "parameter 'a' must be an integer in [0, 10]");
	CHECK(!call.failed);
	stls__rpc_params_fini(&call);
	json_decref(params);
}
