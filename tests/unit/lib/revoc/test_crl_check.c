/*
 * lib/revoc/crl_check.c: CRLs made here with OpenSSL and signed with the
 * test root's key (tests/certs), each differing from a good one in one
 * point. A good CRL is taken in DER and PEM; trailing bytes, another
 * signer, a delta CRL, a lastUpdate beyond the clock skew, no nextUpdate,
 * or no data are refused with their reason. stls__crl_compare() orders by
 * lastUpdate, then CRL number; stls__crl_urls() collects the http://
 * URIs of the CRL's issuing distribution point and of certificates by
 * its issuer, once each, skipping other schemes, names with a NUL, and
 * points with a CRL issuer of their own, up to <max>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "lib/revoc/ocsp_fixture.h"
#include "revoc/revoc.h"

struct crl_opts {
	long last;   /* lastUpdate, seconds from now */
	long next;   /* nextUpdate, seconds from now; 0: none */
	long number; /* CRL number; -1: none */
	bool delta;
	const char *key; /* signing key; NULL: ca.key */
	const char *idp; /* an issuing distribution point URI, or NULL */
};

static X509_CRL *make_crl(const struct crl_opts *o)
{
	X509 *ca = ox_cert("ca.pem");
	EVP_PKEY *k = ox_key(o->key ? o->key : "ca.key");
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t1 = X509_gmtime_adj(NULL, o->last);
	ASN1_TIME *t2 = o->next ? X509_gmtime_adj(NULL, o->next) : NULL;

	CHECK_NOT_NULL(c);
	CHECK(X509_CRL_set_version(c, 1));
	CHECK(X509_CRL_set_issuer_name(c, X509_get_subject_name(ca)));
	CHECK(X509_CRL_set1_lastUpdate(c, t1));
	if (t2) {
		CHECK(X509_CRL_set1_nextUpdate(c, t2));
	}
	if (o->number >= 0) {
		ASN1_INTEGER *n = ASN1_INTEGER_new();

		CHECK(ASN1_INTEGER_set(n, o->number));
		CHECK(X509_CRL_add1_ext_i2d(c, NID_crl_number, n, 0, 0));
		ASN1_INTEGER_free(n);
	}
	if (o->delta) {
		ASN1_INTEGER *n = ASN1_INTEGER_new();

		CHECK(ASN1_INTEGER_set(n, 1));
		CHECK(X509_CRL_add1_ext_i2d(c, NID_delta_crl, n, 1, 0));
		ASN1_INTEGER_free(n);
	}
	if (o->idp) {
		ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		CHECK(ASN1_STRING_set(s, o->idp, -1));
		GENERAL_NAME_set0_value(g, GEN_URI, s);
		idp->distpoint = DIST_POINT_NAME_new();
		idp->distpoint->type = 0;
		idp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
		CHECK(sk_GENERAL_NAME_push(idp->distpoint->name.fullname, g));
		CHECK(X509_CRL_add1_ext_i2d(c, NID_issuing_distribution_point, idp,
					1, 0));
		ISSUING_DIST_POINT_free(idp);
	}
	CHECK(X509_CRL_sign(c, k, EVP_sha256()));
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	EVP_PKEY_free(k);
	X509_free(ca);
	return c;
}

static unsigned char *der_of(X509_CRL *c, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(c, &der);

	CHECK(n > 0);
	*len = (size_t)n;
	return der;
}

/* stls__crl_check() of <c> in DER against the root; the CRL taken freed. */
static int check_der(X509_CRL *c, char *why, size_t whylen)
{
	X509 *ca = ox_cert("ca.pem");
	X509_CRL *out = NULL;
	size_t len;
	unsigned char *der = der_of(c, &len);
	int err = stls__crl_check(der, len, ca, time(NULL), &out, why, whylen);

	if (err == 0) {
		CHECK_NOT_NULL(out);
	} else {
		CHECK_NULL(out);
		CHECK(why[0] != '\0');
	}
	X509_CRL_free(out);
	OPENSSL_free(der);
	X509_free(ca);
	return err;
}

static const struct crl_opts good = { .last = -60, .next = 86400,
				      .number = 7 };

TEST(good_crl_in_der_and_pem)
{
	X509_CRL *c = make_crl(&good), *out = NULL;
	X509 *ca = ox_cert("ca.pem");
	BIO *mem = BIO_new(BIO_s_mem());
	char why[160], *pem;
	long plen;

	CHECK_OK(check_der(c, why, sizeof(why)));
	CHECK(PEM_write_bio_X509_CRL(mem, c));
	plen = BIO_get_mem_data(mem, &pem);
	CHECK_OK(stls__crl_check((unsigned char *)pem, (size_t)plen, ca,
				 time(NULL), &out, why, sizeof(why)));
	CHECK_EQ(X509_CRL_cmp(out, c), 0);
	X509_CRL_free(out);
	BIO_free(mem);
	X509_CRL_free(c);
	X509_free(ca);
}

TEST(refused_with_a_reason)
{
	static const struct {
		struct crl_opts o;
		int err;
		const char *why;
	} bad[] = {
		{ { -60, 86400, 7, true, NULL, NULL }, -EBADMSG, "delta" },
		{ { -60, 86400, 7, false, "int.key", NULL }, -EBADMSG,
		  "bad signature" },
		{ { -60, 0, 7, false, NULL, NULL }, -EBADMSG, "nextUpdate" },
		{ { 3600, 86400, 7, false, NULL, NULL }, -ESTALE, "future" },
		{ { -86400, -60, 7, false, NULL, NULL }, -ESTALE, "expired" },
	};
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		X509_CRL *c = make_crl(&bad[i].o);
		int err = check_der(c, why, sizeof(why));

		if (err != bad[i].err || !strstr(why, bad[i].why)) {
			test_fail(__FILE__, __LINE__, "case %zu: %d (%s)", i,
				  err, why);
		}
		X509_CRL_free(c);
	}
	/* A lastUpdate within the allowed skew of a slow clock is taken. */
	{
		struct crl_opts o = good;
		X509_CRL *c;

		o.last = STLS__OCSP_SKEW / 2;
		c = make_crl(&o);
		CHECK_OK(check_der(c, why, sizeof(why)));
		X509_CRL_free(c);
	}
}

TEST(not_a_crl)
{
	X509 *ca = ox_cert("ca.pem");
	X509_CRL *c = make_crl(&good), *out = NULL;
	size_t len;
	unsigned char *der = der_of(c, &len), *more;
	char why[160];

	CHECK_EQ(stls__crl_check(NULL, 10, ca, time(NULL), &out, why,
				 sizeof(why)),
		 -EBADMSG);
	CHECK_STR_HAS(why, "no CRL");
	CHECK_EQ(stls__crl_check(der, 0, ca, time(NULL), &out, why,
				 sizeof(why)),
		 -EBADMSG);
	CHECK_EQ(stls__crl_check(der, STLS__CRL_MAX_RESP + 1, ca, time(NULL),
				 &out, why, sizeof(why)),
		 -EBADMSG);
	/* Cut short, or with bytes after it. */
	CHECK_EQ(stls__crl_check(der, len - 1, ca, time(NULL), &out, why,
				 sizeof(why)),
		 -EBADMSG);
	CHECK_STR_HAS(why, "not a CRL");
	more = malloc(len + 4);
	CHECK_NOT_NULL(more);
	memcpy(more, der, len);
	memcpy(more + len, "junk", 4);
	CHECK_EQ(stls__crl_check(more, len + 4, ca, time(NULL), &out, why,
				 sizeof(why)),
		 -EBADMSG);
	CHECK_NULL(out);
	free(more);
	OPENSSL_free(der);
	X509_CRL_free(c);
	X509_free(ca);
}

TEST(compare_by_last_update_then_number)
{
	struct crl_opts o = good;
	X509_CRL *a, *b, *n8, *none;

	o.last = -3600;
	a = make_crl(&o);
	o.last = -60;
	b = make_crl(&o);
	CHECK_EQ(stls__crl_compare(a, NULL), 1);
	CHECK_EQ(stls__crl_compare(b, a), 1);
	CHECK_EQ(stls__crl_compare(a, b), -1);
	/* Same lastUpdate (to the second): the CRL number decides. */
	X509_CRL_set1_lastUpdate(b, X509_CRL_get0_lastUpdate(a));
	o.number = 8;
	n8 = make_crl(&o);
	X509_CRL_set1_lastUpdate(n8, X509_CRL_get0_lastUpdate(a));
	CHECK_EQ(stls__crl_compare(n8, a), 1);
	CHECK_EQ(stls__crl_compare(a, n8), -1);
	CHECK_EQ(stls__crl_compare(a, a), 0);
	/* Without a number on one side: equal. */
	o.number = -1;
	none = make_crl(&o);
	X509_CRL_set1_lastUpdate(none, X509_CRL_get0_lastUpdate(a));
	CHECK_EQ(stls__crl_compare(none, n8), 0);
	CHECK_EQ(stls__crl_compare(n8, none), 0);
	X509_CRL_free(a);
	X509_CRL_free(b);
	X509_CRL_free(n8);
	X509_CRL_free(none);
}

static GENERAL_NAME *uri(const char *u, int len)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	CHECK(ASN1_STRING_set(s, u, len));
	GENERAL_NAME_set0_value(g, GEN_URI, s);
	return g;
}

/* A certificate issued (in name) by <issuer> with the points of <dps>. */
static X509 *cert_with_dps(X509 *issuer, STACK_OF(DIST_POINT) *dps)
{
	X509 *x = X509_new();

	CHECK(X509_set_issuer_name(x, X509_get_subject_name(issuer)));
	CHECK(X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, 0));
	return x;
}

static DIST_POINT *point(GENERAL_NAME *a, GENERAL_NAME *b)
{
	DIST_POINT *dp = DIST_POINT_new();

	dp->distpoint = DIST_POINT_NAME_new();
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
	sk_GENERAL_NAME_push(dp->distpoint->name.fullname, a);
	if (b) {
		sk_GENERAL_NAME_push(dp->distpoint->name.fullname, b);
	}
	return dp;
}

TEST(distribution_point_urls)
{
	struct crl_opts o = good;
	X509_CRL *crl;
	X509 *ca = ox_cert("ca.pem"), *other = ox_cert("other-ca.pem");
	X509 *x1, *x2, *x3;
	STACK_OF(DIST_POINT) *dps = sk_DIST_POINT_new_null();
	STACK_OF(X509) *certs = sk_X509_new_null();
	DIST_POINT *own;
	char *urls[8];
	size_t n, i;

	o.idp = "http://crl.example/idp.crl";
	crl = make_crl(&o);
	/* x1: the IDP's URL again, an ldap:// and an https:// one, a URI
	 * with a NUL in it, and a new one in mixed case. */
	sk_DIST_POINT_push(dps, point(uri("http://crl.example/idp.crl", -1),
				      uri("ldap://crl.example/cn=ca", -1)));
	sk_DIST_POINT_push(dps, point(uri("https://crl.example/a.crl", -1),
				      uri("http://evil\0.example/x", 22)));
	sk_DIST_POINT_push(dps, point(uri("HTTP://crl.example/b.crl", -1),
				      NULL));
	x1 = cert_with_dps(ca, dps);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	/* x2: a point with a CRL issuer of its own. */
	dps = sk_DIST_POINT_new_null();
	own = point(uri("http://crl.example/indirect.crl", -1), NULL);
	own->CRLissuer = sk_GENERAL_NAME_new_null();
	sk_GENERAL_NAME_push(own->CRLissuer,
			     uri("http://issuer.example/", -1));
	sk_DIST_POINT_push(dps, own);
	sk_DIST_POINT_push(dps, point(uri("http://crl.example/c.crl", -1),
				      NULL));
	x2 = cert_with_dps(ca, dps);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	/* x3: issued by another CA, its points are not this CRL's. */
	dps = sk_DIST_POINT_new_null();
	sk_DIST_POINT_push(dps, point(uri("http://other.example/o.crl", -1),
				      NULL));
	x3 = cert_with_dps(other, dps);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	sk_X509_push(certs, x3);
	sk_X509_push(certs, x1);
	sk_X509_push(certs, x2);

	n = stls__crl_urls(crl, certs, urls, 8);
	CHECK_EQ(n, 3);
	CHECK_STR_EQ(urls[0], "http://crl.example/idp.crl");
	CHECK_STR_EQ(urls[1], "HTTP://crl.example/b.crl");
	CHECK_STR_EQ(urls[2], "http://crl.example/c.crl");
	for (i = 0; i < n; i++) {
		free(urls[i]);
	}
	/* At most <max>. */
	CHECK_EQ(stls__crl_urls(crl, certs, urls, 2), 2);
	free(urls[0]);
	free(urls[1]);
	CHECK_EQ(stls__crl_urls(crl, NULL, urls, 8), 1);
	free(urls[0]);
	sk_X509_pop_free(certs, X509_free);
	X509_CRL_free(crl);
	X509_free(ca);
	X509_free(other);
}
