/*
 * Unit tests for daemon/rpc/rpc_builtin.c: system.listMethods,
 * system.methodHelp, core.version, core.uptime, core.echo.
 */
#include "test.h"

#include <stdlib.h>

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

static struct stls_json *call(struct stls_rpc *rpc, const char *req)
{
	struct stls_json *v = NULL;
	char *resp = NULL;
	size_t len = 0;

	CHECK_OK(stls_rpc_handle(rpc, req, strlen(req), 0, &resp, &len));
	CHECK_NOT_NULL(resp);
	CHECK_OK(stls_json_parse(resp, len, NULL, &v, NULL));
	free(resp);
	return v;
}

static void expect_error(struct stls_rpc *rpc, const char *req, int code,
			 const char *msg)
{
	struct stls_json *r = call(rpc, req);
	const struct stls_json *e = stls_json_object_get(r, "error");

	CHECK_EQ(stls_json_get_int(stls_json_object_get(e, "code")), code);
	CHECK_STR_HAS(stls_json_get_str(stls_json_object_get(e, "message"),
					NULL),
		      msg);
	stls_json_free(r);
}

#define REQ(m, p, id) \
	"{\"jsonrpc\":\"2.0\",\"method\":\"" m "\",\"params\":" p ",\"id\":" id "}"

TEST(rpc_builtin_list_and_help)
{
	struct stls_rpc *rpc = new_rpc();
	struct stls_json *r;
	const struct stls_json *list;
	size_t i;

	r = call(rpc, REQ("system.listMethods", "[]", "1"));
	list = stls_json_object_get(r, "result");
	CHECK_STR_EQ(stls_json_get_str(stls_json_array_get(list, 0), NULL),
		     "core.echo");
	for (i = 0; i < stls_json_len(list); i++) {
		const char *s = stls_json_get_str(stls_json_array_get(list, i),
						  NULL);

		CHECK(strcmp(s, "test.errno") != 0); /* hidden */
		if (i) {
			CHECK(strcmp(stls_json_get_str(stls_json_array_get(
						     list, i - 1), NULL),
				     s) < 0);
		}
	}
	CHECK_EQ(stls_json_len(list), 9);
	stls_json_free(r);
	r = call(rpc, REQ("system.methodHelp", "[\"test.set\"]", "1"));
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(r, "result"),
				       NULL),
		     "test.set group:str name:str value:any (changes state)\n"
		     "Set a value.");
	stls_json_free(r);
	expect_error(rpc, REQ("system.methodHelp", "[\"nope\"]", "1"), 404,
		     "no method named \"nope\"");
	stls_rpc_free(rpc);
}

TEST(rpc_builtin_version_uptime_echo)
{
	struct stls_rpc *rpc = new_rpc();
	struct stls_json *r;
	const struct stls_json *res;

	r = call(rpc, REQ("core.version", "[]", "1"));
	res = stls_json_object_get(r, "result");
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(res, "version"),
				       NULL),
		     STLS_VERSION);
	CHECK_STR_EQ(stls_json_get_str(stls_json_object_get(res, "name"),
				       NULL),
		     "siptlsd");
	stls_json_free(r);
	r = call(rpc, REQ("core.uptime", "[]", "1"));
	res = stls_json_object_get(r, "result");
	CHECK(stls_json_get_int(stls_json_object_get(res, "uptime")) >= 0);
	CHECK(stls_json_get_int(stls_json_object_get(res, "now")) >=
	      stls_json_get_int(stls_json_object_get(res, "up_since")));
	stls_json_free(r);
	r = call(rpc, REQ("core.echo", "[1,\"a\",{\"k\":[true]}]", "1"));
	res = stls_json_object_get(r, "result");
	CHECK_EQ(stls_json_len(res), 3);
	CHECK(stls_json_get_bool(stls_json_array_get(
		stls_json_object_get(stls_json_array_get(res, 2), "k"), 0)));
	stls_json_free(r);
	stls_rpc_free(rpc);
}

