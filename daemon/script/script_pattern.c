/*
 * string.find, string.match, string.gmatch and string.gsub with Lua 5.4
 * pattern semantics (the reference manual, section 6.4.1), written for
 * siptls so that matching is charged to the hook's instruction budget.
 *
 * Why: Lua's own matcher runs in C, where the count hook never fires, and
 * a backtracking pattern such as ("a"):rep(40):find(("a-"):rep(20).."b")
 * runs for hours. Here every step of the matcher (a call of match(), one
 * character of an expansion or of %b) counts; once the call's budget is
 * spent the match stops with the budget error, like a Lua loop would.
 *
 * Patterns: single-character classes (., %a %c %d %g %l %p %s %u %w %x %z
 * and their complements, %<punct>, [set] with ranges, classes and ^),
 * items with * + - ?, %1-%9 back-references, %bxy, %f[set], anchors ^ and
 * $, captures and position captures (at most 32), recursion depth 200.
 * Error messages are Lua's.
 */
#include "script/script_int.h"

#include <ctype.h>
#include <string.h>

#include <lauxlib.h>

#define MAXCAP 32
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define MAX_DEPTH 200
/* Steps between two charges to the budget. */
#define CHARGE_EVERY 256
#define SPECIALS "^$*+?.([%-"

struct mstate {
	const char *src_init, *src_end, *p_end;
	lua_State *L;
	long steps;
	int depth;
	int level;
	struct {
		const char *init;
		ptrdiff_t len;
	} cap[MAXCAP];
};

static void step(struct mstate *ms)
{
	if (++ms->steps >= CHARGE_EVERY) {
		script_charge(ms->L, ms->steps);
		ms->steps = 0;
	}
}

static void flush_steps(struct mstate *ms)
{
	if (ms->steps) {
		script_charge(ms->L, ms->steps);
		ms->steps = 0;
	}
}

static const char *class_end(struct mstate *ms, const char *p)
{
	const char *end = ms->p_end;
	char c = *p++;

	if (c == '%') {
		if (p >= end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	}
	if (c != '[')
		return p;
	if (p < end && *p == '^')
		p++;
	/* The first character of a set may be ']' itself. */
	do {
		if (p >= end)
			luaL_error(ms->L, "malformed pattern (missing ']')");
		c = *p++;
		if (c == '%') {
			if (p >= end)
				luaL_error(ms->L,
					   "malformed pattern (missing ']')");
			p++;
		}
	} while (p >= end || *p != ']');
	return p + 1;
}

static bool match_class(int c, int cl)
{
	bool r;

	switch (tolower(cl)) {
	case 'a':
		r = isalpha(c);
		break;
	case 'c':
		r = iscntrl(c);
		break;
	case 'd':
		r = isdigit(c);
		break;
	case 'g':
		r = isgraph(c);
		break;
	case 'l':
		r = islower(c);
		break;
	case 'p':
		r = ispunct(c);
		break;
	case 's':
		r = isspace(c);
		break;
	case 'u':
		r = isupper(c);
		break;
	case 'w':
		r = isalnum(c);
		break;
	case 'x':
		r = isxdigit(c);
		break;
	case 'z': /* deprecated, still in Lua 5.4: the NUL byte */
		r = c == 0;
		break;
	default:
		return cl == c;
	}
	return isupper(cl) ? !r : r;
}

/* <p> is the '[' of a set, <ec> its closing ']'. */
static bool match_set(int c, const char *p, const char *ec)
{
	bool neg = false;

	p++;
	if (*p == '^') {
		neg = true;
		p++;
	}
	while (p < ec) {
		if (*p == '%') {
			p++;
			if (match_class(c, (unsigned char)*p))
				return !neg;
			p++;
		} else if (p + 2 < ec && p[1] == '-') {
			if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
				return !neg;
			p += 3;
		} else {
			if ((unsigned char)*p == c)
				return !neg;
			p++;
		}
	}
	return neg;
}

static bool single_match(struct mstate *ms, const char *s, const char *p,
			 const char *ep)
{
	int c;

	if (s >= ms->src_end)
		return false;
	c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return true;
	case '%':
		return match_class(c, (unsigned char)p[1]);
	case '[':
		return match_set(c, p, ep - 1);
	default:
		return (unsigned char)*p == c;
	}
}

static const char *do_match(struct mstate *ms, const char *s,
			    const char *p);

static const char *match_balance(struct mstate *ms, const char *s,
				 const char *p)
{
	int cont = 1;
	char b, e;

	if (p + 1 >= ms->p_end)
		luaL_error(ms->L,
			   "malformed pattern (missing arguments to '%%b')");
	if (s >= ms->src_end || *s != *p)
		return NULL;
	b = p[0];
	e = p[1];
	while (++s < ms->src_end) {
		step(ms);
		if (*s == e) {
			if (--cont == 0)
				return s + 1;
		} else if (*s == b) {
			cont++;
		}
	}
	return NULL;
}

static const char *max_expand(struct mstate *ms, const char *s,
			      const char *p, const char *ep)
{
	ptrdiff_t i = 0;
	const char *r;

	while (single_match(ms, s + i, p, ep)) {
		step(ms);
		i++;
	}
	for (; i >= 0; i--) {
		step(ms);
		r = do_match(ms, s + i, ep + 1);
		if (r)
			return r;
	}
	return NULL;
}

static const char *min_expand(struct mstate *ms, const char *s,
			      const char *p, const char *ep)
{
	const char *r;

	for (;;) {
		step(ms);
		r = do_match(ms, s, ep + 1);
		if (r)
			return r;
		if (!single_match(ms, s, p, ep))
			return NULL;
		s++;
	}
}

static const char *start_capture(struct mstate *ms, const char *s,
				 const char *p, ptrdiff_t what)
{
	const char *r;

	if (ms->level >= MAXCAP)
		luaL_error(ms->L, "too many captures");
	ms->cap[ms->level].init = s;
	ms->cap[ms->level].len = what;
	ms->level++;
	r = do_match(ms, s, p);
	if (!r)
		ms->level--;
	return r;
}

static const char *end_capture(struct mstate *ms, const char *s,
			       const char *p)
{
	int l;
	const char *r;

	for (l = ms->level - 1; l >= 0; l--) {
		if (ms->cap[l].len == CAP_UNFINISHED)
			break;
	}
	if (l < 0)
		luaL_error(ms->L, "invalid pattern capture");
	ms->cap[l].len = s - ms->cap[l].init;
	r = do_match(ms, s, p);
	if (!r)
		ms->cap[l].len = CAP_UNFINISHED;
	return r;
}

static const char *match_capture(struct mstate *ms, const char *s, int d)
{
	int l = d - '1';
	size_t len;

	if (l < 0 || l >= ms->level || ms->cap[l].len == CAP_UNFINISHED)
		luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	if (ms->cap[l].len < 0)
		return NULL; /* a position capture never matches text */
	len = (size_t)ms->cap[l].len;
	if ((size_t)(ms->src_end - s) >= len &&
	    memcmp(ms->cap[l].init, s, len) == 0)
		return s + len;
	return NULL;
}

/* %f[set] at p (after "%f"): true when the frontier is at s. */
static const char *frontier(struct mstate *ms, const char *s,
			    const char *p, const char **next)
{
	const char *ep;
	int prev, cur;

	if (p >= ms->p_end || *p != '[')
		luaL_error(ms->L, "missing '[' after '%%f' in pattern");
	ep = class_end(ms, p);
	prev = s == ms->src_init ? 0 : (unsigned char)s[-1];
	cur = s < ms->src_end ? (unsigned char)*s : 0;
	*next = ep;
	if (!match_set(prev, p, ep - 1) && match_set(cur, p, ep - 1))
		return s;
	return NULL;
}

/* One item that is not a capture or an anchor, and what follows it. */
static const char *item(struct mstate *ms, const char *s, const char **pp,
			bool *go_on)
{
	const char *p = *pp, *ep = class_end(ms, p), *r;
	char q = ep < ms->p_end ? *ep : '\0';

	*go_on = false;
	if (!single_match(ms, s, p, ep)) {
		if (q == '*' || q == '?' || q == '-') {
			*pp = ep + 1; /* zero repetitions */
			*go_on = true;
			return s;
		}
		return NULL;
	}
	switch (q) {
	case '?':
		r = do_match(ms, s + 1, ep + 1);
		if (r)
			return r;
		*pp = ep + 1;
		*go_on = true;
		return s;
	case '+':
		return max_expand(ms, s + 1, p, ep);
	case '*':
		return max_expand(ms, s, p, ep);
	case '-':
		return min_expand(ms, s, p, ep);
	default:
		*pp = ep;
		*go_on = true;
		return s + 1;
	}
}

static const char *do_match(struct mstate *ms, const char *s,
			    const char *p)
{
	const char *next;
	bool go_on;

	if (++ms->depth > MAX_DEPTH)
		luaL_error(ms->L, "pattern too complex");
	while (s && p != ms->p_end) {
		step(ms);
		if (*p == '(') {
			if (p + 1 < ms->p_end && p[1] == ')')
				s = start_capture(ms, s, p + 2, CAP_POSITION);
			else
				s = start_capture(ms, s, p + 1,
						  CAP_UNFINISHED);
			break;
		}
		if (*p == ')') {
			s = end_capture(ms, s, p + 1);
			break;
		}
		if (*p == '$' && p + 1 == ms->p_end) {
			s = s == ms->src_end ? s : NULL;
			break;
		}
		if (*p == '%' && p + 1 < ms->p_end && p[1] == 'b') {
			s = match_balance(ms, s, p + 2);
			p += 4;
			continue;
		}
		if (*p == '%' && p + 1 < ms->p_end && p[1] == 'f') {
			s = frontier(ms, s, p + 2, &next);
			p = next;
			continue;
		}
		if (*p == '%' && p + 1 < ms->p_end && isdigit((unsigned char)p[1])) {
			s = match_capture(ms, s, p[1]);
			p += 2;
			continue;
		}
		s = item(ms, s, &p, &go_on);
		if (!go_on)
			break;
	}
	ms->depth--;
	return s;
}

static void prep(struct mstate *ms, lua_State *L, const char *s, size_t ls,
		 const char *p, size_t lp)
{
	memset(ms, 0, sizeof(*ms));
	ms->L = L;
	ms->src_init = s;
	ms->src_end = s + ls;
	ms->p_end = p + lp;
}

static void push_one(struct mstate *ms, int i, const char *s, const char *e)
{
	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(ms->L, s, (size_t)(e - s));
		return;
	}
	if (ms->cap[i].len == CAP_UNFINISHED)
		luaL_error(ms->L, "unfinished capture");
	if (ms->cap[i].len == CAP_POSITION)
		lua_pushinteger(ms->L, ms->cap[i].init - ms->src_init + 1);
	else
		lua_pushlstring(ms->L, ms->cap[i].init,
				(size_t)ms->cap[i].len);
}

/* Pushes the captures (the whole match when there are none and s is
 * set). Returns their count. */
static int push_captures(struct mstate *ms, const char *s, const char *e)
{
	int n = (ms->level == 0 && s) ? 1 : ms->level, i;

	luaL_checkstack(ms->L, n, "too many captures");
	for (i = 0; i < n; i++)
		push_one(ms, i, s, e);
	return n;
}

/* Lua 5.4's posrelatI: a 1-based start position clipped to [1, len+1]. */
static size_t start_pos(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

static bool no_specials(const char *p, size_t lp)
{
	size_t i;

	for (i = 0; i < lp; i++) {
		if (strchr(SPECIALS, p[i]) && p[i])
			return false;
	}
	return true;
}

static int find_aux(lua_State *L, bool find)
{
	size_t ls, lp, init;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp), *s1, *e;
	struct mstate ms;
	bool anchor;
	int n;

	init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
		const char *hit = memmem(s + init, ls - init, p, lp);

		script_charge(L, (long)((ls - init) / 64) + 1);
		if (!hit) {
			luaL_pushfail(L);
			return 1;
		}
		lua_pushinteger(L, hit - s + 1);
		lua_pushinteger(L, (lua_Integer)(hit - s + lp));
		return 2;
	}
	anchor = lp && *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	prep(&ms, L, s, ls, p, lp);
	s1 = s + init;
	do {
		ms.level = 0;
		ms.depth = 0;
		e = do_match(&ms, s1, p);
		if (e) {
			flush_steps(&ms);
			if (!find)
				return push_captures(&ms, s1, e);
			lua_pushinteger(L, s1 - s + 1);
			lua_pushinteger(L, e - s);
			n = push_captures(&ms, NULL, NULL);
			return n + 2;
		}
	} while (s1++ < ms.src_end && !anchor);
	flush_steps(&ms);
	luaL_pushfail(L);
	return 1;
}

static int l_find(lua_State *L)
{
	return find_aux(L, true);
}

static int l_match(lua_State *L)
{
	return find_aux(L, false);
}

/* gmatch's state, a full userdata kept as the iterator's upvalue 3
 * (upvalues 1 and 2 keep the subject and the pattern alive). */
struct gmatch {
	const char *src, *p, *lastmatch;
	struct mstate ms;
};

static int gmatch_aux(lua_State *L)
{
	struct gmatch *gm = lua_touserdata(L, lua_upvalueindex(3));
	const char *src, *e;

	gm->ms.L = L; /* the iterator may run in another coroutine */
	for (src = gm->src; src <= gm->ms.src_end; src++) {
		gm->ms.level = 0;
		gm->ms.depth = 0;
		e = do_match(&gm->ms, src, gm->p);
		if (e && e != gm->lastmatch) {
			gm->src = gm->lastmatch = e;
			flush_steps(&gm->ms);
			return push_captures(&gm->ms, src, e);
		}
	}
	flush_steps(&gm->ms);
	return 0;
}

static int l_gmatch(lua_State *L)
{
	size_t ls, lp, init;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	struct gmatch *gm;

	init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
	if (init > ls)
		init = ls + 1; /* past the end: no match */
	lua_settop(L, 2);
	gm = lua_newuserdatauv(L, sizeof(*gm), 0);
	prep(&gm->ms, L, s, ls, p, lp);
	gm->src = s + init;
	gm->p = p;
	gm->lastmatch = NULL;
	lua_pushcclosure(L, gmatch_aux, 3);
	return 1;
}

/* Adds the replacement string (arg 3) for the match s..e. */
static void add_s(struct mstate *ms, luaL_Buffer *b, const char *s,
		  const char *e)
{
	lua_State *L = ms->L;
	size_t l, i;
	const char *r = lua_tolstring(L, 3, &l);

	for (i = 0; i < l; i++) {
		if (r[i] != '%') {
			luaL_addchar(b, r[i]);
			continue;
		}
		i++;
		if (i < l && r[i] == '%') {
			luaL_addchar(b, '%');
		} else if (i < l && isdigit((unsigned char)r[i])) {
			if (r[i] == '0') {
				luaL_addlstring(b, s, (size_t)(e - s));
			} else {
				push_one(ms, r[i] - '1', s, e);
				luaL_tolstring(L, -1, NULL);
				lua_remove(L, -2);
				luaL_addvalue(b);
			}
		} else {
			luaL_error(L, "invalid use of '%%' in replacement "
				      "string");
		}
	}
}

static void add_value(struct mstate *ms, luaL_Buffer *b, const char *s,
		      const char *e, int tr)
{
	lua_State *L = ms->L;

	if (tr == LUA_TFUNCTION) {
		int n;

		lua_pushvalue(L, 3);
		n = push_captures(ms, s, e);
		lua_call(L, n, 1);
	} else if (tr == LUA_TTABLE) {
		push_one(ms, 0, s, e);
		lua_gettable(L, 3);
	} else {
		add_s(ms, b, s, e);
		return;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s)); /* keep the text */
	} else if (!lua_isstring(L, -1)) {
		luaL_error(L, "invalid replacement value (a %s)",
			   luaL_typename(L, -1));
	} else {
		luaL_addvalue(b);
	}
}

static int l_gsub(lua_State *L)
{
	size_t srcl, lp;
	const char *src = luaL_checklstring(L, 1, &srcl);
	const char *p = luaL_checklstring(L, 2, &lp), *e, *lastmatch = NULL;
	int tr = lua_type(L, 3);
	lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1), n = 0;
	struct mstate ms;
	luaL_Buffer b;
	bool anchor;

	luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING ||
				    tr == LUA_TFUNCTION || tr == LUA_TTABLE,
			 3, "string/function/table");
	anchor = lp && *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	luaL_buffinit(L, &b);
	prep(&ms, L, src, srcl, p, lp);
	while (n < max_s) {
		ms.level = 0;
		ms.depth = 0;
		e = do_match(&ms, src, p);
		if (e && e != lastmatch) {
			n++;
			flush_steps(&ms);
			add_value(&ms, &b, src, e, tr);
			src = lastmatch = e;
		} else if (src < ms.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	flush_steps(&ms);
	luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
	luaL_pushresult(&b);
	lua_pushinteger(L, n);
	return 2;
}

static const luaL_Reg fns[] = {
	{ "find", l_find },
	{ "match", l_match },
	{ "gmatch", l_gmatch },
	{ "gsub", l_gsub },
	{ NULL, NULL },
};

void stls__script_pattern_open(lua_State *L)
{
	luaL_setfuncs(L, fns, 0);
}
