/*
 * Unit tests for lib/conf/settings_doc.c: docs/parameters.md must be
 * exactly what the settings table generates. With STLS_REGEN_DOCS=1 in the
 * environment the test rewrites the file instead.
 */
#include "conf_test_util.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f) {
		return NULL;
	}
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF) {
		fputc(c, m);
	}
	fclose(m);
	fclose(f);
	return buf;
}

TEST(parameters_md_matches_the_table)
{
	const char *regen = getenv("STLS_REGEN_DOCS");
	char *want = stls_settings_doc_markdown();
	char *have;
	const char *path = STLS_SOURCE_DIR "/docs/parameters.md";

	CHECK_NOT_NULL(want);
	if (regen && strcmp(regen, "1") == 0) {
		FILE *f = fopen(path, "w");

		CHECK_NOT_NULL(f);
		fputs(want, f);
		CHECK_OK(fclose(f));
		fprintf(stderr, "  rewrote %s\n", path);
	}
	have = read_all(path);
	if (!have || strcmp(have, want) != 0) {
		test_fail(__FILE__, __LINE__,
			  "%s is out of date with lib/conf/settings.c: run "
			  "STLS_REGEN_DOCS=1 build/test_settings_doc and "
			  "commit the file",
			  path);
	}
	free(have);
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
