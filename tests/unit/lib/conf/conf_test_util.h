/*
 * Helpers shared by the lib/conf unit tests: parse a string as a main
 * config or a tls.cfg, look for a formatted diagnostic, write files.
 */
#ifndef STLS_CONF_TEST_UTIL_H
#define STLS_CONF_TEST_UTIL_H

#include "test.h"

#include <stdlib.h>

#include "conf/conf_int.h"

struct parsed {
	struct stls_diag diag;
	struct stls_settings tls;
	struct stls_loc tls_loc[STLS_SETTINGS_MAX];
	struct stls_profile_conf *profiles;
	struct stls_section *sections;
	struct stls__names *names;
};

static inline void parsed_fini(struct parsed *r)
{
	stls_profile_conf_list_free(r->profiles);
	stls_section_list_free(r->sections);
	r->sections = NULL;
	stls_settings_fini(&r->tls);
	stls__names_unref(r->names);
	stls_diag_fini(&r->diag);
}

/* Parses text as FILE (main config or tls.cfg) with base dir "/etc/x". */
static inline void parse_text(struct parsed *r, enum stls__parse_mode mode,
			      const char *file, const char *text)
{
	struct stls__parser p = { 0 };

	memset(r, 0, sizeof(*r));
	stls_diag_init(&r->diag);
	CHECK_OK(stls_settings_init(&r->tls));
	r->names = stls__names_new();
	CHECK_NOT_NULL(r->names);
	p.mode = mode;
	p.base_dir = "/etc/x";
	p.names = r->names;
	p.diag = &r->diag;
	p.tls = &r->tls;
	p.tls_loc = r->tls_loc;
	p.prof_tail = &r->profiles;
	p.sec_tail = &r->sections;
	CHECK_OK(stls__parse_buffer(&p, file, text, strlen(text)));
}

/* True when some entry of d formats exactly as want. */
static inline bool diag_has(const struct stls_diag *d, const char *want)
{
	char buf[2048];
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (strcmp(stls_diag_format(&d->v[i], buf, sizeof(buf)),
			   want) == 0) {
			return true;
		}
	}
	return false;
}

/* Prints every entry (for failing checks). */
static inline void diag_dump(const struct stls_diag *d)
{
	stls_diag_print(d, stderr);
}

#define CHECK_DIAG(d, want)                           \
	do {                                          \
		if (!diag_has((d), (want))) {         \
			diag_dump(d);                 \
			test_fail(__FILE__, __LINE__, \
				  "diag lacks \"%s\"", want); \
		}                                     \
	} while (0)

/* Writes text to dir/name; returns the full path (static rotating). */
static inline const char *write_file(const char *dir, const char *name,
				     const char *text)
{
	static char paths[8][1024];
	static int next;
	char *path = paths[next++ % 8];
	FILE *f;

	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/*
 * The profiles of tls.cfg text <text> (written to the case's directory,
 * loaded with the default settings and base dir "/etc/x"); the case fails,
 * printing the diagnostics and the text, when it does not load.
 */
static inline struct stls_profile_conf *cfg_profiles(const char *text)
{
	struct stls_profile_conf *list = NULL;
	struct stls_settings s;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_settings_init(&s));
	free(s.config);
	s.config = strdup(write_file(test_tmp_dir(), "tls.cfg", text));
	if (stls_conf_load_profiles(&s, "/etc/x", &list, &d)) {
		diag_dump(&d);
		fprintf(stderr, "%s", text);
		CHECK(0);
	}
	stls_settings_fini(&s);
	stls_diag_fini(&d);
	return list;
}

#endif
