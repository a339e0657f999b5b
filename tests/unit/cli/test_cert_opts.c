/*
 * Tests of cli/cert_opts.c: the option parser shared by the cert
 * subcommands (usage texts: test_cert_main.c).
 */
#include "cli/cert_test_util.h"

TEST(option_values_are_checked)
{
	CHECK_EQ(run_cert("crl", "--ca", NULL), 2);
	CHECK_STR_HAS(cert_err, "option '--ca' needs a value");
	CHECK_EQ(run_cert("crl", "--ca", "x", "--days", "0", NULL), 2);
	CHECK_STR_HAS(cert_err, "bad --days '0'");
	CHECK_EQ(run_cert("crl", "--ca", "x", "--days", "12x", NULL), 2);
	CHECK_EQ(run_cert("ca", "init", "d", "--ec=1", NULL), 2);
	CHECK_STR_HAS(cert_err, "option '--ec=1' takes no value");
	CHECK_EQ(run_cert("crl", "--ca", "x", "extra", NULL), 2);
	CHECK_STR_HAS(cert_err, "unexpected argument 'extra'");
}

TEST(equals_form_and_double_dash)
{
	CHECK_EQ(run_cert("ca", "init", "--days=30", "--", "ca", NULL), 0);
	CHECK_EQ(run_sh("openssl x509 -in ca/ca.pem -noout -enddate"), 0);
	CHECK_EQ(run_cert("selfsigned", "--dns=a.example.test", "a", NULL), 0);
	CHECK_EQ(run_cert("show", "a.pem", NULL), 0);
	CHECK_STR_HAS(cert_out, "SAN DNS:     a.example.test");
	CHECK_STR_HAS(cert_out, "(825 days left)");
}
