/*
 * Checking a CRL that came from a distribution point, and finding where
 * to fetch one (RFC 5280 sections 5 and 4.2.1.13).
 *
 * A fetched CRL is untrusted until it is shown to be a complete CRL of
 * the CA in question (issuer name, signature with the CA's key, no delta
 * CRL indicator), current (lastUpdate not in the future, a nextUpdate
 * that has not passed) and not older than the one it would replace (a
 * replayed old CRL would un-revoke certificates). Only then does it
 * replace the one held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "revoc/revoc.h"

/* DER first (what distribution points serve), then PEM. */
static X509_CRL *parse_crl(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	BIO *bio;

	if (crl && p == data + len) {
		return crl;
	}
	X509_CRL_free(crl);
	crl = NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio) {
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	return crl;
}

int stls__crl_check(const unsigned char *data, size_t len, X509 *issuer,
		    time_t now, X509_CRL **out, char *why, size_t whylen)
{
	X509_CRL *crl = NULL;
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	ASN1_INTEGER *delta;
	time_t last, next;
	int err = -EBADMSG;

	why[0] = '\0';
	if (!data || len == 0 || len > STLS__CRL_MAX_RESP ||
	    len > (size_t)0x7fffffff) {
		snprintf(why, whylen, "no CRL");
		return -EBADMSG;
	}
	crl = parse_crl(data, len);
	if (!crl) {
		snprintf(why, whylen, "not a CRL (DER or PEM)");
		goto out;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			  X509_get_subject_name(issuer)) != 0) {
		snprintf(why, whylen, "issued by another CA");
		goto out;
	}
	if (!key || X509_CRL_verify(crl, key) != 1) {
		snprintf(why, whylen, "bad signature");
		goto out;
	}
	delta = X509_CRL_get_ext_d2i(crl, NID_delta_crl, NULL, NULL);
	if (delta) {
		ASN1_INTEGER_free(delta);
		snprintf(why, whylen, "a delta CRL (not used)");
		goto out;
	}
	last = stls__asn1_to_time(X509_CRL_get0_lastUpdate(crl));
	next = stls__asn1_to_time(X509_CRL_get0_nextUpdate(crl));
	if (!last || !next) {
		snprintf(why, whylen, "no valid lastUpdate or nextUpdate");
		goto out;
	}
	if (last > now + STLS__OCSP_SKEW) {
		snprintf(why, whylen, "lastUpdate is in the future");
		err = -ESTALE;
		goto out;
	}
	if (next <= now) {
		snprintf(why, whylen, "expired (nextUpdate has passed)");
		err = -ESTALE;
		goto out;
	}
	*out = crl;
	crl = NULL;
	err = 0;
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	return err;
}

/* The CRL number, or -1 when absent or too large to compare. */
static int64_t crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	int64_t v = -1;

	if (n && ASN1_INTEGER_get_int64(&v, n) != 1) {
		v = -1;
	}
	ASN1_INTEGER_free(n);
	ERR_clear_error();
	return v;
}

int stls__crl_compare(X509_CRL *fresh, X509_CRL *held)
{
	time_t a, b;
	int64_t na, nb;

	if (!held) {
		return 1;
	}
	a = stls__asn1_to_time(X509_CRL_get0_lastUpdate(fresh));
	b = stls__asn1_to_time(X509_CRL_get0_lastUpdate(held));
	if (a != b) {
		return a > b ? 1 : -1;
	}
	na = crl_number(fresh);
	nb = crl_number(held);
	if (na >= 0 && nb >= 0 && na != nb) {
		return na > nb ? 1 : -1;
	}
	return 0;
}

/* Appends the http:// URIs of <names> not yet in urls[0..*n). */
static void add_names(GENERAL_NAMES *names, char **urls, size_t *n,
		      size_t max)
{
	int i;
	size_t j;

	for (i = 0; i < sk_GENERAL_NAME_num(names) && *n < max; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const char *u;
		bool seen = false;

		if (g->type != GEN_URI) {
			continue;
		}
		u = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		if (!u || strncasecmp(u, "http://", 7) != 0 ||
		    strlen(u) != (size_t)ASN1_STRING_length(
					 g->d.uniformResourceIdentifier)) {
			continue;
		}
		for (j = 0; j < *n; j++) {
			seen = seen || strcmp(urls[j], u) == 0;
		}
		if (!seen && (urls[*n] = strdup(u)) != NULL) {
			(*n)++;
		}
	}
}

size_t stls__crl_urls(X509_CRL *crl, STACK_OF(X509) *certs, char **urls,
		      size_t max)
{
	ISSUING_DIST_POINT *idp;
	size_t n = 0;
	int i, j;

	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, NULL,
				   NULL);
	if (idp && idp->distpoint && idp->distpoint->type == 0) {
		add_names(idp->distpoint->name.fullname, urls, &n, max);
	}
	ISSUING_DIST_POINT_free(idp);
	for (i = 0; i < sk_X509_num(certs) && n < max; i++) {
		X509 *x = sk_X509_value(certs, i);
		STACK_OF(DIST_POINT) *dps;

		if (X509_NAME_cmp(X509_get_issuer_name(x),
				  X509_CRL_get_issuer(crl)) != 0) {
			continue;
		}
		dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL,
				       NULL);
		for (j = 0; j < sk_DIST_POINT_num(dps); j++) {
			DIST_POINT *dp = sk_DIST_POINT_value(dps, j);

			/* A point with a CRL issuer of its own serves
			 * another CA's CRL. */
			if (dp->distpoint && dp->distpoint->type == 0 &&
			    !dp->CRLissuer) {
				add_names(dp->distpoint->name.fullname, urls,
					  &n, max);
			}
		}
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	}
	ERR_clear_error();
	return n;
}
