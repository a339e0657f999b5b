/*
 * Fuzz target for the config grammar: arbitrary bytes parsed as a main
 * config (sections, [tls] through the settings table, inline profiles) and
 * as a tls.cfg, then completed as the loader does (template defaults,
 * duplicate checks, implicit defaults) and formatted. Reads no files: the
 * `config` parameter is parsed and resolved but never opened.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void complete(struct stls_profile_conf **list,
		     struct stls__names *names, struct stls_diag *diag)
{
	struct stls_profile_conf *p;
	char buf[600];

	for (p = *list; p; p = p->next) {
		if (stls__profile_fill(p, "/etc/siptls")) {
			return;
		}
		stls_profile_conf_name(p, buf, sizeof(buf));
		stls_profile_conf_header(p, buf, sizeof(buf));
	}
	stls__profiles_check_dups(*list, diag);
	if (stls__profiles_add_implicit(list, "/etc/siptls", names)) {
		return;
	}
}

static void run(enum stls__parse_mode mode, const uint8_t *data, size_t size)
{
	struct stls_settings tls;
	struct stls_loc tls_loc[64];
	struct stls_profile_conf *profiles = NULL;
	struct stls_section *sections = NULL;
	struct stls_diag diag;
	struct stls__parser p = { 0 };
	char buf[2048];
	size_t i;

	if (stls_settings_init(&tls)) {
		return;
	}
	memset(tls_loc, 0, sizeof(tls_loc));
	stls_diag_init(&diag);
	p.mode = mode;
	p.base_dir = "/etc/siptls";
	p.names = stls__names_new();
	p.diag = &diag;
	p.tls = &tls;
	p.tls_loc = tls_loc;
	p.prof_tail = &profiles;
	p.sec_tail = &sections;
	if (p.names &&
	    stls__parse_buffer(&p, "fuzz.cfg", (const char *)data, size) == 0) {
		complete(&profiles, p.names, &diag);
	}
	for (i = 0; i < stls_setting_count(); i++) {
		if (stls_settings_format(&tls, stls_setting_at(i), buf,
					 sizeof(buf)) < 0) {
			continue;
		}
	}
	for (i = 0; i < diag.n; i++) {
		stls_diag_format(&diag.v[i], buf, sizeof(buf));
	}
	stls_profile_conf_list_free(profiles);
	stls_section_list_free(sections);
	stls__names_unref(p.names);
	stls_settings_fini(&tls);
	stls_diag_fini(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(STLS__PARSE_MAIN, data, size);
	run(STLS__PARSE_TLSCFG, data, size);
	return 0;
}
