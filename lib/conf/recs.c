/*
 * Profiles from records (include/stls/conf.h, "Profiles from records"):
 * what a database row gives, made with the tls.cfg parser's own pieces
 * (the header words and targets of target.c, the key table of
 * profile_keys.c, the completion of load.c), so that a row and the
 * equivalent tls.cfg section cannot mean different things.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stls_conf_recs {
	char *base_dir;
	struct stls__names *names;
	struct stls_profile_conf *head, **tail;
	struct stls_profile_conf *cur; /* NULL after a bad header */
	size_t errors0;                /* diag errors when counting began */
	bool counting;
};

int stls_conf_recs_new(const char *base_dir, struct stls_conf_recs **out)
{
	struct stls_conf_recs *r = calloc(1, sizeof(*r));

	if (!r) {
		return -ENOMEM;
	}
	r->names = stls__names_new();
	r->base_dir = strdup(base_dir ? base_dir : "");
	if (!r->names || !r->base_dir) {
		stls_conf_recs_free(r);
		return -ENOMEM;
	}
	r->tail = &r->head;
	*out = r;
	return 0;
}

void stls_conf_recs_free(struct stls_conf_recs *r)
{
	if (!r) {
		return;
	}
	stls_profile_conf_list_free(r->head);
	stls__names_unref(r->names);
	free(r->base_dir);
	free(r);
}

/* The first error reported through r marks where its errors start. */
static void start_count(struct stls_conf_recs *r, struct stls_diag *diag)
{
	if (!r->counting) {
		r->errors0 = diag->errors;
		r->counting = true;
	}
}

/* A copy of s without white space (as header tokens are joined). */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out) {
		return NULL;
	}
	for (; *s; s++) {
		if (!isspace((unsigned char)*s)) {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static int parse_hdr(struct stls_conf_recs *r,
		     const struct stls_conf_rec_hdr *h,
		     struct stls_profile_conf **out, struct stls_diag *diag)
{
	const char *at = stls__names_add(r->names, h->at);
	const char *type_at = stls__names_add(r->names, h->type_at);
	const char *name_at = stls__names_add(r->names, h->name_at);
	char *type = squeeze(h->type), *name = squeeze(h->name);
	struct stls_profile_conf *p = NULL;
	enum stls_role role;
	int err = -ENOMEM;

	if (!at || !type_at || !name_at || !type || !name) {
		goto out;
	}
	err = -EINVAL;
	if (stls__conf_parse_role(type, &role) != 0) {
		stls_diag_err(diag, type_at, 0,
			      "invalid profile type '%s' (server or client "
			      "expected)", type);
		goto out;
	}
	p = stls__profile_new(role, r->names);
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	p->loc.file = at;
	if (!stls__conf_parse_target(p, name, diag, name_at, 0)) {
		stls_profile_conf_list_free(p);
		p = NULL;
		goto out;
	}
	*out = p;
	err = 0;
out:
	free(type);
	free(name);
	return err;
}

int stls_conf_recs_push(struct stls_conf_recs *r,
			const struct stls_conf_rec_hdr *h,
			struct stls_diag *diag)
{
	struct stls_profile_conf *p = NULL;
	int err;

	start_count(r, diag);
	r->cur = NULL;
	err = parse_hdr(r, h, &p, diag);
	if (err) {
		return err;
	}
	*r->tail = p;
	r->tail = &p->next;
	r->cur = p;
	return 0;
}

static int apply(struct stls_conf_recs *r, const char *key, const char *value,
		 const char *at, bool pem, struct stls_diag *diag)
{
	const char *label;
	size_t before;
	int err;

	start_count(r, diag);
	if (!r->cur) {
		return -EINVAL; /* the header was reported */
	}
	label = stls__names_add(r->names, at);
	if (!label) {
		return -ENOMEM;
	}
	before = diag->errors;
	err = pem ? stls__profile_set_pem(r->cur, key, value, label, 0, diag)
		  : stls__profile_set(r->cur, key, value, r->base_dir, label,
				      0, diag);
	if (err) {
		return err;
	}
	return diag->errors > before ? -EINVAL : 0;
}

int stls_conf_recs_apply(struct stls_conf_recs *r, const char *key,
			 const char *value, const char *at,
			 struct stls_diag *diag)
{
	return apply(r, key, value, at, false, diag);
}

int stls_conf_recs_apply_pem(struct stls_conf_recs *r, const char *key,
			     const char *pem, const char *at,
			     struct stls_diag *diag)
{
	return apply(r, key, pem, at, true, diag);
}

int stls_conf_recs_build(struct stls_conf_recs *r,
			 const struct stls_conf *conf,
			 struct stls_profile_conf **list,
			 struct stls_diag *diag)
{
	struct stls_profile_conf *l = NULL, **tail = &l;
	int err = 0;

	start_count(r, diag);
	*list = NULL;
	if (conf) {
		err = stls__conf_copy_inline(conf, &tail);
	}
	*tail = r->head;
	r->head = NULL;
	r->tail = &r->head;
	r->cur = NULL;
	if (!err) {
		err = stls__conf_complete(&l, r->base_dir, r->names, true,
					  diag);
	}
	if (!err && diag->errors > r->errors0) {
		err = -EINVAL;
	}
	if (err) {
		stls_profile_conf_list_free(l);
		return err;
	}
	*list = l;
	return 0;
}
