/*
 * Unit tests for lib/conf/settings_doc.c: docs/parameters.md must be
 * exactly what the settings table generates. With STLS_REGEN_DOCS=1 in the
 * environment the test rewrites the file instead.
 */
#include "lib/conf/conf_test_util.h"

TEST(parameters_md_matches_the_table)
{
	char *want = stls_settings_doc_markdown();

	CHECK_NOT_NULL(want);
	test_doc_in_sync("docs/parameters.md", want, "test_settings_doc");
	free(want);
}

TEST(generated_text_has_one_row_per_parameter)
{
	char *md = stls_settings_doc_markdown();
	char needle[128];
	size_t i;

	CHECK_NOT_NULL(md);
	for (i = 0; i < stls_setting_count(); i++) {
		snprintf(needle, sizeof(needle), "| `%s` |",
			 stls_setting_at(i)->name);
		CHECK_STR_HAS(md, needle);
	}
	CHECK_STR_HAS(md, "| `tls_log` | integer | `3` | 0..1000 | yes "
			  "(`tls.log`) |");
	CHECK_STR_HAS(md, "| `ssl_max_send_fragment` | integer | `-1` | -1 "
			  "or 512..16384 | no");
	CHECK_STR_HAS(md, "| `certificate` | path | `cert.pem` (main config "
			  "dir) |");
	CHECK_STR_HAS(md, "Never printed. Shown as `...`.");
	CHECK_STR_HAS(md, "`TLSv1.2`, `TLSv1.2+`, `TLSv1.3`, `TLSv1.3+`");
	free(md);
}
