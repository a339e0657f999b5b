/*
 * Unit tests for lib/conf/target.c: profile types and targets as section
 * headers and database records write them.
 */
#include "lib/conf/conf_test_util.h"

#include <errno.h>

TEST(profile_type_words)
{
	static const char *const srv[] = { "server", "SRV", "s", "Server" };
	static const char *const cli[] = { "client", "cli", "C" };
	enum stls_role role;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(srv); i++) {
		CHECK_OK(stls__conf_parse_role(srv[i], &role));
		CHECK_EQ(role, STLS_ROLE_SERVER);
	}
	for (i = 0; i < STLS_ARRAY_SIZE(cli); i++) {
		CHECK_OK(stls__conf_parse_role(cli[i], &role));
		CHECK_EQ(role, STLS_ROLE_CLIENT);
	}
	CHECK_EQ(stls__conf_parse_role("proxy", &role), -EINVAL);
	CHECK_EQ(stls__conf_parse_role("", &role), -EINVAL);
}

static bool target(const char *t, struct stls_profile_conf *p,
		   struct stls_diag *d)
{
	char buf[128];

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", t);
	return stls__conf_parse_target(p, buf, d, "x", 7);
}

TEST(targets_and_their_errors)
{
	struct stls_profile_conf p;
	struct stls_diag d;
	char ip[STLS_ADDR_STRLEN];

	stls_diag_init(&d);
	CHECK(target("default", &p, &d) && p.kind == STLS_PROF_DEFAULT);
	CHECK(target("DEF", &p, &d) && p.kind == STLS_PROF_DEFAULT);
	CHECK(target("all", &p, &d) && p.kind == STLS_PROF_ANY);
	CHECK(target("10.1.2.3:5061", &p, &d) && p.kind == STLS_PROF_ADDR);
	CHECK_EQ(p.addr.port, 5061);
	CHECK_STR_EQ(stls_addr_str(&p.addr, false, ip), "10.1.2.3");
	CHECK(target("[2001:db8::1]:0", &p, &d) && p.addr.port == 0);
	CHECK_EQ(p.addr.family, AF_INET6);
	CHECK_EQ(d.n, 0);
	CHECK(!target("", &p, &d));
	CHECK_DIAG(&d, "x:7: profile target missing (default, any, IP:port)");
	CHECK(!target("def:5060", &p, &d));
	CHECK_DIAG(&d, "x:7: 'def' takes no port");
	CHECK(!target("1.2.3.4:70000", &p, &d));
	CHECK_DIAG(&d, "x:7: invalid port number '70000'");
	CHECK(!target("[2001:db8::1:5061", &p, &d));
	CHECK_DIAG(&d, "x:7: closing ']' of the IPv6 address missing");
	CHECK(!target("[10.0.0.1]:5061", &p, &d));
	CHECK_DIAG(&d, "x:7: invalid IPv6 address '10.0.0.1'");
	CHECK(!target("host.example:5061", &p, &d));
	CHECK_DIAG(&d, "x:7: invalid IPv4 address 'host.example'");
	stls_diag_fini(&d);
}
