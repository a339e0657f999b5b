/*
 * KSR.hdr: reading the request's headers and asking for headers to be
 * appended or removed, and the checks on everything a script hands back
 * to the relay (appended lines, reply reasons, server_name/server_id).
 *
 * What a script hands back is untrusted input to the relay: it is often
 * made from what the client sent. Appended lines are checked and
 * normalised here (fuzz/fuzz_script_edits.c); the relay writes them after
 * its own headers and removes the named ones while it rewrites the
 * request (relay/sip_rewrite.c). Headers the relay owns (Via, From, To,
 * Call-ID, CSeq, Max-Forwards, Content-Length, Route, Record-Route,
 * Path) can be neither added nor removed: the relay's routing and
 * framing depend on them.
 *
 * As in Kamailio, the edits apply when the request leaves: KSR.hdr.get
 * still sees the request as it arrived.
 */
#include "script/script_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "stls/log.h"
#include "stls/utf8.h"

static bool is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-.!%*_+`'~", c) != NULL;
}

static bool is_token(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > SCRIPT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_token_char((unsigned char)p[i]))
			return false;
	}
	return true;
}

static bool relay_owned(const char *p, size_t n)
{
	switch (stls_sip_hdr_id(stls_slice_make(p, n))) {
	case STLS_SIP_HDR_VIA:
	case STLS_SIP_HDR_FROM:
	case STLS_SIP_HDR_TO:
	case STLS_SIP_HDR_CALL_ID:
	case STLS_SIP_HDR_CSEQ:
	case STLS_SIP_HDR_MAX_FORWARDS:
	case STLS_SIP_HDR_CONTENT_LENGTH:
	case STLS_SIP_HDR_ROUTE:
	case STLS_SIP_HDR_RECORD_ROUTE:
	case STLS_SIP_HDR_PATH:
		return true;
	default:
		return false;
	}
}

bool stls__script_hdr_removable(const char *name, size_t n)
{
	return is_token(name, n) && !relay_owned(name, n);
}

int stls__script_hdr_put(const char *p, size_t n, char *out, size_t *len,
			 size_t cap, const char **why)
{
	const char *colon, *v;
	size_t name_len, vlen, i, need;

	if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
		n -= 2;
	colon = memchr(p, ':', n);
	if (!colon) {
		*why = "no ':' after the header name";
		return -EINVAL;
	}
	name_len = (size_t)(colon - p);
	while (name_len && (p[name_len - 1] == ' ' || p[name_len - 1] == '\t'))
		name_len--;
	if (!is_token(p, name_len)) {
		*why = "the header name is not a token of 1-64 characters";
		return -EINVAL;
	}
	if (relay_owned(p, name_len)) {
		*why = "the relay owns that header";
		return -EINVAL;
	}
	v = colon + 1;
	vlen = n - (size_t)(v - p);
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "control byte (CR, LF, NUL, ...) in the value";
			return -EINVAL;
		}
	}
	need = name_len + 2 + vlen + 2;
	if (need > cap - *len) {
		*why = "too many appended headers";
		return -ENOBUFS;
	}
	memcpy(out + *len, p, name_len);
	memcpy(out + *len + name_len, ": ", 2);
	memcpy(out + *len + name_len + 2, v, vlen);
	memcpy(out + *len + name_len + 2 + vlen, "\r\n", 2);
	*len += need;
	return 0;
}

bool stls__script_reason_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > STLS_SCRIPT_REASON_MAX || !stls_utf8_valid(p, n))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

bool stls__script_xavp_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > STLS_SCRIPT_XAVP_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return false;
	}
	return true;
}

static const struct stls_sip_msg *msg_of(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);

	return vm->ctx == SCRIPT_CTX_REQUEST ? vm->req->msg : NULL;
}

/* Pushes a header value with its line folds made single spaces. */
static void push_value(lua_State *L, struct stls_slice v)
{
	luaL_Buffer b;
	size_t i;

	luaL_buffinit(L, &b);
	for (i = 0; i < v.len; i++) {
		if (v.p[i] == '\r' || v.p[i] == '\n') {
			if (v.p[i] == '\n')
				luaL_addchar(&b, ' ');
			continue;
		}
		if ((v.p[i] == ' ' || v.p[i] == '\t') && i &&
		    v.p[i - 1] == '\n')
			continue;
		luaL_addchar(&b, v.p[i]);
	}
	luaL_pushresult(&b);
}

static const struct stls_sip_hdr_line *find(lua_State *L, int arg)
{
	const struct stls_sip_msg *m = msg_of(L);
	size_t n;
	const char *name = luaL_checklstring(L, arg, &n);

	return m ? stls_sip_msg_find_name(m, stls_slice_make(name, n)) : NULL;
}

/* KSR.hdr.get(name): the first value of header <name> (compact forms
 * match), or nil. */
static int l_get(lua_State *L)
{
	const struct stls_sip_hdr_line *h = find(L, 1);

	if (h)
		push_value(L, h->value);
	else
		lua_pushnil(L);
	return 1;
}

/* KSR.hdr.get_idx(name, idx): the value of line idx (0 first, -1 last)
 * of header <name>, or nil. */
static int l_get_idx(lua_State *L)
{
	const struct stls_sip_msg *m = msg_of(L);
	const struct stls_sip_hdr_line *h = find(L, 1), *all[STLS_SIP_MAX_HEADERS];
	lua_Integer idx = luaL_checkinteger(L, 2);
	lua_Integer n = 0;

	for (; h && n < STLS_SIP_MAX_HEADERS; h = stls_sip_msg_next(m, h))
		all[n++] = h;
	if (idx < 0)
		idx += n;
	if (idx < 0 || idx >= n)
		lua_pushnil(L);
	else
		push_value(L, all[idx]->value);
	return 1;
}

/* KSR.hdr.is_present(name): 1 or -1. */
static int l_is_present(lua_State *L)
{
	lua_pushinteger(L, find(L, 1) ? 1 : -1);
	return 1;
}

/*
 * KSR.hdr.append(text): appends the header line <text> ("Name: value",
 * "\r\n" optional) to the request when it is relayed. Returns 1, or -1
 * (refused: logged at warn with the reason) outside the request hook,
 * for a header the relay owns, a bad name, a control byte in the value,
 * or more than STLS_SCRIPT_HDRS_MAX bytes in all.
 */
static int l_append(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);
	size_t n;
	const char *p = luaL_checklstring(L, 1, &n), *why = "not in a request";
	int err = -EINVAL;

	if (vm->ctx == SCRIPT_CTX_REQUEST)
		err = stls__script_hdr_put(p, n, vm->hdrs, &vm->hdrs_len,
					   sizeof(vm->hdrs), &why);
	if (err) {
		lua_Debug ar;
		int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar)
				   ? ar.currentline
				   : 0;

		STLS_WARN("script: line %d: KSR.hdr.append refused: %s", line,
			  why);
	}
	lua_pushinteger(L, err ? -1 : 1);
	return 1;
}

/*
 * KSR.hdr.remove(name): removes every line of header <name> (compact
 * forms too) when the request is relayed. Returns 1, or -1 when the
 * header is absent, owned by the relay, outside the request hook, or
 * more than STLS_SCRIPT_REMOVE_MAX names were given.
 */
static int l_remove(lua_State *L)
{
	struct script_vm *vm = script_vm_of(L);
	size_t n;
	const char *name = luaL_checklstring(L, 1, &n);
	char *slot;

	if (vm->ctx != SCRIPT_CTX_REQUEST || !find(L, 1) ||
	    !stls__script_hdr_removable(name, n) ||
	    vm->n_remove == STLS_SCRIPT_REMOVE_MAX) {
		lua_pushinteger(L, -1);
		return 1;
	}
	slot = vm->remove_buf[vm->n_remove];
	memcpy(slot, name, n);
	slot[n] = '\0';
	vm->remove[vm->n_remove++] = slot;
	lua_pushinteger(L, 1);
	return 1;
}

static const luaL_Reg hdr_fns[] = {
	{ "get", l_get },
	{ "get_idx", l_get_idx },
	{ "is_present", l_is_present },
	{ "append", l_append },
	{ "remove", l_remove },
	{ NULL, NULL },
};

void stls__script_hdr_open(lua_State *L)
{
	luaL_setfuncs(L, hdr_fns, 0);
}
