/*
 * engine_config (seed 10.36): an OpenSSL configuration file that sets the
 * engine up, typically with the token's PIN (see hsm_int.h).
 *
 * The seed's example starts with "kamailio = openssl_init": the key names
 * the section OpenSSL applies for the application. siptls looks for
 * "siptls = SECTION" first, then "kamailio = SECTION" (so that the seed's
 * file works unchanged), then OpenSSL's own "openssl_conf = SECTION".
 * The file is parsed here first (NCONF) so that a syntax error, a file
 * that cannot be read and a PIN that others may read are each reported on
 * their own, before OpenSSL applies it (CONF_modules_load).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/conf.h>
#include <openssl/err.h>

#include "hsm/hsm_int.h"

static const char *const app_names[] = { "siptls", "kamailio" };

static void report(struct stls_diag *d, enum stls_diag_level lvl,
		   const struct stls_loc *loc, const char *fmt, ...)
	STLS_PRINTF(4, 5);

static void report(struct stls_diag *d, enum stls_diag_level lvl,
		   const struct stls_loc *loc, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stls_diag_add(d, lvl, loc && loc->line ? loc->file : NULL,
		      loc ? loc->line : 0, "engine_config: %s", msg);
}

/* A name or value that carries a secret: the seed's PIN, a password. */
static bool is_secret(const CONF_VALUE *v)
{
	if (!v->name || !v->value) {
		return false;
	}
	return strcasecmp(v->name, "PIN") == 0 ||
	       strcasestr(v->name, "pass") != NULL ||
	       strcasestr(v->value, "password=") != NULL ||
	       strcasestr(v->value, "pin-value=") != NULL;
}

static bool has_secret(const CONF *conf)
{
	STACK_OF(OPENSSL_CSTRING) *names = NCONF_get_section_names(conf);
	bool found = false;
	int i, j;

	for (i = 0; names && !found && i < sk_OPENSSL_CSTRING_num(names);
	     i++) {
		const char *sec = sk_OPENSSL_CSTRING_value(names, i);
		STACK_OF(CONF_VALUE) *vals = NCONF_get_section(conf, sec);

		for (j = 0; vals && j < sk_CONF_VALUE_num(vals); j++) {
			found |= is_secret(sk_CONF_VALUE_value(vals, j));
		}
	}
	sk_OPENSSL_CSTRING_free(names);
	return found;
}

/* Returns the application name to apply, or NULL for "openssl_conf". */
static const char *pick_app(const CONF *conf)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(app_names); i++) {
		if (NCONF_get_string(conf, NULL, app_names[i])) {
			return app_names[i];
		}
	}
	ERR_clear_error();
	return NULL;
}

/* A value of <sec> (NULL: the unnamed top section), or NULL, without
 * leaving an error behind. */
static const char *get(const CONF *conf, const char *sec, const char *key)
{
	const char *v = NCONF_get_string(conf, sec, key);

	ERR_clear_error();
	return v;
}

/* MODULE_PATH of <engine>'s section, found through the app section. */
static void module_path(const CONF *conf, const char *app,
			const char *engine, char *out, size_t len)
{
	const char *top = get(conf, NULL, app ? app : "openssl_conf");
	const char *list = top ? get(conf, top, "engines") : NULL;
	STACK_OF(CONF_VALUE) *v = list ? NCONF_get_section(conf, list) : NULL;
	int i;

	out[0] = '\0';
	for (i = 0; engine && v && i < sk_CONF_VALUE_num(v); i++) {
		const CONF_VALUE *e = sk_CONF_VALUE_value(v, i);
		const char *id = e->value ? get(conf, e->value, "engine_id")
					  : NULL;
		const char *mp;

		if (!e->value || strcmp(id ? id : e->name, engine) != 0) {
			continue;
		}
		mp = get(conf, e->value, "MODULE_PATH");
		snprintf(out, len, "%s", mp ? mp : "");
		return;
	}
}

static void warn_readable(const CONF *conf, const char *path,
			  const struct stat *st, const struct stls_loc *loc,
			  struct stls_diag *diag)
{
	if (!(st->st_mode & (S_IRGRP | S_IROTH)) || !has_secret(conf)) {
		return;
	}
	report(diag, STLS_DIAG_WARNING, loc,
	       "'%s' holds a PIN or password and is readable by group or "
	       "others (mode %04o): chmod 600 it, owned by the user siptlsd "
	       "runs as", path, (unsigned int)(st->st_mode & 07777));
}

static int apply(CONF *conf, const char *path, const struct stls_loc *loc,
		 struct stls_diag *diag)
{
	const char *app = pick_app(conf);
	enum stls_hsm_cause cause;
	char why[256];

	if (!app && !get(conf, NULL, "openssl_conf")) {
		report(diag, STLS_DIAG_WARNING, loc,
		       "'%s' has no 'siptls = SECTION' line (nor "
		       "'kamailio =' or 'openssl_conf ='): nothing in it "
		       "applies", path);
		return 0;
	}
	ERR_clear_error();
	if (CONF_modules_load(conf, app, 0) > 0) {
		return 0;
	}
	cause = stls__hsm_cause_drain(STLS_HSM_CONFIG_INVALID, why,
				      sizeof(why));
	report(diag, STLS_DIAG_ERROR, loc, "%s: OpenSSL cannot apply '%s': %s",
	       stls_hsm_cause_names[cause], path, why);
	return -EINVAL;
}

int stls__hsm_conf_apply(const char *path, const char *engine,
			 const struct stls_loc *loc, struct stls_diag *diag,
			 char *module, size_t len)
{
	CONF *conf = NULL;
	struct stat st;
	long line = 0;
	char why[256];
	int rc = -EINVAL;

	module[0] = '\0';
	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		rc = -errno;
		report(diag, STLS_DIAG_ERROR, loc, "%s: cannot read '%s': %s",
		       stls_hsm_cause_names[STLS_HSM_CONFIG_UNREADABLE], path,
		       strerror(-rc));
		return rc;
	}
	conf = NCONF_new(NULL);
	if (!conf) {
		return -ENOMEM;
	}
	ERR_clear_error();
	if (NCONF_load(conf, path, &line) <= 0) {
		(void)stls__hsm_cause_drain(STLS_HSM_CONFIG_INVALID, why,
					    sizeof(why));
		report(diag, STLS_DIAG_ERROR, loc, "%s: '%s' line %ld: %s",
		       stls_hsm_cause_names[STLS_HSM_CONFIG_INVALID], path,
		       line, why);
		goto out;
	}
	warn_readable(conf, path, &st, loc, diag);
	rc = apply(conf, path, loc, diag);
	if (!rc) {
		module_path(conf, pick_app(conf), engine, module, len);
	}
out:
	NCONF_free(conf);
	return rc;
}
