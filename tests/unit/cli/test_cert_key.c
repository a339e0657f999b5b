/*
 * Unit tests for cli/cert_key.c: `siptlsctl cert issue|selfsigned|csr
 * --key` with a key in a real SoftHSM2 token and with a key file: the
 * certificate or request carries the token's public key, is signed in the
 * token where it must be, and no key file is written.
 */
#include "cli/cert_test_util.h"
#include "lib/hsm/softhsm_fixture.h"

TEST(issue_from_the_demo_ca_for_a_token_key)
{
	struct token_fx fx;

	token_make(&fx, true);
	CHECK_EQ(run_cert("ca", "init", "ca", NULL), 0);
	CHECK_EQ(run_cert("issue", "server", "sip.example.test", "--ca",
			  "ca", "--key", FX_EC, "--engine-config",
			  fx.engine_cnf, NULL),
		 0);
	CHECK_STR_HAS(cert_out, "the key stays where --key names it");
	CHECK_EQ(file_mode("sip.example.test.key"), -1);
	/* The certificate's key is the token's: pkcs11-tool reads it. */
	CHECK_EQ(run_sh("openssl x509 -in sip.example.test.pem -noout "
			"-pubkey > cert.pub && pkcs11-tool --module %s "
			"--read-object --type pubkey --label ec -o tok.der "
			">/dev/null 2>&1 && openssl pkey -pubin -inform DER "
			"-in tok.der > tok.pub && cmp cert.pub tok.pub",
			fx.module),
		 0);
	CHECK_EQ(run_sh("openssl verify -CAfile ca/ca.pem "
			"sip.example.test.pem"),
		 0);
}

TEST(a_csr_and_a_selfsigned_certificate_are_signed_in_the_token)
{
	struct token_fx fx;

	token_make(&fx, true);
	CHECK_EQ(run_cert("csr", "edge.example.test", "--key", FX_RSA,
			  "--engine-config", fx.engine_cnf, NULL),
		 0);
	CHECK_EQ(file_mode("edge.example.test.key"), -1);
	CHECK_EQ(run_sh("openssl req -in edge.example.test.csr -noout "
			"-verify -text"),
		 0);
	CHECK_STR_HAS(cert_out, "verify OK");
	CHECK_STR_HAS(cert_out, "DNS:edge.example.test");
	CHECK_EQ(run_cert("selfsigned", "self", "--key",
			  "/engine:" FX_EC, "--engine-config", fx.engine_cnf,
			  NULL),
		 0);
	CHECK_EQ(run_sh("openssl verify -CAfile self.pem self.pem"), 0);
}

TEST(a_missing_key_wrong_pin_and_mixed_options_fail_with_reasons)
{
	struct token_fx fx;

	token_make(&fx, true);
	CHECK_EQ(run_cert("csr", "x", "--key",
			  "pkcs11:token=siptls-test;object=nope",
			  "--engine-config", fx.engine_cnf, NULL),
		 1);
	CHECK_STR_HAS(cert_err, "key not found");
	CHECK_EQ(run_cert("csr", "x", "--key", FX_EC "?pin-value=0000",
			  "--engine-config", fx.nopin_cnf, NULL),
		 1);
	CHECK_STR_HAS(cert_err, "PIN refused");
	CHECK(!strstr(cert_err, "0000"));
	CHECK_EQ(run_cert("csr", "x", "--key", FX_EC, "--rsa", "2048", NULL),
		 1);
	CHECK_STR_HAS(cert_err, "--rsa and --ec make a new one");
	CHECK_EQ(run_cert("csr", "x", "--engine", "pkcs11", NULL), 1);
	CHECK_STR_HAS(cert_err, "go with --key");
}

TEST(a_key_file_works_too_and_a_new_key_is_written)
{
	CHECK_EQ(run_cert("csr", "filekey", "--key",
			  test_cert_path("server.key"), NULL),
		 0);
	CHECK_EQ(file_mode("filekey.key"), -1);
	CHECK_EQ(run_cert("csr", "fresh", NULL), 0);
	CHECK_EQ(file_mode("fresh.key"), 0600);
	CHECK_EQ(run_sh("openssl req -in fresh.csr -noout -verify"), 0);
}
