/*
 * The global KSR table: KEMI-style names, so that a Kamailio operator can
 * carry a snippet across (docs/scripting.md has the exact behaviour of
 * each function). This file: logging, KSR.drop, KSR.x, KSR.sl, KSR.tls
 * and KSR.is_method; KSR.pv is script_pv.c, KSR.hdr script_hdr.c.
 *
 * Return values follow KEMI: functions that act return 1 on success and
 * -1 when they cannot (wrong hook, refused argument); getters return a
 * string or nil. Arguments of the wrong type raise a Lua error (a bug in
 * the script: logged with its line, counted, 500).
 */
#include "script/script_int.h"

#include <errno.h>
#include <string.h>

#include <lauxlib.h>

#include "stls/log.h"

void stls__script_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = strlen(out), i;

	for (i = 0; i < n && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

static int log_at(lua_State *L, int level, int arg)
{
	char text[1024];
	size_t n;
	const char *s = luaL_checklstring(L, arg, &n);

	if (!stls_log_enabled(level))
		return 0;
	/* Kamailio's messages end in "\n": not ours. */
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	text[0] = '\0';
	stls__script_escape(text, sizeof(text), s, n);
	stls_log(level, "script: %s", text);
	return 0;
}

static int l_dbg(lua_State *L)
{
	return log_at(L, STLS_L_DBG, 1);
}

static int l_info(lua_State *L)
{
	return log_at(L, STLS_L_INFO, 1);
}

static int l_notice(lua_State *L)
{
	return log_at(L, STLS_L_NOTICE, 1);
}

static int l_warn(lua_State *L)
{
	return log_at(L, STLS_L_WARN, 1);
}

static int l_err(lua_State *L)
{
	return log_at(L, STLS_L_ERR, 1);
}

static int l_crit(lua_State *L)
{
	return log_at(L, STLS_L_CRIT, 1);
}

/* KSR.log(level, msg): level "dbg", "info", "notice", "warn", "err",
 * "crit". */
static int l_log(lua_State *L)
{
	static const char *const names[] = { "dbg", "info", "notice", "warn",
					     "err", "crit", NULL };
	static const int levels[] = { STLS_L_DBG, STLS_L_INFO, STLS_L_NOTICE,
				      STLS_L_WARN, STLS_L_ERR, STLS_L_CRIT };

	return log_at(L, levels[luaL_checkoption(L, 1, NULL, names)], 2);
}

/*
 * KSR.drop(): request hook: the request is discarded without a reply;
 * connection-out: the connection is refused. The script goes on (return
 * to end it). Returns 1, or -1 while loading.
 */
static int l_drop(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);

	if (vm->ctx == SCRIPT_CTX_LOAD) {
		lua_pushinteger(L, -1);
		return 1;
	}
	vm->action = STLS_SCRIPT_DROP;
	lua_pushinteger(L, 1);
	return 1;
}

const char stls__script_exit_marker = 'x';

/* KSR.x.exit(): ends the hook here, keeping what it decided so far (an
 * error whose object is the exit marker: the protected call treats it as
 * a normal return). */
static int l_exit(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&stls__script_exit_marker);
	return lua_error(L);
}

/* KSR.x.drop(): KSR.drop() then KSR.x.exit(). */
static int l_xdrop(lua_State *L)
{
	l_drop(L);
	lua_pop(L, 1);
	return l_exit(L);
}

/*
 * KSR.sl.send_reply(code, reason): answers the request statelessly with
 * <code> (100-699) and <reason> (1-128 bytes, no control bytes; "" or
 * nil: the standard phrase); the request is not relayed. Returns 1, or
 * -1 outside the request hook, for an ACK (never answered), a second
 * reply, a bad code or reason.
 */
static int l_send_reply(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);
	lua_Integer code = luaL_checkinteger(L, 1);
	size_t n = 0;
	const char *reason = luaL_optlstring(L, 2, "", &n);

	if (vm->ctx != SCRIPT_CTX_REQUEST || vm->action != STLS_SCRIPT_PASS ||
	    vm->req->msg->method_id == STLS_SIP_M_ACK || code < 100 ||
	    code > 699 || (n && !stls__script_reason_ok(reason, n))) {
		lua_pushinteger(L, -1);
		return 1;
	}
	vm->action = STLS_SCRIPT_REPLY;
	vm->code = (unsigned)code;
	vm->has_reason = n > 0;
	memcpy(vm->reason, reason, n);
	vm->reason[n] = '\0';
	lua_pushinteger(L, 1);
	return 1;
}

static const struct stls_facts *facts_of(struct script_vm *vm)
{
	return vm->ctx == SCRIPT_CTX_REQUEST ? vm->req->facts : NULL;
}

/*
 * KSR.tls.is_peer_verified(): 1 when the request came over TLS, the
 * client presented a certificate and it verified; else -1 (the seed's
 * is_peer_verified()).
 */
static int l_is_peer_verified(lua_State *L)
{
	const struct stls_facts *f = facts_of(script_vm_of(L));

	lua_pushinteger(L, f && stls_facts_is_peer_verified(f) ? 1 : -1);
	return 1;
}

/*
 * KSR.tls.cget(name): a select of the client connection, written with or
 * without "@tls." ("peer.subject.cn", "@tls.peer.host[1]"). A string,
 * or nil when absent or not TLS. An unknown name raises an error.
 */
static int l_cget(lua_State *L)
{
	const struct stls_facts *f = facts_of(script_vm_of(L));
	const char *name = luaL_checkstring(L, 1);
	char sel[256], buf[8192];
	ssize_t n;

	if (strncmp(name, "@tls", 4) == 0)
		snprintf(sel, sizeof(sel), "%s", name);
	else
		snprintf(sel, sizeof(sel), "@tls.%s", name);
	if (!f) {
		lua_pushnil(L);
		return 1;
	}
	n = stls_facts_get(f, sel, 0, buf, sizeof(buf));
	if (n == -EINVAL)
		return luaL_error(L, "KSR.tls.cget: unknown select %s", sel);
	if (n < 0)
		lua_pushnil(L);
	else
		lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

/* KSR.is_method(name): true when the request's method is <name>
 * (case-sensitive, as RFC 3261); false otherwise and outside it. */
static int l_is_method(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);
	size_t n;
	const char *m = luaL_checklstring(L, 1, &n);

	lua_pushboolean(L, vm->ctx == SCRIPT_CTX_REQUEST &&
				   stls_slice_eq(vm->req->msg->method,
						 stls_slice_make(m, n)));
	return 1;
}

static const luaL_Reg ksr_fns[] = {
	{ "dbg", l_dbg },       { "info", l_info },
	{ "notice", l_notice }, { "warn", l_warn },
	{ "err", l_err },       { "crit", l_crit },
	{ "log", l_log },       { "drop", l_drop },
	{ "is_method", l_is_method },
	{ NULL, NULL },
};

static const luaL_Reg x_fns[] = {
	{ "exit", l_exit },
	{ "drop", l_xdrop },
	{ NULL, NULL },
};

static const luaL_Reg sl_fns[] = {
	{ "send_reply", l_send_reply },
	{ "sl_send_reply", l_send_reply },
	{ NULL, NULL },
};

static const luaL_Reg tls_fns[] = {
	{ "is_peer_verified", l_is_peer_verified },
	{ "cget", l_cget },
	{ NULL, NULL },
};

static void sub(lua_State *L, const char *name, const luaL_Reg *fns)
{
	lua_newtable(L);
	luaL_setfuncs(L, fns, 0);
	lua_setfield(L, -2, name);
}

int stls__script_ksr_open(lua_State *L)
{
	lua_newtable(L);
	luaL_setfuncs(L, ksr_fns, 0);
	sub(L, "x", x_fns);
	sub(L, "sl", sl_fns);
	sub(L, "tls", tls_fns);
	lua_newtable(L);
	stls__script_pv_open(L);
	lua_setfield(L, -2, "pv");
	lua_newtable(L);
	stls__script_hdr_open(L);
	lua_setfield(L, -2, "hdr");
	lua_setglobal(L, "KSR");
	return 0;
}
