/*
 * Tests of cli/cert_main.c: dispatch (the parser: test_cert_opts.c).
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

TEST(every_command_has_a_usage_text)
{
	static const char *const cmds[] = { "ca", "issue", "csr", "revoke",
					     "crl", "calist", "show",
					     "selfsigned" };
	char want[64];
	size_t i;

	/* The usage texts live in cert_opts.c, the dispatch here: each
	 * command must reach its text on a usage error. */
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		CHECK_EQ(run_cert(cmds[i], "--no-such-option", NULL), 2);
		snprintf(want, sizeof(want), "usage: siptlsctl cert %s ",
			 cmds[i]);
		CHECK_STR_HAS(cert_err, want);
	}
}
