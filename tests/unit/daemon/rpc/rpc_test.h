/*
 * Helpers for the tests of the control plane (daemon/rpc, daemon/ctl):
 * reading reply texts back with jansson. Header-only.
 */
#ifndef STLS_TEST_RPC_TEST_H
#define STLS_TEST_RPC_TEST_H

#include <jansson.h>

#include "test.h"

/*
 * Parses <len> bytes of a reply as a strict client would (no duplicate
 * keys; "\u0000" allowed in strings); fails the test when it is not JSON.
 * The caller owns the result (json_decref).
 */
static inline json_t *rt_parse(const char *text, size_t len)
{
	json_error_t err;
	json_t *v = json_loadb(text, len,
			       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);

	if (!v) {
		test_fail(__FILE__, __LINE__, "reply is not JSON (%s): %.*s",
			  err.text, (int)len, text);
	}
	return v;
}

/* Key of member i of object o, in order (insertion order), or NULL. */
static inline const char *rt_key_at(json_t *o, size_t i)
{
	void *it = json_object_iter(o);

	while (it && i--) {
		it = json_object_iter_next(o, it);
	}
	return it ? json_object_iter_key(it) : NULL;
}

#endif
