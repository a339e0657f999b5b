/*
 * Test helper: builds a struct stls_section by hand, as lib/conf would
 * produce it from a file, so that daemon tests do not depend on the parser.
 * Header-only (static functions) because every unit test file (tests/unit/) is its
 * own binary.
 *
 *	struct stls_section *s = sec_new("core", "t.cfg");
 *	sec_add(s, "listen", "tcp:127.0.0.1:0");   // line 2, 3, ... in order
 *	...
 *	sec_free(s);
 */
#ifndef STLS_TEST_CORE_SECTION_H
#define STLS_TEST_CORE_SECTION_H

#include <stdlib.h>
#include <string.h>

#include "stls/conf.h"

static inline struct stls_section *sec_new(const char *name, const char *file)
{
	struct stls_section *s = calloc(1, sizeof(*s));

	s->name = strdup(name);
	s->loc.file = file;
	s->loc.line = 1;
	return s;
}

/* Appends key = value on the next line (section header is line 1). */
static inline void sec_add(struct stls_section *s, const char *key,
			   const char *value)
{
	struct stls_kv *kv = calloc(1, sizeof(*kv)), **pp = &s->kvs;
	int line = s->loc.line + 1;

	for (; *pp; pp = &(*pp)->next)
		line = (*pp)->loc.line + 1;
	kv->key = strdup(key);
	kv->value = strdup(value);
	kv->loc.file = s->loc.file;
	kv->loc.line = line;
	*pp = kv;
}

static inline void sec_free(struct stls_section *s)
{
	struct stls_kv *kv, *next;

	if (!s)
		return;
	for (kv = s->kvs; kv; kv = next) {
		next = kv->next;
		free(kv->key);
		free(kv->value);
		free(kv);
	}
	free(s->name);
	free(s);
}

#endif
