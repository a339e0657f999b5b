/*
 * Unit tests for lib/tls/identity.c: RFC 5922 / RFC 6125 name matching
 * against the test PKI's id-* certificates and SIP domain example.test.
 */
#include "test.h"

#include <errno.h>

#include <openssl/pem.h>

#include "tls/tls_int.h"

static X509 *load(const char *name)
{
	FILE *f = fopen(test_cert_path(name), "r");
	X509 *x;

	CHECK_NOT_NULL(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CHECK_NOT_NULL(x);
	return x;
}

static int check(const char *cert, const char *dom, bool wild, char *d,
		 size_t dlen)
{
	X509 *x = load(cert);
	int rc = stls__identity_check(x, dom, wild, d, dlen);

	X509_free(x);
	return rc;
}

TEST(identity_uri_san_matches_domain)
{
	char d[256];

	CHECK_OK(check("id-uri.pem", "example.test", false, d, sizeof(d)));
	CHECK_OK(check("id-uri.pem", "Example.TEST", false, d, sizeof(d)));
	/* The CN is ignored when a URI SAN exists. */
	CHECK_EQ(check("id-uri.pem", "ignored.example.test", false, d,
		       sizeof(d)),
		 -EACCES);
	CHECK_STR_HAS(d, "URI:sip:example.test");
}

TEST(identity_user_uri_never_matches)
{
	char d[256];

	CHECK_EQ(check("id-useruri.pem", "example.test", false, d, sizeof(d)),
		 -EACCES);
	CHECK_STR_HAS(d, "expected");
	CHECK_STR_HAS(d, "example.test");
	CHECK_STR_HAS(d, "sip:user@example.test");
}

TEST(identity_dns_san_and_wildcard)
{
	char d[256];

	CHECK_OK(check("id-dns.pem", "example.test", false, d, sizeof(d)));
	CHECK_EQ(check("id-wild.pem", "a.example.test", false, d, sizeof(d)),
		 -EACCES);
	CHECK_OK(check("id-wild.pem", "a.example.test", true, d, sizeof(d)));
	/* One label only, never the bare parent. */
	CHECK_EQ(check("id-wild.pem", "example.test", true, d, sizeof(d)),
		 -EACCES);
	CHECK_EQ(check("id-wild.pem", "a.b.example.test", true, d, sizeof(d)),
		 -EACCES);
}

TEST(identity_cn_only_without_dns_or_uri_san)
{
	char d[256];

	CHECK_OK(check("id-cn.pem", "example.test", false, d, sizeof(d)));
	CHECK_EQ(check("id-cn.pem", "other.test", false, d, sizeof(d)),
		 -EACCES);
	CHECK_STR_HAS(d, "CN:example.test");
}

TEST(identity_ip_san_never_matches_domain)
{
	char d[256];

	CHECK_EQ(check("id-ip.pem", "example.test", false, d, sizeof(d)),
		 -EACCES);
	CHECK_EQ(check("id-ip.pem", "127.0.0.1", false, d, sizeof(d)),
		 -EACCES);
	CHECK_STR_HAS(d, "IP");
}

TEST(identity_refuses_bad_arguments)
{
	X509 *x = load("id-dns.pem");

	CHECK_EQ(stls__identity_check(NULL, "a", false, NULL, 0), -EINVAL);
	CHECK_EQ(stls__identity_check(x, "", false, NULL, 0), -EINVAL);
	CHECK_EQ(stls__identity_check(x, "nope.test", false, NULL, 0),
		 -EACCES);
	X509_free(x);
}
