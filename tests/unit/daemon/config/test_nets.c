/*
 * daemon/config/nets.c: network lists ("IP" or "IP/BITS", commas or
 * blanks): parsing, masking, matching, errors.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "config/nets.h"

static bool in(const struct stls_net *v, size_t n, const char *ip)
{
	struct stls_addr a;

	CHECK_OK(stls_addr_parse_ip(ip, &a));
	return stls_nets_match(v, n, &a);
}

TEST(nets_parse_and_match)
{
	struct stls_net *v = NULL;
	size_t n = 0;
	const char *why = NULL;

	CHECK_OK(stls_nets_add("10.1.2.3/8, 192.0.2.1 2001:db8::/32", &v, &n,
			       &why));
	CHECK_OK(stls_nets_add("172.16.0.0/12", &v, &n, &why));
	CHECK_EQ(n, 4);
	CHECK_EQ(v[0].bits, 8);
	CHECK_EQ(v[0].ip[1], 0); /* masked */
	CHECK(in(v, n, "10.255.0.1"));
	CHECK(in(v, n, "192.0.2.1"));
	CHECK(!in(v, n, "192.0.2.2"));
	CHECK(in(v, n, "2001:db8:ffff::1"));
	CHECK(!in(v, n, "2001:db9::1"));
	CHECK(in(v, n, "172.31.255.255"));
	CHECK(!in(v, n, "172.32.0.0"));
	CHECK(!in(v, 0, "10.0.0.1"));
	free(v);
}

TEST(nets_errors)
{
	struct stls_net *v = NULL;
	size_t n = 0;
	const char *why = NULL;

	CHECK_EQ(stls_nets_add("10.0.0.0/33", &v, &n, &why), -EINVAL);
	CHECK_STR_HAS(why, "expected IP");
	CHECK_EQ(stls_nets_add("2001:db8::/129", &v, &n, &why), -EINVAL);
	CHECK_EQ(stls_nets_add("example.com", &v, &n, &why), -EINVAL);
	CHECK_EQ(stls_nets_add("10.0.0.0/x", &v, &n, &why), -EINVAL);
	CHECK_EQ(n, 0);
	CHECK_OK(stls_nets_add("", &v, &n, &why));
	CHECK_EQ(n, 0);
	free(v);
}
