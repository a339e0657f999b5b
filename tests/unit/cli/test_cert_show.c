/*
 * Tests of cli/cert_show.c: `siptlsctl cert show` (certificates, chains,
 * CRLs, --key) and `siptlsctl cert calist`.
 */
#include "cli/cert_test_util.h"

static void make_pki(void)
{
	CHECK_EQ(run_cert("ca", "init", "ca", "--subject",
			  "/O=Example/CN=Example SIP CA", NULL), 0);
	CHECK_EQ(run_cert("issue", "server", "sip.example.test", "--ca", "ca",
			  "--uri", "sip:example.test", "--ip", "192.0.2.7",
			  "--ip", "2001:db8::7", "--chain", NULL), 0);
	CHECK_EQ(run_cert("issue", "client", "alice", "--ca", "ca", "--uri",
			  "sip:alice@example.test", NULL), 0);
}

TEST(show_prints_every_certificate_of_a_chain)
{
	make_pki();
	CHECK_EQ(run_cert("show", "sip.example.test.pem", NULL), 0);
	CHECK_STR_HAS(cert_out, "certificate 1 of 2 (sip.example.test.pem)");
	CHECK_STR_HAS(cert_out, "certificate 2 of 2");
	CHECK_STR_HAS(cert_out, "subject:     CN=sip.example.test");
	CHECK_STR_HAS(cert_out, "issuer:      O=Example, CN=Example SIP CA");
	CHECK_STR_HAS(cert_out, "SAN URI:     sip:example.test");
	CHECK_STR_HAS(cert_out, "SAN IP:      192.0.2.7");
	CHECK_STR_HAS(cert_out, "SAN IP:      2001:db8::7");
	CHECK_STR_HAS(cert_out, "(825 days left)");
	CHECK_STR_HAS(cert_out, "key:         EC P-256");
	CHECK_STR_HAS(cert_out, "CA:          no");
	CHECK_STR_HAS(cert_out, "CA:          yes");
	CHECK_STR_HAS(cert_out, "ext usage:   serverAuth, clientAuth");
	CHECK_STR_HAS(cert_out, "sha256:      ");
	/* The fingerprint is OpenSSL's. */
	CHECK_EQ(run_sh("openssl x509 -in alice.pem -noout -fingerprint "
			"-sha256 | cut -d= -f2"), 0);
	cert_out[strcspn(cert_out, "\n")] = '\0';
	{
		char fp[128];

		snprintf(fp, sizeof(fp), "%.120s", cert_out);
		CHECK_EQ(run_cert("show", "alice.pem", NULL), 0);
		CHECK_STR_HAS(cert_out, fp);
		CHECK_STR_HAS(cert_out, "SAN URI:     sip:alice@example.test");
		CHECK_STR_HAS(cert_out, "ext usage:   clientAuth");
	}
}

TEST(show_marks_expired_certificates)
{
	/* The shared test PKI (tests/certs/mkcerts.sh) has an expired one. */
	CHECK_EQ(run_cert("show", test_cert_path("server-expired.pem"), NULL),
		 0);
	CHECK_STR_HAS(cert_out, "(EXPIRED ");
	CHECK_STR_HAS(cert_out, " days ago)");
	CHECK_EQ(run_cert("show", test_cert_path("crl.pem"), NULL), 0);
	CHECK_STR_HAS(cert_out, "revoked:     1");
	CHECK_EQ(run_cert("show", test_cert_path("crl-empty.pem"), NULL), 0);
	CHECK_STR_HAS(cert_out, "revoked:     0");
}

TEST(show_key_match_and_mismatch)
{
	make_pki();
	CHECK_EQ(run_cert("show", "alice.pem", "--key", "alice.key", NULL), 0);
	CHECK_STR_HAS(cert_out, "key file:    matches alice.key");
	CHECK_EQ(run_cert("show", "alice.pem", "--key",
			  "sip.example.test.key", NULL), 1);
	CHECK_STR_HAS(cert_out, "DOES NOT MATCH");
	CHECK_STR_HAS(cert_err, "key 'sip.example.test.key' does not match "
				"the certificate");
	CHECK_EQ(run_cert("show", "alice.pem", "--key", "nokey.pem", NULL), 1);
	CHECK_STR_HAS(cert_err, "cannot read key 'nokey.pem': No such file");
	CHECK_EQ(run_cert("show", "alice.pem", "--key", "alice.pem", NULL), 1);
	CHECK_STR_HAS(cert_err, "no private key in key 'alice.pem'");
}

TEST(show_crl)
{
	make_pki();
	CHECK_EQ(run_cert("revoke", "alice.pem", "--ca", "ca", "--reason",
			  "superseded", NULL), 0);
	CHECK_EQ(run_cert("crl", "--ca", "ca", NULL), 0);
	CHECK_EQ(run_cert("show", "ca/crl.pem", NULL), 0);
	CHECK_STR_HAS(cert_out, "CRL (ca/crl.pem)");
	CHECK_STR_HAS(cert_out, "issuer:      O=Example, CN=Example SIP CA");
	CHECK_STR_HAS(cert_out, "CRL number:  1");
	CHECK_STR_HAS(cert_out, "(30 days left)");
	CHECK_STR_HAS(cert_out, "revoked:     1");
	CHECK_STR_HAS(cert_out, "superseded");
}

TEST(show_bad_files)
{
	CHECK_EQ(run_cert("show", "missing.pem", NULL), 1);
	CHECK_STR_HAS(cert_err, "cannot read certificate 'missing.pem': No "
				"such file or directory");
	CHECK_EQ(run_sh("echo hello > junk.pem"), 0);
	CHECK_EQ(run_cert("show", "junk.pem", NULL), 1);
	CHECK_STR_HAS(cert_err, "junk.pem");
	CHECK_EQ(run_sh("printf -- '-----BEGIN CERTIFICATE-----\\nAAAA\\n"
			"-----END CERTIFICATE-----\\n' > bad.pem"), 0);
	CHECK_EQ(run_cert("show", "bad.pem", NULL), 1);
	CHECK_STR_HAS(cert_err, "cannot parse certificate 'bad.pem'");
	CHECK_EQ(run_cert("show", NULL), 2);
}

TEST(show_reads_der)
{
	make_pki();
	CHECK_EQ(run_sh("openssl x509 -in alice.pem -outform DER -out a.der"),
		 0);
	CHECK_EQ(run_cert("show", "a.der", NULL), 0);
	CHECK_STR_HAS(cert_out, "subject:     CN=alice");
}

TEST(calist_builds_from_ca_certificates_only)
{
	make_pki();
	CHECK_EQ(run_cert("ca", "init", "ca2", "--rsa", "2048", NULL), 0);
	CHECK_EQ(run_cert("calist", "calist.pem", "ca/ca.pem", "ca2/ca.pem",
			  "ca/ca.pem", NULL), 0);
	CHECK_STR_HAS(cert_out, "wrote calist.pem: 2 CA certificates");
	CHECK_STR_HAS(read_text(tmp_path("calist.pem")),
		      "# subject: /O=Example/CN=Example SIP CA");
	CHECK_EQ(run_sh("openssl verify -CAfile calist.pem alice.pem"), 0);
	CHECK_EQ(run_cert("calist", "bad.pem", "ca/ca.pem", "alice.pem",
			  NULL), 1);
	CHECK_STR_HAS(cert_err, "'alice.pem' (certificate 1, /CN=alice) is "
				"not a CA certificate");
	CHECK(!file_exists("bad.pem"));
	CHECK_EQ(run_cert("calist", "x.pem", NULL), 2);
}
