/*
 * Generates docs/parameters.md from the settings table, so that the
 * documentation cannot drift from the code: tests/unit/lib/conf/test_settings_doc.c
 * compares the committed file with this text.
 */
#include "conf_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
	[STLS_SK_INT] = "integer",
	[STLS_SK_BOOL] = "boolean",
	[STLS_SK_STR] = "string",
	[STLS_SK_PATH] = "path",
	[STLS_SK_ENUM] = "enum",
};

/* Writes s with '|' escaped so that it stays inside one table cell. */
static void cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|') {
			fputs("\\|", f);
		} else {
			fputc(*s, f);
		}
	}
}

static void print_default(FILE *f, const struct stls_setting_desc *d)
{
	if (d->kind == STLS_SK_PATH && (strcmp(d->name, "certificate") == 0 ||
					strcmp(d->name, "private_key") == 0)) {
		fputs("`cert.pem` (main config dir)", f);
	} else if (!d->def) {
		fputs("unset", f);
	} else {
		fputc('`', f);
		cell(f, d->def);
		fputc('`', f);
	}
}

static void print_range(FILE *f, const struct stls_setting_desc *d)
{
	int i;

	switch (d->kind) {
	case STLS_SK_BOOL:
		fputs("0/1 (yes/no, on/off, ...)", f);
		break;
	case STLS_SK_ENUM:
		for (i = 0; i <= d->max; i++) {
			fprintf(f, "%s`%s`", i ? ", " : "", d->enum_names[i]);
		}
		break;
	case STLS_SK_INT:
		if (strcmp(d->name, "ssl_max_send_fragment") == 0) {
			fputs("-1 or 512..16384", f);
		} else if (d->min == INT_MIN && d->max == INT_MAX) {
			fputs("any", f);
		} else if (d->max == INT_MAX) {
			fprintf(f, "%d..2^31-1", d->min);
		} else {
			fprintf(f, "%d..%d", d->min, d->max);
		}
		break;
	default:
		break;
	}
}

static void print_row(FILE *f, const struct stls_setting_desc *d)
{
	fprintf(f, "| `%s` | %s | ", d->name, kind_names[d->kind]);
	print_default(f, d);
	fputs(" | ", f);
	print_range(f, d);
	if (d->flags & STLS_SF_RUNTIME) {
		fprintf(f, " | yes (`tls.%s`) | ", d->cfg_name);
	} else {
		fprintf(f, " | no (`tls.%s`) | ", d->cfg_name);
	}
	cell(f, d->doc);
	if (d->flags & STLS_SF_SENSITIVE) {
		fputs(" Shown as `...`.", f);
	}
	fputs(" | ", f);
	cell(f, d->note);
	fputs(" |\n", f);
}

static const char header[] =
	"# Module parameters\n"
	"\n"
	"<!-- Generated from the settings table (lib/conf/settings.c). Do "
	"not edit:\n"
	"     run `STLS_REGEN_DOCS=1 build/test_settings_doc` after changing "
	"the table. -->\n"
	"\n"
	"These are the seed's module parameters (the Kamailio `tls` module's "
	"`modparam`s),\n"
	"with the same names, written in the `[tls]` section of the main "
	"config:\n"
	"\n"
	"```\n"
	"[tls]\n"
	"tls_method = TLSv1.2+\n"
	"connection_timeout = 300\n"
	"```\n"
	"\n"
	"Booleans take `yes true enable enabled 1 on` / `no false disable "
	"disabled 0 off`\n"
	"or any integer (non-zero is true). Integers may carry a `-` sign. "
	"Names are\n"
	"case-insensitive. Paths starting with `/` are absolute, with `.` "
	"relative to\n"
	"the working directory, anything else relative to the directory of "
	"the main\n"
	"config file.\n"
	"\n"
	"\"Runtime\" parameters can be changed with `cfg.set` (group `tls`, "
	"the variable\n"
	"name in brackets); every parameter can be read with `cfg.get` and "
	"is listed by\n"
	"`tls.options`. The per-profile parameters (`tls_method` to "
	"`server_name`, and\n"
	"`verify_client`) only build the two default profiles when no "
	"profile is\n"
	"defined (no `config`, no inline `[server:...]`/`[client:...]` "
	"section).\n"
	"\n"
	"| name | type | default | range | runtime (cfg name) | meaning | "
	"OpenSSL 3 and compatibility notes |\n"
	"| --- | --- | --- | --- | --- | --- | --- |\n";

char *stls_settings_doc_markdown(void)
{
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		return NULL;
	}
	fputs(header, f);
	for (i = 0; i < stls_setting_count(); i++) {
		print_row(f, stls_setting_at(i));
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
