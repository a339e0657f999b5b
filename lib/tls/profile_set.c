/*
 * Profile sets: build, reference counting, generation, listing.
 *
 * A set is built completely before anyone sees it, and never changes after:
 * each profile keeps a private copy of its configuration (so the parsed
 * config can be freed after the build) and its SSL_CTX. Readers share the
 * set through an atomic reference count; a reload publishes a new set and
 * drops the old one's reference, and the last connection still using the
 * old set frees it. The generation number tells sets apart in RPC replies
 * and logs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tls/profile_int.h"

static atomic_uint_fast64_t last_generation;

static bool str_eq(const void *val, const void *key)
{
	return strcmp(val, key) == 0;
}

/*
 * Keeps <str> alive as long as the set; returns the set's copy. With
 * <intern> (file names, shared by many profiles) equal strings share one
 * copy, found through set->files.
 */
static char *set_strdup(struct stls_profile_set *set, const char *str,
			bool intern, int *err)
{
	uint64_t h = 0;
	char *dup;

	if (!str || *err) {
		return NULL;
	}
	if (intern) {
		h = stls__hname(0, str, strlen(str));
		dup = stls__hmap_get(&set->files, h, str_eq, str);
		if (dup) {
			return dup;
		}
	}
	if (set->nstrs == set->capstrs) {
		size_t cap = set->capstrs ? set->capstrs * 2 : 32;
		char **v = realloc(set->strs, cap * sizeof(*v));

		if (!v) {
			*err = -ENOMEM;
			return NULL;
		}
		set->strs = v;
		set->capstrs = cap;
	}
	dup = strdup(str);
	if (!dup || (intern && stls__hmap_add(&set->files, h, dup) != 0)) {
		free(dup);
		*err = -ENOMEM;
		return NULL;
	}
	set->strs[set->nstrs++] = dup;
	return dup;
}

/* Deep copy of a profile conf, without passwords, PEM keys and `next`. */
static int copy_conf(struct stls_profile_set *set, struct stls_profile_conf *d,
		     const struct stls_profile_conf *c)
{
	char **strs[] = { &d->certificate, &d->private_key, &d->certificate2,
			  &d->private_key2, &d->ca_list, &d->ca_path, &d->crl,
			  &d->cipher_list, &d->cipher_suites, &d->server_name,
			  &d->server_id, &d->groups, &d->ocsp_stapling };
	int err = 0;
	size_t i;

	*d = *c;
	d->next = NULL;
	d->private_key_password = NULL;
	d->private_key_password2 = NULL;
	/* A key held as PEM text is key material: needed for the build
	 * only, like the passwords. */
	if (stls_profile_conf_is_pem(c, STLS_PF_PRIVATE_KEY)) {
		d->private_key = NULL;
	}
	if (stls_profile_conf_is_pem(c, STLS_PF_PRIVATE_KEY2)) {
		d->private_key2 = NULL;
	}
	for (i = 0; i < STLS_ARRAY_SIZE(strs); i++) {
		*strs[i] = set_strdup(set, *strs[i], false, &err);
	}
	d->loc.file = set_strdup(set, c->loc.file, true, &err);
	for (i = 0; i < STLS_PF__COUNT; i++) {
		d->field_loc[i].file =
			set_strdup(set, c->field_loc[i].file, true, &err);
	}
	return err;
}

static void make_name(struct stls_profile *p)
{
	const struct stls_profile_conf *c = &p->conf;
	char r = c->role == STLS_ROLE_SERVER ? 's' : 'c';
	char a[STLS_ADDR_STRLEN];

	switch (c->kind) {
	case STLS_PROF_ANY:
		snprintf(p->name, sizeof(p->name), "TLS%c<any:%.256s>", r,
			 c->server_name ? c->server_name : "");
		break;
	case STLS_PROF_ADDR:
		snprintf(p->name, sizeof(p->name), "TLS%c<%s>", r,
			 stls_addr_str(&c->addr, true, a));
		break;
	default:
		snprintf(p->name, sizeof(p->name), "TLS%c<default>", r);
		break;
	}
}

/* Checks that need the whole set or only the global parameters. */
static void check_globals(const struct stls_settings *s, struct stls_diag *d)
{
	int f = s->ssl_max_send_fragment;

	if (f != -1 && (f < 512 || f > 16384)) {
		stls_diag_err(d, NULL, 0, "ssl_max_send_fragment: %d is out "
			      "of range (-1 or 512..16384)", f);
	}
	if (s->session_id && strlen(s->session_id) > SSL_MAX_SID_CTX_LENGTH) {
		stls_diag_err(d, NULL, 0, "session_id: longer than %d bytes",
			      SSL_MAX_SID_CTX_LENGTH);
	}
}

/* The default profile the seed makes from the parameters alone. */
static void conf_from_settings(const struct stls_settings *s,
			       enum stls_role role,
			       struct stls_profile_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->role = role;
	c->kind = STLS_PROF_DEFAULT;
	c->implicit = true;
	c->method = s->tls_method;
	c->verify_certificate = s->verify_certificate;
	c->require_certificate = s->require_certificate;
	c->verify_depth = s->verify_depth;
	c->verify_client = s->verify_client;
	c->certificate = s->certificate;
	c->private_key = s->private_key;
	c->private_key_password = s->private_key_password;
	c->ca_list = s->ca_list;
	c->ca_path = s->ca_path;
	c->crl = s->crl;
	c->cipher_list = s->cipher_list;
	c->cipher_suites = s->cipher_suites;
	c->groups = s->groups;
	c->verify_ocsp = s->verify_ocsp;
	c->crl_refresh = s->crl_refresh;
	if (role == STLS_ROLE_CLIENT) {
		c->server_name = s->server_name;
	} else {
		c->ocsp_stapling = s->ocsp_stapling;
	}
}

/*
 * A '*' in a server_name acts only as the whole first label of a server
 * profile's name ("*.example.com": one label); say so where it does not.
 */
static void check_wildcard(const struct stls__build *b,
			   const struct stls_profile_conf *c)
{
	const char *sn = c->server_name;
	bool wild = stls__profile_name_is_wild(c);

	if (!has_str(sn) || !strchr(sn, '*')) {
		return;
	}
	if (c->role == STLS_ROLE_CLIENT) {
		stls__build_warn(b, STLS_PF_SERVER_NAME, "server_name: '%s' "
				 "is taken literally: a client profile's name "
				 "is no wildcard (it is also sent as SNI)", sn);
	} else if (!wild || strchr(sn + 1, '*')) {
		stls__build_warn(b, STLS_PF_SERVER_NAME, "server_name: '*' "
				 "is a wildcard only as the whole first label "
				 "('*.example.com'); elsewhere, as in '%s', it "
				 "matches literally", sn);
	}
	if (wild && (c->server_name_mode == 1 || c->server_name_mode == 2)) {
		stls__build_warn(b, STLS_PF_SERVER_NAME_MODE,
				 "server_name_mode: %d is ignored for the "
				 "wildcard '%s' (it matches one label)",
				 c->server_name_mode, sn);
	}
}

/* What the profiles of one set build share. */
struct set_build {
	const struct stls_settings *s;
	struct stls_diag *d;
	struct stls__shares *shares; /* contexts of equal settings */
	struct stls__keyrd *keys;    /* NULL: none (out of memory) */
	uint64_t cache_id;           /* of the file cache */
	struct stls__seen *seen;     /* files parsed ahead; may be NULL */
	bool keylog;                 /* contexts get the operator's key log */
};

static int build_one(struct stls_profile_set *set, struct stls_profile *p,
		     const struct set_build *sb,
		     const struct stls_profile_conf *c)
{
	struct stls__build b = { sb->s, sb->d, c, p->name, sb->keys,
				 sb->cache_id, sb->keylog, sb->seen };
	int err;

	p->set = set;
	err = copy_conf(set, &p->conf, c);
	if (err) {
		return err;
	}
	make_name(p);
	if (c->kind == STLS_PROF_ANY && !has_str(c->server_name)) {
		stls__build_err(&b, STLS_PF__COUNT, "[%s:any] needs a "
				"server_name", c->role == STLS_ROLE_SERVER ?
				"server" : "client");
	}
	check_wildcard(&b, &p->conf);
	err = stls__profile_share_build(&b, sb->shares, p);
	if (!err) {
		err = stls__profile_revoc_attach(&b, p);
	}
	return err == -ENOMEM ? err : 0;
}

static void check_default(struct stls_profile_set *set, struct stls_profile *p,
			  struct stls_diag *d)
{
	const struct stls_profile *first;
	const struct stls_loc *at = &p->conf.loc;
	char where[300];

	if (p->conf.kind != STLS_PROF_DEFAULT) {
		return;
	}
	first = set->defaults[p->conf.role];
	if (!first) {
		set->defaults[p->conf.role] = p;
		return;
	}
	stls_diag_err(d, at->file, at->line, "duplicate [%s:default] (first "
		      "at %s)", p->conf.role == STLS_ROLE_SERVER ? "server"
		      : "client", stls_loc_format(&first->conf.loc, where,
						  sizeof(where)));
}

static void set_free(struct stls_profile_set *set)
{
	size_t i;

	if (!set) {
		return;
	}
	for (i = 0; i < set->n; i++) {
		stls__profile_revoc_release(&set->v[i]);
		SSL_CTX_free(set->v[i].ctx);
		set->v[i].ctx = NULL;
		stls__certs_free(set->v[i].certs);
		set->v[i].certs = NULL;
	}
	stls__pindex_free(set->index);
	stls__hmap_fini(&set->files);
	for (i = 0; i < set->nstrs; i++) {
		free(set->strs[i]);
	}
	free(set->strs);
	free(set->v);
	free(set);
}

static int build_all(struct stls_profile_set *set,
		     const struct stls_profile_conf *list, struct set_build *sb)
{
	const struct stls_profile_conf *c;
	struct stls_profile_conf tmp;
	int err = 0;
	int role;

	for (c = list; c && !err; c = c->next) {
		struct stls_profile *p = &set->v[set->n++];

		err = build_one(set, p, sb, c);
		check_default(set, p, sb->d);
	}
	for (role = 0; role < 2 && !err; role++) {
		if (set->defaults[role]) {
			continue;
		}
		conf_from_settings(sb->s, (enum stls_role)role, &tmp);
		set->defaults[role] = &set->v[set->n];
		err = build_one(set, &set->v[set->n++], sb, &tmp);
	}
	return err;
}

int stls_profile_set_build(const struct stls_settings *s,
			   const struct stls_profile_conf *list,
			   struct stls_diag *diag,
			   struct stls_profile_set **out)
{
	const struct stls_profile_conf *c;
	struct set_build sb = { s, NULL, NULL, NULL, stls__pcache_begin(),
				NULL, false };
	struct stls_profile_set *set;
	struct stls_diag local;
	size_t errors0, n = 2;
	int err;

	stls_diag_init(&local);
	if (!diag) {
		diag = &local;
	}
	sb.d = diag;
	errors0 = diag->errors;
	for (c = list; c; c = c->next) {
		n++;
	}
	set = calloc(1, sizeof(*set));
	if (!set || !(set->v = calloc(n, sizeof(*set->v))) ||
	    stls__shares_new(&sb.shares) != 0) {
		err = -ENOMEM;
		goto out;
	}
	/* Without the fast key reader, keys are read the general way. */
	if (stls__keyrd_new(sb.cache_id, &sb.keys) != 0) {
		sb.keys = NULL;
	}
	check_globals(s, diag);
	/* The files parsed on the lent threads first (profile_ahead.c);
	 * the build below then takes them from the file cache. */
	sb.seen = stls__parse_ahead(s, list, sb.cache_id);
	/* An error here fails the build below (it is in the diag). */
	if (stls__keylog_prepare(s, diag, &sb.keylog) != 0) {
		sb.keylog = false;
	}
	err = build_all(set, list, &sb);
	if (!err && diag->errors > errors0) {
		err = -EINVAL;
	}
	if (!err) {
		err = stls__pindex_build(set->v, set->n, &set->index);
	}
	stls__hmap_fini(&set->files); /* only needed while building */
	if (err) {
		goto out;
	}
	atomic_init(&set->refs, 1);
	set->generation = atomic_fetch_add(&last_generation, 1) + 1;
	*out = set;
	set = NULL;
out:
	stls__shares_free(sb.shares);
	stls__keyrd_free(sb.keys);
	stls__seen_free(sb.seen);
	if (err) {
		stls__pcache_forget(sb.cache_id);
	}
	stls__pcache_end(sb.cache_id);
	set_free(set);
	stls_diag_fini(&local);
	return err;
}

struct stls_profile_set *stls_profile_set_ref(struct stls_profile_set *set)
{
	atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	return set;
}

void stls_profile_set_unref(struct stls_profile_set *set)
{
	if (!set) {
		return;
	}
	if (atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) ==
	    1) {
		set_free(set);
	}
}

uint64_t stls_profile_set_generation(const struct stls_profile_set *set)
{
	return set->generation;
}

size_t stls_profile_set_count(const struct stls_profile_set *set)
{
	return set->n;
}

const struct stls_profile *
stls_profile_set_get0(const struct stls_profile_set *set, size_t i)
{
	return i < set->n ? &set->v[i] : NULL;
}

const struct stls_profile *
stls_profile_set_default(const struct stls_profile_set *set,
			 enum stls_role role)
{
	return set->defaults[role == STLS_ROLE_CLIENT ? 1 : 0];
}

const char *stls_profile_name(const struct stls_profile *p)
{
	return p->name;
}

const struct stls_profile_conf *
stls_profile_conf_of(const struct stls_profile *p)
{
	return &p->conf;
}

SSL_CTX *stls_profile_ssl_ctx(const struct stls_profile *p)
{
	return p->ctx;
}

enum stls_role stls_profile_role(const struct stls_profile *p)
{
	return p->conf.role;
}

struct stls_profile_set *stls_profile_set_of(const struct stls_profile *p)
{
	return p->set;
}
