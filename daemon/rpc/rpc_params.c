/*
 * JSON-RPC parameters: parameter specs, checking and conversion of the
 * params of a call, and the getters handlers use (see rpc.h).
 *
 * Conversion exists for operators typing positional arguments: siptlsctl
 * (like kamcmd) cannot know what type a method wants, so it guesses from
 * the text, and the method's declared type settles it here.
 *
 * This file calls nothing in rpc.c: a binding or a checked read that
 * fails returns -EINVAL with the text of the -32602 reply, and rpc.c
 * writes the reply (see rpc_int.h for the direction of calls).
 */
#include "rpc/rpc_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stls/log.h"

static const struct {
	const char *name;
	enum stls__rpc_kind kind;
	const char *desc; /* for "must be ..." */
} kinds[] = {
	{ "str", STLS__RPC_STR, "a string" },
	{ "int", STLS__RPC_INT, "an integer" },
	{ "bool", STLS__RPC_BOOL, "a boolean" },
	{ "num", STLS__RPC_NUM, "a number" },
	{ "any", STLS__RPC_ANY, "a value" },
};

static bool valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		      (s[i] >= '0' && s[i] <= '9'))) {
			return false;
		}
	}
	return true;
}

/* One token "name:type" (brackets already removed). */
static int parse_param(const char *tok, size_t len, struct stls__rpc_sig *sig)
{
	const char *colon = memchr(tok, ':', len);
	size_t nlen, i;

	if (!colon || sig->n >= STLS_RPC_MAX_PARAMS) {
		return -EINVAL;
	}
	nlen = (size_t)(colon - tok);
	if (!valid_name(tok, nlen) || nlen >= sizeof(sig->p[0].name)) {
		return -EINVAL;
	}
	for (i = 0; i < STLS_ARRAY_SIZE(kinds); i++) {
		if (strlen(kinds[i].name) == len - nlen - 1 &&
		    memcmp(kinds[i].name, colon + 1, len - nlen - 1) == 0) {
			memcpy(sig->p[sig->n].name, tok, nlen);
			sig->p[sig->n].name[nlen] = '\0';
			sig->p[sig->n].kind = kinds[i].kind;
			sig->n++;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_token(const char *tok, size_t len, struct stls__rpc_sig *sig)
{
	bool opt = len >= 2 && tok[0] == '[' && tok[len - 1] == ']';

	if (sig->rest) {
		return -EINVAL; /* "..." must come last */
	}
	if (len == 3 && memcmp(tok, "...", 3) == 0) {
		sig->rest = true;
		return 0;
	}
	if (!opt && sig->required != sig->n) {
		return -EINVAL; /* required after optional */
	}
	if (opt) {
		return parse_param(tok + 1, len - 2, sig);
	}
	if (parse_param(tok, len, sig)) {
		return -EINVAL;
	}
	sig->required++;
	return 0;
}

int stls__rpc_sig_parse(const char *method, const char *spec,
			struct stls__rpc_sig *sig)
{
	const char *p = spec ? spec : "", *tok;

	memset(sig, 0, sizeof(*sig));
	for (;;) {
		while (*p == ' ') {
			p++;
		}
		if (!*p) {
			return 0;
		}
		tok = p;
		while (*p && *p != ' ') {
			p++;
		}
		if (parse_token(tok, (size_t)(p - tok), sig)) {
			STLS_ERR("rpc: method %s: bad parameter spec \"%s\" "
				 "near \"%.*s\"",
				 method, spec, (int)(p - tok), tok);
			return -EINVAL;
		}
	}
}

/* ---- Conversion ---- */

static bool text_to_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s || !(*s == '-' || (*s >= '0' && *s <= '9'))) {
		return false;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end) {
		return false;
	}
	*out = v;
	return true;
}

static struct stls_json *to_str(const struct stls_json *v, int *rc)
{
	char buf[32];

	switch (stls_json_type(v)) {
	case STLS_JSON_STRING:
		return stls_json_clone(v);
	case STLS_JSON_INT:
		return stls_json_new_strf("%lld",
					  (long long)stls_json_get_int(v));
	case STLS_JSON_DOUBLE:
		return stls_json_new_str(
			stls_json_format_double(stls_json_get_double(v), buf));
	case STLS_JSON_BOOL:
		return stls_json_new_str(stls_json_get_bool(v) ? "true"
							       : "false");
	default:
		*rc = -EINVAL;
		return NULL;
	}
}

static struct stls_json *to_int(const struct stls_json *v, int *rc)
{
	const char *s = stls_json_get_str(v, NULL);
	double d;
	int64_t i;

	if (stls_json_is(v, STLS_JSON_INT)) {
		return stls_json_clone(v);
	}
	if (stls_json_is(v, STLS_JSON_DOUBLE)) {
		d = stls_json_get_double(v);
		/* 2^63 itself is out of range; the bound is exact in double. */
		if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
		    (double)(int64_t)d == d) {
			return stls_json_new_int((int64_t)d);
		}
	} else if (s && strlen(s) < 32 && text_to_int(s, &i)) {
		return stls_json_new_int(i);
	}
	*rc = -EINVAL;
	return NULL;
}

static struct stls_json *to_bool(const struct stls_json *v, int *rc)
{
	static const struct {
		const char *word;
		bool val;
	} words[] = {
		{ "true", true }, { "yes", true },  { "on", true },
		{ "1", true },    { "false", false }, { "no", false },
		{ "off", false }, { "0", false },
	};
	const char *s = stls_json_get_str(v, NULL);
	size_t i;

	if (stls_json_is(v, STLS_JSON_BOOL)) {
		return stls_json_clone(v);
	}
	if (stls_json_is(v, STLS_JSON_INT) &&
	    (stls_json_get_int(v) == 0 || stls_json_get_int(v) == 1)) {
		return stls_json_new_bool(stls_json_get_int(v) == 1);
	}
	for (i = 0; s && i < STLS_ARRAY_SIZE(words); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			return stls_json_new_bool(words[i].val);
		}
	}
	*rc = -EINVAL;
	return NULL;
}

static struct stls_json *to_num(const struct stls_json *v, int *rc)
{
	struct stls_json *n = NULL;
	size_t len = 0;
	const char *s = stls_json_get_str(v, &len);

	if (stls_json_is(v, STLS_JSON_INT) ||
	    stls_json_is(v, STLS_JSON_DOUBLE)) {
		return stls_json_clone(v);
	}
	if (s && len < 64 && stls_json_parse(s, len, NULL, &n, NULL) == 0 &&
	    (stls_json_is(n, STLS_JSON_INT) ||
	     stls_json_is(n, STLS_JSON_DOUBLE))) {
		return n;
	}
	stls_json_free(n);
	*rc = -EINVAL;
	return NULL;
}

/*
 * Converts <v> to <kind>. Returns 0 with *out set, -EINVAL when it does
 * not convert, -ENOMEM.
 */
static int convert(enum stls__rpc_kind kind, const struct stls_json *v,
		   struct stls_json **out)
{
	int rc = -ENOMEM;

	switch (kind) {
	case STLS__RPC_STR:
		*out = to_str(v, &rc);
		break;
	case STLS__RPC_INT:
		*out = to_int(v, &rc);
		break;
	case STLS__RPC_BOOL:
		*out = to_bool(v, &rc);
		break;
	case STLS__RPC_NUM:
		*out = to_num(v, &rc);
		break;
	default:
		*out = stls_json_clone(v);
		break;
	}
	return *out ? 0 : rc;
}

/* ---- Binding a call's params ---- */

const char *stls__rpc_usage(const struct stls__rpc_entry *e, char *buf,
			    size_t size)
{
	const char *spec = e->m->params ? e->m->params : "";

	snprintf(buf, size, "%s%s%s", e->m->name, *spec ? " " : "", spec);
	return buf;
}

/* Short description of a value for "got ..." in messages. */
static const char *describe(const struct stls_json *v, char *buf, size_t n)
{
	const char *s = stls_json_get_str(v, NULL);

	if (s) {
		snprintf(buf, n, "\"%.32s%s\"", s, strlen(s) > 32 ? "..." : "");
	} else {
		snprintf(buf, n, "%s", stls_json_type_name(stls_json_type(v)));
	}
	return buf;
}

static int bad_param(const struct stls_rpc_call *call, char *msg,
		     size_t size, const char *fmt, ...) STLS_PRINTF(4, 5);

/*
 * Writes "<method>: <what> (usage: <usage>)" into msg[size], the text of
 * a -32602 reply, and returns -EINVAL. rpc.c turns it into the reply.
 */
static int bad_param(const struct stls_rpc_call *call, char *msg,
		     size_t size, const char *fmt, ...)
{
	char usage[256], what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, size, "%s: %s (usage: %s)", call->e->m->name, what,
		 stls__rpc_usage(call->e, usage, sizeof(usage)));
	return -EINVAL;
}

/* Converts and stores parameter i (declared or extra). */
static int bind_one(struct stls_rpc_call *call, size_t i,
		    const struct stls_json *v, char *msg, size_t size)
{
	const struct stls__rpc_sig *sig = &call->e->sig;
	enum stls__rpc_kind kind = i < sig->n ? sig->p[i].kind : STLS__RPC_ANY;
	char got[64];
	int rc;

	if (stls_json_is(v, STLS_JSON_NULL) && i < sig->n &&
	    i >= sig->required) {
		return 0; /* an explicit null leaves an optional unset */
	}
	rc = convert(kind, v, &call->p[i]);
	if (rc == -EINVAL) {
		return bad_param(call, msg, size,
				 "parameter '%s' must be %s, got %s",
				 sig->p[i].name, kinds[kind].desc,
				 describe(v, got, sizeof(got)));
	}
	if (!rc && i + 1 > call->n) {
		call->n = i + 1;
	}
	return rc;
}

static int bind_array(struct stls_rpc_call *call, const struct stls_json *a,
		      char *msg, size_t size)
{
	const struct stls__rpc_sig *sig = &call->e->sig;
	size_t n = stls_json_len(a), i;
	int rc;

	if (n < sig->required) {
		return bad_param(call, msg, size, "missing parameter '%s'",
				 sig->p[n].name);
	}
	if (n > sig->n && !sig->rest) {
		return bad_param(call, msg, size,
				 "too many parameters: expected at most %u, "
				 "got %zu",
				 sig->n, n);
	}
	for (i = 0; i < n; i++) {
		rc = bind_one(call, i, stls_json_array_get(a, i), msg, size);
		if (rc) {
			return rc;
		}
	}
	return 0;
}

static int bind_object(struct stls_rpc_call *call, const struct stls_json *o,
		       char *msg, size_t size)
{
	const struct stls__rpc_sig *sig = &call->e->sig;
	const struct stls_json *v;
	size_t i, j, used = 0;
	int rc;

	for (i = 0; i < sig->n; i++) {
		v = stls_json_object_get(o, sig->p[i].name);
		if (!v && i < sig->required) {
			return bad_param(call, msg, size,
					 "missing parameter '%s'",
					 sig->p[i].name);
		}
		if (!v) {
			continue;
		}
		used++;
		rc = bind_one(call, i, v, msg, size);
		if (rc) {
			return rc;
		}
	}
	for (j = 0; used < stls_json_len(o) && j < stls_json_len(o); j++) {
		const char *key = stls_json_object_key(o, j);

		for (i = 0; i < sig->n; i++) {
			if (strcmp(key, sig->p[i].name) == 0) {
				break;
			}
		}
		if (i == sig->n) {
			return bad_param(call, msg, size,
					 "unknown parameter '%.40s'", key);
		}
	}
	return 0;
}

int stls__rpc_params_bind(struct stls_rpc_call *call,
			  const struct stls_json *params, char *msg,
			  size_t size)
{
	size_t cap = call->e->sig.n;

	if (stls_json_is(params, STLS_JSON_ARRAY) &&
	    stls_json_len(params) > cap) {
		cap = stls_json_len(params);
	}
	call->n = 0;
	call->p = calloc(cap ? cap : 1, sizeof(*call->p));
	if (!call->p) {
		return -ENOMEM;
	}
	if (stls_json_is(params, STLS_JSON_OBJECT)) {
		return bind_object(call, params, msg, size);
	}
	return bind_array(call, params, msg, size); /* NULL reads as [] */
}

void stls__rpc_params_fini(struct stls_rpc_call *call)
{
	size_t i;

	for (i = 0; call->p && i < call->n; i++) {
		stls_json_free(call->p[i]);
	}
	free(call->p);
	call->p = NULL;
	call->n = 0;
}

/* ---- Getters ---- */

size_t stls_rpc_param_count(const struct stls_rpc_call *call)
{
	return call->n;
}

const struct stls_json *stls_rpc_param(const struct stls_rpc_call *call,
				       size_t i)
{
	return i < call->n ? call->p[i] : NULL;
}

const char *stls_rpc_param_str(const struct stls_rpc_call *call, size_t i)
{
	return stls_json_get_str(stls_rpc_param(call, i), NULL);
}

int64_t stls_rpc_param_int(const struct stls_rpc_call *call, size_t i)
{
	return stls_json_get_int(stls_rpc_param(call, i));
}

bool stls_rpc_param_bool(const struct stls_rpc_call *call, size_t i)
{
	return stls_json_get_bool(stls_rpc_param(call, i));
}

static const char *param_name(const struct stls_rpc_call *call, size_t i,
			      char *buf, size_t n)
{
	if (i < call->e->sig.n) {
		snprintf(buf, n, "'%s'", call->e->sig.p[i].name);
	} else {
		snprintf(buf, n, "%zu", i + 1);
	}
	return buf;
}

int stls__rpc_param_check_int(const struct stls_rpc_call *call, size_t i,
			       int64_t min, int64_t max, int64_t *out,
			       char *msg, size_t size)
{
	const struct stls_json *v = stls_rpc_param(call, i);
	struct stls_json *c = NULL;
	char name[48];
	int rc = 0;

	if (v) {
		c = to_int(v, &rc);
	}
	if (!c || stls_json_get_int(c) < min || stls_json_get_int(c) > max) {
		stls_json_free(c);
		return bad_param(call, msg, size,
				 "parameter %s must be an integer in "
				 "[%lld, %lld]",
				 param_name(call, i, name, sizeof(name)),
				 (long long)min, (long long)max);
	}
	*out = stls_json_get_int(c);
	stls_json_free(c);
	return 0;
}

int stls__rpc_param_check_str(const struct stls_rpc_call *call, size_t i,
			       const char **out, char *msg, size_t size)
{
	const char *s = stls_rpc_param_str(call, i);
	char name[48];

	if (!s) {
		return bad_param(call, msg, size,
				 "parameter %s must be a string",
				 param_name(call, i, name, sizeof(name)));
	}
	*out = s;
	return 0;
}
