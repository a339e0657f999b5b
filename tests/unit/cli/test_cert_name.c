/*
 * Tests of cli/cert_name.c: the NAME alphabet, the default subject and
 * the default subjectAltNames (RFC 5922 section 7.1).
 */
#include "cli/cert_test_util.h"
#include "cert_int.h"

TEST(names_are_a_safe_alphabet)
{
	CHECK(stls__cert_name_ok("sip.example.test"));
	CHECK(stls__cert_name_ok("alice@example_1+2-3"));
	CHECK(!stls__cert_name_ok(""));
	CHECK(!stls__cert_name_ok(".hidden"));
	CHECK(!stls__cert_name_ok("-opt"));
	CHECK(!stls__cert_name_ok("../etc/passwd"));
	CHECK(!stls__cert_name_ok("a b"));
}

TEST(default_sans_for_host_address_and_given)
{
	struct cert_opts o;
	char uri[300];

	memset(&o, 0, sizeof(o));
	stls__cert_default_sans(&o, "sip.example.test", uri, sizeof(uri));
	CHECK_EQ(o.n_sans, 2);
	CHECK_EQ(o.sans[0].type, STLS_X509_SAN_DNS);
	CHECK_STR_EQ(o.sans[1].value, "sip:sip.example.test");
	memset(&o, 0, sizeof(o));
	stls__cert_default_sans(&o, "2001:db8::1", uri, sizeof(uri));
	CHECK_EQ(o.n_sans, 1);
	CHECK_EQ(o.sans[0].type, STLS_X509_SAN_IP);
	/* SANs given on the command line are kept as they are. */
	stls__cert_default_sans(&o, "other.example.test", uri, sizeof(uri));
	CHECK_EQ(o.n_sans, 1);
}

TEST(default_subject_is_cn_name)
{
	struct cert_opts o;
	struct stls_x509_err err;
	X509_NAME *n = NULL;
	char buf[128];

	memset(&o, 0, sizeof(o));
	CHECK_OK(stls__cert_subject(&o, "sip.example.test", &n, &err));
	X509_NAME_oneline(n, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "/CN=sip.example.test");
	X509_NAME_free(n);
	o.subject = "/O=Example/CN=x";
	CHECK_OK(stls__cert_subject(&o, "ignored", &n, &err));
	X509_NAME_oneline(n, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "/O=Example/CN=x");
	X509_NAME_free(n);
}
