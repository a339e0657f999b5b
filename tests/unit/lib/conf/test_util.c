/*
 * Unit tests for lib/conf/util.c: booleans, integers, enum lookup, path
 * resolution and the shared file-name block.
 */
#include "lib/conf/conf_test_util.h"

#include <errno.h>
#include <limits.h>

TEST(parse_int_accepts_only_decimal_with_optional_minus)
{
	int v = 0;

	CHECK_OK(stls__conf_parse_int("0", &v));
	CHECK_EQ(v, 0);
	CHECK_OK(stls__conf_parse_int("-1", &v));
	CHECK_EQ(v, -1);
	CHECK_OK(stls__conf_parse_int("007", &v));
	CHECK_EQ(v, 7);
	CHECK_OK(stls__conf_parse_int("2147483647", &v));
	CHECK_EQ(v, INT_MAX);
	CHECK_OK(stls__conf_parse_int("-2147483648", &v));
	CHECK_EQ(v, INT_MIN);
	CHECK_EQ(stls__conf_parse_int("2147483648", &v), -ERANGE);
	CHECK_EQ(stls__conf_parse_int("-2147483649", &v), -ERANGE);
	CHECK_EQ(stls__conf_parse_int("99999999999999999999999", &v),
		 -ERANGE);
	CHECK_EQ(stls__conf_parse_int("99999999999999999999x", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_int("+1", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_int("--1", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_int("0x10", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_int(" 1", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_int("", &v), -EINVAL);
}

TEST(parse_bool_knows_the_twelve_words)
{
	int v = -1;

	CHECK_OK(stls__conf_parse_bool("Enabled", &v));
	CHECK_EQ(v, 1);
	CHECK_OK(stls__conf_parse_bool("DISABLED", &v));
	CHECK_EQ(v, 0);
	CHECK_EQ(stls__conf_parse_bool("2", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_bool("y", &v), -EINVAL);
	CHECK_EQ(stls__conf_parse_bool("", &v), -EINVAL);
}

TEST(enum_find_is_case_insensitive)
{
	CHECK_EQ(stls__conf_enum_find(stls_verify_client_names, STLS_VC__COUNT,
				      "ON"),
		 STLS_VC_ON);
	CHECK_EQ(stls__conf_enum_find(stls_verify_client_names, STLS_VC__COUNT,
				      "TLSv1.0"),
		 -1);
	CHECK_EQ(stls__conf_enum_find(stls_method_names, STLS_METHOD__COUNT,
				      "tlsv1.0+"),
		 STLS_METHOD_TLSV1_PLUS);
}

static const char *resolve(const char *base, const char *v)
{
	static char buf[256];
	char *r = NULL;

	CHECK_OK(stls__conf_path_resolve(base, v, &r));
	snprintf(buf, sizeof(buf), "%s", r);
	free(r);
	return buf;
}

TEST(path_resolution_follows_the_seed)
{
	CHECK_STR_EQ(resolve("/etc/siptls", "cert.pem"),
		     "/etc/siptls/cert.pem");
	CHECK_STR_EQ(resolve("/etc/siptls/", "certs/a.pem"),
		     "/etc/siptls/certs/a.pem");
	CHECK_STR_EQ(resolve("/etc/siptls", "/abs.pem"), "/abs.pem");
	CHECK_STR_EQ(resolve("/etc/siptls", "/engine:k"), "/engine:k");
	/* An RFC 7512 key id is not a relative path. */
	CHECK_STR_EQ(resolve("/etc/siptls", "pkcs11:token=t;object=k"),
		     "pkcs11:token=t;object=k");
	CHECK_STR_EQ(resolve("/etc/siptls", "PKCS11:object=k"),
		     "PKCS11:object=k");
	CHECK_STR_EQ(resolve("/etc/siptls", "pkcs11.pem"),
		     "/etc/siptls/pkcs11.pem");
	CHECK_STR_EQ(resolve("/etc/siptls", "./rel.pem"), "./rel.pem");
	CHECK_STR_EQ(resolve("/etc/siptls", ".hidden"), ".hidden");
	CHECK_STR_EQ(resolve("/etc/siptls", ""), "");
	CHECK_STR_EQ(resolve(NULL, "cert.pem"), "cert.pem");
	CHECK_STR_EQ(resolve("", "cert.pem"), "cert.pem");
	CHECK_STR_EQ(resolve("/", "cert.pem"), "/cert.pem");
}

TEST(dirname_of_config_paths)
{
	char *d;

	d = stls__conf_dirname("/etc/siptls/siptls.conf");
	CHECK_STR_EQ(d, "/etc/siptls");
	free(d);
	d = stls__conf_dirname("siptls.conf");
	CHECK_STR_EQ(d, ".");
	free(d);
	d = stls__conf_dirname("/siptls.conf");
	CHECK_STR_EQ(d, "/");
	free(d);
}

TEST(names_are_interned_and_refcounted)
{
	struct stls__names *n = stls__names_new();
	const char *a, *b;

	CHECK_NOT_NULL(n);
	a = stls__names_add(n, "tls.cfg");
	b = stls__names_add(n, "tls.cfg");
	CHECK(a == b);
	CHECK(stls__names_add(n, "other.cfg") != a);
	CHECK(stls__names_ref(n) == n);
	stls__names_unref(n);
	CHECK_STR_EQ(a, "tls.cfg"); /* still alive: one reference left */
	stls__names_unref(n);
	stls__names_unref(NULL);
	CHECK_NULL(stls__names_ref(NULL));
}

TEST(locations_format_as_file_line_record_or_builtin)
{
	struct stls_loc file = { "tls.cfg", 3 }, rec = { "tlscfg id=17", 0 };
	struct stls_loc none = { NULL, 0 };
	char buf[64];

	CHECK_STR_EQ(stls_loc_format(&file, buf, sizeof(buf)), "tls.cfg:3");
	CHECK_STR_EQ(stls_loc_format(&rec, buf, sizeof(buf)), "tlscfg id=17");
	CHECK_STR_EQ(stls_loc_format(&none, buf, sizeof(buf)), "(built-in)");
	CHECK(stls_loc_is_set(&file) && stls_loc_is_set(&rec));
	CHECK(!stls_loc_is_set(&none));
}
