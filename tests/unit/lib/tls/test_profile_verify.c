/*
 * Tests for lib/tls/profile_verify.c: the verify mode table, optional_no_ca
 * telling the truth, CA lists and CRLs in real in-memory handshakes.
 */
#include <errno.h>
#include <stdio.h>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "lib/tls/profile_fixture.h"

#define REQ (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT)
#define PEER SSL_VERIFY_PEER
#define NONE SSL_VERIFY_NONE

struct mode_case {
	int verify_certificate, require_certificate, verify_client;
	int mode;
};

/* Behaviour study 5.1, every combination. */
static const struct mode_case mode_cases[] = {
	{ 0, 0, STLS_VC_OFF, NONE },
	{ 1, 0, STLS_VC_OFF, PEER },
	{ 0, 1, STLS_VC_OFF, REQ },
	{ 1, 1, STLS_VC_OFF, REQ },
	{ 0, 0, STLS_VC_ON, REQ },
	{ 1, 0, STLS_VC_ON, REQ },
	{ 0, 1, STLS_VC_ON, REQ },
	{ 1, 1, STLS_VC_ON, REQ },
	{ 0, 0, STLS_VC_OPTIONAL, PEER },
	{ 1, 0, STLS_VC_OPTIONAL, PEER },
	{ 0, 1, STLS_VC_OPTIONAL, REQ },
	{ 1, 1, STLS_VC_OPTIONAL, REQ },
	{ 0, 0, STLS_VC_OPTIONAL_NO_CA, PEER },
	{ 1, 0, STLS_VC_OPTIONAL_NO_CA, PEER },
	{ 0, 1, STLS_VC_OPTIONAL_NO_CA, REQ },
	{ 1, 1, STLS_VC_OPTIONAL_NO_CA, REQ },
	{ 0, 0, STLS_VC_UNSET, NONE },
	{ 1, 0, STLS_VC_UNSET, PEER },
	{ 0, 1, STLS_VC_UNSET, REQ },
};

TEST(verify_mode_table)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(mode_cases); i++) {
		const struct mode_case *mc = &mode_cases[i];
		struct stls_profile_conf *c;
		SSL_CTX *ctx;
		struct fx f;

		fx_init(&f);
		c = fx_server(&f, "default", 1, NULL);
		c->verify_certificate = mc->verify_certificate;
		c->require_certificate = mc->require_certificate;
		c->verify_client = mc->verify_client;
		c->verify_depth = 4;
		c->ca_list = fx_cert(&f, "ca.pem");
		CHECK_OK(fx_build(&f));
		ctx = stls_profile_ssl_ctx(stls_profile_set_get0(f.set, 0));
		if (SSL_CTX_get_verify_mode(ctx) != mc->mode) {
			fprintf(stderr, "case %zu\n", i);
		}
		CHECK_EQ(SSL_CTX_get_verify_mode(ctx), mc->mode);
		CHECK_EQ(SSL_CTX_get_verify_callback(ctx) != NULL,
			 mc->verify_client == STLS_VC_OPTIONAL_NO_CA);
		CHECK_EQ(SSL_CTX_get_verify_depth(ctx), 4);
		fx_fini(&f);
	}
}

/* A server profile and a client profile presenting <client_cert>. */
static void pair_build(struct fx *f, int vc, const char *crl,
		       const char *client_cert)
{
	struct stls_profile_conf *c;
	char name[64];

	fx_init(f);
	c = fx_server(f, "default", 1, NULL);
	c->verify_client = vc;
	c->ca_list = fx_cert(f, "ca.pem");
	c->crl = crl ? fx_str(f, crl) : NULL;
	c = fx_add(f, STLS_ROLE_CLIENT, "default", 10);
	c->verify_certificate = 1;
	c->ca_list = fx_cert(f, "ca.pem");
	if (client_cert) {
		snprintf(name, sizeof(name), "%s.pem", client_cert);
		c->certificate = fx_cert(f, name);
		snprintf(name, sizeof(name), "%s.key", client_cert);
		c->private_key = fx_cert(f, name);
	}
	CHECK_OK(fx_build(f));
}

/* Handshake result; *vr = the server's verify result. */
static int pair_run(struct fx *f, long *vr, bool *has_peer)
{
	SSL *srv, *cli;
	int rc;

	srv = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_CLIENT), NULL);
	CHECK_NOT_NULL(srv);
	CHECK_NOT_NULL(cli);
	rc = fx_handshake(cli, srv);
	*vr = SSL_get_verify_result(srv);
	*has_peer = SSL_get0_peer_certificate(srv) != NULL;
	SSL_free(cli);
	SSL_free(srv);
	return rc;
}

/*
 * optional_no_ca: an untrusted client certificate completes the handshake,
 * and the verify result still reports why it is not trusted.
 */
TEST(optional_no_ca_tells_the_truth)
{
	bool peer;
	long vr;
	struct fx f;

	pair_build(&f, STLS_VC_OPTIONAL_NO_CA, NULL, "client-untrusted");
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK(peer);
	CHECK_EQ(vr, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	fx_fini(&f);

	/* Expired: accepted too, reported as expired. */
	pair_build(&f, STLS_VC_OPTIONAL_NO_CA, NULL, "client-expired");
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK_EQ(vr, X509_V_ERR_CERT_HAS_EXPIRED);
	fx_fini(&f);

	/* A trusted one: verified. */
	pair_build(&f, STLS_VC_OPTIONAL_NO_CA, NULL, "client");
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK_EQ(vr, X509_V_OK);
	fx_fini(&f);

	/* No certificate at all: fine, and no peer. */
	pair_build(&f, STLS_VC_OPTIONAL_NO_CA, NULL, NULL);
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK(!peer);
	fx_fini(&f);
}

/* optional and on refuse the same untrusted certificate. */
TEST(optional_and_on_refuse_untrusted)
{
	bool peer;
	long vr;
	struct fx f;

	pair_build(&f, STLS_VC_OPTIONAL, NULL, "client-untrusted");
	CHECK_EQ(pair_run(&f, &vr, &peer), -1);
	CHECK_EQ(vr, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	fx_fini(&f);

	pair_build(&f, STLS_VC_OPTIONAL, NULL, NULL);
	CHECK_OK(pair_run(&f, &vr, &peer));
	fx_fini(&f);

	pair_build(&f, STLS_VC_ON, NULL, NULL);
	CHECK_EQ(pair_run(&f, &vr, &peer), -1);
	fx_fini(&f);

	pair_build(&f, STLS_VC_ON, NULL, "client");
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK_EQ(vr, X509_V_OK);
	fx_fini(&f);
}

TEST(crl_revoked_fails_valid_passes)
{
	bool peer;
	long vr;
	struct fx f;

	pair_build(&f, STLS_VC_ON, test_cert_path("crl.pem"),
		   "client-revoked");
	CHECK_EQ(pair_run(&f, &vr, &peer), -1);
	CHECK_EQ(vr, X509_V_ERR_CERT_REVOKED);
	fx_fini(&f);

	pair_build(&f, STLS_VC_ON, test_cert_path("crl.pem"), "client");
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK_EQ(vr, X509_V_OK);
	fx_fini(&f);

	/* Without the crl key, the revoked certificate passes. */
	pair_build(&f, STLS_VC_ON, NULL, "client-revoked");
	CHECK_OK(pair_run(&f, &vr, &peer));
	fx_fini(&f);
}

static void concat(const char *out, const char *a, const char *b)
{
	const char *in[] = { a, b };
	char buf[4096];
	FILE *o = fopen(out, "w"), *i;
	size_t k, n;

	CHECK_NOT_NULL(o);
	for (k = 0; k < 2; k++) {
		i = fopen(in[k], "r");
		CHECK_NOT_NULL(i);
		while ((n = fread(buf, 1, sizeof(buf), i)) > 0) {
			fwrite(buf, 1, n, o);
		}
		fclose(i);
	}
	fclose(o);
}

/*
 * CRL_CHECK_ALL: a client certificate issued by the intermediate needs the
 * intermediate's CRL too; with only the root's, verification fails.
 */
TEST(crl_needed_for_every_ca_of_the_chain)
{
	char both[512], a[512];
	bool peer;
	long vr;
	struct fx f;

	pair_build(&f, STLS_VC_ON, test_cert_path("crl.pem"), "server-chain");
	CHECK_EQ(pair_run(&f, &vr, &peer), -1);
	CHECK_EQ(vr, X509_V_ERR_UNABLE_TO_GET_CRL);
	fx_fini(&f);

	snprintf(a, sizeof(a), "%s", test_cert_path("crl.pem"));
	snprintf(both, sizeof(both), "%s/crls.pem", test_tmp_dir());
	concat(both, a, test_cert_path("int-crl.pem"));
	pair_build(&f, STLS_VC_ON, both, "server-chain");
	CHECK_OK(pair_run(&f, &vr, &peer));
	CHECK_EQ(vr, X509_V_OK);
	fx_fini(&f);
}

/* ca_list subjects go into the CertificateRequest; ca_path does not. */
TEST(ca_list_advertised)
{
	struct stls_profile_conf *c;
	SSL_CTX *ctx;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->verify_client = STLS_VC_ON;
	c->ca_list = fx_cert(&f, "calist.pem");
	c->ca_path = fx_str(&f, test_certs_dir());
	CHECK_OK(fx_build(&f));
	ctx = stls_profile_ssl_ctx(stls_profile_set_get0(f.set, 0));
	CHECK_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(ctx)), 2);
	fx_fini(&f);
}

TEST(ca_problems_reported)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->verify_client = STLS_VC_ON;
	c->ca_list = fx_cert(&f, "server.key");
	fx_loc(c, STLS_PF_CA_LIST, 2);
	c->ca_path = fx_cert(&f, "ca.pem");
	fx_loc(c, STLS_PF_CA_PATH, 3);
	c->crl = "/nonexistent/crl.pem";
	fx_loc(c, STLS_PF_CRL, 4);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:2: ca_list: no certificate in '"));
	CHECK(fx_diag_has(&f, "ca.pem' is not a directory"));
	CHECK(fx_diag_has(&f, "tls.cfg:4: crl: cannot load "
			  "'/nonexistent/crl.pem': No such file or directory"));
	fx_fini(&f);
}

TEST(verification_warnings)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_add(&f, STLS_ROLE_CLIENT, "default", 5);
	fx_loc(c, STLS_PF_VERIFY_CERTIFICATE, 6);
	c = fx_add(&f, STLS_ROLE_CLIENT, "1.2.3.4:5061", 8);
	c->verify_certificate = 1;
	c = fx_server(&f, "1.2.3.4:5061", 12, NULL);
	c->crl = fx_cert(&f, "crl.pem");
	fx_loc(c, STLS_PF_CRL, 13);
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "tls.cfg:6: warning: verification is off: "
			  "the server's certificate is not checked"));
	CHECK(fx_diag_has(&f, "tls.cfg:8: warning: verification is on but "
			  "neither ca_list nor ca_path is set"));
	CHECK(fx_diag_has(&f, "tls.cfg:13: warning: crl: has no effect"));
	CHECK_EQ(f.d.warnings, 3);
	fx_fini(&f);
}

/* Writes a CRL signed by the test root whose nextUpdate has passed. */
static void make_stale_crl(const char *path)
{
	FILE *in = fopen(test_cert_path("ca.pem"), "r");
	X509 *ca = PEM_read_X509(in, NULL, NULL, NULL);
	EVP_PKEY *key;
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	FILE *out;

	fclose(in);
	in = fopen(test_cert_path("ca.key"), "r");
	key = PEM_read_PrivateKey(in, NULL, NULL, NULL);
	fclose(in);
	CHECK_NOT_NULL(ca);
	CHECK_NOT_NULL(key);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_gmtime_adj(t, -2 * 86400);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, -86400);
	X509_CRL_set1_nextUpdate(crl, t);
	CHECK(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	out = fopen(path, "w");
	PEM_write_X509_CRL(out, crl);
	fclose(out);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	X509_free(ca);
}

TEST(warning_crl_past_next_update)
{
	char path[512];
	struct stls_profile_conf *c;
	struct fx f;

	snprintf(path, sizeof(path), "%s/stale.pem", test_tmp_dir());
	make_stale_crl(path);
	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->verify_client = STLS_VC_ON;
	c->ca_list = fx_cert(&f, "ca.pem");
	c->crl = path;
	fx_loc(c, STLS_PF_CRL, 7);
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "tls.cfg:7: warning: crl: the CRL of '"));
	CHECK(fx_diag_has(&f, "CN=siptls Test CA' in '"));
	CHECK(fx_diag_has(&f, "stale.pem' is past its nextUpdate ("));
	CHECK_EQ(f.d.warnings, 1);
	fx_fini(&f);
}
