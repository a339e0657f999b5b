/*
 * One SSL_CTX for every profile with the same settings.
 *
 * A hosted platform writes thousands of profiles that differ only in
 * their names and certificates. An SSL_CTX costs OpenSSL 3.0 about 1.25
 * million instructions to make (cipher, group and signature algorithm
 * tables fetched from the providers) and 13 KB to keep; thousands of
 * identical ones would cost seconds and megabytes for nothing.
 *
 * So profiles whose context settings are equal (struct share_key: role,
 * tls_method, verification, CA list and path, CRL (each a file or PEM text),
 * cipher lists, whether written, groups, verify_ocsp, crl_refresh; the
 * global parameters are the same for a whole set) share the SSL_CTX of the
 * first of them. That first profile keeps its certificates in the context,
 * as a profile of its own would; every later one reads its certificates
 * into a scratch SSL made from the shared context (the same checks,
 * messages and chain building; profile_cert.c) and keeps them as a bundle
 * that each of its connections receives (stls__certs_install()).
 *
 * Sharing only happens when making the first profile's context reported
 * nothing, not even a warning: a profile whose settings draw a message
 * makes its own context and so reports its own messages at its own lines,
 * exactly as before.
 *
 * The table lives while one set is built (control thread).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tls/profile_int.h"

/* One shared context and what its later profiles need. */
struct share {
	const struct stls_profile_conf *key; /* the first profile's conf */
	SSL_CTX *ctx;                        /* one reference */
	SSL *scratch;                        /* for later profiles' certs */
	bool clean;                          /* nothing was reported */
	struct share *next;
};

struct stls__shares {
	struct stls__hmap map;
	struct share *all;
};

/* The PEM-text bits (stls_profile_conf_is_pem()) that make a context. */
static unsigned ctx_pem(const struct stls_profile_conf *c)
{
	return c->pem_inline & (1u << STLS_PF_CA_LIST | 1u << STLS_PF_CRL);
}

static uint64_t hstr(uint64_t h, const char *s)
{
	return stls__hmix(h, s ? stls__hname(0, s, strlen(s)) : 1);
}

/* The hash of the fields that make a context; keep in step with eq. */
static uint64_t key_hash(const struct stls_profile_conf *c)
{
	uint64_t h = stls__hmix(0, (uint64_t)c->role << 1 | c->implicit);

	h = stls__hmix(h, (uint64_t)(uint32_t)c->method << 32 |
				  (uint32_t)c->verify_depth);
	h = stls__hmix(h, (uint64_t)(uint32_t)c->verify_certificate << 32 |
				  (uint32_t)c->require_certificate);
	h = stls__hmix(h, (uint64_t)(uint32_t)c->verify_client << 32 |
				  ctx_pem(c));
	h = hstr(h, c->ca_list);
	h = hstr(h, c->ca_path);
	h = hstr(h, c->crl);
	h = stls__hmix(h, (uint64_t)(uint32_t)c->verify_ocsp << 32 |
				  (uint32_t)c->crl_refresh);
	h = hstr(h, c->cipher_list);
	h = hstr(h, c->groups);
	return hstr(h, c->cipher_suites);
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool key_eq(const void *val, const void *key)
{
	const struct stls_profile_conf *a = ((const struct share *)val)->key;
	const struct stls_profile_conf *b = key;

	return a->role == b->role && a->implicit == b->implicit &&
	       a->method == b->method && a->verify_depth == b->verify_depth &&
	       a->verify_certificate == b->verify_certificate &&
	       a->require_certificate == b->require_certificate &&
	       a->verify_client == b->verify_client &&
	       ctx_pem(a) == ctx_pem(b) && str_same(a->ca_list, b->ca_list) &&
	       str_same(a->ca_path, b->ca_path) && str_same(a->crl, b->crl) &&
	       a->verify_ocsp == b->verify_ocsp &&
	       a->crl_refresh == b->crl_refresh &&
	       str_same(a->cipher_list, b->cipher_list) &&
	       str_same(a->groups, b->groups) &&
	       str_same(a->cipher_suites, b->cipher_suites);
}

int stls__shares_new(struct stls__shares **out)
{
	struct stls__shares *t = calloc(1, sizeof(*t));

	if (!t) {
		return -ENOMEM;
	}
	stls__hmap_init(&t->map);
	*out = t;
	return 0;
}

void stls__shares_free(struct stls__shares *t)
{
	struct share *e;

	if (!t) {
		return;
	}
	while ((e = t->all) != NULL) {
		t->all = e->next;
		SSL_free(e->scratch);
		SSL_CTX_free(e->ctx);
		free(e);
	}
	stls__hmap_fini(&t->map);
	free(t);
}

/* The certificates of profile <p> in the shared context of <e>. */
static int build_member(const struct stls__build *b, struct share *e,
			struct stls_profile *p)
{
	struct stls__certdst d = { e->ctx, NULL };
	size_t errors0 = b->diag->errors;
	int err;

	if (!e->scratch && !(e->scratch = SSL_new(e->ctx))) {
		ERR_clear_error();
		return -ENOMEM;
	}
	d.ssl = e->scratch;
	SSL_certs_clear(d.ssl);
	err = stls__profile_certs_apply(b, &d);
	if (!err && b->diag->errors == errors0) {
		err = stls__certs_get(&d, &p->certs);
	}
	if (err || b->diag->errors > errors0) {
		return err == -ENOMEM ? err : -EINVAL;
	}
	if (!SSL_CTX_up_ref(e->ctx)) {
		return -ENOMEM;
	}
	p->ctx = e->ctx;
	p->shares_ctx = true;
	return 0;
}

/* Profile <p> makes its own context; a first one is remembered. */
static int build_own(const struct stls__build *b, struct stls__shares *t,
		     uint64_t h, struct share *found, struct stls_profile *p)
{
	struct stls__certdst d = { NULL, NULL };
	size_t n0 = b->diag->n, errors0 = b->diag->errors;
	struct share *e;
	bool clean;
	int err;

	err = stls__profile_ctx_new(b, &d.ctx);
	clean = b->diag->n == n0;
	if (!err) {
		err = stls__profile_certs_apply(b, &d);
	}
	if (!err && b->diag->errors == errors0) {
		err = stls__certs_get(&d, &p->certs);
	}
	if (err || b->diag->errors > errors0) {
		SSL_CTX_free(d.ctx);
		return err == -ENOMEM ? err : -EINVAL;
	}
	p->ctx = d.ctx;
	if (found) {
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !SSL_CTX_up_ref(p->ctx)) {
		free(e);
		return -ENOMEM;
	}
	*e = (struct share){ &p->conf, p->ctx, NULL, clean, t->all };
	t->all = e;
	return stls__hmap_add(&t->map, h, e);
}

int stls__profile_share_build(const struct stls__build *b,
			      struct stls__shares *t, struct stls_profile *p)
{
	uint64_t h = key_hash(&p->conf);
	struct share *e = stls__hmap_get(&t->map, h, key_eq, &p->conf);

	if (e && e->clean) {
		return build_member(b, e, p);
	}
	return build_own(b, t, h, e, p);
}
