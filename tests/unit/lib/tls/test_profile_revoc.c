/*
 * lib/tls/profile_revoc.c: stapling on server profiles and verify_ocsp on
 * client profiles, through real handshakes. Responses are made here with
 * OpenSSL's OCSP API, signed by the issuing CA of the test PKI
 * (server-chain.pem: leaf + intermediate "int"): good, revoked, unknown,
 * and good but signed by an unrelated CA. The stapling server is either
 * a profile with ocsp_stapling = file:PATH, or a plain SSL_CTX that
 * staples whatever the case gives it (to show a client a revoked
 * staple, which our servers never send).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lib/revoc/ocsp_fixture.h"
#include "lib/tls/profile_fixture.h"
#include "stls/revoc.h"

/* A DER response about server-chain.pem, signed by <signer>, valid an
 * hour. */
static unsigned char *make_resp(int status, const char *signer, int *len)
{
	X509 *leaf = ox_cert("server-chain.pem"), *issuer = ox_cert("int.pem");
	size_t n;
	unsigned char *der = ox_resp(leaf, issuer, signer, status, -60, 3600,
				     &n);

	*len = (int)n;
	X509_free(leaf);
	X509_free(issuer);
	return der;
}

static char *write_resp(struct fx *f, const char *name, int status,
			const char *signer)
{
	char path[512];
	int len;
	unsigned char *der = make_resp(status, signer, &len);
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", test_tmp_dir(), name);
	fp = fopen(path, "wb");
	CHECK_NOT_NULL(fp);
	CHECK(fwrite(der, 1, (size_t)len, fp) == (size_t)len);
	fclose(fp);
	OPENSSL_free(der);
	return fx_str(f, path);
}

/* After fx_init(): the server profile staples file:<resp> (NULL: no
 * stapling); the client verifies with <mode>. */
static void build(struct fx *f, const char *staple, int mode)
{
	struct stls_profile_conf *s, *c;
	char src[600];

	s = fx_server(f, "default", 1, "server-chain");
	if (staple) {
		snprintf(src, sizeof(src), "file:%s", staple);
		s->ocsp_stapling = fx_str(f, src);
	}
	c = fx_add(f, STLS_ROLE_CLIENT, "default", 10);
	c->ca_list = fx_cert(f, "ca.pem");
	c->verify_certificate = 1;
	c->verify_ocsp = mode;
	CHECK_OK(fx_build(f));
	if (f->d.errors) {
		fx_diag_dump(f);
	}
	CHECK_EQ(f->d.errors, 0);
}

static int hs_profiles(struct fx *f, int version)
{
	SSL *srv = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_SERVER), NULL);
	SSL *cli = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_CLIENT), NULL);
	int rc;

	CHECK(SSL_set_max_proto_version(cli, version));
	rc = fx_handshake(cli, srv);
	SSL_free(cli);
	SSL_free(srv);
	return rc;
}

TEST(staple_good_from_file_accepted_by_hard_client)
{
	struct fx f;
	struct stls_cert_status st[2];
	char *resp;

	fx_init(&f);
	resp = write_resp(&f, "good.der", V_OCSP_CERTSTATUS_GOOD, "int");
	build(&f, resp, STLS_VOCSP_HARD);
	CHECK_EQ(stls_profile_cert_status(stls_profile_set_default(
						  f.set, STLS_ROLE_SERVER),
					  time(NULL), st, 2),
		 1);
	CHECK_EQ(st[0].ocsp, STLS_OCSP_GOOD);
	CHECK(st[0].ocsp_next_update > time(NULL));
	CHECK(st[0].not_after > time(NULL));
	CHECK_OK(hs_profiles(&f, TLS1_2_VERSION));
	CHECK_OK(hs_profiles(&f, TLS1_3_VERSION));
	fx_fini(&f);
}

TEST(no_staple_hard_refuses_soft_accepts)
{
	struct fx f;

	fx_init(&f);
	build(&f, NULL, STLS_VOCSP_HARD);
	CHECK(hs_profiles(&f, TLS1_3_VERSION) != 0);
	CHECK(hs_profiles(&f, TLS1_2_VERSION) != 0);
	fx_fini(&f);
	fx_init(&f);
	build(&f, NULL, STLS_VOCSP_SOFT);
	CHECK_OK(hs_profiles(&f, TLS1_3_VERSION));
	fx_fini(&f);
	fx_init(&f);
	build(&f, NULL, STLS_VOCSP_OFF);
	CHECK_OK(hs_profiles(&f, TLS1_3_VERSION));
	fx_fini(&f);
}

/* A revoked response in the file is not stapled; the state says so. */
TEST(revoked_file_not_stapled)
{
	struct fx f;
	struct stls_cert_status st[2];
	char *resp;

	fx_init(&f);
	resp = write_resp(&f, "revoked.der", V_OCSP_CERTSTATUS_REVOKED, "int");
	build(&f, resp, STLS_VOCSP_HARD);
	CHECK_EQ(stls_profile_cert_status(stls_profile_set_default(
						  f.set, STLS_ROLE_SERVER),
					  time(NULL), st, 2),
		 1);
	CHECK_EQ(st[0].ocsp, STLS_OCSP_REVOKED);
	CHECK(hs_profiles(&f, TLS1_3_VERSION) != 0);
	fx_fini(&f);
}

/* A plain server that staples what the case gives it. */
static const unsigned char *raw_der;
static int raw_len;

static int raw_status_cb(SSL *ssl, void *arg)
{
	unsigned char *copy = OPENSSL_memdup(raw_der, (size_t)raw_len);

	(void)arg;
	CHECK(SSL_set_tlsext_status_ocsp_resp(ssl, copy, raw_len));
	return SSL_TLSEXT_ERR_OK;
}

static int hs_raw(struct fx *f, int status, const char *signer)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	unsigned char *der;
	SSL *srv, *cli;
	int rc;

	der = make_resp(status, signer, &raw_len);
	raw_der = der;
	CHECK(SSL_CTX_use_certificate_chain_file(
		ctx, test_cert_path("server-chain.pem")));
	CHECK(SSL_CTX_use_PrivateKey_file(ctx, test_cert_path("server-chain.key"),
					  SSL_FILETYPE_PEM));
	SSL_CTX_set_tlsext_status_cb(ctx, raw_status_cb);
	srv = SSL_new(ctx);
	SSL_set_accept_state(srv);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_CLIENT), NULL);
	rc = fx_handshake(cli, srv);
	if (rc != 0) {
		fprintf(stderr, "hs_raw: verify %ld\n",
			SSL_get_verify_result(cli));
		ERR_print_errors_fp(stderr);
	}
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

TEST(client_checks_the_staple)
{
	struct fx f;

	fx_init(&f);
	build(&f, NULL, STLS_VOCSP_HARD);
	CHECK_OK(hs_raw(&f, V_OCSP_CERTSTATUS_GOOD, "int"));
	CHECK(hs_raw(&f, V_OCSP_CERTSTATUS_REVOKED, "int") != 0);
	CHECK(hs_raw(&f, V_OCSP_CERTSTATUS_UNKNOWN, "int") != 0);
	/* Good, but signed by a CA that has no say over the certificate. */
	CHECK(hs_raw(&f, V_OCSP_CERTSTATUS_GOOD, "other-ca") != 0);
	fx_fini(&f);

	fx_init(&f);
	build(&f, NULL, STLS_VOCSP_SOFT);
	CHECK_OK(hs_raw(&f, V_OCSP_CERTSTATUS_GOOD, "int"));
	CHECK(hs_raw(&f, V_OCSP_CERTSTATUS_REVOKED, "int") != 0);
	CHECK_OK(hs_raw(&f, V_OCSP_CERTSTATUS_UNKNOWN, "int"));
	CHECK_OK(hs_raw(&f, V_OCSP_CERTSTATUS_GOOD, "other-ca"));
	fx_fini(&f);
}

/* ocsp_stapling = on needs a responder URL in the certificate. */
TEST(on_without_aia_is_an_error)
{
	struct fx f;
	struct stls_profile_conf *s;

	fx_init(&f);
	s = fx_server(&f, "default", 1, "server-chain");
	s->ocsp_stapling = fx_str(&f, "on");
	fx_loc(s, STLS_PF_OCSP_STAPLING, 4);
	CHECK(fx_build(&f) != 0 || f.d.errors > 0);
	CHECK(fx_diag_has(&f, "tls.cfg:4"));
	CHECK(fx_diag_has(&f, "no http:// OCSP responder URL"));
	fx_fini(&f);
}

