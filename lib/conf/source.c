/*
 * What `config` names: a tls.cfg file or directory, or a database table of
 * profiles (docs/database.md): "sqlite:PATH" or a libpq URI
 * "postgresql://..." / "postgres://...". The configuration layer only
 * tells them apart, resolves a relative SQLite path like any other path,
 * and hides a password written in a URI whenever the value is shown; the
 * database itself is read by lib/db.
 */
#include "conf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char sqlite_prefix[] = "sqlite:";

enum stls_conf_src stls_conf_src_kind(const char *config)
{
	if (!config || !config[0]) {
		return STLS_CONF_SRC_NONE;
	}
	if (strncmp(config, sqlite_prefix, sizeof(sqlite_prefix) - 1) == 0) {
		return STLS_CONF_SRC_SQLITE;
	}
	if (strncmp(config, "postgresql://", 13) == 0 ||
	    strncmp(config, "postgres://", 11) == 0) {
		return STLS_CONF_SRC_POSTGRESQL;
	}
	return STLS_CONF_SRC_FILE;
}

int stls__conf_src_resolve(const char *base_dir, const char *v, char **out)
{
	const char *path = v + sizeof(sqlite_prefix) - 1;
	char *resolved = NULL, *r = NULL;

	if (stls_conf_src_kind(v) == STLS_CONF_SRC_POSTGRESQL) {
		r = strdup(v);
		goto out;
	}
	if (stls_conf_src_kind(v) != STLS_CONF_SRC_SQLITE) {
		return stls__conf_path_resolve(base_dir, v, out);
	}
	if (stls__conf_path_resolve(base_dir, path, &resolved)) {
		return -ENOMEM;
	}
	if (asprintf(&r, "%s%s", sqlite_prefix, resolved) < 0) {
		r = NULL;
	}
	free(resolved);
out:
	if (!r) {
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

/* Appends n bytes of s to buf[*used..len), always NUL-terminated. */
static void put(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
	if (*used + 1 >= len) {
		return;
	}
	if (n > len - 1 - *used) {
		n = len - 1 - *used;
	}
	memcpy(buf + *used, s, n);
	*used += n;
	buf[*used] = '\0';
}

/* Copies the query string q ("a=b&c=d"), hiding each password value. */
static void redact_query(char *buf, size_t len, size_t *used, const char *q)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);

		if (eq && (size_t)(eq - q) == 8 &&
		    strncasecmp(q, "password", 8) == 0) {
			put(buf, len, used, "password=***", 12);
		} else {
			put(buf, len, used, q, n);
		}
		q += n;
		if (*q == '&') {
			put(buf, len, used, "&", 1);
			q++;
		}
	}
}

const char *stls_conf_src_redact(const char *config, char *buf, size_t len)
{
	const char *auth, *end, *at = NULL, *colon, *p;
	size_t used = 0;

	if (len == 0) {
		return buf;
	}
	buf[0] = '\0';
	if (!config) {
		return buf;
	}
	if (stls_conf_src_kind(config) != STLS_CONF_SRC_POSTGRESQL) {
		put(buf, len, &used, config, strlen(config));
		return buf;
	}
	auth = strstr(config, "://") + 3;
	end = auth + strcspn(auth, "/?");
	for (p = auth; p < end; p++) {
		if (*p == '@') {
			at = p;
		}
	}
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		put(buf, len, &used, config, (size_t)(colon - config));
		put(buf, len, &used, ":***", 4);
		p = at;
	} else {
		p = config;
	}
	end = strchr(p, '?');
	if (!end) {
		put(buf, len, &used, p, strlen(p));
		return buf;
	}
	put(buf, len, &used, p, (size_t)(end - p) + 1);
	redact_query(buf, len, &used, end + 1);
	return buf;
}
