/*
 * lib/revoc/ocsp_check.c: which OCSP responses are taken. Good, revoked
 * and unknown answers signed by the issuer; refused: a response signed
 * by an unrelated CA, one about another certificate, garbage, an error
 * status; out of the time window: -ESTALE with the result filled.
 */
#include <errno.h>
#include <time.h>

#include "lib/revoc/ocsp_fixture.h"
#include "revoc/revoc.h"

struct ctx {
	X509 *leaf, *issuer, *other;
};

static void ctx_init(struct ctx *c)
{
	c->leaf = ox_cert("server-chain.pem");
	c->issuer = ox_cert("int.pem");
	c->other = ox_cert("server.pem"); /* issued by the root */
}

static void ctx_fini(struct ctx *c)
{
	X509_free(c->leaf);
	X509_free(c->issuer);
	X509_free(c->other);
}

static int check(struct ctx *c, const char *signer, int status, long tu,
		 long nu, struct stls__ocsp_result *r, char *why)
{
	size_t len;
	unsigned char *der = ox_resp(c->leaf, c->issuer, signer, status, tu,
				     nu, &len);
	int err = stls__ocsp_check(der, len, c->leaf, c->issuer, time(NULL),
				   STLS__OCSP_SKEW, r, why, 160);

	OPENSSL_free(der);
	return err;
}

TEST(statuses_signed_by_the_issuer)
{
	struct ctx c;
	struct stls__ocsp_result r;
	char why[160];

	ctx_init(&c);
	CHECK_OK(check(&c, "int", V_OCSP_CERTSTATUS_GOOD, -60, 3600, &r, why));
	CHECK_EQ(r.status, V_OCSP_CERTSTATUS_GOOD);
	CHECK(r.next_update > time(NULL) + 3500);
	CHECK(r.this_update <= time(NULL) - 59);
	CHECK_OK(check(&c, "int", V_OCSP_CERTSTATUS_REVOKED, -60, 3600, &r,
		       why));
	CHECK_EQ(r.status, V_OCSP_CERTSTATUS_REVOKED);
	CHECK(r.revoked_at > 0 && r.revoked_at < time(NULL));
	CHECK_OK(check(&c, "int", V_OCSP_CERTSTATUS_UNKNOWN, -60, 3600, &r,
		       why));
	CHECK_EQ(r.status, V_OCSP_CERTSTATUS_UNKNOWN);
	/* No nextUpdate: taken, next_update 0. */
	CHECK_OK(check(&c, "int", V_OCSP_CERTSTATUS_GOOD, -60, 0, &r, why));
	CHECK_EQ(r.next_update, 0);
	ctx_fini(&c);
}

TEST(wrong_signer_refused)
{
	struct ctx c;
	struct stls__ocsp_result r;
	char why[160];

	ctx_init(&c);
	CHECK_EQ(check(&c, "other-ca", V_OCSP_CERTSTATUS_GOOD, -60, 3600, &r,
		       why),
		 -EBADMSG);
	CHECK(why[0] != '\0');
	/* The root signed it: it did not issue the leaf. */
	CHECK_EQ(check(&c, "ca", V_OCSP_CERTSTATUS_GOOD, -60, 3600, &r, why),
		 -EBADMSG);
	ctx_fini(&c);
}

TEST(time_window)
{
	struct ctx c;
	struct stls__ocsp_result r;
	char why[160];

	ctx_init(&c);
	/* Expired an hour ago. */
	CHECK_EQ(check(&c, "int", V_OCSP_CERTSTATUS_GOOD, -7200, -3600, &r,
		       why),
		 -ESTALE);
	CHECK_EQ(r.status, V_OCSP_CERTSTATUS_GOOD);
	/* Made an hour in the future. */
	CHECK_EQ(check(&c, "int", V_OCSP_CERTSTATUS_GOOD, 3600, 7200, &r,
		       why),
		 -ESTALE);
	/* Within the skew: taken. */
	CHECK_OK(check(&c, "int", V_OCSP_CERTSTATUS_GOOD, 60, 7200, &r, why));
	ctx_fini(&c);
}

TEST(not_about_this_certificate_or_not_a_response)
{
	struct ctx c;
	struct stls__ocsp_result r;
	char why[160];
	size_t len;
	unsigned char *der;
	static const unsigned char junk[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	OCSP_RESPONSE *er;
	unsigned char *ed = NULL;
	int n;

	ctx_init(&c);
	der = ox_resp(c.leaf, c.issuer, "int", V_OCSP_CERTSTATUS_GOOD, -60,
		      3600, &len);
	CHECK_EQ(stls__ocsp_check(der, len, c.other, c.issuer, time(NULL),
				  STLS__OCSP_SKEW, &r, why, sizeof(why)),
		 -EBADMSG);
	/* Truncated. */
	CHECK_EQ(stls__ocsp_check(der, len / 2, c.leaf, c.issuer, time(NULL),
				  STLS__OCSP_SKEW, &r, why, sizeof(why)),
		 -EBADMSG);
	OPENSSL_free(der);
	CHECK(stls__ocsp_check(junk, sizeof(junk), c.leaf, c.issuer,
			       time(NULL), STLS__OCSP_SKEW, &r, why,
			       sizeof(why)) < 0);
	/* The responder's "tryLater". */
	er = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
	n = i2d_OCSP_RESPONSE(er, &ed);
	CHECK_EQ(stls__ocsp_check(ed, (size_t)n, c.leaf, c.issuer, time(NULL),
				  STLS__OCSP_SKEW, &r, why, sizeof(why)),
		 -EPROTO);
	OPENSSL_free(ed);
	OCSP_RESPONSE_free(er);
	ctx_fini(&c);
}

TEST(must_staple_and_issuer)
{
	struct ctx c;
	STACK_OF(X509) *sk = sk_X509_new_null();

	ctx_init(&c);
	CHECK(!stls__must_staple(c.leaf));
	CHECK(stls__find_issuer(c.leaf, NULL) == NULL);
	CHECK(sk_X509_push(sk, c.other) > 0);
	CHECK(stls__find_issuer(c.leaf, sk) == NULL);
	CHECK(sk_X509_push(sk, c.issuer) > 0);
	CHECK(stls__find_issuer(c.leaf, sk) == c.issuer);
	sk_X509_free(sk);
	ctx_fini(&c);
}
