/*
 * Unit tests for lib/base/addr.c: parsing, printing, comparing.
 */
#include "test.h"

#include <errno.h>

#include "stls/addr.h"

TEST(addr_parse_ipv4_with_port)
{
	struct stls_addr a;
	char buf[STLS_ADDR_STRLEN];

	CHECK_OK(stls_addr_parse("10.0.0.1:5061", true, &a));
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(a.port, 5061);
	CHECK_STR_EQ(stls_addr_str(&a, true, buf), "10.0.0.1:5061");
	CHECK_STR_EQ(stls_addr_str(&a, false, buf), "10.0.0.1");
}

TEST(addr_parse_ipv6_brackets)
{
	struct stls_addr a;
	char buf[STLS_ADDR_STRLEN];

	CHECK_OK(stls_addr_parse("[2001:db8::1]:5061", true, &a));
	CHECK_EQ(a.family, AF_INET6);
	CHECK_EQ(a.port, 5061);
	CHECK_STR_EQ(stls_addr_str(&a, true, buf), "[2001:db8::1]:5061");
	CHECK_OK(stls_addr_parse("::1", false, &a));
	CHECK_EQ(a.port, 0);
}

TEST(addr_parse_rejects_garbage)
{
	struct stls_addr a;

	CHECK_EQ(stls_addr_parse("10.0.0.1", true, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("10.0.0.256:1", true, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("10.0.0.1:65536", true, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("host.example:5061", true, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("[::1", true, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("[::1]x", false, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("", false, &a), -EINVAL);
	CHECK_EQ(stls_addr_parse("1.2.3.4:", true, &a), -EINVAL);
}

TEST(addr_v4_never_equals_mapped_v6)
{
	struct stls_addr a, b;

	CHECK_OK(stls_addr_parse("127.0.0.1:5061", true, &a));
	CHECK_OK(stls_addr_parse("[::ffff:127.0.0.1]:5061", true, &b));
	CHECK(!stls_addr_ip_eq(&a, &b));
	CHECK(stls_addr_eq(&a, &a));
}

TEST(addr_sockaddr_round_trip)
{
	struct stls_addr a, b;
	struct sockaddr_storage ss;

	CHECK_OK(stls_addr_parse("[::1]:5070", true, &a));
	CHECK(stls_addr_to_sockaddr(&a, &ss) > 0);
	stls_addr_from_sockaddr((struct sockaddr *)&ss, &b);
	CHECK(stls_addr_eq(&a, &b));
}
