/*
 * Profile records after parsing: creation, copy, names, the compiled-in
 * template that fills unset fields, and the implicit or parameter-made
 * default profiles (docs/config.md, "Defaults"; duplicates are found in
 * profile_dups.c). Templates, not [*:default] sections, fill the gaps, as in
 * the seed and Kamailio.
 */
#include "conf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every string field, for copy and free. */
#define STR_FIELDS(X)                                                        \
	X(certificate) X(private_key) X(private_key_password) X(certificate2) \
	X(private_key2) X(private_key_password2) X(ca_list) X(ca_path) X(crl) \
	X(cipher_list) X(cipher_suites) X(server_name) X(server_id) X(groups) \
	X(ocsp_stapling)

struct stls_profile_conf *stls__profile_new(enum stls_role role,
					    struct stls__names *names)
{
	struct stls_profile_conf *p = calloc(1, sizeof(*p));

	if (!p) {
		return NULL;
	}
	p->role = role;
	p->kind = STLS_PROF_DEFAULT;
	p->method = STLS_METHOD_UNSET;
	p->verify_certificate = -1;
	p->require_certificate = -1;
	p->verify_depth = -1;
	p->verify_client = STLS_VC_UNSET;
	p->verify_server_name = -1;
	p->verify_wildcard = -1;
	p->server_name_mode = -1;
	p->verify_ocsp = STLS_VOCSP_UNSET;
	p->crl_refresh = -1;
	p->names = stls__names_ref(names);
	return p;
}

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
	}
}

static void profile_free(struct stls_profile_conf *p)
{
	wipe(p->private_key_password);
	wipe(p->private_key_password2);
	if (stls_profile_conf_is_pem(p, STLS_PF_PRIVATE_KEY)) {
		wipe(p->private_key);
	}
	if (stls_profile_conf_is_pem(p, STLS_PF_PRIVATE_KEY2)) {
		wipe(p->private_key2);
	}
#define FREE_FIELD(f) free(p->f);
	STR_FIELDS(FREE_FIELD)
#undef FREE_FIELD
	stls__names_unref(p->names);
	free(p);
}

void stls_profile_conf_list_free(struct stls_profile_conf *list)
{
	while (list) {
		struct stls_profile_conf *next = list->next;

		profile_free(list);
		list = next;
	}
}

int stls_profile_conf_dup(const struct stls_profile_conf *p,
			  struct stls_profile_conf **out)
{
	struct stls_profile_conf *c = malloc(sizeof(*c));
	bool oom = false;

	if (!c) {
		return -ENOMEM;
	}
	memcpy(c, p, sizeof(*c));
	c->next = NULL;
#define DUP_FIELD(f)                                     \
	if (p->f && !(c->f = strdup(p->f))) {            \
		oom = true;                              \
	}
	STR_FIELDS(DUP_FIELD)
#undef DUP_FIELD
	stls__names_ref(c->names);
	if (oom) {
		/* Fields not copied are NULL or point into p: redo safely. */
#define CLEAR_FIELD(f) if (c->f == p->f) { c->f = NULL; }
		STR_FIELDS(CLEAR_FIELD)
#undef CLEAR_FIELD
		profile_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

const char *stls_profile_conf_name(const struct stls_profile_conf *p,
				   char *buf, size_t len)
{
	char ip[STLS_ADDR_STRLEN];
	char role = p->role == STLS_ROLE_SERVER ? 's' : 'c';

	switch (p->kind) {
	case STLS_PROF_DEFAULT:
		snprintf(buf, len, "TLS%c<default>", role);
		break;
	case STLS_PROF_ANY:
		snprintf(buf, len, "TLS%c<any:%s>", role,
			 p->server_name ? p->server_name : "");
		break;
	default:
		snprintf(buf, len, "TLS%c<%s:%u>", role,
			 stls_addr_str(&p->addr, false, ip), p->addr.port);
		break;
	}
	return buf;
}

const char *stls_profile_conf_header(const struct stls_profile_conf *p,
				     char *buf, size_t len)
{
	char ip[STLS_ADDR_STRLEN];
	const char *role = p->role == STLS_ROLE_SERVER ? "server" : "client";

	if (p->kind == STLS_PROF_DEFAULT) {
		snprintf(buf, len, "[%s:default]", role);
	} else if (p->kind == STLS_PROF_ANY) {
		snprintf(buf, len, "[%s:any]", role);
	} else {
		snprintf(buf, len, "[%s:%s]", role,
			 stls_addr_str(&p->addr, true, ip));
	}
	return buf;
}

static void fill_int(int *f, int v)
{
	if (*f < 0) {
		*f = v;
	}
}

int stls__profile_fill(struct stls_profile_conf *p, const char *base_dir)
{
	fill_int(&p->method, STLS_METHOD_TLSV1_2_PLUS);
	fill_int(&p->verify_certificate, 0);
	fill_int(&p->require_certificate, 0);
	fill_int(&p->verify_depth, 9);
	fill_int(&p->verify_client, STLS_VC_OFF);
	fill_int(&p->server_name_mode, 0);
	fill_int(&p->verify_wildcard, 0);
	fill_int(&p->verify_server_name, p->verify_certificate);
	fill_int(&p->verify_ocsp, STLS_VOCSP_OFF);
	fill_int(&p->crl_refresh, 0);
	if (p->role != STLS_ROLE_SERVER) {
		return 0;
	}
	if (!p->certificate &&
	    stls__conf_path_resolve(base_dir, "cert.pem", &p->certificate)) {
		return -ENOMEM;
	}
	if (!p->private_key &&
	    stls__conf_path_resolve(base_dir, "cert.pem", &p->private_key)) {
		return -ENOMEM;
	}
	return 0;
}

static int add_default(struct stls_profile_conf **list, enum stls_role role,
		       const char *base_dir, struct stls__names *names)
{
	struct stls_profile_conf **tail = list, *p;

	for (p = *list; p; p = p->next) {
		if (p->role == role && p->kind == STLS_PROF_DEFAULT) {
			return 0;
		}
		tail = &p->next;
	}
	p = stls__profile_new(role, names);
	if (!p) {
		return -ENOMEM;
	}
	p->implicit = true;
	*tail = p;
	return stls__profile_fill(p, base_dir);
}

int stls__profiles_add_implicit(struct stls_profile_conf **list,
				const char *base_dir, struct stls__names *names)
{
	int err = add_default(list, STLS_ROLE_SERVER, base_dir, names);

	return err ? err : add_default(list, STLS_ROLE_CLIENT, base_dir, names);
}

static int dup_str(char **dst, const char *src)
{
	if (src && !(*dst = strdup(src))) {
		return -ENOMEM;
	}
	return 0;
}

static int from_settings(struct stls_profile_conf *p,
			 const struct stls_settings *s, const char *base_dir)
{
	p->implicit = true;
	p->method = s->tls_method;
	p->verify_certificate = s->verify_certificate;
	p->require_certificate = s->require_certificate;
	p->verify_depth = s->verify_depth;
	p->verify_client = s->verify_client;
	p->verify_ocsp = s->verify_ocsp;
	p->crl_refresh = s->crl_refresh;
	/* A value that is no mode is kept as written: the build says so. */
	if (s->ocsp_stapling && *s->ocsp_stapling &&
	    stls__conf_staple_norm(base_dir, s->ocsp_stapling,
				   &p->ocsp_stapling) == -EINVAL &&
	    dup_str(&p->ocsp_stapling, s->ocsp_stapling)) {
		return -ENOMEM;
	}
	if (s->ocsp_stapling && *s->ocsp_stapling && !p->ocsp_stapling) {
		return -ENOMEM;
	}
	if (dup_str(&p->certificate, s->certificate) ||
	    dup_str(&p->private_key, s->private_key) ||
	    dup_str(&p->private_key_password, s->private_key_password) ||
	    dup_str(&p->ca_list, s->ca_list) || dup_str(&p->ca_path, s->ca_path) ||
	    dup_str(&p->crl, s->crl) ||
	    dup_str(&p->cipher_list, s->cipher_list) ||
	    dup_str(&p->cipher_suites, s->cipher_suites) ||
	    dup_str(&p->server_name, s->server_name) ||
	    dup_str(&p->groups, s->groups)) {
		return -ENOMEM;
	}
	/* The same certificate for both roles, as the seed does. */
	if (!p->certificate && stls__conf_path_resolve(base_dir, "cert.pem",
						       &p->certificate)) {
		return -ENOMEM;
	}
	if (!p->private_key && stls__conf_path_resolve(base_dir, "cert.pem",
						       &p->private_key)) {
		return -ENOMEM;
	}
	return stls__profile_fill(p, base_dir);
}

int stls__profiles_from_settings(const struct stls_settings *s,
				 const char *base_dir,
				 struct stls__names *names,
				 struct stls_profile_conf **list)
{
	struct stls_profile_conf *srv, *cli;

	srv = stls__profile_new(STLS_ROLE_SERVER, names);
	cli = stls__profile_new(STLS_ROLE_CLIENT, names);
	if (!srv || !cli || from_settings(srv, s, base_dir) ||
	    from_settings(cli, s, base_dir)) {
		stls_profile_conf_list_free(srv);
		stls_profile_conf_list_free(cli);
		return -ENOMEM;
	}
	srv->next = cli;
	*list = srv;
	return 0;
}
