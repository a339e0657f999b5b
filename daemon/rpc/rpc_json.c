/*
 * Building results: -errno shorthands over jansson (see rpc.h, "Building
 * results"), and the one place where the program's own strings become JSON
 * strings.
 *
 * jansson refuses to make a string of bytes that are not well-formed UTF-8
 * (json_string() returns NULL, and json_dumps() of an unchecked one fails),
 * so every string goes through stls_rpc_strn(): valid text is copied as
 * is, anything else is repaired first, each bad byte becoming U+FFFD. That
 * keeps a reply possible whatever a peer put in its SNI or certificate,
 * and keeps error messages valid when "%.64s" cuts a character in two.
 *
 * Calls nothing else in daemon/rpc (rpc_int.h).
 */
#include "rpc/rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stls/utf8.h"

json_t *stls_rpc_strn(const char *s, size_t len)
{
	char *fixed = NULL;
	size_t n = 0;
	json_t *v;

	if (!s) {
		return json_null();
	}
	if (stls_utf8_valid(s, len)) {
		return json_stringn_nocheck(s, len);
	}
	if (stls_utf8_repair(s, len, &fixed, &n)) {
		return NULL;
	}
	v = json_stringn_nocheck(fixed, n); /* copies */
	free(fixed);
	return v;
}

json_t *stls_rpc_str(const char *s)
{
	return stls_rpc_strn(s, s ? strlen(s) : 0);
}

json_t *stls_rpc_strf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	json_t *v;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return NULL;
	}
	v = stls_rpc_strn(s, (size_t)n);
	free(s);
	return v;
}

int stls_rpc_obj_set(json_t *obj, const char *key, json_t *v)
{
	if (!v) {
		return -ENOMEM;
	}
	if (!json_is_object(obj) || !key || v == obj) {
		/* Taken, as on success; but never drop the caller's obj. */
		json_decref(v == obj ? NULL : v);
		return -EINVAL;
	}
	/* json_object_set_new() takes v's reference, also when it fails. */
	return json_object_set_new(obj, key, v) ? -ENOMEM : 0;
}

int stls_rpc_obj_set_int(json_t *obj, const char *key, int64_t i)
{
	return stls_rpc_obj_set(obj, key, json_integer(i));
}

int stls_rpc_obj_set_str(json_t *obj, const char *key, const char *s)
{
	return stls_rpc_obj_set(obj, key, stls_rpc_str(s));
}

int stls_rpc_arr_push(json_t *arr, json_t *v)
{
	if (!v) {
		return -ENOMEM;
	}
	if (!json_is_array(arr) || v == arr) {
		json_decref(v == arr ? NULL : v);
		return -EINVAL;
	}
	/* Takes v's reference, also when it fails. */
	return json_array_append_new(arr, v) ? -ENOMEM : 0;
}
