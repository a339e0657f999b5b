/*
 * One Lua state of the script room: its allocator (the memory cap), the
 * sandbox (which libraries a script gets), the instruction budget (a
 * count hook) and the protected calls that run the hooks.
 *
 * Budget. A count hook runs every SCRIPT_HOOK_EVERY instructions and adds
 * them to the call's total; past the limit it raises an error naming the
 * script line. A script could catch that error with pcall and loop on,
 * so once the budget is spent the hook fires at every instruction and
 * raises again: the first instruction outside the pcall ends the call.
 * Coroutines inherit the hook (lua_newthread copies it). C functions do
 * not run instructions: the pattern functions and table.sort charge
 * their work to the same budget (script_charge()).
 *
 * Memory. The allocator refuses any growth past the cap; Lua turns that
 * into a memory error (after an emergency collection). Shrinking never
 * fails.
 *
 * Sandbox. Always: the base library without dofile and loadfile, load
 * limited to text chunks, print writing to the log; string (budgeted
 * patterns), table (budgeted sort), math, utf8, coroutine; os.clock,
 * os.date, os.difftime and os.time; require of Lua modules from the
 * script's folder. Never: debug, os.exit, os.setlocale. On request
 * ([core] script_allow): io (and dofile, loadfile), the rest of os, and
 * native modules (C searchers, package.loadlib).
 */
#include "script/script_int.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "stls/log.h"

/* The registry key of the event name pushed to event_callback. */
#define EVNAME "tls:connection-out"

static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct script_vm *vm = ud;
	size_t old = ptr ? osize : 0;
	void *np;

	if (nsize == 0) {
		free(ptr);
		vm->mem -= old;
		return NULL;
	}
	if (nsize > old && vm->mem - old + nsize > vm->mem_cap) {
		vm->mem_hit = true;
		return NULL;
	}
	np = realloc(ptr, nsize);
	if (!np) {
		if (nsize <= old)
			return ptr; /* a shrink may not fail: keep the block */
		vm->mem_hit = true;
		return NULL;
	}
	vm->mem = vm->mem - old + nsize;
	return np;
}

static void vm_hook(lua_State *L, lua_Debug *ar)
{
	struct script_vm *vm = script_vm_of(L);
	int every = lua_gethookcount(L);

	(void)ar;
	vm->used += every;
	if (vm->used > vm->limit)
		vm->exhausted = true;
	if (!vm->exhausted)
		return;
	/* Fire at every instruction from now on: a pcall cannot absorb it. */
	if (every != 1)
		lua_sethook(L, vm_hook, LUA_MASKCOUNT, 1);
	script_budget_error(L, 0);
}

/* Arms a fresh budget of <limit> instructions. */
static void vm_budget(struct script_vm *vm, long limit)
{
	vm->used = 0;
	vm->limit = limit;
	if (vm->exhausted || !lua_gethook(vm->L)) {
		vm->exhausted = false;
		lua_sethook(vm->L, vm_hook, LUA_MASKCOUNT, SCRIPT_HOOK_EVERY);
	}
}

/* Appends <s> escaped (stls__script_escape). */
static void put_escaped(char *out, size_t cap, const char *s)
{
	stls__script_escape(out, cap, s, strlen(s));
}

/* print(...): the values, tab-separated, to the log at info level. */
static int l_print(lua_State *L)
{
	char line[1024] = "script: ";
	int i, n = lua_gettop(L);

	for (i = 1; i <= n; i++) {
		const char *s = luaL_tolstring(L, i, NULL);

		if (i > 1)
			put_escaped(line, sizeof(line), "\t");
		put_escaped(line, sizeof(line), s);
		lua_pop(L, 1);
	}
	STLS_INFO("%s", line);
	return 0;
}

/* load(chunk [, name [, mode [, env]]]) with text chunks only: a crafted
 * binary chunk can crash the VM. An env given (even nil) is passed on. */
static int l_load(lua_State *L)
{
	const char *mode = luaL_optstring(L, 3, "t");
	int n = lua_gettop(L);

	if (strcmp(mode, "t") != 0)
		return luaL_error(L, "load: only text chunks (mode \"t\")");
	lua_settop(L, n >= 4 ? 4 : 3);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n >= 4 ? 4 : 3, LUA_MULTRET);
	return lua_gettop(L);
}

/* table.sort charged n * log2(n) comparisons before it runs. */
static int l_sort(lua_State *L)
{
	lua_Integer n, m;
	long cost = 1;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	if (n > LONG_MAX / 64)
		n = LONG_MAX / 64;
	for (m = n; m > 1; m >>= 1)
		cost += (long)n;
	script_charge(L, cost);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 0);
	return 0;
}

static void set_nil(lua_State *L, int t, const char *name)
{
	t = lua_absindex(L, t);
	lua_pushnil(L);
	lua_setfield(L, t, name);
}

/* Wraps t[name] (t at stack index -1) with <fn> taking it as upvalue. */
static void wrap(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_getfield(L, -1, name);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, -2, name);
}

static void open_lib(lua_State *L, const char *name, lua_CFunction open)
{
	luaL_requiref(L, name, open, 1);
	lua_pop(L, 1);
}

/* The os table: safe functions always, the rest only when allowed. */
static void open_os(lua_State *L, bool all)
{
	static const char *const unsafe[] = { "execute", "getenv", "remove",
					      "rename", "tmpname", NULL };
	int i;

	open_lib(L, LUA_OSLIBNAME, luaopen_os);
	lua_getglobal(L, LUA_OSLIBNAME);
	/* A hook must never end or re-locale the whole process. */
	set_nil(L, -1, "exit");
	set_nil(L, -1, "setlocale");
	for (i = 0; !all && unsafe[i]; i++)
		set_nil(L, -1, unsafe[i]);
	lua_pop(L, 1);
}

/* require: Lua modules from the script's folder; C ones when allowed. */
static void open_package(lua_State *L, const struct stls_script_conf *c)
{
	char dir[PATH_MAX];
	bool native = c->allow & STLS_SCRIPT_ALLOW_NATIVE;

	open_lib(L, LUA_LOADLIBNAME, luaopen_package);
	lua_getglobal(L, LUA_LOADLIBNAME);
	snprintf(dir, sizeof(dir), "%s", c->path);
	lua_pushfstring(L, "%s/?.lua", dirname(dir));
	lua_setfield(L, -2, "path");
	if (!native) {
		lua_pushliteral(L, "");
		lua_setfield(L, -2, "cpath");
		set_nil(L, -1, "loadlib");
		/* Searchers 3 and 4 load C libraries. */
		lua_getfield(L, -1, "searchers");
		lua_pushnil(L);
		lua_rawseti(L, -2, 4);
		lua_pushnil(L);
		lua_rawseti(L, -2, 3);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* Opens the sandbox (runs protected: lua_pcall of this function). */
static int vm_open(lua_State *L)
{
	const struct stls_script_conf *c = script_vm_of(L)->conf;
	bool io = c->allow & STLS_SCRIPT_ALLOW_IO;

	open_lib(L, LUA_GNAME, luaopen_base);
	open_lib(L, LUA_STRLIBNAME, luaopen_string);
	open_lib(L, LUA_TABLIBNAME, luaopen_table);
	open_lib(L, LUA_MATHLIBNAME, luaopen_math);
	open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
	open_lib(L, LUA_COLIBNAME, luaopen_coroutine);
	open_os(L, c->allow & STLS_SCRIPT_ALLOW_OS);
	open_package(L, c);
	if (io)
		open_lib(L, LUA_IOLIBNAME, luaopen_io);
	lua_pushglobaltable(L);
	if (!io) {
		set_nil(L, -1, "dofile");
		set_nil(L, -1, "loadfile");
	}
	lua_pushcfunction(L, l_print);
	lua_setfield(L, -2, "print");
	wrap(L, "load", l_load);
	lua_pop(L, 1);
	lua_getglobal(L, LUA_TABLIBNAME);
	wrap(L, "sort", l_sort);
	lua_pop(L, 1);
	lua_getglobal(L, LUA_STRLIBNAME);
	stls__script_pattern_open(L);
	lua_pop(L, 1);
	if (stls__script_ksr_open(L) != 0)
		return luaL_error(L, "not enough memory");
	lua_pushliteral(L, EVNAME);
	lua_setfield(L, LUA_REGISTRYINDEX, EVNAME);
	return 0;
}

/* The text of the error object on top of the stack (never calls Lua). */
static const char *err_text(lua_State *L)
{
	int t = lua_type(L, -1);

	if (t == LUA_TSTRING || t == LUA_TNUMBER)
		return lua_tostring(L, -1);
	return t == LUA_TNIL ? "error with no message"
			     : "error object is not a string";
}

/*
 * Adds the Lua message <msg> ("SRC:LINE: text") to <diag> as FILE:LINE:
 * text. SRC is the chunk name Lua printed (possibly shortened with
 * "..."): when it is a suffix of the script path the path is used.
 */
static void diag_lua(struct stls_diag *diag, const char *path,
		     const char *msg)
{
	const char *p = msg, *colon;
	char src[PATH_MAX];
	char *end;
	long line;

	while ((colon = strchr(p, ':'))) {
		line = strtol(colon + 1, &end, 10);
		if (end != colon + 1 && *end == ':' && line > 0) {
			size_t n = (size_t)(colon - msg);
			size_t pl = strlen(path);
			const char *s = msg;

			if (n >= 3 && strncmp(s, "...", 3) == 0) {
				s += 3;
				n -= 3;
			}
			snprintf(src, sizeof(src), "%.*s", (int)n, s);
			if (n <= pl && strcmp(path + pl - n, src) == 0)
				snprintf(src, sizeof(src), "%s", path);
			end += strspn(end, ": ");
			stls_diag_err(diag, src, (int)line, "%s", end);
			return;
		}
		p = colon + 1;
	}
	stls_diag_err(diag, path, 0, "%s", msg);
}

static void report(struct stls_diag *diag, const char *path,
		   const char *msg)
{
	if (diag)
		diag_lua(diag, path, msg);
	else
		STLS_ERR("script: %s", msg);
}

/* Takes a reference to global function <name>; -EINVAL when absent. */
static int ref_callback(struct script_vm *vm, const char *key,
			const char *name, int *ref, struct stls_diag *diag)
{
	lua_State *L = vm->L;

	*ref = LUA_NOREF;
	if (!name || !*name)
		return 0;
	if (lua_getglobal(L, name) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		if (diag)
			stls_diag_err(diag, vm->conf->path, 0,
				      "%s: function %s is not defined by the "
				      "script",
				      key, name);
		else
			STLS_ERR("script: %s: function %s is not defined",
				 key, name);
		return -EINVAL;
	}
	/* luaL_ref may allocate: the registry table grows. */
	*ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return *ref == LUA_REFNIL ? -ENOMEM : 0;
}

static int vm_load(struct script_vm *vm, const char *text, size_t len,
		   struct stls_diag *diag)
{
	const struct stls_script_conf *c = vm->conf;
	lua_State *L = vm->L;
	char name[PATH_MAX + 1];
	int st;

	lua_pushcfunction(L, vm_open);
	if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
		report(diag, c->path, err_text(L));
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "@%s", c->path);
	st = luaL_loadbufferx(L, text, len, name, "t");
	if (st == LUA_OK) {
		vm->ctx = SCRIPT_CTX_LOAD;
		vm_budget(vm, c->instructions * SCRIPT_LOAD_FACTOR);
		st = lua_pcall(L, 0, 0, 0);
	}
	if (st != LUA_OK) {
		report(diag, c->path, err_text(L));
		lua_pop(L, 1);
		return st == LUA_ERRMEM ? -ENOMEM : -EINVAL;
	}
	if (ref_callback(vm, "request_callback", c->request_callback,
			 &vm->ref_request, diag) ||
	    ref_callback(vm, "event_callback", c->event_callback,
			 &vm->ref_event, diag))
		return -EINVAL;
	return 0;
}

static int vm_panic(lua_State *L)
{
	STLS_ERR("script: unprotected Lua error: %s", err_text(L));
	abort();
}

int stls__script_vm_new(const struct stls_script_conf *conf,
			const char *text, size_t len, uint64_t gen,
			struct stls_diag *diag, struct script_vm **out)
{
	struct script_vm *vm = calloc(1, sizeof(*vm));
	int err;

	if (!vm)
		return -ENOMEM;
	vm->conf = conf;
	vm->gen = gen;
	vm->mem_cap = conf->memory;
	vm->ref_request = vm->ref_event = LUA_NOREF;
	vm->L = lua_newstate(vm_alloc, vm);
	if (!vm->L) {
		free(vm);
		return -ENOMEM;
	}
	*(struct script_vm **)lua_getextraspace(vm->L) = vm;
	lua_atpanic(vm->L, vm_panic);
	err = vm_load(vm, text, len, diag);
	if (err) {
		stls__script_vm_free(vm);
		return err;
	}
	*out = vm;
	return 0;
}

void stls__script_vm_free(struct script_vm *vm)
{
	if (!vm)
		return;
	if (vm->L) {
		/* Finalizers run now: under a budget too. */
		vm->ctx = SCRIPT_CTX_LOAD;
		vm_budget(vm, vm->conf->instructions);
		lua_close(vm->L);
	}
	free(vm);
}

enum script_fail stls__script_vm_call(struct script_vm *vm, int ref,
				      const char *arg, const char *what)
{
	lua_State *L = vm->L;
	int top = lua_gettop(L), st;
	enum script_fail why;
	char line[1024] = "";

	vm_budget(vm, vm->conf->instructions);
	vm->mem_hit = false;
	/* No allocation outside the protected call: the argument is the
	 * interned event name kept in the registry. */
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	if (arg)
		lua_getfield(L, LUA_REGISTRYINDEX, EVNAME);
	st = lua_pcall(L, arg ? 1 : 0, 0, 0);
	if (st == LUA_ERRRUN && !vm->exhausted &&
	    lua_touserdata(L, -1) == &stls__script_exit_marker)
		st = LUA_OK; /* KSR.x.exit() */
	if (st == LUA_OK) {
		lua_settop(L, top);
		return SCRIPT_OK;
	}
	if (vm->exhausted)
		why = SCRIPT_FAIL_BUDGET;
	else if (st == LUA_ERRMEM)
		why = SCRIPT_FAIL_MEMORY;
	else
		why = SCRIPT_FAIL_ERROR;
	put_escaped(line, sizeof(line), err_text(L));
	if (why == SCRIPT_FAIL_MEMORY)
		STLS_ERR("script: %s: out of memory (script_memory %zu bytes, "
			 "%zu in use)", what, vm->mem_cap, vm->mem);
	else
		STLS_ERR("script: %s: %s", what, line);
	lua_settop(L, top);
	return why;
}

bool stls__script_vm_bloated(struct script_vm *vm)
{
	vm_budget(vm, vm->conf->instructions);
	lua_gc(vm->L, LUA_GCCOLLECT);
	return vm->mem > vm->mem_cap / 4 * 3;
}
