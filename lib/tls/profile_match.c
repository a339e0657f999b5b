/*
 * SNI switching, and the SSL objects of profiles.
 *
 * Which profile serves a connection is the profile index's business
 * (profile_index.c, docs/profiles.md). This file makes the SSL of one
 * connection and moves it to another profile when the client names one.
 *
 * SNI (RFC 6066 section 3): every server SSL_CTX carries a ClientHello
 * callback. The SSL made by stls_profile_ssl_new() holds, in ex_data, a
 * reference on the profile set it started with, the local address and the
 * current profile; the callback matches again with the client's name in
 * that same set (a reload in between does not change a running handshake)
 * and moves the connection to the new profile's SSL_CTX, copying what
 * SSL_set_SSL_CTX() leaves behind: verify mode, callback and depth,
 * options, protocol versions, cipher lists and key-exchange groups. It
 * runs before OpenSSL picks the version and the cipher suite (a servername
 * callback runs after the TLS 1.3 suite is chosen), so the new profile
 * applies in full.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "stls/log.h"
#include "tls/profile_int.h"

/* What an SSL made by stls_profile_ssl_new() carries (ex_data). */
struct link {
	struct stls_profile_set *set; /* one reference, dropped at SSL_free */
	_Atomic(const struct stls_profile *) cur;
	struct stls_addr addr;
};

static pthread_once_t link_once = PTHREAD_ONCE_INIT;
static int link_index = -1;

static void link_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		      long argl, void *argp)
{
	struct link *l = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!l) {
		return;
	}
	stls_profile_set_unref(l->set);
	free(l);
}

static void link_index_init(void)
{
	link_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, link_free);
}

static bool link_ready(void)
{
	return pthread_once(&link_once, link_index_init) == 0 &&
	       link_index >= 0;
}

static struct link *link_of(const SSL *ssl)
{
	return link_ready() ? SSL_get_ex_data(ssl, link_index) : NULL;
}

/*
 * Moves <ssl> to profile <p>, before the version and the cipher are chosen.
 * Another SSL_CTX brings its settings; p's certificates are then
 * installed unless the new context holds exactly them (p made it). Within
 * one shared context the settings are equal and only the certificates
 * change. Returns false when OpenSSL refuses.
 */
static bool switch_to(SSL *ssl, const struct stls_profile *from,
		      const struct stls_profile *p)
{
	SSL_CTX *ctx = p->ctx;
	const char *list = has_str(p->conf.cipher_list) ?
				   p->conf.cipher_list :
				   stls_profile_default_cipher_list;
	const char *suites = has_str(p->conf.cipher_suites) ?
				     p->conf.cipher_suites :
				     stls_profile_default_cipher_suites;
	uint64_t old = SSL_get_options(ssl), opts = SSL_CTX_get_options(ctx);

	if (SSL_get_SSL_CTX(ssl) == ctx) {
		return stls__certs_install(ssl, p->certs) == 0;
	}
	if (!SSL_set_SSL_CTX(ssl, ctx) || !SSL_set_cipher_list(ssl, list) ||
	    !SSL_set_ciphersuites(ssl, suites) ||
	    !SSL_set_min_proto_version(ssl,
				       SSL_CTX_get_min_proto_version(ctx)) ||
	    !SSL_set_max_proto_version(ssl,
				       SSL_CTX_get_max_proto_version(ctx))) {
		return false;
	}
	/* Groups stay with the SSL: set them when either profile has its
	 * own (OpenSSL's defaults otherwise, written out). */
	if ((has_str(p->conf.groups) || (from && has_str(from->conf.groups))) &&
	    !SSL_set1_groups_list(ssl, has_str(p->conf.groups) ?
					       p->conf.groups :
					       stls_profile_default_groups)) {
		return false;
	}
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx),
		       SSL_CTX_get_verify_callback(ctx));
	SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
	SSL_clear_options(ssl, old & ~opts);
	SSL_set_options(ssl, opts);
	return !p->shares_ctx || stls__certs_install(ssl, p->certs) == 0;
}

/*
 * The host name of the ClientHello's server_name extension (RFC 6066
 * section 3), copied into buf, or NULL when absent or malformed.
 */
static const char *hello_sni(SSL *ssl, char *buf, size_t len)
{
	const unsigned char *p;
	size_t n, k;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n) ||
	    n < 5) {
		return NULL;
	}
	k = (size_t)p[0] << 8 | p[1];
	if (k != n - 2 || p[2] != TLSEXT_NAMETYPE_host_name) {
		return NULL;
	}
	k = (size_t)p[3] << 8 | p[4];
	if (k == 0 || k > n - 5 || k >= len || memchr(p + 5, 0, k)) {
		return NULL;
	}
	memcpy(buf, p + 5, k);
	buf[k] = '\0';
	return buf;
}

/*
 * ClientHello callback: the first point where the name is known and
 * nothing is chosen yet (version, cipher suite, certificate), so the new
 * profile applies in full. No name: the profile stays.
 */
static int hello_cb(SSL *ssl, int *alert, void *arg)
{
	const struct stls_profile *p;
	struct link *l = link_of(ssl);
	char name[256];
	const char *sni;

	(void)arg;
	sni = l ? hello_sni(ssl, name, sizeof(name)) : NULL;
	if (!sni) {
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	p = stls_profile_set_match_server(l->set, &l->addr, sni);
	if (p == atomic_load(&l->cur)) {
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	if (!switch_to(ssl, atomic_load(&l->cur), p)) {
		ERR_clear_error();
		STLS_DBG("SNI '%s': cannot switch to %s", sni, p->name);
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	atomic_store(&l->cur, p);
	return SSL_CLIENT_HELLO_SUCCESS;
}

/*
 * servername callback: the switch is done; acknowledge the name (RFC 6066:
 * an empty server_name in the ServerHello) only when a profile was chosen
 * for it.
 */
static int sni_cb(SSL *ssl, int *alert, void *arg)
{
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct link *l = link_of(ssl);
	const struct stls_profile *p = l ? atomic_load(&l->cur) : NULL;

	(void)alert;
	(void)arg;
	if (!p || !has_str(sni) || !has_str(p->conf.server_name)) {
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

int stls__profile_sni_install(SSL_CTX *ctx)
{
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
	if (!SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb)) {
		return -ENOMEM;
	}
	return 0;
}

SSL *stls_profile_ssl_new(const struct stls_profile *p,
			  const struct stls_addr *addr)
{
	struct link *l;
	SSL *ssl;

	if (!link_ready()) {
		return NULL;
	}
	ssl = SSL_new(p->ctx);
	l = calloc(1, sizeof(*l));
	if (!ssl || !l ||
	    (p->shares_ctx && stls__certs_install(ssl, p->certs) != 0)) {
		goto fail;
	}
	l->set = stls_profile_set_ref(p->set);
	atomic_init(&l->cur, p);
	if (addr) {
		l->addr = *addr;
	}
	if (!SSL_set_ex_data(ssl, link_index, l)) {
		stls_profile_set_unref(l->set);
		goto fail;
	}
	l = NULL; /* the SSL owns it now: link_free() */
	if (p->conf.role == STLS_ROLE_SERVER) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
		if (has_str(p->conf.server_name) &&
		    !SSL_set_tlsext_host_name(ssl, p->conf.server_name)) {
			goto fail;
		}
	}
	return ssl;
fail:
	ERR_clear_error();
	free(l);
	SSL_free(ssl);
	return NULL;
}

const struct stls_profile *stls_profile_of_ssl(const SSL *ssl)
{
	struct link *l = link_of(ssl);

	return l ? atomic_load(&l->cur) : NULL;
}
