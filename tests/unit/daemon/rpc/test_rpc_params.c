/*
 * Unit tests for daemon/rpc/rpc_params.c: parameter specs and the conversions
 * that make positional, typed-as-text arguments work (kamcmd style).
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "rpc/rpc.h"

static int t_types(struct stls_rpc_call *call, void *arg)
{
	struct stls_json *o = stls_json_new_object();
	int rc;

	(void)arg;
	rc = stls_json_object_set_str(o, "s", stls_rpc_param_str(call, 0));
	if (!rc) {
		rc = stls_json_object_set_int(o, "i",
					      stls_rpc_param_int(call, 1));
	}
	if (!rc) {
		rc = stls_json_object_set_bool(o, "b",
					       stls_rpc_param_bool(call, 2));
	}
	if (!rc && stls_rpc_param(call, 3)) {
		rc = stls_json_object_set(
			o, "n", stls_json_clone(stls_rpc_param(call, 3)));
	}
	if (rc) {
		stls_json_free(o);
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

static struct stls_json *result_of(const char *params, int64_t *code)
{
	struct stls_rpc *rpc = NULL;
	struct stls_json *v = NULL, *res;
	char req[512], *resp = NULL;
	const char *m = strstr(params, "REST") ? "t.rest" : "t.types";

	CHECK_OK(stls_rpc_new(&rpc));
	CHECK_OK(stls_rpc_register(rpc, methods, NULL));
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\","
		 "\"params\":%s}",
		 m, strstr(params, "REST") ? params + 4 : params);
	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), 0, &resp, NULL));
	CHECK_OK(stls_json_parse(resp, strlen(resp), NULL, &v, NULL));
	*code = stls_json_get_int(stls_json_object_get(
		stls_json_object_get(v, "error"), "code"));
	res = stls_json_clone(stls_json_object_get(v, "result"));
	stls_json_free(v);
	free(resp);
	stls_rpc_free(rpc);
	return res;
}

static void expect(const char *params, const char *want_json)
{
	struct stls_json *want = NULL, *got;
	int64_t code;
	char *out = NULL;

	CHECK_OK(stls_json_parse(want_json, strlen(want_json), NULL, &want,
				 NULL));
	got = result_of(params, &code);
	CHECK_EQ(code, 0);
	if (!stls_json_equal(got, want)) {
		CHECK_OK(stls_json_write(got, 0, &out, NULL));
		test_fail(__FILE__, __LINE__, "%s gave %s, want %s", params,
			  out, want_json);
	}
	stls_json_free(want);
	stls_json_free(got);
}

static void refused(const char *params)
{
	int64_t code;
	struct stls_json *got = result_of(params, &code);

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
	struct stls_json *r;

	r = result_of("REST[1,\"x\",{},[]]", &code);
	CHECK_EQ(stls_json_get_int(r), 4);
	stls_json_free(r);
	/* Extra params are type "any": a checked read reports misuse. */
	r = result_of("REST[1,2]", &code);
	CHECK_EQ(code, -32602);
	stls_json_free(r);
	r = result_of("REST[\"x\"]", &code);
	CHECK_EQ(code, -32602);
	stls_json_free(r);
}
