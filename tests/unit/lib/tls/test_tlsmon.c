/*
 * Tests for lib/tls/tlsmon.c: a profile's certificate expiry, the fixed
 * verification causes, and the cause of real refused handshakes.
 */
#include <errno.h>
#include <time.h>

#include <openssl/x509_vfy.h>

#include "lib/tls/profile_fixture.h"
#include "lib/tls/tls_pair.h"
#include "stls/tlsmon.h"

/* server-expired.pem ends at 2021-01-01 00:00:00 UTC (mkcerts.sh). */
TEST(not_after_of_expired_certificate)
{
	time_t t = 0;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, "server-expired");
	CHECK_OK(fx_build(&f));
	CHECK_OK(stls_profile_get_not_after(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER), &t));
	CHECK_EQ((long long)t, 1609459200LL);
	fx_fini(&f);
}

/* A valid certificate ends in the future; each profile gives its own. */
TEST(not_after_per_profile)
{
	const struct stls_profile *a, *b;
	time_t ta = 0, tb = 0;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	fx_server(&f, "127.0.0.1:5061", 5, "server-expired");
	CHECK_OK(fx_build(&f));
	a = stls_profile_set_default(f.set, STLS_ROLE_SERVER);
	b = stls_profile_set_get0(f.set, 1);
	CHECK_OK(stls_profile_get_not_after(a, &ta));
	CHECK_OK(stls_profile_get_not_after(b, &tb));
	CHECK(ta > time(NULL));
	CHECK_EQ((long long)tb, 1609459200LL);
	fx_fini(&f);
}

/* The implicit client default presents no certificate. */
TEST(not_after_without_certificate)
{
	time_t t = 7;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	CHECK_EQ(stls_profile_get_not_after(
			 stls_profile_set_default(f.set, STLS_ROLE_CLIENT), &t),
		 -ENOENT);
	CHECK_EQ((long long)t, 7LL);
	fx_fini(&f);
}

TEST(cause_mapping)
{
	CHECK_EQ(stls_verify_cause_of(X509_V_ERR_CERT_HAS_EXPIRED),
		 STLS_VCAUSE_EXPIRED);
	CHECK_EQ(stls_verify_cause_of(X509_V_ERR_CERT_REVOKED),
		 STLS_VCAUSE_REVOKED);
	CHECK_EQ(stls_verify_cause_of(
			 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
		 STLS_VCAUSE_UNTRUSTED);
	CHECK_EQ(stls_verify_cause_of(X509_V_ERR_CERT_NOT_YET_VALID),
		 STLS_VCAUSE_NOT_YET_VALID);
	CHECK_EQ(stls_verify_cause_of(X509_V_ERR_UNABLE_TO_GET_CRL),
		 STLS_VCAUSE_CRL);
	CHECK_EQ(stls_verify_cause_of(X509_V_ERR_CERT_SIGNATURE_FAILURE),
		 STLS_VCAUSE_SIGNATURE);
	CHECK_EQ(stls_verify_cause_of(X509_V_ERR_INVALID_PURPOSE),
		 STLS_VCAUSE_CHAIN);
	CHECK_EQ(stls_verify_cause_of(X509_V_OK), STLS_VCAUSE_OTHER);
	CHECK_EQ(stls_verify_cause_of(-12345), STLS_VCAUSE_OTHER);
}

/* Every cause has a name made of [a-z_] only (a metric label value). */
TEST(cause_names)
{
	const char *s;
	int i;

	for (i = 0; i < STLS_VCAUSE__COUNT; i++) {
		CHECK_NOT_NULL(stls_verify_cause_names[i]);
		for (s = stls_verify_cause_names[i]; *s; s++)
			CHECK((*s >= 'a' && *s <= 'z') || *s == '_');
	}
}

/* A server requiring client certificates refuses <cert>: the cause. */
static enum stls_verify_cause refused_cause(const char *cert, bool crl)
{
	char pem[64], key[64];
	enum stls_verify_cause vc;
	struct pair p;

	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	p.keep_ssl = true;
	ctx_set_vmode(p.sctx, VM_ON);
	if (crl)
		ctx_add_crl(p.sctx, "crl.pem");
	snprintf(pem, sizeof(pem), "%s.pem", cert);
	snprintf(key, sizeof(key), "%s.key", cert);
	CHECK(SSL_CTX_use_certificate_file(p.cctx, test_cert_path(pem),
					   SSL_FILETYPE_PEM));
	CHECK(SSL_CTX_use_PrivateKey_file(p.cctx, test_cert_path(key),
					  SSL_FILETYPE_PEM));
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK_EQ(stls_conn_get_reason(p.s.conn), STLS_CLOSE_VERIFY);
	vc = stls_conn_get_verify_cause(p.s.conn);
	pair_fini(&p);
	return vc;
}

TEST(conn_cause_expired)
{
	CHECK_EQ(refused_cause("client-expired", false), STLS_VCAUSE_EXPIRED);
}

TEST(conn_cause_untrusted)
{
	CHECK_EQ(refused_cause("client-untrusted", false),
		 STLS_VCAUSE_UNTRUSTED);
}

TEST(conn_cause_revoked)
{
	CHECK_EQ(refused_cause("client-revoked", true), STLS_VCAUSE_REVOKED);
}
