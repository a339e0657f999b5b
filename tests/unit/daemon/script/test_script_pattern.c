/*
 * Unit tests for daemon/script/script_pattern.c: string.find, match,
 * gmatch and gsub give what Lua 5.4's own string library gives (each case
 * runs in the hook and in a plain Lua state, and the two texts must be
 * equal), and a backtracking pattern is stopped by the instruction
 * budget instead of running for hours.
 */
#include "script_fixture.h"

#include <lauxlib.h>
#include <lualib.h>

/* Each expression yields one string (results joined with '|'). */
static const char *const cases[] = {
	"table.concat({string.find('hello world', 'o w')}, '|')",
	"table.concat({string.find('hello world', 'l+')}, '|')",
	"table.concat({string.find('hello', 'l', 1, true)}, '|')",
	"table.concat({string.find('a.b', '.', 2, true)}, '|')",
	"table.concat({string.find('abc', 'b', -1)}, '|')",
	"tostring(string.find('abc', 'x'))",
	"table.concat({string.find('key=val', '(%w+)=(%w+)')}, '|')",
	"table.concat({('sip:alice@example.test'):match('^sip:([^@]+)@(.+)$')},"
	" '|')",
	"tostring(('  trim  '):match('^%s*(.-)%s*$'))",
	"table.concat({('x = 10'):match('()=()')}, '|')",
	"tostring(('THE (quick) fox'):find('%((%a+)%)'))",
	"tostring(('f(a(b)c)d'):match('%b()'))",
	"tostring(('THE (quick) fox'):match('%f[%a]%a+', 5))",
	"tostring(('hello hello'):match('(h%a+) %1'))",
	"tostring(('[[x]]'):match('%[(%b[])%]'))",
	"tostring(('2026-12-06'):match('^(%d%d%d%d)%-(%d%d)%-(%d%d)$'))",
	"tostring(('abc'):match('^(a?)(b*)(c+)$'))",
	"tostring(('aaa'):match('a-b'))",
	"tostring(('aaab'):match('a-b'))",
	"tostring(('a,b,,c'):gsub(',', ';'))",
	"select(2, ('a,b,,c'):gsub(',', ';', 2))",
	"(('hello world'):gsub('(%w+)', '<%1>'))",
	"(('hello world'):gsub('%w+', '%0 %0', 1))",
	"(('abc'):gsub('', '-'))",
	"(('$name is $age'):gsub('%$(%w+)', {name='bob', age=42}))",
	"(('4+5'):gsub('(%d)%+(%d)', function(a, b) return a + b end))",
	"(('x'):gsub('x', '%%'))",
	"(('abc'):gsub('%w', {a=false, b='B'}))",
	"(function() local t = {} for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)')"
	" do t[#t + 1] = k .. v end return table.concat(t, '|') end)()",
	"(function() local t = {} for w in ('one two  three'):gmatch('%a+')"
	" do t[#t + 1] = w end return table.concat(t, '|') end)()",
	"(function() local t = {} for p in ('abc'):gmatch('()')"
	" do t[#t + 1] = p end return table.concat(t, '|') end)()",
	"(function() local t = {} for w in ('ab12cd'):gmatch('%d', 4)"
	" do t[#t + 1] = w end return table.concat(t, '|') end)()",
	"tostring(('\\0a\\0'):find('%z', 1))",
	"tostring(('x'):match('[%a-]'))",
	"tostring(('-'):match('[a-]'))",
	"tostring(('a]'):match('[]]'))",
	"tostring(('A1_'):match('^[%u%d_]+$'))",
	"tostring(('nope'):match('[^%l]'))",
	"tostring(('tab\\there'):match('%c'))",
	"tostring(('0xFF'):match('^0[xX](%x+)$'))",
	"tostring(('a.b'):match('%.'))",
	"tostring(('x'):match('x$'))",
	"tostring(('^x'):match('^^x'))",
	/* errors: the same messages */
	"select(2, pcall(string.find, 'a', '%'))",
	"select(2, pcall(string.find, 'a', '[a'))",
	"select(2, pcall(string.match, 'a', '(a'))",
	"select(2, pcall(string.match, 'a', 'a)'))",
	"select(2, pcall(string.match, 'a', '%1'))",
	"select(2, pcall(string.gsub, 'a', 'a', '%2'))",
	"select(2, pcall(string.match, 'a', '%b'))",
	"select(2, pcall(string.match, 'a', '%f'))",
	"select(2, pcall(string.gsub, 'a', '(a)', {}, -1))",
};

/* The expression's value in a plain Lua state with every library. */
static void plain(const char *expr, char *out, size_t cap)
{
	lua_State *L = luaL_newstate();
	char chunk[2048];

	luaL_openlibs(L);
	snprintf(chunk, sizeof(chunk),
		 "local ok, v = pcall(function() return %s end)\n"
		 "local s = ok and tostring(v) or ('error: ' .. tostring(v))\n"
		 "s = s:gsub('[%%c]', '?')\n"
		 "if #s == 0 then s = '<empty>' end\n"
		 "return s:sub(1, 128)", expr);
	CHECK_EQ(luaL_dostring(L, chunk), LUA_OK);
	snprintf(out, cap, "%s", lua_tostring(L, -1));
	lua_close(L);
}

TEST(patterns_match_lua_5_4)
{
	struct sfx x;
	char want[256];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		plain(cases[i], want, sizeof(want));
		sfx_eval(&x, cases[i], NULL);
		if (strcmp(x.out, want) != 0)
			test_fail(__FILE__, __LINE__, "%s: hook %s, lua %s",
				  cases[i], x.out, want);
		sfx_fini(&x);
	}
}

TEST(backtracking_is_stopped_by_the_budget)
{
	struct sfx x;
	struct stls_script_stats st;

	sfx_init(&x, SFX_HOOK("string.find(('a'):rep(40), "
			      "('a-'):rep(20) .. 'b')"), NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(x.v.failed);
	CHECK_EQ(x.v.code, 500);
	stls_script_stats(x.s, &st);
	CHECK_EQ(st.budget, 1);
	sfx_fini(&x);
	/* gsub and gmatch are charged too, and pcall cannot hide it. */
	sfx_init(&x, SFX_HOOK("pcall(string.gsub, ('a'):rep(40), "
			      "('a-'):rep(20) .. 'b', 'x')\n"
			      "for _ in ('a'):rep(40):gmatch(('a-'):rep(20) .."
			      " 'b') do end"), NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(x.v.failed);
	stls_script_stats(x.s, &st);
	CHECK_EQ(st.budget, 1);
	sfx_fini(&x);
}
