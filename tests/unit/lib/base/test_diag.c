/*
 * Unit tests for lib/base/diag.c: collection and formatting.
 */
#include "test.h"

#include "stls/diag.h"

TEST(diag_formats_file_line_message)
{
	struct stls_diag d;
	char buf[256];

	stls_diag_init(&d);
	stls_diag_err(&d, "tls.cfg", 7, "certificate: cannot read %s", "x.pem");
	stls_diag_warn(&d, "tls.cfg", 9, "verify_certificate is off");
	stls_diag_err(&d, "main.cfg", 0, "no listener");
	stls_diag_err(&d, NULL, 0, "out of luck");
	CHECK_EQ(d.errors, 3);
	CHECK_EQ(d.warnings, 1);
	CHECK_STR_EQ(stls_diag_format(&d.v[0], buf, sizeof(buf)),
		     "tls.cfg:7: certificate: cannot read x.pem");
	CHECK_STR_EQ(stls_diag_format(&d.v[1], buf, sizeof(buf)),
		     "tls.cfg:9: warning: verify_certificate is off");
	CHECK_STR_EQ(stls_diag_format(&d.v[2], buf, sizeof(buf)),
		     "main.cfg: no listener");
	CHECK_STR_EQ(stls_diag_format(&d.v[3], buf, sizeof(buf)),
		     "out of luck");
	stls_diag_fini(&d);
}

TEST(diag_move_keeps_order)
{
	struct stls_diag a, b;

	stls_diag_init(&a);
	stls_diag_init(&b);
	stls_diag_err(&a, "a", 1, "one");
	stls_diag_err(&b, "b", 2, "two");
	stls_diag_move(&a, &b);
	CHECK_EQ(a.n, 2);
	CHECK_EQ(b.n, 0);
	CHECK_STR_EQ(a.v[1].msg, "two");
	stls_diag_fini(&a);
}

TEST(harness_generates_test_pki)
{
	FILE *f = fopen(test_cert_path("server.pem"), "r");

	CHECK_NOT_NULL(f);
	fclose(f);
}
