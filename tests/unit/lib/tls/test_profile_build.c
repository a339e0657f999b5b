/*
 * Tests for lib/tls/profile_build.c: one SSL_CTX per profile, every
 * tls_method value, ciphers, options, chains and keys (and the chain sent,
 * built once), and the error and warning messages with their file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/tls/profile_fixture.h"
#include "lib/hsm/softhsm_fixture.h"

struct method_case {
	int method;
	int rc;     /* build result */
	int min, max;
	const char *diag; /* expected text, or NULL for none */
};

static const struct method_case method_cases[] = {
	{ STLS_METHOD_SSLV2, -EINVAL, 0, 0,
	  "tls.cfg:3: tls_method: SSLv2 is not available in OpenSSL 3" },
	{ STLS_METHOD_SSLV3, -EINVAL, 0, 0,
	  "tls.cfg:3: tls_method: SSLv3 is not available in OpenSSL 3" },
	{ STLS_METHOD_SSLV23, 0, 0, 0, "warning: tls_method: SSLv23 allows" },
	{ STLS_METHOD_TLSV1, 0, TLS1_VERSION, TLS1_VERSION,
	  "warning: tls_method: TLSv1 allows protocols below TLS 1.2" },
	{ STLS_METHOD_TLSV1_PLUS, 0, TLS1_VERSION, 0, "@SECLEVEL=0" },
	{ STLS_METHOD_TLSV1_1, 0, TLS1_1_VERSION, TLS1_1_VERSION,
	  "tls_method: TLSv1.1 allows" },
	{ STLS_METHOD_TLSV1_1_PLUS, 0, TLS1_1_VERSION, 0,
	  "tls_method: TLSv1.1+ allows" },
	{ STLS_METHOD_TLSV1_2, 0, TLS1_2_VERSION, TLS1_2_VERSION, NULL },
	{ STLS_METHOD_TLSV1_2_PLUS, 0, TLS1_2_VERSION, 0, NULL },
	{ STLS_METHOD_TLSV1_3, 0, TLS1_3_VERSION, TLS1_3_VERSION, NULL },
	{ STLS_METHOD_TLSV1_3_PLUS, 0, TLS1_3_VERSION, 0, NULL },
	{ STLS_METHOD__COUNT + 3, -EINVAL, 0, 0,
	  "tls_method: invalid value" },
};

/* Every tls_method value: version bounds, warnings and refusals. */
TEST(method_every_value)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(method_cases); i++) {
		const struct method_case *mc = &method_cases[i];
		struct stls_profile_conf *c;
		SSL_CTX *ctx;
		struct fx f;

		fx_init(&f);
		c = fx_server(&f, "default", 1, NULL);
		c->method = mc->method;
		fx_loc(c, STLS_PF_METHOD, 3);
		CHECK_EQ(fx_build(&f), mc->rc);
		if (mc->diag && !fx_diag_has(&f, mc->diag)) {
			fx_diag_dump(&f);
			CHECK_STR_EQ("(diag lacks)", mc->diag);
		}
		if (!mc->diag) {
			CHECK_EQ(f.d.n, 0);
		}
		if (mc->rc == 0) {
			ctx = stls_profile_ssl_ctx(stls_profile_set_default(
				f.set, STLS_ROLE_SERVER));
			CHECK_EQ(SSL_CTX_get_min_proto_version(ctx), mc->min);
			CHECK_EQ(SSL_CTX_get_max_proto_version(ctx), mc->max);
		} else {
			CHECK_NULL(f.set);
		}
		fx_fini(&f);
	}
}

/* A TLSv1 profile works once the security level is lowered as advised. */
TEST(method_tlsv1_handshakes_with_seclevel_0)
{
	struct stls_profile_conf *c;
	SSL *cli, *srv;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->method = STLS_METHOD_TLSV1;
	c->cipher_list = "DEFAULT:@SECLEVEL=0";
	c = fx_add(&f, STLS_ROLE_CLIENT, "default", 5);
	c->method = STLS_METHOD_TLSV1_PLUS;
	c->cipher_list = "DEFAULT:@SECLEVEL=0";
	CHECK_OK(fx_build(&f));
	srv = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_CLIENT), NULL);
	CHECK_OK(fx_handshake(cli, srv));
	CHECK_EQ(SSL_version(srv), TLS1_VERSION);
	SSL_free(cli);
	SSL_free(srv);
	fx_fini(&f);
}

static bool ctx_has_cipher(SSL_CTX *ctx, const char *name)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int i;

	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		if (strcmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)),
			   name) == 0) {
			return true;
		}
	}
	return false;
}

/* cipher_list and cipher_suites land in the context, separately. */
TEST(ciphers_applied)
{
	struct stls_profile_conf *c;
	SSL_CTX *ctx;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->cipher_list = "ECDHE-ECDSA-AES256-GCM-SHA384";
	c->cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
	CHECK_OK(fx_build(&f));
	ctx = stls_profile_ssl_ctx(stls_profile_set_get0(f.set, 0));
	CHECK_EQ(sk_SSL_CIPHER_num(SSL_CTX_get_ciphers(ctx)), 2);
	CHECK(ctx_has_cipher(ctx, "ECDHE-ECDSA-AES256-GCM-SHA384"));
	CHECK(ctx_has_cipher(ctx, "TLS_CHACHA20_POLY1305_SHA256"));
	CHECK(!ctx_has_cipher(ctx, "TLS_AES_256_GCM_SHA384"));
	fx_fini(&f);
}

/* Without cipher_suites: OpenSSL's three TLS 1.3 suites, the server
 * preferring AES-128-GCM-SHA256 over a client that (as OpenSSL's default
 * does) lists AES-256-GCM-SHA384 first. */
TEST(tls13_default_suites_prefer_aes128)
{
	SSL_CTX *cctx;
	SSL *cli, *srv;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	CHECK(ctx_has_cipher(stls_profile_ssl_ctx(
				     stls_profile_set_get0(f.set, 0)),
			     "TLS_AES_256_GCM_SHA384"));
	CHECK(ctx_has_cipher(stls_profile_ssl_ctx(
				     stls_profile_set_get0(f.set, 0)),
			     "TLS_CHACHA20_POLY1305_SHA256"));
	srv = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER), NULL);
	cctx = SSL_CTX_new(TLS_client_method());
	CHECK_NOT_NULL(cctx);
	cli = SSL_new(cctx);
	SSL_set_connect_state(cli);
	CHECK_OK(fx_handshake(cli, srv));
	CHECK_EQ(SSL_version(srv), TLS1_3_VERSION);
	CHECK_STR_EQ(SSL_CIPHER_get_name(SSL_get_current_cipher(srv)),
		     "TLS_AES_128_GCM_SHA256");
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	fx_fini(&f);
}

/* Without cipher_list: ECDHE + AEAD only for TLS 1.2 (BCP 195). */
TEST(ciphers_default_is_bcp195)
{
	STACK_OF(SSL_CIPHER) *sk;
	SSL_CTX *ctx;
	int i, n12 = 0;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	ctx = stls_profile_ssl_ctx(stls_profile_set_get0(f.set, 0));
	sk = SSL_CTX_get_ciphers(ctx);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *ci = sk_SSL_CIPHER_value(sk, i);

		CHECK(SSL_CIPHER_is_aead(ci));
		if (strncmp(SSL_CIPHER_get_name(ci), "TLS_", 4) == 0) {
			continue; /* TLS 1.3 suite: OpenSSL's default set */
		}
		CHECK_EQ(SSL_CIPHER_get_kx_nid(ci), NID_kx_ecdhe);
		CHECK(strstr(SSL_CIPHER_get_name(ci), "CBC") == NULL);
		n12++;
	}
	CHECK_EQ(n12, 6);
	fx_fini(&f);
}

TEST(ciphers_refused)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->cipher_list = "NOPE-NOTHING";
	fx_loc(c, STLS_PF_CIPHER_LIST, 4);
	c->cipher_suites = "TLS_FAKE_SUITE";
	fx_loc(c, STLS_PF_CIPHER_SUITES, 6);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:4: cipher_list: OpenSSL accepts no "
			  "cipher in 'NOPE-NOTHING': no cipher match"));
	CHECK(fx_diag_has(&f, "tls.cfg:6: cipher_suites: OpenSSL refuses "
			  "'TLS_FAKE_SUITE'"));
	fx_fini(&f);
}

/* groups: an unknown name fails the build at its line; a known list is
 * what the context offers. */
TEST(groups_applied_and_refused)
{
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	int i;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->groups = "X25519:NOPE";
	fx_loc(c, STLS_PF_GROUPS, 3);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: groups: OpenSSL refuses "
			  "'X25519:NOPE'"));
	fx_fini(&f);

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->groups = "P-256";
	fx_add(&f, STLS_ROLE_CLIENT, "default", 5);
	CHECK_OK(fx_build(&f));
	for (i = 0; i < 2; i++) {
		srv = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_SERVER),
			NULL);
		cli = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_CLIENT),
			NULL);
		CHECK(SSL_set1_groups_list(cli, i ? "X25519:P-256"
						  : "X25519"));
		CHECK_EQ(fx_handshake(cli, srv), i ? 0 : -1);
		if (i) {
			CHECK_EQ(SSL_get_negotiated_group(srv),
				 NID_X9_62_prime256v1);
		}
		SSL_free(cli);
		SSL_free(srv);
	}
	fx_fini(&f);
}

/* Options, modes, buffer parameters and the session settings. */
TEST(options_and_modes)
{
	const struct stls_profile *p;
	SSL_CTX *ctx;
	uint64_t o;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.ssl_release_buffers = 1;
	f.s.ssl_read_ahead = 1;
	f.s.ssl_max_send_fragment = 1024;
	f.s.session_cache = 1;
	CHECK_OK(fx_build(&f));
	p = stls_profile_set_default(f.set, STLS_ROLE_SERVER);
	ctx = stls_profile_ssl_ctx(p);
	o = SSL_CTX_get_options(ctx);
	CHECK(o & SSL_OP_NO_COMPRESSION);
	CHECK(o & SSL_OP_CIPHER_SERVER_PREFERENCE);
	CHECK(o & SSL_OP_NO_RENEGOTIATION);
	CHECK(!(o & SSL_OP_ALLOW_CLIENT_RENEGOTIATION));
	CHECK(SSL_CTX_get_mode(ctx) & SSL_MODE_ENABLE_PARTIAL_WRITE);
	CHECK(SSL_CTX_get_mode(ctx) & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	CHECK(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS);
	CHECK_EQ(SSL_CTX_get_read_ahead(ctx), 1);
	CHECK_EQ(SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_SERVER);
	CHECK_EQ(SSL_CTX_get_num_tickets(ctx), STLS_PROFILE_NUM_TICKETS);
	fx_fini(&f);

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.renegotiation = 1;
	f.s.ssl_release_buffers = 0;
	f.s.ssl_read_ahead = 0;
	CHECK_OK(fx_build(&f));
	ctx = stls_profile_ssl_ctx(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER));
	o = SSL_CTX_get_options(ctx);
	CHECK(!(o & SSL_OP_NO_RENEGOTIATION));
	CHECK(o & SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	CHECK(!(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS));
	CHECK_EQ(SSL_CTX_get_read_ahead(ctx), 0);
	CHECK_EQ(SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_OFF);
	fx_fini(&f);
}

/*
 * Server contexts are prepared for the record hand-off (a key-log
 * callback, so OpenSSL formats key-log lines for every connection) only
 * when the settings ask for it; client contexts never are.
 */
TEST(record_handoff_prepares_server_contexts_only_when_asked)
{
	int on;

	for (on = 0; on < 2; on++) {
		struct fx f;

		fx_init(&f);
		fx_server(&f, "default", 1, NULL);
		f.s.record_handoff = on;
		CHECK_OK(fx_build(&f));
		CHECK_EQ(SSL_CTX_get_keylog_callback(stls_profile_ssl_ctx(
				 stls_profile_set_default(
					 f.set, STLS_ROLE_SERVER))) != NULL,
			 on);
		CHECK_NULL(SSL_CTX_get_keylog_callback(stls_profile_ssl_ctx(
			stls_profile_set_default(f.set, STLS_ROLE_CLIENT))));
		fx_fini(&f);
	}
}

TEST(global_parameters_checked)
{
	static const int bad[] = { 0, 100, 511, 16385, 65536 };
	size_t i;
	struct fx f;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		fx_init(&f);
		fx_server(&f, "default", 1, NULL);
		f.s.ssl_max_send_fragment = bad[i];
		CHECK_EQ(fx_build(&f), -EINVAL);
		CHECK(fx_diag_has(&f, "ssl_max_send_fragment: "));
		CHECK(fx_diag_has(&f, "out of range (-1 or 512..16384)"));
		fx_fini(&f);
	}
	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.session_id = "0123456789012345678901234567890123";
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "session_id: longer than 32 bytes"));
	fx_fini(&f);
}

/*
 * The messages of the brief, all from one build: the build goes on after
 * a failed profile, reports every problem and fails as a whole.
 */
TEST(errors_all_reported_with_file_line)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_add(&f, STLS_ROLE_SERVER, "any", 5);
	c->certificate = fx_cert(&f, "server.pem");
	c->private_key = fx_cert(&f, "server.key");
	c = fx_server(&f, "10.0.0.1:5061", 6, NULL);
	c->certificate = "/x/c.pem";
	fx_loc(c, STLS_PF_CERTIFICATE, 7);
	c = fx_server(&f, "10.0.0.2:5061", 6, NULL);
	c->private_key = fx_cert(&f, "server2.key");
	fx_loc(c, STLS_PF_PRIVATE_KEY, 8);
	c = fx_server(&f, "10.0.0.3:5061", 6, NULL);
	c->private_key = fx_cert(&f, "server-enc.key");
	fx_loc(c, STLS_PF_PRIVATE_KEY, 9);
	c = fx_server(&f, "10.0.0.4:5061", 6, NULL);
	c->crl = fx_cert(&f, "ca.pem");
	c->verify_client = STLS_VC_ON;
	fx_loc(c, STLS_PF_CRL, 10);
	c = fx_server(&f, "10.0.0.5:5061", 6, NULL);
	c->ca_list = fx_cert(&f, "crl.pem");
	fx_loc(c, STLS_PF_CA_LIST, 11);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK_NULL(f.set);
	CHECK(fx_diag_has(&f, "tls.cfg:5: [server:any] needs a server_name"));
	CHECK(fx_diag_has(&f, "tls.cfg:7: certificate: cannot load "
			  "'/x/c.pem': No such file or directory"));
	CHECK(fx_diag_has(&f, "tls.cfg:8: private_key: does not match "
			  "certificate '"));
	CHECK(fx_diag_has(&f, "server.pem'"));
	CHECK(fx_diag_has(&f, "tls.cfg:9: private_key: '"));
	CHECK(fx_diag_has(&f, "server-enc.key' is encrypted and no "
			  "private_key_password is set"));
	CHECK(fx_diag_has(&f, "tls.cfg:10: crl: no CRL found in '"));
	CHECK(fx_diag_has(&f, "tls.cfg:11: ca_list: no certificate in '"));
	CHECK_EQ(f.d.errors, 6);
	fx_fini(&f);
}

/* Without the key's own line, the section header's line is used. */
TEST(error_falls_back_to_section_line)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 12, NULL);
	c->ca_list = "/nonexistent/ca.pem";
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:12: ca_list: cannot load "
			  "'/nonexistent/ca.pem': No such file or directory"));
	fx_fini(&f);
}

TEST(encrypted_key_with_password)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->private_key = fx_cert(&f, "server-enc.key");
	c->private_key_password = "secret";
	CHECK_OK(fx_build(&f));
	/* The set's copy never keeps the password. */
	CHECK_NULL(stls_profile_conf_of(stls_profile_set_get0(f.set, 0))
			   ->private_key_password);
	fx_fini(&f);

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->private_key = fx_cert(&f, "server-enc.key");
	c->private_key_password = "wrong";
	fx_loc(c, STLS_PF_PRIVATE_KEY, 3);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: private_key: cannot decrypt '"));
	CHECK(!fx_diag_has(&f, "wrong'"));
	fx_fini(&f);
}

/* The key may live in the certificate file (seed 10.3). */
TEST(key_inside_certificate_file)
{
	char path[512];
	struct stls_profile_conf *c;
	FILE *out, *in;
	const char *parts[] = { "server.pem", "server.key" };
	char buf[4096];
	size_t i, n;
	struct fx f;

	snprintf(path, sizeof(path), "%s/both.pem", test_tmp_dir());
	out = fopen(path, "w");
	CHECK_NOT_NULL(out);
	for (i = 0; i < 2; i++) {
		in = fopen(test_cert_path(parts[i]), "r");
		CHECK_NOT_NULL(in);
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
			fwrite(buf, 1, n, out);
		}
		fclose(in);
	}
	fclose(out);
	chmod(path, 0600);
	fx_init(&f);
	c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
	c->certificate = path;
	CHECK_OK(fx_build(&f));
	CHECK_EQ(f.d.n, 0);
	fx_fini(&f);
}

TEST(warning_key_readable_by_others)
{
	char key[512];
	struct stls_profile_conf *c;
	struct fx f;

	snprintf(key, sizeof(key), "%s/server.key", test_tmp_dir());
	test_copy_file(test_cert_path("server.key"), key);
	CHECK_OK(chmod(key, 0644));
	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->private_key = key;
	fx_loc(c, STLS_PF_PRIVATE_KEY, 4);
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "tls.cfg:4: warning: private_key: '"));
	CHECK(fx_diag_has(&f, "is readable by group or others (mode 0644)"));
	CHECK_EQ(f.d.warnings, 1);
	fx_fini(&f);
}

TEST(warning_certificate_expired)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, "server-expired");
	fx_loc(c, STLS_PF_CERTIFICATE, 2);
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "tls.cfg:2: warning: certificate: '"));
	CHECK(fx_diag_has(&f, "server-expired.pem' expired on 2021-01-01 "
			  "00:00:00 UTC"));
	fx_fini(&f);
}

/* Writes a self-signed EC certificate valid for <days> more days. */
static void make_short_cert(const char *cert, const char *key, long days)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	FILE *f;

	CHECK_NOT_NULL(pk);
	CHECK_NOT_NULL(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"soon", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400 + 3600);
	X509_set_pubkey(x, pk);
	CHECK(X509_sign(x, pk, EVP_sha256()) > 0);
	f = fopen(cert, "w");
	CHECK_NOT_NULL(f);
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key, "w");
	CHECK_NOT_NULL(f);
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(key, 0600);
	X509_free(x);
	EVP_PKEY_free(pk);
}

TEST(warning_certificate_expiring_within_30_days)
{
	char cert[512], key[512];
	struct stls_profile_conf *c;
	struct fx f;

	snprintf(cert, sizeof(cert), "%s/soon.pem", test_tmp_dir());
	snprintf(key, sizeof(key), "%s/soon.key", test_tmp_dir());
	make_short_cert(cert, key, 10);
	fx_init(&f);
	c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
	c->certificate = cert;
	c->private_key = key;
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "warning: certificate: '"));
	CHECK(fx_diag_has(&f, "soon.pem' expires on "));
	CHECK(fx_diag_has(&f, "(in 10 days)"));
	fx_fini(&f);

	make_short_cert(cert, key, 60);
	fx_init(&f);
	c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
	c->certificate = cert;
	c->private_key = key;
	CHECK_OK(fx_build(&f));
	CHECK_EQ(f.d.n, 0);
	fx_fini(&f);
}

/* RSA + ECDSA chains in one profile; two chains of one type are refused. */
TEST(second_chain)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->certificate2 = fx_cert(&f, "server-rsa.pem");
	c->private_key2 = fx_cert(&f, "server-rsa.key");
	CHECK_OK(fx_build(&f));
	fx_fini(&f);

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->certificate2 = fx_cert(&f, "server2.pem");
	c->private_key2 = fx_cert(&f, "server2.key");
	fx_loc(c, STLS_PF_CERTIFICATE2, 9);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:9: certificate2: '"));
	CHECK(fx_diag_has(&f, "has the same key type as certificate"));
	fx_fini(&f);

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->certificate2 = fx_cert(&f, "server-rsa.pem");
	c->private_key2 = fx_cert(&f, "server.key");
	fx_loc(c, STLS_PF_PRIVATE_KEY2, 10);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:10: private_key2: does not match "
			  "certificate '"));
	fx_fini(&f);
}

TEST(server_profile_needs_certificate)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_add(&f, STLS_ROLE_SERVER, "1.2.3.4:5061", 3);
	(void)c;
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: certificate: a server profile "
			  "needs a certificate"));
	/* The implicit server default (no certificate parameter) warns. */
	CHECK(fx_diag_has(&f, "warning: TLSs<default>: certificate: none"));
	fx_fini(&f);
}

TEST(store_keys_load_and_pkcs11_without_engine_says_why)
{
	struct stls_profile_conf *c;
	char id[1200];
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	snprintf(id, sizeof(id), "/uri:file:%s", test_cert_path("server.key"));
	c->private_key = fx_str(&f, id);
	CHECK_OK(fx_build(&f));
	fx_fini(&f);

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->private_key = "pkcs11:token=x;object=k?pin-value=4321";
	fx_loc(c, STLS_PF_PRIVATE_KEY, 4);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:4: private_key: 'pkcs11:token=x;"
			  "object=k?pin-value=***': no loader for this URI"));
	CHECK(!fx_diag_has(&f, "4321"));
	fx_fini(&f);
}

TEST(token_keys_build_handshake_and_mismatches_are_named)
{
	struct stls_profile_conf *c;
	struct token_fx tf;
	char ecp[700], rsap[700];
	EVP_PKEY *k;
	SSL *srv, *cli;
	SSL_CTX *cctx;
	struct fx f;

	token_make(&tf, true);
	fx_init(&f);
	f.s.engine = "pkcs11";
	f.s.engine_config = tf.engine_cnf;
	{
		struct stls_hsm_conf hc;

		stls_hsm_conf_from_settings(&f.s, &hc);
		CHECK_OK(stls_hsm_init(&hc, &f.d));
	}
	snprintf(ecp, sizeof(ecp), "%s/ec.pem", tf.dir);
	snprintf(rsap, sizeof(rsap), "%s/rsa.pem", tf.dir);
	k = token_key(FX_EC);
	token_cert(k, "ec.example.test", ecp);
	EVP_PKEY_free(k);
	k = token_key(FX_RSA);
	token_cert(k, "rsa.example.test", rsap);
	EVP_PKEY_free(k);

	c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
	c->certificate = ecp;
	c->private_key = FX_EC;
	c->certificate2 = rsap;
	c->private_key2 = "/engine:" FX_RSA;
	CHECK_OK(fx_build(&f));
	/* Real handshakes signed in the token: TLS 1.3 with the ECDSA
	 * key, TLS 1.2 with the RSA one (a client that accepts only
	 * RSA-PSS signatures). */
	for (int i = 0; i < 2; i++) {
		cctx = SSL_CTX_new(TLS_client_method());
		CHECK_NOT_NULL(cctx);
		if (i == 1) {
			CHECK(SSL_CTX_set_max_proto_version(cctx,
							    TLS1_2_VERSION));
			CHECK(SSL_CTX_set1_sigalgs_list(cctx,
							"rsa_pss_rsae_sha256"));
		}
		srv = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_SERVER),
			NULL);
		cli = SSL_new(cctx);
		SSL_set_connect_state(cli);
		if (fx_handshake(cli, srv) != 0) {
			test_fail(__FILE__, __LINE__, "handshake %d: %s", i,
				  ERR_error_string(ERR_get_error(), NULL));
		}
		CHECK_EQ(EVP_PKEY_get_base_id(SSL_get0_peer_certificate(cli)
					      ? X509_get0_pubkey(
						SSL_get0_peer_certificate(cli))
					      : NULL),
			 i == 0 ? EVP_PKEY_EC : EVP_PKEY_RSA);
		SSL_free(cli);
		SSL_free(srv);
		SSL_CTX_free(cctx);
	}
	fx_fini(&f);

	fx_init(&f);
	f.s.engine = "pkcs11";
	f.s.engine_config = tf.engine_cnf;
	c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
	c->certificate = ecp;
	c->private_key = FX_RSA;
	fx_loc(c, STLS_PF_PRIVATE_KEY, 2);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:2: private_key: '" FX_RSA "' with "
			  "certificate"));
	CHECK(fx_diag_has(&f, "key does not match the certificate"));
	fx_fini(&f);
	stls_hsm_fini();
}

/* Many failing profiles: -EINVAL, nothing returned, nothing leaked. */
TEST(failed_build_frees_everything)
{
	struct stls_profile_conf *c;
	struct stls_profile_set *sentinel = (void *)&sentinel;
	char addr[32];
	int i, rc;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	fx_server(&f, "1.1.1.1:5061", 2, NULL);
	for (i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d:5061", i + 1);
		c = fx_server(&f, addr, 10 + i, NULL);
		if (i % 2) {
			c->crl = "/nonexistent/crl.pem";
		}
	}
	c->private_key = fx_cert(&f, "server2.key");
	f.set = sentinel;
	rc = stls_profile_set_build(&f.s, &f.p[0], &f.d, &f.set);
	CHECK_EQ(rc, -EINVAL);
	CHECK(f.set == sentinel); /* untouched on failure */
	f.set = NULL;
	CHECK_EQ(f.d.errors, 5);
	fx_fini(&f);
	FX_LEAK_CHECK();
}

/* The certificates a client receives from <srv_ctx>, as one DER blob
 * each, in order. Returns how many. */
static int sent_chain(SSL_CTX *srv_ctx, unsigned char *der[8], int len[8])
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *cli, *srv;
	STACK_OF(X509) *sk;
	int i, n;

	CHECK_NOT_NULL(cctx);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	cli = SSL_new(cctx);
	srv = SSL_new(srv_ctx);
	CHECK(cli && srv);
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	CHECK_OK(fx_handshake(cli, srv));
	sk = SSL_get_peer_cert_chain(cli);
	CHECK_NOT_NULL(sk);
	n = sk_X509_num(sk);
	CHECK(n <= 8);
	for (i = 0; i < n; i++) {
		der[i] = NULL;
		len[i] = i2d_X509(sk_X509_value(sk, i), &der[i]);
		CHECK(len[i] > 0);
	}
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	return n;
}

/* What OpenSSL sends for <cert> with <ca> in the store and no chain built
 * in advance: its own search at each handshake. */
static int auto_chain(const char *cert, const char *ca, unsigned char *der[8],
		      int len[8])
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char key[64];
	int n;

	snprintf(key, sizeof(key), "%.*s.key", (int)strlen(cert) - 4, cert);
	CHECK_NOT_NULL(ctx);
	CHECK(SSL_CTX_use_certificate_chain_file(ctx, test_cert_path(cert)));
	CHECK(SSL_CTX_use_PrivateKey_file(ctx, test_cert_path(key),
					  SSL_FILETYPE_PEM));
	if (ca) {
		CHECK(SSL_CTX_load_verify_locations(ctx, test_cert_path(ca),
						    NULL));
	}
	n = sent_chain(ctx, der, len);
	SSL_CTX_free(ctx);
	return n;
}

/*
 * Chains are built once at build time, and the peer receives exactly what
 * OpenSSL's own search at each handshake would have sent: leaf only
 * without ca_list, leaf + CA (root included) with it, leaf + int + root
 * through an intermediate, and a file that carries its chain as written.
 */
TEST(chain_built_once_sends_the_same_certificates)
{
	static const struct {
		const char *cert, *ca;
		int n;
		bool prebuilt; /* the profile holds a chain after the build */
	} cases[] = {
		{ "server.pem", NULL, 1, true },
		{ "server.pem", "ca.pem", 2, true },
		{ "server-leaf.pem", "calist.pem", 3, true },
		{ "server-leaf.pem", "ca.pem", 1, true },
		{ "server-chain.pem", "calist.pem", 2, true },
	};
	size_t i;
	int k;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		unsigned char *want[8], *got[8];
		int wlen[8], glen[8], nw, ng;
		struct stls_profile_conf *c;
		STACK_OF(X509) *sk = NULL;
		char base[64];
		SSL_CTX *ctx;
		struct fx f;

		snprintf(base, sizeof(base), "%.*s",
			 (int)strlen(cases[i].cert) - 4, cases[i].cert);
		fx_init(&f);
		c = fx_server(&f, "default", 1, base);
		if (cases[i].ca) {
			c->ca_list = fx_cert(&f, cases[i].ca);
		}
		CHECK_OK(fx_build(&f));
		ctx = stls_profile_ssl_ctx(stls_profile_set_default(
			f.set, STLS_ROLE_SERVER));
		CHECK_EQ(SSL_CTX_get0_chain_certs(ctx, &sk), 1);
		CHECK_EQ(sk != NULL, cases[i].prebuilt);
		ng = sent_chain(ctx, got, glen);
		nw = auto_chain(cases[i].cert, cases[i].ca, want, wlen);
		CHECK_EQ(ng, cases[i].n);
		CHECK_EQ(nw, ng);
		for (k = 0; k < ng && k < nw; k++) {
			CHECK_EQ(glen[k], wlen[k]);
			CHECK(memcmp(got[k], want[k], (size_t)glen[k]) == 0);
		}
		for (k = 0; k < ng; k++) {
			OPENSSL_free(got[k]);
		}
		for (k = 0; k < nw; k++) {
			OPENSSL_free(want[k]);
		}
		fx_fini(&f);
	}
}

/* With two chains (ECDSA + RSA) both are built, and the certificate the
 * profile had current before (the last one loaded) stays current. */
TEST(chain_built_for_both_key_types)
{
	struct stls_profile_conf *c;
	STACK_OF(X509) *sk;
	X509 *cur;
	SSL_CTX *ctx;
	struct fx f;
	int n = 0;
	long r;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->certificate2 = fx_cert(&f, "server-rsa.pem");
	c->private_key2 = fx_cert(&f, "server-rsa.key");
	c->ca_list = fx_cert(&f, "ca.pem");
	CHECK_OK(fx_build(&f));
	ctx = stls_profile_ssl_ctx(stls_profile_set_default(f.set,
							    STLS_ROLE_SERVER));
	cur = SSL_CTX_get0_certificate(ctx);
	CHECK_NOT_NULL(cur);
	r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	while (r == 1) {
		sk = NULL;
		CHECK_EQ(SSL_CTX_get0_chain_certs(ctx, &sk), 1);
		CHECK_NOT_NULL(sk);
		CHECK_EQ(sk_X509_num(sk), 1); /* the CA */
		n++;
		r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT);
	}
	CHECK_EQ(n, 2);
	CHECK_EQ(SSL_CTX_select_current_cert(ctx, cur), 1);
	fx_fini(&f);
}
