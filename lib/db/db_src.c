/*
 * Database sources: "sqlite:PATH[?table=NAME]" and libpq URIs
 * "postgresql://...[?...&table=NAME&...]". The table parameter is ours:
 * it is taken out before the URI reaches libpq (which would refuse it),
 * and every other parameter is kept in order. Table names are plain
 * lower-case identifiers, so that the same name means the same table to
 * both engines (PostgreSQL folds unquoted names to lower case, and kamcli
 * creates its table unquoted).
 */
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool table_ok(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || n > STLS_DB_TABLE_MAX || (t[0] >= '0' && t[0] <= '9')) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_')) {
			return false;
		}
	}
	return true;
}

/*
 * Splits the query string q: table= goes to *table, the rest is appended
 * to keep[0..*kn). Only table= is allowed when others is false (SQLite).
 */
static int split_query(const char *q, bool others, char **table, char *keep,
		       size_t *kn, const char *shown, struct stls_db_err *err)
{
	while (*q) {
		size_t n = strcspn(q, "&");

		if (n >= 6 && strncmp(q, "table=", 6) == 0) {
			if (*table) {
				return stls__db_err(err, NULL, -EINVAL,
						    "%s: table= is given twice",
						    shown);
			}
			if (!table_ok(q + 6, n - 6)) {
				return stls__db_err(err, NULL, -EINVAL,
						    "%s: table: lower-case "
						    "letters, digits and '_' "
						    "only, at most %d", shown,
						    STLS_DB_TABLE_MAX);
			}
			*table = strndup(q + 6, n - 6);
			if (!*table) {
				return -ENOMEM;
			}
		} else if (n > 0 && !others) {
			return stls__db_err(err, NULL, -EINVAL,
					    "%s: unknown parameter '%.*s' "
					    "(only table= is known)", shown,
					    (int)n, q);
		} else if (n > 0) {
			char sep = *kn ? '&' : '?';

			keep[(*kn)++] = sep;
			memcpy(keep + *kn, q, n);
			*kn += n;
		}
		q += n + (q[n] == '&');
	}
	keep[*kn] = '\0';
	return 0;
}

static int parse(const char *config, struct stls_db_src *s,
		 struct stls_db_err *err)
{
	bool pg = s->kind == STLS_CONF_SRC_POSTGRESQL;
	const char *base = pg ? config : config + 7; /* after "sqlite:" */
	const char *q = strchr(base, '?');
	size_t blen = q ? (size_t)(q - base) : strlen(base), kn = 0;
	char *keep = malloc(strlen(base) + 2);
	int rc;

	if (!keep) {
		return -ENOMEM;
	}
	rc = split_query(q ? q + 1 : "", pg, &s->table, keep, &kn, s->shown,
			 err);
	if (!rc && !pg && blen == 0) {
		rc = stls__db_err(err, NULL, -EINVAL,
				  "%s: the SQLite file is missing "
				  "(sqlite:PATH)", s->shown);
	}
	if (!rc && asprintf(&s->target, "%.*s%s", (int)blen, base, keep) < 0) {
		s->target = NULL;
		rc = -ENOMEM;
	}
	if (!rc && !s->table && !(s->table = strdup(STLS_DB_TABLE_DEFAULT))) {
		rc = -ENOMEM;
	}
	free(keep);
	return rc;
}

int stls_db_src_parse(const char *config, struct stls_db_src *out,
		      struct stls_db_err *err)
{
	struct stls_db_src s = { stls_conf_src_kind(config), NULL, NULL,
				 NULL };
	size_t cap = (config ? strlen(config) : 0) + 16;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!stls_conf_src_is_db(config)) {
		return stls__db_err(err, NULL, -EINVAL,
				    "'%s' is no database (sqlite:PATH or "
				    "postgresql://...)", config ? config : "");
	}
	s.shown = malloc(cap);
	if (!s.shown) {
		return -ENOMEM;
	}
	stls_conf_src_redact(config, s.shown, cap);
	rc = parse(config, &s, err);
	if (rc) {
		stls_db_src_fini(&s);
		return rc;
	}
	*out = s;
	return 0;
}

void stls_db_src_fini(struct stls_db_src *src)
{
	if (!src) {
		return;
	}
	if (src->target) {
		/* A URI may carry a password. */
		explicit_bzero(src->target, strlen(src->target));
	}
	free(src->target);
	free(src->table);
	free(src->shown);
	memset(src, 0, sizeof(*src));
}

const char *stls__db_channel(const char *table, char *buf, size_t len)
{
	snprintf(buf, len, "siptls_%s", table);
	return buf;
}

char *stls__db_tkeys_name(const char *table)
{
	char *s = NULL;

	if (strcmp(table, STLS_DB_TABLE_DEFAULT) == 0) {
		return strdup("tlskeys");
	}
	return asprintf(&s, "%s_keys", table) < 0 ? NULL : s;
}
