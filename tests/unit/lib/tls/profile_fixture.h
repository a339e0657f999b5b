/*
 * Test helpers for the profile tests: profile confs made by hand (as the
 * parser would fill them in, with "tls.cfg" locations), a settings block
 * with the seed's defaults, and an in-memory handshake between two SSL
 * objects over a BIO pair.
 */
#ifndef STLS_TEST_PROFILE_FIXTURE_H
#define STLS_TEST_PROFILE_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "stls/profile.h"
#include "test.h"

/*
 * The runner's forked cases end with _exit(), which skips LeakSanitizer's
 * exit-time check: cases that must prove they leak nothing call this.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define FX_LEAK_CHECK() CHECK_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define FX_LEAK_CHECK() ((void)0)
#endif

#define FX_MAX_PROFILES 24
#define FX_MAX_STRS 256

struct fx {
	struct stls_settings s;
	struct stls_profile_conf p[FX_MAX_PROFILES];
	size_t n;
	char *strs[FX_MAX_STRS];
	size_t nstrs;
	struct stls_diag d;
	struct stls_profile_set *set;
};

/* Copies a string that lives until fx_fini(). */
static inline char *fx_str(struct fx *f, const char *s)
{
	CHECK(f->nstrs < FX_MAX_STRS);
	f->strs[f->nstrs] = strdup(s);
	CHECK_NOT_NULL(f->strs[f->nstrs]);
	return f->strs[f->nstrs++];
}

static inline char *fx_cert(struct fx *f, const char *name)
{
	return fx_str(f, test_cert_path(name));
}

static inline void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	stls_diag_init(&f->d);
	f->s.tls_method = STLS_METHOD_TLSV1_2_PLUS;
	f->s.verify_depth = 9;
	f->s.verify_client = STLS_VC_OFF;
	f->s.tls_disable_compression = 1;
	f->s.ssl_release_buffers = -1;
	f->s.ssl_max_send_fragment = -1;
	f->s.ssl_read_ahead = -1;
	f->s.session_tickets = 1; /* the settings' default */
	f->s.session_id = "siptls-test";
	f->s.session_tickets = 1; /* the parameter's default */
}

/*
 * Adds a profile "[server:DOM]" or "[client:DOM]" written at tls.cfg:LINE,
 * DOM = "default", "any" or "IP:port". Fields get the parser's defaults.
 */
static inline struct stls_profile_conf *
fx_add(struct fx *f, enum stls_role role, const char *dom, int line)
{
	struct stls_profile_conf *c;

	CHECK(f->n < FX_MAX_PROFILES);
	c = &f->p[f->n];
	memset(c, 0, sizeof(*c));
	c->role = role;
	if (strcmp(dom, "default") == 0) {
		c->kind = STLS_PROF_DEFAULT;
	} else if (strcmp(dom, "any") == 0) {
		c->kind = STLS_PROF_ANY;
	} else {
		c->kind = STLS_PROF_ADDR;
		CHECK_OK(stls_addr_parse(dom, true, &c->addr));
	}
	c->loc.file = "tls.cfg";
	c->loc.line = line;
	c->method = STLS_METHOD_TLSV1_2_PLUS;
	c->verify_depth = 9;
	c->verify_client = STLS_VC_OFF;
	if (f->n > 0) {
		f->p[f->n - 1].next = c;
	}
	f->n++;
	return c;
}

/* A server profile with server.pem (or <cert>.pem) and its key. */
static inline struct stls_profile_conf *
fx_server(struct fx *f, const char *dom, int line, const char *cert)
{
	struct stls_profile_conf *c = fx_add(f, STLS_ROLE_SERVER, dom, line);
	char name[64];

	cert = cert ? cert : "server";
	CHECK(snprintf(name, sizeof(name), "%s.pem", cert) <
	      (int)sizeof(name));
	c->certificate = fx_cert(f, name);
	CHECK(snprintf(name, sizeof(name), "%s.key", cert) <
	      (int)sizeof(name));
	c->private_key = fx_cert(f, name);
	return c;
}

/* Records that key <field> was written at tls.cfg:<line>. */
static inline void fx_loc(struct stls_profile_conf *c, enum stls_pf field,
			  int line)
{
	c->field_loc[field].file = "tls.cfg";
	c->field_loc[field].line = line;
}

static inline int fx_build(struct fx *f)
{
	return stls_profile_set_build(&f->s, f->n ? &f->p[0] : NULL, &f->d,
				      &f->set);
}

/* True when one diag entry, formatted, contains <text>. */
static inline bool fx_diag_has(const struct fx *f, const char *text)
{
	char buf[2048];
	size_t i;

	for (i = 0; i < f->d.n; i++) {
		if (strstr(stls_diag_format(&f->d.v[i], buf, sizeof(buf)),
			   text)) {
			return true;
		}
	}
	return false;
}

static inline void fx_diag_dump(const struct fx *f)
{
	stls_diag_print(&f->d, stderr);
}

static inline void fx_fini(struct fx *f)
{
	size_t i;

	stls_profile_set_unref(f->set);
	f->set = NULL;
	for (i = 0; i < f->nstrs; i++) {
		free(f->strs[i]);
	}
	stls_diag_fini(&f->d);
}

/* The server profile named <name> ("TLSs<any:x>") of the built set. */
static inline const struct stls_profile *fx_find(const struct fx *f,
						 const char *name)
{
	size_t i;

	for (i = 0; i < stls_profile_set_count(f->set); i++) {
		const struct stls_profile *p = stls_profile_set_get0(f->set, i);

		if (strcmp(stls_profile_name(p), name) == 0) {
			return p;
		}
	}
	return NULL;
}

/*
 * Runs a handshake between <cli> and <srv> over a fresh BIO pair (each SSL
 * takes its end). Returns 0 when both sides completed, -1 when either
 * failed; bounded to 100 rounds.
 */
static inline int fx_handshake(SSL *cli, SSL *srv)
{
	BIO *bc = NULL, *bs = NULL;
	bool cdone = false, sdone = false;
	int i, rc, e;

	CHECK(BIO_new_bio_pair(&bc, 0, &bs, 0) == 1);
	SSL_set_bio(cli, bc, bc);
	SSL_set_bio(srv, bs, bs);
	for (i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!cdone) {
			rc = SSL_do_handshake(cli);
			e = SSL_get_error(cli, rc);
			if (rc == 1) {
				cdone = true;
			} else if (e != SSL_ERROR_WANT_READ &&
				   e != SSL_ERROR_WANT_WRITE) {
				ERR_clear_error();
				return -1;
			}
		}
		if (!sdone) {
			rc = SSL_do_handshake(srv);
			e = SSL_get_error(srv, rc);
			if (rc == 1) {
				sdone = true;
			} else if (e != SSL_ERROR_WANT_READ &&
				   e != SSL_ERROR_WANT_WRITE) {
				ERR_clear_error();
				return -1;
			}
		}
	}
	return cdone && sdone ? 0 : -1;
}

/* The CN of the peer's certificate, into buf. */
static inline const char *fx_peer_cn(SSL *ssl, char *buf, size_t len)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	buf[0] = '\0';
	if (x) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					  NID_commonName, buf, (int)len);
	}
	return buf;
}

#endif
