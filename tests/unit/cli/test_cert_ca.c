/*
 * Tests of cli/cert_ca.c: `siptlsctl cert ca init | issue | selfsigned |
 * revoke | crl` run in process, with the results checked by real
 * verifiers: OpenSSL read-back, `openssl verify` (with and without CRL),
 * GnuTLS `certtool --verify`, and a mutual-TLS handshake between two SSL
 * objects over a BIO pair using the issued certificates.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cli/cert_test_util.h"
#include "stls/x509.h"

/* A CA in ./ca with one server (sip.example.test) and one client (alice). */
static void make_pki(void)
{
	CHECK_EQ(run_cert("ca", "init", "ca", "--subject",
			  "/O=Example/CN=Example SIP CA", NULL), 0);
	CHECK_EQ(run_cert("issue", "server", "sip.example.test", "--ca", "ca",
			  "--dns", "sip.example.test", "--uri",
			  "sip:example.test", "--ip", "127.0.0.1", "--ip",
			  "::1", NULL), 0);
	CHECK_EQ(run_cert("issue", "client", "alice", "--ca", "ca", "--uri",
			  "sip:alice@example.test", NULL), 0);
}

static X509 *load(const char *name)
{
	FILE *f = fopen(tmp_path(name), "r");
	X509 *x;

	CHECK_NOT_NULL(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CHECK_NOT_NULL(x);
	return x;
}

/* Concatenates the SANs as "DNS:a,URI:b,IP:c" via OpenSSL's printer. */
static const char *sans_text(X509 *x)
{
	static char buf[1024];
	BIO *b = BIO_new(BIO_s_mem());
	int i = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
	int n;

	buf[0] = '\0';
	if (i >= 0) {
		X509V3_EXT_print(b, X509_get_ext(x, i), 0, 0);
		n = BIO_read(b, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
	return buf;
}

TEST(ca_init_creates_key_0600_and_state)
{
	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK_STR_HAS(cert_out, "created CA in ca");
	CHECK_EQ(file_mode("ca/ca.key"), 0600);
	CHECK(file_exists("ca/ca.pem"));
	CHECK_STR_HAS(read_text(tmp_path("ca/ca-state.txt")), "format 1");
	CHECK_STR_HAS(read_text(tmp_path("ca/ca-state.txt")), "crl-number 1");
	CHECK_EQ(run_sh("openssl x509 -in ca/ca.pem -noout -text"), 0);
	CHECK_STR_HAS(cert_out, "CA:TRUE");
	CHECK_STR_HAS(cert_out, "Certificate Sign, CRL Sign");
	CHECK_STR_HAS(cert_out, "prime256v1");
	CHECK_STR_HAS(cert_out, "Subject: O = siptls, CN = siptls SIP CA");
}

TEST(ca_init_refuses_existing_ca_unless_forced)
{
	char before[4096];

	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK(snprintf(before, sizeof(before), "%s",
		       read_text(tmp_path("ca/ca.pem"))) < (int)sizeof(before));
	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 1);
	CHECK_STR_HAS(cert_err, "a CA already exists in 'ca'");
	CHECK_STR_HAS(cert_err, "--force");
	CHECK_STR_EQ(read_text(tmp_path("ca/ca.pem")), before);
	CHECK_EQ(run_cert("ca", "init", "ca", "--force", "--rsa", "2048",
			  NULL), 0);
	CHECK(strcmp(read_text(tmp_path("ca/ca.pem")), before) != 0);
	CHECK_EQ(run_sh("openssl x509 -in ca/ca.pem -noout -text"), 0);
	CHECK_STR_HAS(cert_out, "Public-Key: (2048 bit)");
}

TEST(issue_server_has_sip_identity_and_extensions)
{
	X509 *x;
	char hex[64];

	make_pki();
	CHECK_EQ(file_mode("sip.example.test.key"), 0600);
	x = load("sip.example.test.pem");
	CHECK_STR_EQ(sans_text(x), "DNS:sip.example.test, "
				   "URI:sip:example.test, "
				   "IP Address:127.0.0.1, "
				   "IP Address:0:0:0:0:0:0:0:1");
	CHECK_EQ(X509_check_ca(x), 0);
	CHECK(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
	CHECK(X509_get_extended_key_usage(x) == (XKU_SSL_SERVER |
						 XKU_SSL_CLIENT));
	CHECK_NOT_NULL(X509_get0_subject_key_id(x));
	CHECK_NOT_NULL(X509_get0_authority_key_id(x));
	CHECK_EQ(X509_check_host(x, "sip.example.test", 0, 0, NULL), 1);
	/* 128-bit positive serial, recorded in the CA state. */
	CHECK_EQ(ASN1_STRING_length(X509_get0_serialNumber(x)), 16);
	CHECK_EQ(ASN1_STRING_type(X509_get0_serialNumber(x)), V_ASN1_INTEGER);
	stls_x509_serial_hex(x, hex, sizeof(hex));
	CHECK_STR_HAS(read_text(tmp_path("ca/ca-state.txt")), hex);
	CHECK_STR_HAS(read_text(tmp_path("ca/ca-state.txt")),
		      "server sip.example.test");
	X509_free(x);
}

TEST(issue_client_rsa_has_client_auth_and_key_encipherment)
{
	X509 *x;

	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK_EQ(run_cert("issue", "client", "bob", "--ca", "ca", "--rsa",
			  "2048", "--uri", "sip:bob@example.test", "--email",
			  "bob@example.test", "--out", ".", NULL), 0);
	x = load("bob.pem");
	CHECK_STR_EQ(sans_text(x), "URI:sip:bob@example.test, "
				   "email:bob@example.test");
	CHECK(X509_get_key_usage(x) ==
	      (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
	CHECK(X509_get_extended_key_usage(x) == XKU_SSL_CLIENT);
	CHECK_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 2048);
	X509_free(x);
}

TEST(issue_server_without_names_gets_dns_and_sip_uri)
{
	X509 *x;

	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK_EQ(run_cert("issue", "server", "proxy.example.test", "--ca",
			  "ca", "--chain", NULL), 0);
	x = load("proxy.example.test.pem");
	CHECK_STR_EQ(sans_text(x), "DNS:proxy.example.test, "
				   "URI:sip:proxy.example.test");
	X509_free(x);
	/* --chain: leaf then CA. */
	CHECK_EQ(run_sh("grep -c 'BEGIN CERTIFICATE' proxy.example.test.pem"),
		 0);
	CHECK_STR_HAS(cert_out, "2");
}

TEST(openssl_verify_and_crl_check)
{
	make_pki();
	CHECK_EQ(run_cert("issue", "client", "mallory", "--ca", "ca", NULL),
		 0);
	CHECK_EQ(run_cert("crl", "--ca", "ca", "--out", "empty.pem", NULL), 0);
	CHECK_STR_HAS(cert_out, "CRL number 1, 0 revoked");
	CHECK_EQ(run_sh("openssl verify -CAfile ca/ca.pem sip.example.test.pem"
			" alice.pem mallory.pem"), 0);
	CHECK_EQ(run_cert("revoke", "mallory.pem", "--ca", "ca", "--reason",
			  "keyCompromise", NULL), 0);
	CHECK_STR_HAS(cert_out, "revoked serial");
	CHECK_EQ(run_cert("crl", "--ca", "ca", "--out", "crl.pem", NULL), 0);
	CHECK_STR_HAS(cert_out, "CRL number 2, 1 revoked");
	CHECK_EQ(run_sh("openssl verify -crl_check -CRLfile crl.pem "
			"-CAfile ca/ca.pem mallory.pem"), 2);
	CHECK_STR_HAS(cert_out, "certificate revoked");
	CHECK_EQ(run_sh("openssl verify -crl_check -CRLfile crl.pem "
			"-CAfile ca/ca.pem sip.example.test.pem alice.pem"), 0);
	CHECK_EQ(run_sh("openssl crl -in crl.pem -noout -text"), 0);
	CHECK_STR_HAS(cert_out, "Version 2");
	CHECK_STR_HAS(cert_out, "Key Compromise");
	CHECK_STR_HAS(cert_out, "Next Update");
	/* A second CRL carries the next number. */
	CHECK_EQ(run_cert("crl", "--ca", "ca", "--out", "crl.pem", "--days",
			  "7", NULL), 0);
	CHECK_STR_HAS(cert_out, "CRL number 3");
	CHECK_STR_HAS(read_text(tmp_path("ca/ca-state.txt")), "crl-number 4");
}

TEST(revoke_twice_and_foreign_certificate_fail)
{
	make_pki();
	CHECK_EQ(run_cert("revoke", "alice.pem", "--ca", "ca", NULL), 0);
	CHECK_EQ(run_cert("revoke", "alice.pem", "--ca", "ca", NULL), 1);
	CHECK_STR_HAS(cert_err, "is already revoked");
	CHECK_EQ(run_cert("ca", "init", "other", NULL), 0);
	CHECK_EQ(run_cert("revoke", "sip.example.test.pem", "--ca", "other",
			  NULL), 1);
	CHECK_STR_HAS(cert_err, "was not issued by the CA in 'other'");
	CHECK_EQ(run_cert("revoke", "alice.pem", "--ca", "ca", "--reason",
			  "bored", NULL), 2);
	CHECK_STR_HAS(cert_err, "unknown reason 'bored'");
}

TEST(certtool_accepts_the_chain)
{
	if (system("command -v certtool >/dev/null 2>&1") != 0) {
		test_skip("certtool (gnutls-bin) is not installed");
	}
	make_pki();
	CHECK_EQ(run_cert("issue", "server", "edge", "--ca", "ca", "--chain",
			  NULL), 0);
	CHECK_EQ(run_sh("certtool --verify --load-ca-certificate ca/ca.pem "
			"--infile edge.pem"), 0);
	CHECK_STR_HAS(cert_out, "Chain verification output: Verified");
	CHECK_EQ(run_sh("certtool --verify --load-ca-certificate ca/ca.pem "
			"--infile alice.pem"), 0);
	CHECK_STR_HAS(cert_out, "Verified");
}

static SSL_CTX *make_ctx(bool server, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method()
					  : TLS_client_method());

	CHECK_NOT_NULL(ctx);
	CHECK_EQ(SSL_CTX_use_certificate_chain_file(ctx, tmp_path(cert)), 1);
	CHECK_EQ(SSL_CTX_use_PrivateKey_file(ctx, tmp_path(key),
					     SSL_FILETYPE_PEM), 1);
	CHECK_EQ(SSL_CTX_load_verify_locations(ctx, tmp_path("ca/ca.pem"),
					       NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

/* Runs both sides until both finish; returns true when both succeed. */
static bool handshake(SSL *c, SSL *s)
{
	int i, rc_c = 0, rc_s = 0;

	for (i = 0; i < 100 && (rc_c != 1 || rc_s != 1); i++) {
		if (rc_c != 1) {
			rc_c = SSL_do_handshake(c);
		}
		if (rc_s != 1) {
			rc_s = SSL_do_handshake(s);
		}
		if ((rc_c <= 0 &&
		     SSL_get_error(c, rc_c) != SSL_ERROR_WANT_READ) ||
		    (rc_s <= 0 &&
		     SSL_get_error(s, rc_s) != SSL_ERROR_WANT_READ)) {
			fprintf(stderr, "handshake: %s\n",
				ERR_reason_error_string(ERR_peek_error()));
			return false;
		}
	}
	return rc_c == 1 && rc_s == 1;
}

static bool mutual_tls(const char *srv, const char *cli, const char *host)
{
	SSL_CTX *sc, *cc;
	char sk[256], ck[256];
	BIO *b1 = NULL, *b2 = NULL;
	SSL *s, *c;
	bool ok;

	snprintf(sk, sizeof(sk), "%.250s", srv);
	memcpy(strrchr(sk, '.'), ".key", 5);
	snprintf(ck, sizeof(ck), "%.250s", cli);
	memcpy(strrchr(ck, '.'), ".key", 5);
	sc = make_ctx(true, srv, sk);
	cc = make_ctx(false, cli, ck);
	s = SSL_new(sc);
	c = SSL_new(cc);
	CHECK_EQ(BIO_new_bio_pair(&b1, 0, &b2, 0), 1);
	SSL_set_bio(s, b1, b1);
	SSL_set_bio(c, b2, b2);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	CHECK_EQ(SSL_set1_host(c, host), 1);
	ok = handshake(c, s) && SSL_get_verify_result(c) == X509_V_OK &&
	     SSL_get_verify_result(s) == X509_V_OK;
	if (ok) {
		X509 *peer = SSL_get1_peer_certificate(s);

		char cn[64] = "";

		/* The server saw the client's certificate. */
		ok = peer &&
		     X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
					       NID_commonName, cn,
					       sizeof(cn)) > 0 &&
		     strcmp(cn, "alice") == 0;
		X509_free(peer);
	}
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	ERR_clear_error();
	return ok;
}

TEST(mutual_tls_handshake_with_issued_certificates)
{
	make_pki();
	CHECK(mutual_tls("sip.example.test.pem", "alice.pem",
			 "sip.example.test"));
	/* The wrong name is refused by the client's verification. */
	CHECK(!mutual_tls("sip.example.test.pem", "alice.pem",
			  "other.example.test"));
	/* A client certificate cannot serve: no serverAuth. */
	CHECK(!mutual_tls("alice.pem", "alice.pem", "alice"));
}

TEST(selfsigned_for_the_demo)
{
	X509 *x;

	CHECK_EQ(run_cert("selfsigned", "demo.example.test", "--ip",
			  "127.0.0.1", "--days", "30", NULL), 0);
	CHECK_EQ(file_mode("demo.example.test.key"), 0600);
	x = load("demo.example.test.pem");
	CHECK_STR_EQ(sans_text(x), "IP Address:127.0.0.1");
	CHECK_EQ(X509_NAME_cmp(X509_get_subject_name(x),
			       X509_get_issuer_name(x)), 0);
	CHECK_EQ(X509_verify(x, X509_get0_pubkey(x)), 1);
	X509_free(x);
	CHECK_EQ(run_sh("openssl verify -CAfile demo.example.test.pem "
			"demo.example.test.pem"), 0);
	CHECK_EQ(run_cert("selfsigned", "demo.example.test", NULL), 1);
	CHECK_STR_HAS(cert_err, "already exists: use --force");
}

TEST(missing_ca_names_the_file)
{
	CHECK_EQ(run_cert("issue", "server", "x", "--ca", "nope", NULL), 1);
	CHECK_STR_HAS(cert_err, "cannot read CA certificate 'nope/ca.pem': "
				"No such file or directory");
	CHECK(!file_exists("x.key"));
	CHECK(!file_exists("x.pem"));
	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK_EQ(run_sh("rm ca/ca.key"), 0);
	CHECK_EQ(run_cert("issue", "server", "x", "--ca", "ca", NULL), 1);
	CHECK_STR_HAS(cert_err, "cannot read CA key 'ca/ca.key': No such "
				"file or directory");
	CHECK(!file_exists("x.key"));
}

TEST(bad_input_is_a_usage_error)
{
	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK_EQ(run_cert("issue", "server", "x", "--ca", "ca", "--ip",
			  "300.1.2.3", NULL), 2);
	CHECK_STR_HAS(cert_err, "bad IP name '300.1.2.3'");
	CHECK_EQ(run_cert("issue", "server", "x", "--ca", "ca", "--dns",
			  "bad_name.example", NULL), 2);
	CHECK_STR_HAS(cert_err, "bad DNS name");
	CHECK_EQ(run_cert("issue", "server", "x", "--ca", "ca", "--uri",
			  "example.test", NULL), 2);
	CHECK_EQ(run_cert("issue", "server", "../x", "--ca", "ca", NULL), 2);
	CHECK_STR_HAS(cert_err, "bad NAME '../x'");
	CHECK_EQ(run_cert("issue", "peer", "x", "--ca", "ca", NULL), 2);
	CHECK_EQ(run_cert("issue", "server", "x", NULL), 2);
	CHECK_STR_HAS(cert_err, "--ca DIR is required");
	CHECK_EQ(run_cert("issue", "server", "x", "--ca", "ca", "--rsa",
			  "1024", NULL), 2);
	CHECK_EQ(run_cert("ca", "init", "ca2", "--subject", "CN=x", NULL), 2);
	CHECK_EQ(run_cert("ca", "init", "ca2", "--subject", "/XX=y", NULL), 2);
	CHECK_STR_HAS(cert_err, "unknown attribute 'XX'");
	CHECK(!file_exists("x.key"));
	CHECK(!file_exists("ca2/ca.key"));
}

TEST(encrypted_ca_key_needs_the_pass_file)
{
	CHECK_EQ(run_sh("printf 'correct horse\\n' > pw && printf 'nope\\n' "
			"> bad"), 0);
	CHECK_EQ(run_cert("ca", "init", "ca", "--pass-file", "pw", NULL), 0);
	CHECK_STR_HAS(read_text(tmp_path("ca/ca.key")),
		      "BEGIN ENCRYPTED PRIVATE KEY");
	CHECK_EQ(run_cert("issue", "server", "s", "--ca", "ca", NULL), 1);
	CHECK_STR_HAS(cert_err, "CA key 'ca/ca.key' is encrypted");
	CHECK_EQ(run_cert("issue", "server", "s", "--ca", "ca", "--pass-file",
			  "bad", NULL), 1);
	CHECK_STR_HAS(cert_err, "wrong password");
	CHECK_EQ(run_cert("issue", "server", "s", "--ca", "ca", "--pass-file",
			  "pw", NULL), 0);
	CHECK_EQ(run_cert("crl", "--ca", "ca", "--pass-file", "pw", NULL), 0);
	CHECK(file_exists("ca/crl.pem"));
}
