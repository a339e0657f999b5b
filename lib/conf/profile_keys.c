/*
 * The keys of a [server:...] / [client:...] profile, with Kamailio's
 * aliases (behaviour study section 3.3) and siptls's additions
 * (cipher_suites, verify_server_name, verify_wildcard, groups,
 * ocsp_stapling, verify_ocsp, crl_refresh). One table: key,
 * alias, kind, the bound field (offsetof, type-checked with _Generic) and
 * the field whose location is recorded for build-time errors.
 */
#include "conf_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum pk_kind { PK_INT, PK_BOOL, PK_ENUM, PK_STR, PK_PATH, PK_STAPLE };

struct pkey {
	const char *name;
	const char *alias;
	enum pk_kind kind;
	size_t off;
	enum stls_pf pf;
	int min, max;
	const char *const *names; /* PK_ENUM */
};

#define PF_FIELD(f, ctype)                                   \
	(offsetof(struct stls_profile_conf, f) +             \
	 0 * sizeof(_Generic(((struct stls_profile_conf *)0)->f, ctype: 1)))

#define K_INT(n, a, f, pf, lo, hi) \
	{ n, a, PK_INT, PF_FIELD(f, int), pf, lo, hi, NULL }
#define K_BOOL(n, a, f, pf) \
	{ n, a, PK_BOOL, PF_FIELD(f, int), pf, 0, 1, NULL }
#define K_ENUM(n, a, f, pf, names, cnt) \
	{ n, a, PK_ENUM, PF_FIELD(f, int), pf, 0, (cnt) - 1, names }
#define K_STR(n, a, f, pf) \
	{ n, a, PK_STR, PF_FIELD(f, char *), pf, 0, 0, NULL }
#define K_PATH(n, a, f, pf) \
	{ n, a, PK_PATH, PF_FIELD(f, char *), pf, 0, 0, NULL }

static const struct pkey keys[] = {
	K_ENUM("method", "tls_method", method, STLS_PF_METHOD,
	       stls_method_names, STLS_METHOD__COUNT),
	K_BOOL("verify_certificate", "verify_cert", verify_certificate,
	       STLS_PF_VERIFY_CERTIFICATE),
	K_BOOL("require_certificate", "require_cert", require_certificate,
	       STLS_PF_REQUIRE_CERTIFICATE),
	/* Kamailio takes any depth in tls.cfg: so do we (with a warning
	 * above 100, the runtime range of its cfg variable). */
	K_INT("verify_depth", NULL, verify_depth, STLS_PF_VERIFY_DEPTH, 0,
	      INT_MAX),
	K_ENUM("verify_client", NULL, verify_client, STLS_PF_VERIFY_CLIENT,
	       stls_verify_client_names, STLS_VC__COUNT),
	K_BOOL("verify_server_name", NULL, verify_server_name,
	       STLS_PF_VERIFY_SERVER_NAME),
	K_BOOL("verify_wildcard", NULL, verify_wildcard,
	       STLS_PF_VERIFY_WILDCARD),
	K_PATH("certificate", "cert_file", certificate, STLS_PF_CERTIFICATE),
	K_PATH("private_key", "pkey_file", private_key, STLS_PF_PRIVATE_KEY),
	K_STR("private_key_password", "pkey_password", private_key_password,
	      STLS_PF_PRIVATE_KEY_PASSWORD),
	K_PATH("certificate2", "cert_file2", certificate2,
	       STLS_PF_CERTIFICATE2),
	K_PATH("private_key2", "pkey_file2", private_key2,
	       STLS_PF_PRIVATE_KEY2),
	K_STR("private_key_password2", "pkey_password2", private_key_password2,
	      STLS_PF_PRIVATE_KEY_PASSWORD2),
	K_PATH("ca_list", "calist_file", ca_list, STLS_PF_CA_LIST),
	K_PATH("ca_path", NULL, ca_path, STLS_PF_CA_PATH),
	K_PATH("crl", NULL, crl, STLS_PF_CRL),
	K_STR("cipher_list", NULL, cipher_list, STLS_PF_CIPHER_LIST),
	K_STR("cipher_suites", NULL, cipher_suites, STLS_PF_CIPHER_SUITES),
	K_STR("server_name", NULL, server_name, STLS_PF_SERVER_NAME),
	K_INT("server_name_mode", NULL, server_name_mode,
	      STLS_PF_SERVER_NAME_MODE, INT_MIN, INT_MAX),
	K_STR("server_id", NULL, server_id, STLS_PF_SERVER_ID),
	K_STR("groups", NULL, groups, STLS_PF_GROUPS),
	{ "ocsp_stapling", NULL, PK_STAPLE, PF_FIELD(ocsp_stapling, char *),
	  STLS_PF_OCSP_STAPLING, 0, 0, NULL },
	K_ENUM("verify_ocsp", NULL, verify_ocsp, STLS_PF_VERIFY_OCSP,
	       stls_verify_ocsp_names, STLS_VOCSP__COUNT),
	K_BOOL("crl_refresh", NULL, crl_refresh, STLS_PF_CRL_REFRESH),
};

static const struct pkey *find_key(const char *key)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(keys); i++) {
		if (strcasecmp(key, keys[i].name) == 0 ||
		    (keys[i].alias && strcasecmp(key, keys[i].alias) == 0)) {
			return &keys[i];
		}
	}
	return NULL;
}

static int set_num(struct stls_profile_conf *p, const struct pkey *k,
		   const char *key, const char *value, const char *file,
		   int line, struct stls_diag *diag)
{
	int v;

	if (k->kind == PK_ENUM) {
		v = stls__conf_enum_find(k->names, k->max + 1, value);
		if (v < 0) {
			stls_diag_err(diag, file, line,
				      "unsupported enum value '%s' for %s",
				      value, key);
			return -EINVAL;
		}
	} else if (k->kind == PK_BOOL) {
		if (stls__conf_parse_bool(value, &v)) {
			stls_diag_err(diag, file, line,
				      "%s: invalid boolean value '%s'", key,
				      value);
			return -EINVAL;
		}
	} else if (stls__conf_parse_int(value, &v)) {
		stls_diag_err(diag, file, line,
			      "%s: invalid integer value '%s'", key, value);
		return -EINVAL;
	} else if (v < k->min || v > k->max) {
		stls_diag_err(diag, file, line,
			      "%s: value %d out of range %d..%d", key, v,
			      k->min, k->max);
		return -ERANGE;
	}
	if (k->pf == STLS_PF_VERIFY_DEPTH && v > 100) {
		stls_diag_warn(diag, file, line,
			       "%s: %d is an unusually deep chain (more than "
			       "100)", key, v);
	}
	if (k->pf == STLS_PF_SERVER_NAME_MODE && v != 1 && v != 2 && v != 0) {
		stls_diag_warn(diag, file, line,
			       "%s: value %d means 0 (exact match)", key, v);
		v = 0;
	}
	*(int *)(void *)((char *)p + k->off) = v;
	return 0;
}

static int set_str(struct stls_profile_conf *p, const struct pkey *k,
		   const char *value, const char *base_dir)
{
	char **f = (char **)(void *)((char *)p + k->off);
	char *copy;

	if (k->kind == PK_PATH) {
		if (stls__conf_path_resolve(base_dir, value, &copy)) {
			return -ENOMEM;
		}
	} else if (k->kind == PK_STAPLE) {
		int err = stls__conf_staple_norm(base_dir, value, &copy);

		if (err) {
			return err;
		}
	} else if (!(copy = strdup(value))) {
		return -ENOMEM;
	}
	if (*f && (k->pf == STLS_PF_PRIVATE_KEY_PASSWORD ||
		   k->pf == STLS_PF_PRIVATE_KEY_PASSWORD2)) {
		explicit_bzero(*f, strlen(*f));
	}
	free(*f);
	*f = copy;
	p->pem_inline &= ~(1u << k->pf);
	return 0;
}

int stls__profile_set(struct stls_profile_conf *p, const char *key,
		      const char *value, const char *base_dir,
		      const char *file, int line, struct stls_diag *diag)
{
	const struct pkey *k = find_key(key);

	if (!k) {
		stls_diag_err(diag, file, line, "unsupported option '%s'", key);
		return 0;
	}
	if (k->kind == PK_STR || k->kind == PK_PATH || k->kind == PK_STAPLE) {
		int err = set_str(p, k, value, base_dir);

		if (err == -EINVAL) {
			stls_diag_err(diag, file, line, "%s: '%s' is not off, "
				      "on or file:PATH", key, value);
			return 0;
		}
		if (err) {
			return -ENOMEM;
		}
	} else if (set_num(p, k, key, value, file, line, diag)) {
		return 0;
	}
	p->field_loc[k->pf].file = file;
	p->field_loc[k->pf].line = line;
	return 0;
}

/* The keys whose value may be PEM text (a row with file_type = 1). */
static bool key_takes_pem(enum stls_pf pf)
{
	return pf == STLS_PF_CERTIFICATE || pf == STLS_PF_PRIVATE_KEY ||
	       pf == STLS_PF_CERTIFICATE2 || pf == STLS_PF_PRIVATE_KEY2 ||
	       pf == STLS_PF_CA_LIST || pf == STLS_PF_CRL;
}

static const enum stls_pkey_kind pub_kinds[] = {
	[PK_INT] = STLS_PKEY_INT,   [PK_BOOL] = STLS_PKEY_BOOL,
	[PK_ENUM] = STLS_PKEY_ENUM, [PK_STR] = STLS_PKEY_STR,
	[PK_PATH] = STLS_PKEY_PATH,
	/* "off", "on" or "file:PATH": text to a table, checked on load. */
	[PK_STAPLE] = STLS_PKEY_STR,
};

size_t stls_profile_key_count(void)
{
	return STLS_ARRAY_SIZE(keys);
}

bool stls_profile_key_at(size_t i, struct stls_pkey_info *out)
{
	const struct pkey *k;

	if (i >= STLS_ARRAY_SIZE(keys)) {
		return false;
	}
	k = &keys[i];
	out->name = k->name;
	out->kind = pub_kinds[k->kind];
	out->field = k->pf;
	out->pem = key_takes_pem(k->pf);
	out->secret = k->pf == STLS_PF_PRIVATE_KEY_PASSWORD ||
		      k->pf == STLS_PF_PRIVATE_KEY_PASSWORD2;
	return true;
}

int stls_profile_key_find(const char *name)
{
	const struct pkey *k = find_key(name);

	return k ? (int)(k - keys) : -1;
}

const char *stls_profile_key_format(const struct stls_profile_conf *p,
				    size_t i, char *buf, size_t len)
{
	const struct pkey *k;
	int v;

	if (i >= STLS_ARRAY_SIZE(keys)) {
		return NULL;
	}
	k = &keys[i];
	if (k->kind == PK_STR || k->kind == PK_PATH || k->kind == PK_STAPLE) {
		return *(char *const *)(const void *)((const char *)p + k->off);
	}
	v = *(const int *)(const void *)((const char *)p + k->off);
	if (v < 0) {
		return NULL; /* unset: no key stores a negative value */
	}
	if (k->kind == PK_ENUM && v <= k->max) {
		snprintf(buf, len, "%s", k->names[v]);
	} else {
		snprintf(buf, len, "%d", v);
	}
	return buf;
}

int stls__profile_set_pem(struct stls_profile_conf *p, const char *key,
			  const char *pem, const char *file, int line,
			  struct stls_diag *diag)
{
	const struct pkey *k = find_key(key);
	char **f, *copy;

	if (!k) {
		stls_diag_err(diag, file, line, "unsupported option '%s'", key);
		return 0;
	}
	if (!key_takes_pem(k->pf)) {
		stls_diag_err(diag, file, line,
			      "%s: cannot hold PEM text (only certificate, "
			      "private_key, certificate2, private_key2, "
			      "ca_list and crl can)", k->name);
		return 0;
	}
	copy = strdup(pem);
	if (!copy) {
		return -ENOMEM;
	}
	f = (char **)(void *)((char *)p + k->off);
	free(*f);
	*f = copy;
	p->pem_inline |= 1u << k->pf;
	p->field_loc[k->pf].file = file;
	p->field_loc[k->pf].line = line;
	return 0;
}
