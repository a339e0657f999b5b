/*
 * JSON-RPC parameters: parameter specs, checking and conversion of the
 * params of a call, and the getters handlers use (see rpc.h).
 *
 * Conversion exists for operators typing positional arguments: siptlsctl
 * (like kamcmd) cannot know what type a method wants, so it guesses from
 * the text, and the method's declared type settles it here.
 *
 * A converted parameter is a reference of its own: to the request's value
 * when it already has the declared type (json_incref), or to a new value.
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

/*
 * The shortest text that reads back as exactly <d> (at most 17 significant
 * digits), with ".0" added when it would read as an integer: 2.5 gives
 * "2.5", 0.1 "0.1", 3.0 "3.0". jansson writes doubles with 17 digits
 * ("0.10000000000000001"): right for a reply, unkind as the text of a
 * parameter. The daemon never calls setlocale(), so printf's decimal
 * point is '.'.
 */
static const char *format_double(double d, char buf[32])
{
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d) {
			break;
		}
	}
	if (!strpbrk(buf, ".eE")) {
		strcat(buf, ".0");
	}
	return buf;
}

/* Each to_*() returns a new reference, or NULL with *rc set. */

static json_t *to_str(json_t *v, int *rc)
{
	char buf[32];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_incref(v);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return json_string(buf);
	case JSON_REAL:
		return json_string(format_double(json_real_value(v), buf));
	case JSON_TRUE:
		return json_string("true");
	case JSON_FALSE:
		return json_string("false");
	default:
		*rc = -EINVAL;
		return NULL;
	}
}

static json_t *to_int(json_t *v, int *rc)
{
	const char *s = json_string_value(v);
	double d;
	int64_t i;

	if (json_is_integer(v)) {
		return json_incref(v);
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		/* 2^63 itself is out of range; the bound is exact in double. */
		if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
		    (double)(int64_t)d == d) {
			return json_integer((json_int_t)d);
		}
	} else if (s && strlen(s) < 32 && text_to_int(s, &i)) {
		return json_integer(i);
	}
	*rc = -EINVAL;
	return NULL;
}

static json_t *to_bool(json_t *v, int *rc)
{
	static const struct {
		const char *word;
		bool val;
	} words[] = {
		{ "true", true }, { "yes", true },  { "on", true },
		{ "1", true },    { "false", false }, { "no", false },
		{ "off", false }, { "0", false },
	};
	const char *s = json_string_value(v);
	size_t i;

	if (json_is_boolean(v)) {
		return json_incref(v);
	}
	if (json_is_integer(v) &&
	    (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
		return json_boolean(json_integer_value(v) == 1);
	}
	for (i = 0; s && i < STLS_ARRAY_SIZE(words); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			return json_boolean(words[i].val);
		}
	}
	*rc = -EINVAL;
	return NULL;
}

static json_t *to_num(json_t *v, int *rc)
{
	size_t len = json_string_length(v);
	json_t *n = NULL;

	if (json_is_number(v)) {
		return json_incref(v);
	}
	/* A short text is parsed as JSON: "2.5" is 2.5, "1.5." nothing. */
	if (json_is_string(v) && len < 64) {
		n = json_loadb(json_string_value(v), len, JSON_DECODE_ANY,
			       NULL);
	}
	if (json_is_number(n)) {
		return n;
	}
	json_decref(n);
	*rc = -EINVAL;
	return NULL;
}

/*
 * Converts <v> to <kind>. Returns 0 with *out set to a new reference,
 * -EINVAL when it does not convert, -ENOMEM.
 */
static int convert(enum stls__rpc_kind kind, json_t *v, json_t **out)
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
		*out = json_incref(v);
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

/* What a value is, for "got ..." in messages. */
static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/* Short description of a value for "got ..." in messages. */
static const char *describe(const json_t *v, char *buf, size_t n)
{
	const char *s = json_string_value(v);

	if (s) {
		snprintf(buf, n, "\"%.32s%s\"", s, strlen(s) > 32 ? "..." : "");
	} else {
		snprintf(buf, n, "%s", type_name(v));
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

/* Converts and stores parameter i (declared or extra); v is borrowed. */
static int bind_one(struct stls_rpc_call *call, size_t i, json_t *v,
		    char *msg, size_t size)
{
	const struct stls__rpc_sig *sig = &call->e->sig;
	enum stls__rpc_kind kind = i < sig->n ? sig->p[i].kind : STLS__RPC_ANY;
	char got[64];
	int rc;

	if (json_is_null(v) && i < sig->n && i >= sig->required) {
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

static int bind_array(struct stls_rpc_call *call, const json_t *a, char *msg,
		      size_t size)
{
	const struct stls__rpc_sig *sig = &call->e->sig;
	size_t n = json_array_size(a), i;
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
		rc = bind_one(call, i, json_array_get(a, i), msg, size);
		if (rc) {
			return rc;
		}
	}
	return 0;
}

static int bind_object(struct stls_rpc_call *call, const json_t *o,
		       char *msg, size_t size)
{
	const struct stls__rpc_sig *sig = &call->e->sig;
	size_t i, used = 0;
	const char *key;
	json_t *v;
	int rc;

	for (i = 0; i < sig->n; i++) {
		v = json_object_get(o, sig->p[i].name);
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
	if (used == json_object_size(o)) {
		return 0;
	}
	/* jansson's object API is not const-correct; nothing is changed. */
	json_object_foreach((json_t *)o, key, v) {
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

int stls__rpc_params_bind(struct stls_rpc_call *call, const json_t *params,
			  char *msg, size_t size)
{
	size_t cap = call->e->sig.n;

	if (json_array_size(params) > cap) {
		cap = json_array_size(params);
	}
	call->n = 0;
	call->p = calloc(cap ? cap : 1, sizeof(*call->p));
	if (!call->p) {
		return -ENOMEM;
	}
	if (json_is_object(params)) {
		return bind_object(call, params, msg, size);
	}
	return bind_array(call, params, msg, size); /* NULL reads as [] */
}

void stls__rpc_params_fini(struct stls_rpc_call *call)
{
	size_t i;

	for (i = 0; call->p && i < call->n; i++) {
		json_decref(call->p[i]); /* NULL for unset optionals */
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

json_t *stls_rpc_param(const struct stls_rpc_call *call, size_t i)
{
	return i < call->n ? call->p[i] : NULL;
}

const char *stls_rpc_param_str(const struct stls_rpc_call *call, size_t i)
{
	return json_string_value(stls_rpc_param(call, i));
}

int64_t stls_rpc_param_int(const struct stls_rpc_call *call, size_t i)
{
	return json_integer_value(stls_rpc_param(call, i));
}

bool stls_rpc_param_bool(const struct stls_rpc_call *call, size_t i)
{
	return json_is_true(stls_rpc_param(call, i));
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
	json_t *v = stls_rpc_param(call, i), *c = NULL;
	char name[48];
	int rc = 0;

	if (v) {
		c = to_int(v, &rc);
	}
	if (!c || json_integer_value(c) < min ||
	    json_integer_value(c) > max) {
		json_decref(c);
		return bad_param(call, msg, size,
				 "parameter %s must be an integer in "
				 "[%lld, %lld]",
				 param_name(call, i, name, sizeof(name)),
				 (long long)min, (long long)max);
	}
	*out = json_integer_value(c);
	json_decref(c);
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
