/*
 * Revocation on profiles (docs/ocsp.md): what lib/revoc keeps, put where
 * handshakes use it.
 *
 * - ocsp_stapling (server): one staple entry per certificate of the
 *   profile (stls__staple_get(): shared by every set and profile that
 *   staples that certificate from that source, so a reload keeps what was
 *   fetched). The status callback on the context finds the connection's
 *   current profile (after an SNI switch too) and the certificate OpenSSL
 *   chose, and staples its entry's response when one is current and good;
 *   otherwise the handshake goes on without a staple. TLS 1.2 and 1.3
 *   alike: OpenSSL calls the callback for both.
 * - verify_ocsp (client): the context asks for the peer's staple; the
 *   callback checks it against the peer's verified chain. soft: only a
 *   staple that verifies and says "revoked" fails the handshake (a
 *   missing, broken or "unknown" one is logged); hard: only a staple that
 *   verifies and says "good" passes.
 * - crl_refresh: every CRL the context's store holds (from `crl`) gets a
 *   slot that the refresh keeps current; the store's CRL lookup returns
 *   the slot's newest with the file's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "revoc/revoc.h"
#include "stls/log.h"
#include "tls/profile_int.h"

static bool staple_on(const struct stls_profile_conf *c)
{
	return c->role == STLS_ROLE_SERVER && has_str(c->ocsp_stapling) &&
	       strcmp(c->ocsp_stapling, "off") != 0;
}

/* The server's status callback: staple what the certificate has. */
static int server_status_cb(SSL *ssl, void *arg)
{
	const struct stls_profile *p = stls_profile_of_ssl(ssl);
	X509 *leaf = SSL_get_certificate(ssl);
	unsigned char *der = NULL;
	size_t i, len = 0;

	(void)arg;
	if (!p || !p->certs || !leaf) {
		return SSL_TLSEXT_ERR_NOACK;
	}
	for (i = 0; i < p->certs->n; i++) {
		if (!p->staple[i] || (p->certs->v[i].x509 != leaf &&
				      X509_cmp(p->certs->v[i].x509, leaf))) {
			continue;
		}
		if (stls__staple_copy(p->staple[i], time(NULL), &der, &len) !=
		    0) {
			return SSL_TLSEXT_ERR_NOACK;
		}
		if (!SSL_set_tlsext_status_ocsp_resp(ssl, der, (long)len)) {
			OPENSSL_free(der);
			ERR_clear_error();
			return SSL_TLSEXT_ERR_NOACK;
		}
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* The client's status callback: 1 accepts the peer, 0 refuses it. */
static int client_status_cb(SSL *ssl, void *arg)
{
	const struct stls_profile *p = stls_profile_of_ssl(ssl);
	int mode = p ? p->conf.verify_ocsp : STLS_VOCSP_OFF;
	const unsigned char *resp = NULL;
	long n = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
	struct stls__ocsp_result r;
	char name[128] = "?", why[160];
	X509 *issuer;
	int err;

	(void)arg;
	if (mode != STLS_VOCSP_SOFT && mode != STLS_VOCSP_HARD) {
		return 1;
	}
	if (leaf) {
		X509_NAME_oneline(X509_get_subject_name(leaf), name,
				  sizeof(name));
	}
	if (!chain) {
		chain = SSL_get_peer_cert_chain(ssl);
	}
	issuer = leaf ? stls__find_issuer(leaf, chain) : NULL;
	if (!resp || n <= 0) {
		snprintf(why, sizeof(why), "no OCSP staple");
		err = -ENOENT;
	} else if (!leaf || !issuer) {
		snprintf(why, sizeof(why), "no issuer certificate to check "
			 "the staple against");
		err = -EBADMSG;
	} else {
		err = stls__ocsp_check(resp, (size_t)n, leaf, issuer,
				       time(NULL), STLS__OCSP_SKEW, &r, why,
				       sizeof(why));
	}
	ERR_clear_error();
	if (!err && r.status == V_OCSP_CERTSTATUS_GOOD) {
		return 1;
	}
	if (!err && r.status == V_OCSP_CERTSTATUS_REVOKED) {
		STLS_WARN("verify_ocsp: %s: the stapled response says "
			  "REVOKED: refused", name);
		return 0;
	}
	if (!err) {
		snprintf(why, sizeof(why), "the staple says unknown");
	}
	if (mode == STLS_VOCSP_HARD) {
		STLS_WARN("verify_ocsp = hard: %s: %s: refused", name, why);
		return 0;
	}
	STLS_INFO("verify_ocsp = soft: %s: %s: accepted", name, why);
	return 1;
}

static int attach_staples(const struct stls__build *b,
			  struct stls_profile *p)
{
	const char *src = p->conf.ocsp_stapling;
	char why[200];
	size_t i;
	int err;

	if (strcmp(src, "on") != 0 && strncmp(src, "file:", 5) != 0) {
		stls__build_err(b, STLS_PF_OCSP_STAPLING, "ocsp_stapling: "
				"'%s' is none of off, on, file:PATH", src);
		return 0;
	}
	for (i = 0; p->certs && i < p->certs->n && i < 2; i++) {
		X509 *leaf = p->certs->v[i].x509;
		X509 *issuer = stls__find_issuer(leaf, p->certs->v[i].chain);

		if (!issuer) {
			stls__build_err(b, STLS_PF_OCSP_STAPLING,
					"ocsp_stapling: the issuer of the "
					"certificate is not in its chain: "
					"add it to the certificate file");
			continue;
		}
		err = stls__staple_get(leaf, issuer, src, time(NULL),
				       &p->staple[i], why, sizeof(why));
		if (err == -ENOMEM) {
			return err;
		}
		if (err) {
			stls__build_err(b, STLS_PF_OCSP_STAPLING,
					"ocsp_stapling: %s", why);
		} else if (why[0]) {
			stls__build_warn(b, STLS_PF_OCSP_STAPLING,
					 "ocsp_stapling: %s; nothing new to "
					 "staple", why);
		}
	}
	SSL_CTX_set_tlsext_status_cb(p->ctx, server_status_cb);
	return 0;
}

/* The certificate of <certs> that issued and signed <crl>, or NULL. */
static X509 *crl_issuer(X509_CRL *crl, STACK_OF(X509) *certs)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		EVP_PKEY *k = X509_get0_pubkey(x);

		if (X509_NAME_cmp(X509_get_subject_name(x),
				  X509_CRL_get_issuer(crl)) == 0 && k &&
		    X509_CRL_verify(crl, k) == 1) {
			return x;
		}
	}
	ERR_clear_error();
	return NULL;
}

static int attach_slot(const struct stls__build *b, struct stls_profile *p,
		       X509_CRL *crl, STACK_OF(X509) *certs)
{
	struct stls__crlslot **v, *slot = NULL;
	X509 *issuer = crl_issuer(crl, certs);
	char *urls[4], name[200];
	size_t i, n;
	int err;

	X509_NAME_oneline(X509_CRL_get_issuer(crl), name, sizeof(name));
	if (!issuer) {
		stls__build_warn(b, STLS_PF_CRL_REFRESH, "crl_refresh: the CA "
				 "of the CRL of '%s' is not in ca_list: not "
				 "refreshed", name);
		return 0;
	}
	n = stls__crl_urls(crl, certs, urls, 4);
	if (n == 0) {
		stls__build_warn(b, STLS_PF_CRL_REFRESH, "crl_refresh: no "
				 "http:// distribution point for the CRL of "
				 "'%s': not refreshed", name);
		return 0;
	}
	err = stls__crlslot_get(crl, issuer, urls, n, &slot);
	for (i = 0; i < n; i++) {
		free(urls[i]);
	}
	if (err) {
		return err;
	}
	v = realloc(p->crlslots, (p->ncrlslots + 1) * sizeof(*v));
	if (!v) {
		stls__crlslot_put(slot);
		return -ENOMEM;
	}
	p->crlslots = v;
	v[p->ncrlslots++] = slot;
	return 0;
}

static int attach_crls(const struct stls__build *b, struct stls_profile *p)
{
	X509_STORE *store = SSL_CTX_get_cert_store(p->ctx);
	STACK_OF(X509_OBJECT) *objs;
	STACK_OF(X509) *certs = sk_X509_new_null();
	int i, err = 0;

	if (!certs || !X509_STORE_lock(store)) {
		sk_X509_free(certs);
		return -ENOMEM;
	}
	objs = X509_STORE_get0_objects(store);
	for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		if (x && !sk_X509_push(certs, x)) {
			err = -ENOMEM;
		}
	}
	for (i = 0; i < sk_X509_OBJECT_num(objs) && !err; i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(
			sk_X509_OBJECT_value(objs, i));

		if (crl) {
			err = attach_slot(b, p, crl, certs);
		}
	}
	X509_STORE_unlock(store);
	sk_X509_free(certs);
	if (!err && p->ncrlslots) {
		X509_STORE_set_lookup_crls(store, stls__crlslot_lookup);
	}
	if (!err && !has_str(p->conf.crl)) {
		stls__build_warn(b, STLS_PF_CRL_REFRESH, "crl_refresh: needs "
				 "a crl file to start from: nothing refreshed");
	}
	return err;
}

int stls__profile_revoc_attach(const struct stls__build *b,
			       struct stls_profile *p)
{
	int err = 0;

	if (!p->ctx) {
		return 0;
	}
	if (staple_on(&p->conf)) {
		err = attach_staples(b, p);
	}
	if (!err && p->conf.role == STLS_ROLE_CLIENT &&
	    (p->conf.verify_ocsp == STLS_VOCSP_SOFT ||
	     p->conf.verify_ocsp == STLS_VOCSP_HARD)) {
		SSL_CTX_set_tlsext_status_type(p->ctx, TLSEXT_STATUSTYPE_ocsp);
		SSL_CTX_set_tlsext_status_cb(p->ctx, client_status_cb);
	}
	if (!err && p->conf.crl_refresh == 1) {
		err = attach_crls(b, p);
	}
	ERR_clear_error();
	return err;
}

void stls__profile_revoc_release(struct stls_profile *p)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		stls__staple_put(p->staple[i]);
		p->staple[i] = NULL;
	}
	for (i = 0; i < p->ncrlslots; i++) {
		stls__crlslot_put(p->crlslots[i]);
	}
	free(p->crlslots);
	p->crlslots = NULL;
	p->ncrlslots = 0;
}

size_t stls_profile_cert_status(const struct stls_profile *p, time_t now,
				struct stls_cert_status *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; p->certs && i < p->certs->n && n < max; i++) {
		struct stls_cert_status *o = &out[n++];
		X509 *x = p->certs->v[i].x509;

		memset(o, 0, sizeof(*o));
		X509_NAME_oneline(X509_get_subject_name(x), o->subject,
				  sizeof(o->subject));
		o->not_after = stls__asn1_to_time(X509_get0_notAfter(x));
		o->must_staple = stls__must_staple(x);
		o->ocsp = STLS_OCSP_OFF;
		if (p->staple[i]) {
			stls__staple_status(p->staple[i], now, o);
		}
	}
	ERR_clear_error();
	return n;
}

size_t stls_profile_set_staple_warnings(const struct stls_profile_set *set,
					time_t now, struct stls_diag *diag)
{
	struct stls_cert_status st[2];
	size_t i, j, n, added = 0;

	for (i = 0; i < set->n; i++) {
		const struct stls_profile *p = &set->v[i];
		const struct stls_loc *at = &p->conf.loc;

		if (p->conf.role != STLS_ROLE_SERVER) {
			continue; /* a client presents no staple */
		}
		n = stls_profile_cert_status(p, now, st, 2);
		for (j = 0; j < n; j++) {
			if (!st[j].must_staple || st[j].ocsp == STLS_OCSP_GOOD) {
				continue;
			}
			stls_diag_warn(diag, at->file, at->line,
				       "MUST-STAPLE certificate '%s' of "
				       "profile %s has no current good OCSP "
				       "response to staple (ocsp_stapling "
				       "%s, state %s%s%s): clients that "
				       "honour must-staple (RFC 7633) will "
				       "refuse it", st[j].subject, p->name,
				       has_str(p->conf.ocsp_stapling) ?
					       p->conf.ocsp_stapling : "off",
				       stls_ocsp_state_names[st[j].ocsp],
				       st[j].ocsp_error[0] ? ": " : "",
				       st[j].ocsp_error);
			added++;
		}
	}
	return added;
}
