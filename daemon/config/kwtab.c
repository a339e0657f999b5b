/*
 * Walking the daemon's keyword tables (see kwtab.h).
 */
#include "config/kwtab.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "stls/log.h"

const struct stls_kw *stls_kw_find(const struct stls_kw_table *t,
				   const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->kws[i].name, name) == 0)
			return &t->kws[i];
	}
	return NULL;
}

void stls_kw_defaults(const struct stls_kw_table *t, void *obj,
		      const void *ctx)
{
	static const struct stls_loc none = { NULL, 0 };
	const char *why;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct stls_kw *k = &t->kws[i];

		if (k->def && !(k->flags & STLS_KW_AUTO) &&
		    t->set(k, k->def, &none, obj, ctx, &why) != 0)
			STLS_ERR("%s: bad built-in default for %s", t->section,
				 k->name);
	}
}

size_t stls_kw_apply(const struct stls_kw_table *t,
		     const struct stls_section *sec, void *obj,
		     const void *ctx, bool *seen, struct stls_diag *diag)
{
	size_t errors = diag->errors;
	const struct stls_kv *kv;

	for (kv = sec ? sec->kvs : NULL; kv; kv = kv->next) {
		const struct stls_kw *k = stls_kw_find(t, kv->key);
		const char *why = "invalid value";

		if (!k) {
			stls_diag_err(diag, kv->loc.file, kv->loc.line,
				      "%s: unknown [%s] key", kv->key,
				      t->section);
			continue;
		}
		if (seen[k - t->kws] && !(k->flags & STLS_KW_REPEAT)) {
			stls_diag_err(diag, kv->loc.file, kv->loc.line,
				      "%s: given more than once", kv->key);
			continue;
		}
		seen[k - t->kws] = true;
		if ((k->flags & STLS_KW_AUTO) &&
		    strcasecmp(kv->value, "auto") == 0)
			continue;
		if (t->set(k, kv->value, &kv->loc, obj, ctx, &why) != 0)
			stls_diag_err(diag, kv->loc.file, kv->loc.line,
				      "%s: %s: \"%s\"", kv->key, why,
				      kv->value);
	}
	return diag->errors - errors;
}

void stls_kw_print_names(FILE *f, const char *const *names)
{
	size_t i;

	for (i = 0; names && names[i]; i++)
		fprintf(f, "%s`%s`", i ? ", " : "", names[i]);
}

int stls_kw_write_rows(FILE *f, const struct stls_kw_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct stls_kw *k = &t->kws[i];
		const char *def = k->def ? k->def
					 : (k->flags & STLS_KW_REQUIRED
						    ? "required"
						    : "unset");

		fprintf(f, "| `%s` | %s%s | %s | ", k->name,
			t->kind_text[k->kind],
			k->flags & STLS_KW_REPEAT ? ", repeatable" : "", def);
		t->range(f, k);
		fprintf(f, " | %s |\n", k->doc);
	}
	return ferror(f) ? -EIO : 0;
}
