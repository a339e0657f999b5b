/*
 * Values of the settings table: parsing and range checks (the [tls]
 * section and cfg.set), warnings for obsolete and no-effect parameters,
 * atomic runtime access and formatting for tls.options / cfg.get.
 */
#include "conf_int.h"
#include "stls/p11uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int *int_field(struct stls_settings *s,
		      const struct stls_setting_desc *d)
{
	return (int *)(void *)((char *)s + d->offset);
}

static char **str_field(struct stls_settings *s,
			const struct stls_setting_desc *d)
{
	return (char **)(void *)((char *)s + d->offset);
}

static bool is_str(const struct stls_setting_desc *d)
{
	return d->kind == STLS_SK_STR || d->kind == STLS_SK_PATH;
}

/* Range check of an int value; ssl_max_send_fragment has a hole. */
static int check_range(const struct stls_setting_desc *d, int v, char *err,
		       size_t errlen)
{
	if (strcmp(d->name, "ssl_max_send_fragment") == 0) {
		if (v == -1 || (v >= 512 && v <= 16384)) {
			return 0;
		}
		snprintf(err, errlen,
			 "%s: value %d out of range (-1 or 512..16384)",
			 d->name, v);
		return -ERANGE;
	}
	if (v < d->min || v > d->max) {
		snprintf(err, errlen, "%s: value %d out of range %d..%d",
			 d->name, v, d->min, d->max);
		return -ERANGE;
	}
	return 0;
}

/* Parses value for an INT/BOOL/ENUM entry into *out. */
static int parse_num(const struct stls_setting_desc *d, const char *value,
		     int *out, char *err, size_t errlen)
{
	int v, rc;

	switch (d->kind) {
	case STLS_SK_ENUM:
		v = stls__conf_enum_find(d->enum_names, d->max + 1, value);
		if (v < 0) {
			snprintf(err, errlen,
				 "unsupported enum value '%s' for %s", value,
				 d->name);
			return -EINVAL;
		}
		*out = v;
		return 0;
	case STLS_SK_BOOL:
		if (stls__conf_parse_bool(value, out) == 0) {
			return 0;
		}
		/* As a module parameter any integer works (non-zero = 1). */
		if (stls__conf_parse_int(value, &v) == 0) {
			*out = v != 0;
			return 0;
		}
		snprintf(err, errlen, "%s: invalid boolean value '%s'", d->name,
			 value);
		return -EINVAL;
	default:
		rc = stls__conf_parse_int(value, &v);
		if (rc == -ERANGE) {
			snprintf(err, errlen, "%s: value '%s' out of range",
				 d->name, value);
			return rc;
		}
		if (rc) {
			snprintf(err, errlen, "%s: invalid integer value '%s'",
				 d->name, value);
			return rc;
		}
		rc = check_range(d, v, err, errlen);
		if (rc == 0) {
			*out = v;
		}
		return rc;
	}
}

int stls_settings_set_str(struct stls_settings *s,
			  const struct stls_setting_desc *d, const char *value,
			  const char *base_dir, char *err, size_t errlen)
{
	char *copy = NULL;
	char **f;
	int v, rc;

	if (!is_str(d)) {
		rc = parse_num(d, value, &v, err, errlen);
		if (rc == 0) {
			__atomic_store_n(int_field(s, d), v, __ATOMIC_RELAXED);
		}
		return rc;
	}
	if (d->flags & STLS_SF_SOURCE) {
		rc = stls__conf_src_resolve(base_dir, value, &copy);
	} else if (d->kind == STLS_SK_PATH) {
		rc = stls__conf_path_resolve(base_dir, value, &copy);
	} else {
		copy = strdup(value);
		rc = copy ? 0 : -ENOMEM;
	}
	if (rc) {
		snprintf(err, errlen, "%s: out of memory", d->name);
		return rc;
	}
	f = str_field(s, d);
	if (*f && (d->flags & STLS_SF_SENSITIVE)) {
		explicit_bzero(*f, strlen(*f));
	}
	free(*f);
	*f = copy;
	return 0;
}

const char *stls_setting_warning(const struct stls_settings *s,
				 const struct stls_setting_desc *d)
{
	struct stls_settings *m = (struct stls_settings *)s;

	if (d->flags & (STLS_SF_OBSOLETE | STLS_SF_NO_EFFECT)) {
		if (strcmp(d->name, "send_timeout") == 0) {
			return "obsolete, use [core] send_timeout";
		}
		if (strcmp(d->name, "handshake_timeout") == 0) {
			return "obsolete, use [core] handshake_timeout";
		}
		return d->note;
	}
	if (strcmp(d->name, "tls_disable_compression") == 0 &&
	    *int_field(m, d) == 0) {
		return "compression stays off: OpenSSL 3 on Debian is built "
		       "without TLS compression (and it enables the CRIME "
		       "attack)";
	}
	return NULL;
}

int stls_settings_get_int(const struct stls_settings *s,
			  const struct stls_setting_desc *d)
{
	if (is_str(d)) {
		return 0;
	}
	return __atomic_load_n((const int *)(const void *)((const char *)s +
							   d->offset),
			       __ATOMIC_RELAXED);
}

int stls_settings_set_runtime(struct stls_settings *s,
			      const struct stls_setting_desc *d,
			      const char *sval, int ival, const char *base_dir,
			      char *err, size_t errlen)
{
	char num[STLS_SETTING_INT_STRLEN];

	if (!(d->flags & STLS_SF_RUNTIME)) {
		snprintf(err, errlen,
			 "%s cannot be changed at runtime: %s", d->name,
			 (d->flags & STLS_SF_PROFILE) ?
				 "set it in the profiles and run tls.reload" :
				 "change [tls] and restart");
		return -EPERM;
	}
	if (!sval) {
		if (is_str(d)) {
			snprintf(err, errlen, "%s is a string", d->name);
			return -EINVAL;
		}
		snprintf(num, sizeof(num), "%d", ival);
		sval = num;
	}
	return stls_settings_set_str(s, d, sval, base_dir, err, errlen);
}

/* `config` with any password hidden. */
static int format_source(const char *str, char *buf, size_t len)
{
	size_t cap = strlen(str) + 16; /* "***" may be longer than "pw" */
	char *tmp = malloc(cap);
	int n;

	if (!tmp) {
		return -ENOMEM;
	}
	n = snprintf(buf, len, "%s", stls_conf_src_redact(str, tmp, cap));
	free(tmp);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : n;
}

int stls_settings_format(const struct stls_settings *s,
			 const struct stls_setting_desc *d, char *buf,
			 size_t len)
{
	struct stls_settings *m = (struct stls_settings *)s;
	const char *str;
	int v, n;

	if (is_str(d)) {
		str = *str_field(m, d);
		if (!str) {
			str = "";
		} else if (d->flags & STLS_SF_SENSITIVE) {
			str = "...";
		}
		if (d->flags & STLS_SF_SOURCE) {
			return format_source(str, buf, len);
		}
		/* A key id may carry a PIN (RFC 7512 pin-value): never
		 * shown. */
		n = strcasestr(str, "pin-value=") && len ?
			(int)strlen(stls_p11uri_redact(str, buf, len)) :
			snprintf(buf, len, "%s", str);
	} else {
		v = stls_settings_get_int(s, d);
		if (d->kind == STLS_SK_ENUM && v >= 0 && v <= d->max) {
			n = snprintf(buf, len, "%s", d->enum_names[v]);
		} else {
			n = snprintf(buf, len, "%d", v);
		}
	}
	if (n < 0 || (size_t)n >= len) {
		return -ENOBUFS;
	}
	return n;
}
