/*
 * Tests of cli/cert_main.c: dispatch, usage and the option parser.
 */
#include "cli/cert_test_util.h"

TEST(no_subcommand_prints_usage_and_exits_2)
{
	CHECK_EQ(run_cert(NULL), 2);
	CHECK_STR_HAS(cert_err, "usage: siptlsctl cert ca init DIR");
	CHECK_STR_HAS(cert_err, "siptlsctl cert show FILE");
	CHECK_EQ(run_cert("help", NULL), 0);
	CHECK_STR_HAS(cert_err, "siptlsctl cert issue server|client NAME");
}

TEST(unknown_subcommand_and_option)
{
	CHECK_EQ(run_cert("frobnicate", NULL), 2);
	CHECK_STR_HAS(cert_err, "unknown command 'frobnicate'");
	CHECK_EQ(run_cert("crl", "--ca", "x", "--bogus", NULL), 2);
	CHECK_STR_HAS(cert_err, "siptlsctl cert crl: unknown option '--bogus'");
	CHECK_STR_HAS(cert_err, "usage: siptlsctl cert crl --ca DIR");
	CHECK_EQ(run_cert("crl", "-x", NULL), 2);
	CHECK_STR_HAS(cert_err, "unknown option '-x'");
	/* An option of another subcommand is unknown here. */
	CHECK_EQ(run_cert("show", "f.pem", "--dns", "a", NULL), 2);
	CHECK_EQ(run_cert("ca", "create", "d", NULL), 2);
	CHECK_STR_HAS(cert_err, "unknown action 'create'");
}

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
