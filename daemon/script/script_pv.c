/*
 * KSR.pv: Kamailio pseudo-variables by name. The request hook reads the
 * request ($rm, $ru, $hdr(Name), From and To parts, ...), the addresses
 * ($si, $sp, $Ri, $Rp, $pr) and every TLS fact of the client connection
 * (each $tls_* name docs/facts.md lists, "[N]" indexes, and selects as
 * $sel(@tls...)); the connection-out event reads $sndto(ip|port|proto).
 * Both read and the request hook sets the seed's xavp_cfg attributes,
 * $xavp(<xavp_cfg>=>server_name) and ...=>server_id.
 *
 * A value that is absent (no such header, not TLS, no certificate, the
 * other hook's variable) is nil; a name siptlsd does not know raises an
 * error (a typo must not read as "absent" in a policy). Integer facts
 * and ports are Lua integers, as KEMI returns them.
 */
#include "script/script_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "stls/sip/uri.h"

#define FACT_BUF 16384

/* Fact names whose values are integers. */
static bool fact_is_int(const char *name)
{
	static const char *const ints[] = {
		"tls_cipher_bits", "tls_peer_version", "tls_my_version",
		"tls_peer_verified", "tls_peer_revoked", "tls_peer_expired",
		"tls_peer_selfsigned", "tls_resumed", NULL
	};
	int i;

	if (strstr(name, "_san_count("))
		return true;
	for (i = 0; ints[i]; i++) {
		if (strcmp(name, ints[i]) == 0)
			return true;
	}
	return false;
}

/* True when <name> (no '$', an optional "[N]" suffix) is a fact name. */
static bool fact_known(const char *name)
{
	size_t n = strcspn(name, "[");
	int i;

	for (i = 0; stls_facts_pv_names[i]; i++) {
		if (strlen(stls_facts_pv_names[i]) == n &&
		    strncmp(stls_facts_pv_names[i], name, n) == 0)
			return true;
	}
	return false;
}

static void push_text(lua_State *L, const char *p, size_t n, bool is_int)
{
	char num[32];
	char *end;
	long long v;

	if (is_int && n < sizeof(num)) {
		memcpy(num, p, n);
		num[n] = '\0';
		v = strtoll(num, &end, 10);
		if (n && !*end) {
			lua_pushinteger(L, (lua_Integer)v);
			return;
		}
	}
	lua_pushlstring(L, p, n);
}

/* Pushes fact <name> ("tls_..." or "@tls...") of <f> (NULL: absent). */
static int push_fact(lua_State *L, const struct stls_facts *f,
		     const char *name, bool sel)
{
	char buf[FACT_BUF], *big;
	ssize_t n;

	if (!sel && !fact_known(name))
		return luaL_error(L, "KSR.pv: unknown pseudo-variable $%s",
				  name);
	if (!f) {
		lua_pushnil(L);
		return 1;
	}
	n = stls_facts_get(f, name, 0, buf, sizeof(buf));
	if (n == -ENOBUFS) {
		big = lua_newuserdatauv(L, 4 * FACT_BUF, 0);
		n = stls_facts_get(f, name, 0, big, 4 * FACT_BUF);
		lua_pop(L, 1);
		if (n >= 0) {
			lua_pushlstring(L, big, (size_t)n);
			return 1;
		}
	}
	if (n == -EINVAL)
		return luaL_error(L, "KSR.pv: unknown %s %s",
				  sel ? "select" : "pseudo-variable $", name);
	if (n < 0)
		lua_pushnil(L);
	else
		push_text(L, buf, (size_t)n, !sel && fact_is_int(name));
	return 1;
}

static void push_slice(lua_State *L, struct stls_slice s)
{
	if (s.p && s.len)
		lua_pushlstring(L, s.p, s.len);
	else
		lua_pushnil(L);
}

static void push_addr(lua_State *L, const struct stls_addr *a, bool port)
{
	char buf[STLS_ADDR_STRLEN];

	if (!a)
		lua_pushnil(L);
	else if (port)
		lua_pushinteger(L, a->port);
	else
		lua_pushstring(L, stls_addr_str(a, false, buf));
}

/* $fu $fU $fd $ft $fn and the To ones: <what> is the letter after f/t. */
static int push_addr_part(lua_State *L, const struct stls_sip_msg *m,
			  enum stls_sip_hdr id, char what)
{
	const struct stls_sip_hdr_line *h = stls_sip_msg_find(m, id);
	struct stls_sip_addr a;
	struct stls_slice tag;

	if (!h || stls_sip_addr_parse(h->value, false, &a) != 0) {
		lua_pushnil(L);
		return 1;
	}
	switch (what) {
	case 'u':
		push_slice(L, a.uri_raw);
		break;
	case 'U':
		push_slice(L, a.uri.user);
		break;
	case 'd':
		push_slice(L, a.uri.host);
		break;
	case 'n':
		push_slice(L, a.display);
		break;
	default: /* 't' */
		if (stls_sip_param_find(a.params, "tag", &tag))
			push_slice(L, tag);
		else
			lua_pushnil(L);
	}
	return 1;
}

static int push_ruri_part(lua_State *L, const struct stls_sip_msg *m,
			  char what)
{
	struct stls_sip_uri u;

	if (what == 'u') {
		push_slice(L, m->ruri);
		return 1;
	}
	if (stls_sip_uri_parse(m->ruri, &u) != 0) {
		lua_pushnil(L);
		return 1;
	}
	if (what == 'U')
		push_slice(L, u.user);
	else if (what == 'd')
		push_slice(L, u.host);
	else if (what == 'z')
		push_slice(L, u.scheme);
	else if (u.has_port) /* 'p' */
		lua_pushinteger(L, u.port);
	else
		lua_pushnil(L);
	return 1;
}

/* $hdr(Name): the first value, folds made spaces. */
static int push_hdr(lua_State *L, const struct stls_sip_msg *m,
		    const char *name, size_t n)
{
	const struct stls_sip_hdr_line *h =
		m ? stls_sip_msg_find_name(m, stls_slice_make(name, n)) : NULL;
	luaL_Buffer b;
	size_t i;

	if (!h) {
		lua_pushnil(L);
		return 1;
	}
	luaL_buffinit(L, &b);
	for (i = 0; i < h->value.len; i++) {
		char c = h->value.p[i];

		if (c == '\r')
			continue;
		luaL_addchar(&b, c == '\n' ? ' ' : c);
	}
	luaL_pushresult(&b);
	return 1;
}

/*
 * "$xavp(<xavp_cfg>=>server_name)" / "...=>server_id": the attribute's
 * buffer in <vm> for the request hook, or NULL for another name. *ev_val
 * gets the event's value instead.
 */
static char *xavp_slot(struct script_vm *vm, const char *name,
		       const char **ev_val, bool *known)
{
	const char *x = vm->conf->xavp_cfg;
	size_t xn = x ? strlen(x) : 0;
	const char *attr;

	*known = false;
	*ev_val = NULL;
	if (strncmp(name, "$xavp(", 6) != 0 || !xn ||
	    strncmp(name + 6, x, xn) != 0 || strncmp(name + 6 + xn, "=>", 2))
		return NULL;
	attr = name + 8 + xn;
	if (strcmp(attr, "server_name)") == 0) {
		*known = true;
		*ev_val = vm->ev ? vm->ev->server_name : NULL;
		return vm->server_name;
	}
	if (strcmp(attr, "server_id)") == 0) {
		*known = true;
		*ev_val = vm->ev ? vm->ev->server_id : NULL;
		return vm->server_id;
	}
	return NULL;
}

static int get_event(lua_State *L, struct script_vm *vm, const char *name)
{
	const struct stls_script_out_ev *ev = vm->ev;

	if (strcmp(name, "$sndto(ip)") == 0)
		push_addr(L, ev->dst, false);
	else if (strcmp(name, "$sndto(port)") == 0)
		push_addr(L, ev->dst, true);
	else if (strcmp(name, "$sndto(proto)") == 0)
		lua_pushliteral(L, "tls");
	else
		return 0;
	return 1;
}

static int get_request(lua_State *L, const struct stls_script_req *r,
		       const char *name)
{
	const struct stls_sip_msg *m = r->msg;

	if (name[1] == 'r' && name[2] && !name[3] && strchr("mu", name[2])) {
		if (name[2] == 'm')
			push_slice(L, m->method);
		else
			push_ruri_part(L, m, 'u');
	} else if (name[1] == 'r' && name[2] && !name[3] &&
		   strchr("Udpz", name[2])) {
		push_ruri_part(L, m, name[2]);
	} else if ((name[1] == 'f' || name[1] == 't') && name[2] && !name[3] &&
		   strchr("uUdtn", name[2])) {
		push_addr_part(L, m,
			       name[1] == 'f' ? STLS_SIP_HDR_FROM
					      : STLS_SIP_HDR_TO,
			       name[2]);
	} else if (strcmp(name, "$ci") == 0) {
		push_hdr(L, m, "Call-ID", 7);
	} else if (strcmp(name, "$cs") == 0) {
		lua_pushinteger(L, m->cseq_num);
	} else if (strcmp(name, "$ua") == 0) {
		push_hdr(L, m, "User-Agent", 10);
	} else if (strcmp(name, "$si") == 0 || strcmp(name, "$sp") == 0) {
		push_addr(L, r->src, name[2] == 'p');
	} else if (strcmp(name, "$Ri") == 0 || strcmp(name, "$Rp") == 0) {
		push_addr(L, r->local, name[2] == 'p');
	} else if (strcmp(name, "$pr") == 0 || strcmp(name, "$proto") == 0) {
		lua_pushstring(L, r->proto);
	} else {
		return 0;
	}
	return 1;
}

/* True for the request variables get_request() answers. */
static bool is_request_pv(const char *name)
{
	static const char *const names[] = {
		"$rm", "$ru", "$rU", "$rd", "$rp", "$rz", "$fu", "$fU",
		"$fd", "$ft", "$fn", "$tu", "$tU", "$td", "$tt", "$tn",
		"$ci", "$cs", "$ua", "$si", "$sp", "$Ri", "$Rp", "$pr",
		"$proto", NULL
	};
	int i;

	for (i = 0; names[i]; i++) {
		if (strcmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

static int pv_get(lua_State *L, const char *name)
{
	struct script_vm *vm = script_vm_of(L);
	const struct stls_script_req *r =
		vm->ctx == SCRIPT_CTX_REQUEST ? vm->req : NULL;
	size_t n = strlen(name);
	const char *ev_val;
	char *slot;
	bool known;

	if (strncmp(name, "$tls", 4) == 0)
		return push_fact(L, r ? r->facts : NULL, name + 1, false);
	if (strncmp(name, "$sel(@tls", 9) == 0 && name[n - 1] == ')') {
		char sel[256];

		snprintf(sel, sizeof(sel), "%.*s", (int)(n - 6), name + 5);
		return push_fact(L, r ? r->facts : NULL, sel, true);
	}
	if (strncmp(name, "$hdr(", 5) == 0 && name[n - 1] == ')' && n > 6)
		return push_hdr(L, r ? r->msg : NULL, name + 5, n - 6);
	slot = xavp_slot(vm, name, &ev_val, &known);
	if (known) {
		const char *v = vm->ctx == SCRIPT_CTX_EVENT ? ev_val : slot;

		if (v && *v)
			lua_pushstring(L, v);
		else
			lua_pushnil(L);
		return 1;
	}
	if (vm->ctx == SCRIPT_CTX_EVENT && get_event(L, vm, name))
		return 1;
	if (r && get_request(L, r, name))
		return 1;
	if (is_request_pv(name) || strncmp(name, "$sndto(", 7) == 0) {
		if (strncmp(name, "$sndto(", 7) == 0 &&
		    strcmp(name, "$sndto(ip)") && strcmp(name, "$sndto(port)") &&
		    strcmp(name, "$sndto(proto)"))
			return luaL_error(L, "KSR.pv: unknown pseudo-variable "
					  "%s", name);
		lua_pushnil(L); /* the other hook's variable */
		return 1;
	}
	return luaL_error(L, "KSR.pv: unknown pseudo-variable %s", name);
}

/* KSR.pv.get(name): the value (string or integer), or nil. */
static int l_get(lua_State *L)
{
	return pv_get(L, luaL_checkstring(L, 1));
}

/* KSR.pv.gete(name): as get, "" instead of nil. */
static int l_gete(lua_State *L)
{
	pv_get(L, luaL_checkstring(L, 1));
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushliteral(L, "");
	}
	return 1;
}

/* KSR.pv.is_null(name): true when get would give nil. */
static int l_is_null(lua_State *L)
{
	pv_get(L, luaL_checkstring(L, 1));
	lua_pushboolean(L, lua_isnil(L, -1));
	return 1;
}

/*
 * KSR.pv.sets(name, value): sets $xavp(<xavp_cfg>=>server_name) or
 * ...=>server_id for this request (1..255 visible ASCII bytes). Returns
 * 1, or -1 outside the request hook or for a bad value. Any other name,
 * or no [tls] xavp_cfg, raises an error.
 */
static int l_sets(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);
	const char *name = luaL_checkstring(L, 1), *ev_val;
	size_t n;
	const char *v = luaL_checklstring(L, 2, &n);
	bool known;
	char *slot = xavp_slot(vm, name, &ev_val, &known);

	if (!known)
		return luaL_error(L, "KSR.pv.sets: %s cannot be set (only "
				  "$xavp(%s=>server_name) and ...=>server_id"
				  ", with [tls] xavp_cfg)",
				  name, vm->conf->xavp_cfg ? vm->conf->xavp_cfg
							   : "<xavp_cfg>");
	if (vm->ctx != SCRIPT_CTX_REQUEST || !stls__script_xavp_ok(v, n)) {
		lua_pushinteger(L, -1);
		return 1;
	}
	memcpy(slot, v, n);
	slot[n] = '\0';
	lua_pushinteger(L, 1);
	return 1;
}

static const luaL_Reg pv_fns[] = {
	{ "get", l_get },
	{ "gete", l_gete },
	{ "is_null", l_is_null },
	{ "sets", l_sets },
	{ NULL, NULL },
};

void stls__script_pv_open(lua_State *L)
{
	luaL_setfuncs(L, pv_fns, 0);
}
