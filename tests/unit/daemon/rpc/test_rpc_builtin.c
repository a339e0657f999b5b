/*
 * Unit tests for daemon/rpc/rpc_builtin.c: system.listMethods,
 * system.methodHelp, core.version, core.uptime, core.echo.
 */
#include "test.h"

#include <stdlib.h>

#include "daemon/rpc/rpc_test.h"
#include "rpc/rpc.h"

static int t_noop(struct stls_rpc_call *call, void *arg)
{
	(void)call;
	(void)arg;
	return 0;
}

static const struct stls_rpc_method test_methods[] = {
	{ "test.add", t_noop, "a:int [b:int]", "Add two integers.", 0 },
	{ "test.note", t_noop, "", "Count a notification.", 0 },
	{ "test.fail", t_noop, "", "Always fails with data.", 0 },
	{ "test.errno", t_noop, "", "Returns -EIO.", STLS_RPC_F_HIDDEN },
	{ "test.set", t_noop, "group:str name:str value:any", "Set a value.",
	  STLS_RPC_F_WRITE },
	STLS_RPC_METHOD_END
};

static struct stls_rpc *new_rpc(void)
{
	struct stls_rpc *rpc = NULL;

	CHECK_OK(stls_rpc_new(&rpc));
	CHECK_OK(stls_rpc_register(rpc, test_methods, NULL));
	return rpc;
}

static json_t *call(struct stls_rpc *rpc, const char *req)
{
	json_t *v;
	char *resp = NULL;
	size_t len = 0;

	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), 0, &resp, &len));
	CHECK_NOT_NULL(resp);
	v = rt_parse(resp, len);
	free(resp);
	return v;
}

static void expect_error(struct stls_rpc *rpc, const char *req, int code,
			 const char *msg)
{
	json_t *r = call(rpc, req);
	const json_t *e = json_object_get(r, "error");

	CHECK_EQ(json_integer_value(json_object_get(e, "code")), code);
	CHECK_STR_HAS(json_string_value(json_object_get(e, "message")),
		      msg);
	json_decref(r);
}

#define REQ(m, p, id) \
	"{\"jsonrpc\":\"2.0\",\"method\":\"" m "\",\"params\":" p ",\"id\":" id "}"

TEST(rpc_builtin_list_and_help)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r;
	const json_t *list;
	size_t i;

	r = call(rpc, REQ("system.listMethods", "[]", "1"));
	list = json_object_get(r, "result");
	CHECK_STR_EQ(json_string_value(json_array_get(list, 0)),
		     "core.echo");
	for (i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));

		CHECK(strcmp(s, "test.errno") != 0); /* hidden */
		if (i) {
			CHECK(strcmp(json_string_value(json_array_get(
						     list, i - 1)),
				     s) < 0);
		}
	}
	CHECK_EQ(json_array_size(list), 9);
	json_decref(r);
	r = call(rpc, REQ("system.methodHelp", "[\"test.set\"]", "1"));
	CHECK_STR_EQ(json_string_value(json_object_get(r, "result")),
		     "test.set group:str name:str value:any (changes state)\n"
		     "Set a value.");
	json_decref(r);
	expect_error(rpc, REQ("system.methodHelp", "[\"nope\"]", "1"), 404,
		     "no method named \"nope\"");
	stls_rpc_free(rpc);
}

TEST(rpc_builtin_version_uptime_echo)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r;
	const json_t *res;

	r = call(rpc, REQ("core.version", "[]", "1"));
	res = json_object_get(r, "result");
	CHECK_STR_EQ(json_string_value(json_object_get(res, "version")),
		     STLS_VERSION);
	CHECK_STR_EQ(json_string_value(json_object_get(res, "name")),
		     "siptlsd");
	json_decref(r);
	r = call(rpc, REQ("core.uptime", "[]", "1"));
	res = json_object_get(r, "result");
	CHECK(json_integer_value(json_object_get(res, "uptime")) >= 0);
	CHECK(json_integer_value(json_object_get(res, "now")) >=
	      json_integer_value(json_object_get(res, "up_since")));
	json_decref(r);
	r = call(rpc, REQ("core.echo", "[1,\"a\",{\"k\":[true]}]", "1"));
	res = json_object_get(r, "result");
	CHECK_EQ(json_array_size(res), 3);
	CHECK(json_is_true(json_array_get(
		json_object_get(json_array_get(res, 2), "k"), 0)));
	json_decref(r);
	stls_rpc_free(rpc);
}


TEST(rpc_builtin_echo_returns_the_params_as_sent)
{
	static const char req[] =
		REQ("core.echo",
		    "[1,\"a\",true,null,{\"k\":[],\"j\":{}},-0.0,1.5,"
		    "\"x\\u0000y\",\"caf\xC3\xA9\",-9223372036854775808]",
		    "1");
	struct stls_rpc *rpc = new_rpc();
	char *resp = NULL;

	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), 0, &resp, NULL));
	CHECK_STR_EQ(resp, "{\"jsonrpc\":\"2.0\",\"result\":[1,\"a\",true,null,"
			   "{\"k\":[],\"j\":{}},-0.0,1.5,\"x\\u0000y\","
			   "\"caf\xC3\xA9\",-9223372036854775808],\"id\":1}");
	free(resp);
	stls_rpc_free(rpc);
}

TEST(rpc_builtin_version_fields_in_order)
{
	struct stls_rpc *rpc = new_rpc();
	json_t *r = call(rpc, REQ("core.version", "[]", "1"));
	json_t *res = json_object_get(r, "result");

	CHECK_STR_EQ(rt_key_at(res, 0), "name");
	CHECK_STR_EQ(rt_key_at(res, 1), "version");
	CHECK_STR_EQ(rt_key_at(res, 2), "libuv");
	CHECK_NULL(rt_key_at(res, 3));
	json_decref(r);
	stls_rpc_free(rpc);
}
