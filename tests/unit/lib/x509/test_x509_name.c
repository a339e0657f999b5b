/*
 * Tests of lib/x509/x509_name.c: subject parsing and SAN checks.
 */
#include <errno.h>

#include "test.h"

#include "stls/x509.h"

static const char *oneline(X509_NAME *n)
{
	static char buf[256];

	X509_NAME_oneline(n, buf, sizeof(buf));
	return buf;
}

TEST(subject_parses_openssl_one_line_form)
{
	struct stls_x509_err err;
	X509_NAME *n = NULL;

	CHECK_OK(stls_x509_name_parse("/C=DE/O=Example/CN=Example SIP CA", &n,
				      &err));
	CHECK_STR_EQ(oneline(n), "/C=DE/O=Example/CN=Example SIP CA");
	X509_NAME_free(n);
	CHECK_OK(stls_x509_name_parse("/O=A\\/B/CN=x", &n, &err));
	CHECK_EQ(X509_NAME_entry_count(n), 2);
	X509_NAME_free(n);
}

TEST(subject_errors_say_what_is_wrong)
{
	struct stls_x509_err err;
	X509_NAME *n = NULL;

	CHECK_EQ(stls_x509_name_parse("CN=x", &n, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "write it as /O=Example/CN=Example SIP CA");
	CHECK_EQ(stls_x509_name_parse("/CN", &n, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "'CN' is not ATTRIBUTE=value");
	CHECK_EQ(stls_x509_name_parse("/CN=", &n, &err), -EINVAL);
	CHECK_EQ(stls_x509_name_parse("/CN=a//O=b", &n, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "empty component");
	CHECK_EQ(stls_x509_name_parse("/Foo=bar", &n, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "unknown attribute 'Foo'");
	/* C must be two letters. */
	CHECK_EQ(stls_x509_name_parse("/C=Germany", &n, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "bad value for C");
	CHECK_NULL(n);
}

static int check(enum stls_x509_san_type t, const char *v)
{
	struct stls_x509_san san = { t, v };

	return stls_x509_san_validate(&san, NULL);
}

TEST(san_values_are_checked_by_type)
{
	struct stls_x509_san san = { STLS_X509_SAN_IP, "1.2.3" };
	struct stls_x509_err err;

	CHECK_OK(check(STLS_X509_SAN_DNS, "sip.example.com"));
	CHECK_OK(check(STLS_X509_SAN_DNS, "*.example.com"));
	CHECK_OK(check(STLS_X509_SAN_DNS, "localhost"));
	CHECK_EQ(check(STLS_X509_SAN_DNS, "a..b"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_DNS, "-a.b"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_DNS, "a.*.b"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_DNS, "a_b.c"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_DNS, ""), -EINVAL);
	CHECK_OK(check(STLS_X509_SAN_URI, "sip:example.com"));
	CHECK_OK(check(STLS_X509_SAN_URI, "sips:alice@example.com"));
	CHECK_EQ(check(STLS_X509_SAN_URI, "example.com"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_URI, "sip:"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_URI, "sip:a b"), -EINVAL);
	CHECK_OK(check(STLS_X509_SAN_IP, "192.0.2.1"));
	CHECK_OK(check(STLS_X509_SAN_IP, "2001:db8::1"));
	CHECK_EQ(check(STLS_X509_SAN_IP, "256.0.0.1"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_IP, "example.com"), -EINVAL);
	CHECK_OK(check(STLS_X509_SAN_EMAIL, "alice@example.com"));
	CHECK_EQ(check(STLS_X509_SAN_EMAIL, "alice"), -EINVAL);
	CHECK_EQ(check(STLS_X509_SAN_EMAIL, "a@b@c"), -EINVAL);
	CHECK_EQ(stls_x509_san_validate(&san, &err), -EINVAL);
	CHECK_STR_EQ(err.msg, "bad IP name '1.2.3': expected an IPv4 or IPv6 "
			      "address such as 192.0.2.10");
	CHECK_STR_EQ(stls_x509_san_type_name(STLS_X509_SAN_URI), "URI");
}
