/*
 * Unit tests for daemon/script/script_vm.c: the sandbox (what a script
 * has, what it never has, what [core] script_allow adds), the
 * instruction budget (loops, loops inside pcall, coroutines, table.sort),
 * the memory cap, load() of text only, and print() to the log.
 */
#include "script_fixture.h"

static void allow_all(struct stls_script_conf *c)
{
	c->allow = STLS_SCRIPT_ALLOW_IO | STLS_SCRIPT_ALLOW_OS |
		   STLS_SCRIPT_ALLOW_NATIVE;
}

static void small_memory(struct stls_script_conf *c)
{
	c->memory = 262144;
}

static void fail_with(const char *body,
		      void (*conf_fn)(struct stls_script_conf *),
		      uint64_t budget, uint64_t memory)
{
	struct sfx x;
	struct stls_script_stats st;
	char text[2048];

	snprintf(text, sizeof(text), SFX_HOOK("%s"), body);
	sfx_init(&x, text, conf_fn);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(x.v.failed);
	CHECK_EQ(x.v.code, 500);
	stls_script_stats(x.s, &st);
	CHECK_EQ(st.errors, 1);
	CHECK_EQ(st.budget, budget);
	CHECK_EQ(st.memory, memory);
	sfx_fini(&x);
}

TEST(sandbox_by_default)
{
	static const char *const absent[] = {
		"io", "debug", "os.execute", "os.exit", "os.setlocale",
		"os.getenv", "os.remove", "os.rename", "os.tmpname",
		"dofile", "loadfile", "package.loadlib",
	};
	static const char *const present[] = {
		"os.time", "os.clock", "os.date", "os.difftime", "string.rep",
		"table.concat", "math.floor", "utf8.char", "coroutine.wrap",
		"require", "pcall", "load",
	};
	struct sfx x;
	char expr[128];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(absent); i++) {
		snprintf(expr, sizeof(expr), "type(%s)", absent[i]);
		if (strcmp(sfx_eval(&x, expr, NULL), "nil") != 0)
			test_fail(__FILE__, __LINE__, "%s is %s", absent[i],
				  x.out);
		sfx_fini(&x);
	}
	for (i = 0; i < STLS_ARRAY_SIZE(present); i++) {
		snprintf(expr, sizeof(expr), "type(%s)", present[i]);
		if (strcmp(sfx_eval(&x, expr, NULL), "function") != 0)
			test_fail(__FILE__, __LINE__, "%s is %s", present[i],
				  x.out);
		sfx_fini(&x);
	}
	/* No C searchers: a native module is not found. */
	CHECK_STR_HAS(sfx_eval(&x, "require('lpeg')", NULL),
		      "module 'lpeg' not found");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "package.cpath", NULL), "<empty>");
	sfx_fini(&x);
}

TEST(script_allow_opens_io_os_native)
{
	struct sfx x;

	CHECK_STR_EQ(sfx_eval(&x, "type(io.open) .. type(os.execute) .. "
			      "type(os.getenv) .. type(dofile) .. "
			      "type(package.loadlib)", allow_all),
		     "functionfunctionfunctionfunctionfunction");
	sfx_fini(&x);
	/* Never, whatever is allowed: ending or re-localing the process. */
	CHECK_STR_EQ(sfx_eval(&x, "type(os.exit) .. type(os.setlocale) .. "
			      "type(debug)", allow_all), "nilnilnil");
	sfx_fini(&x);
}

TEST(require_loads_lua_modules_from_the_script_folder)
{
	struct sfx x;
	char mod[PATH_MAX + 16];
	FILE *f;

	sfx_prepare(&x, "local m = require('policy')\n"
			SFX_HOOK("KSR.sl.send_reply(m.code)"));
	snprintf(mod, sizeof(mod), "%s/policy.lua", x.dir);
	f = fopen(mod, "w");
	CHECK_NOT_NULL(f);
	fputs("return { code = 488 }\n", f);
	fclose(f);
	CHECK_OK(stls_script_new(&x.conf, 1, &x.diag, &x.s));
	CHECK_OK(stls_script_worker_start(x.s, 0));
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK_EQ(x.v.code, 488);
	sfx_fini(&x);
}

TEST(load_takes_text_only)
{
	struct sfx x;

	CHECK_STR_EQ(sfx_eval(&x, "load('return 6 * 7')()", NULL), "42");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "load('return 6 * 7', 'c')()", NULL), "42");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "load('return v', 'c', 't', {v = 5})()",
			      NULL), "5");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "select(2, load('x ='))", NULL),
		      "[string \"x =\"]:1:");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "select(2, load(string.dump(function() "
			       "end)))", NULL), "attempt to load a binary chunk");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "load('return 1', 'x', 'b')", NULL),
		      "only text chunks");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "load('return 1', 'x', 'bt')", NULL),
		      "only text chunks");
	sfx_fini(&x);
}

TEST(budget_stops_loops)
{
	fail_with("while true do end", NULL, 1, 0);
	fail_with("while true do pcall(function() while true do end end) end",
		  NULL, 1, 0);
	fail_with("local co = coroutine.wrap(function() while true do end "
		  "end)\nco()", NULL, 1, 0);
	fail_with("local function f() return f() end\nf()", NULL, 1, 0);
	/* Sorting a large table costs n log n comparisons up front. */
	fail_with("local t = {}\nfor i = 1, 20000 do t[i] = -i end\n"
		  "table.sort(t)", NULL, 1, 0);
}

TEST(budget_is_per_call)
{
	struct sfx x;
	int i;

	/* 30,000 instructions a call: under the 100,000 budget each time,
	 * far over it in sum. */
	sfx_init(&x, SFX_HOOK("local n = 0\nfor i = 1, 10000 do n = n + i end"),
		 NULL);
	sfx_request(&x, REQ_INVITE);
	for (i = 0; i < 20; i++) {
		sfx_run(&x);
		CHECK(!x.v.failed);
	}
	sfx_fini(&x);
}

TEST(memory_cap)
{
	fail_with("local t = {}\nfor i = 1, 1e8 do t[i] = ('x'):rep(100) .. i "
		  "end", small_memory, 0, 1);
	fail_with("local s = ('x'):rep(300000)", small_memory, 0, 1);
}

TEST(print_goes_to_the_log)
{
	struct sfx x;

	CHECK_STR_EQ(sfx_eval(&x, "print('a', 1, nil, 'b\\nc')", NULL),
		     "nil");
	sfx_fini(&x);
}
