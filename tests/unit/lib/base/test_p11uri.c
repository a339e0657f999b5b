/*
 * Unit tests for lib/hsm/p11uri.c: RFC 7512 attribute lookup with
 * percent-decoding, and PIN redaction.
 */
#include <errno.h>

#include "stls/p11uri.h"
#include "test.h"

TEST(scheme_is_case_insensitive)
{
	CHECK(stls_p11uri_is("pkcs11:token=a"));
	CHECK(stls_p11uri_is("PKCS11:"));
	CHECK(!stls_p11uri_is("/engine:pkcs11:token=a"));
	CHECK(!stls_p11uri_is("pkcs11"));
	CHECK(!stls_p11uri_is(NULL));
}

TEST(path_and_query_attributes_are_decoded)
{
	const char *u = "pkcs11:token=My%20Token;object=sip;id=%01%02"
			"?module-path=/usr/lib/x.so&pin-value=12%3B4";
	char v[64];

	CHECK_EQ(stls_p11uri_get(u, "token", v, sizeof(v)), 8);
	CHECK_STR_EQ(v, "My Token");
	CHECK_EQ(stls_p11uri_get(u, "object", v, sizeof(v)), 3);
	CHECK_STR_EQ(v, "sip");
	CHECK_EQ(stls_p11uri_get(u, "id", v, sizeof(v)), 2);
	CHECK_EQ(v[0], 1);
	CHECK_EQ(v[1], 2);
	CHECK_EQ(stls_p11uri_get(u, "module-path", v, sizeof(v)), 13);
	CHECK_STR_EQ(v, "/usr/lib/x.so");
	CHECK_EQ(stls_p11uri_get(u, "pin-value", v, sizeof(v)), 4);
	CHECK_STR_EQ(v, "12;4");
	/* "token" must not match "token-x" nor a query value. */
	CHECK_EQ(stls_p11uri_get("pkcs11:token-x=1", "token", v, sizeof(v)),
		 -ENOENT);
	CHECK_EQ(stls_p11uri_get(u, "serial", v, sizeof(v)), -ENOENT);
}

TEST(bad_input_is_refused)
{
	char v[4];

	CHECK_EQ(stls_p11uri_get("file:/x", "token", v, sizeof(v)), -EINVAL);
	CHECK_EQ(stls_p11uri_get("pkcs11:token=%4", "token", v, sizeof(v)),
		 -EINVAL);
	CHECK_EQ(stls_p11uri_get("pkcs11:token=%zz", "token", v, sizeof(v)),
		 -EINVAL);
	CHECK_EQ(stls_p11uri_get("pkcs11:token=abcd", "token", v, sizeof(v)),
		 -ENOBUFS);
	CHECK_EQ(stls_p11uri_get("pkcs11:token=abc", "token", v, sizeof(v)),
		 3);
}

TEST(redaction_hides_every_pin_value)
{
	char out[128];

	CHECK_STR_EQ(stls_p11uri_redact("pkcs11:object=k?pin-value=1234",
					out, sizeof(out)),
		     "pkcs11:object=k?pin-value=***");
	CHECK_STR_EQ(stls_p11uri_redact("/engine:pkcs11:object=k;PIN-VALUE="
					"9;token=t?x=1&pin-value=2&y=3",
					out, sizeof(out)),
		     "/engine:pkcs11:object=k;PIN-VALUE=***;token=t?x=1&"
		     "pin-value=***&y=3");
	CHECK_STR_EQ(stls_p11uri_redact("/etc/siptls/key.pem", out,
					sizeof(out)),
		     "/etc/siptls/key.pem");
	/* Too small to show the mask: cut before the PIN, never in it. */
	CHECK_STR_EQ(stls_p11uri_redact("pkcs11:pin-value=123456", out, 12),
		     "pkcs11:");
	CHECK_STR_EQ(stls_p11uri_redact(NULL, out, sizeof(out)), "");
}
