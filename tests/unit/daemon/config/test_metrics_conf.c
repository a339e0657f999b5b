/*
 * Tests for daemon/config/metrics_conf.c: where /metrics may listen and
 * who may scrape it (the rule of metrics_conf.h), with the errors
 * "FILE:LINE: metrics...: reason".
 */
#include <errno.h>
#include <string.h>

#include "config/metrics_conf.h"
#include "daemon/config/core_section.h"
#include "test.h"

/* Applies metrics (and metrics_allow when not NULL); returns the result
 * and the first error text in err (empty when none). */
static int apply(const char *metrics, const char *allow,
		 struct stls_metrics_conf *c, char *err, size_t len)
{
	struct stls_section *s = sec_new("core", "t.cfg");
	struct stls_diag d;
	int rc;

	if (allow)
		sec_add(s, "metrics_allow", allow);
	if (metrics)
		sec_add(s, "metrics", metrics);
	stls_diag_init(&d);
	rc = stls_metrics_conf_apply(s, c, &d);
	err[0] = '\0';
	if (d.n)
		stls_diag_format(&d.v[0], err, len);
	stls_diag_fini(&d);
	sec_free(s);
	return rc;
}

TEST(off_by_default)
{
	struct stls_metrics_conf c;
	char err[256];

	CHECK_OK(apply(NULL, NULL, &c, err, sizeof(err)));
	CHECK(!c.on);
	stls_metrics_conf_fini(&c);
}

TEST(loopback_always_accepted)
{
	struct stls_metrics_conf c;
	char err[256];

	CHECK_OK(apply("127.0.0.1:9161", NULL, &c, err, sizeof(err)));
	CHECK(c.on);
	CHECK_EQ(c.addr.port, 9161);
	stls_metrics_conf_fini(&c);
	CHECK_OK(apply("127.0.0.53:9161", NULL, &c, err, sizeof(err)));
	stls_metrics_conf_fini(&c);
	CHECK_OK(apply("[::1]:9161", NULL, &c, err, sizeof(err)));
	CHECK_EQ(c.addr.family, AF_INET6);
	stls_metrics_conf_fini(&c);
}

TEST(non_loopback_refused_unless_listed)
{
	struct stls_metrics_conf c;
	char err[256];

	CHECK_EQ(apply("192.0.2.7:9161", NULL, &c, err, sizeof(err)),
		 -EINVAL);
	CHECK(!c.on);
	CHECK_STR_EQ(err, "t.cfg:2: metrics: 192.0.2.7:9161 is not a "
			  "loopback address: list its network in "
			  "metrics_allow to serve metrics there");
	stls_metrics_conf_fini(&c);
	CHECK_EQ(apply("192.0.2.7:9161", "198.51.100.0/24", &c, err,
		       sizeof(err)),
		 -EINVAL);
	stls_metrics_conf_fini(&c);
	CHECK_OK(apply("192.0.2.7:9161", "198.51.100.0/24, 192.0.2.0/28", &c,
		       err, sizeof(err)));
	CHECK(c.on);
	CHECK_EQ(c.n_allow, 2);
	stls_metrics_conf_fini(&c);
	CHECK_OK(apply("[2001:db8::5]:9161", "2001:db8::/64", &c, err,
		       sizeof(err)));
	stls_metrics_conf_fini(&c);
}

TEST(wildcard_needs_allow)
{
	struct stls_metrics_conf c;
	char err[256];

	CHECK_EQ(apply("0.0.0.0:9161", NULL, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "listens on every address") != NULL);
	stls_metrics_conf_fini(&c);
	CHECK_OK(apply("0.0.0.0:9161", "10.1.2.0/24", &c, err, sizeof(err)));
	stls_metrics_conf_fini(&c);
	CHECK_EQ(apply("[::]:9161", NULL, &c, err, sizeof(err)), -EINVAL);
	stls_metrics_conf_fini(&c);
}

TEST(bad_values)
{
	static const char *const bad[] = { "127.0.0.1", "127.0.0.1:0",
					   "::1:9161", "localhost:9161",
					   "127.0.0.1:70000" };
	struct stls_metrics_conf c;
	char err[256];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		CHECK_EQ(apply(bad[i], NULL, &c, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "expected IPv4:PORT") != NULL);
		stls_metrics_conf_fini(&c);
	}
	CHECK_EQ(apply("127.0.0.1:9161", "10.0.0.0/33", &c, err, sizeof(err)),
		 -EINVAL);
	CHECK_STR_EQ(err, "t.cfg:2: metrics_allow: '10.0.0.0/33': expected "
			  "IP or IP/BITS");
	stls_metrics_conf_fini(&c);
	CHECK_EQ(apply(NULL, "10.0.0.0/8 nope", &c, err, sizeof(err)),
		 -EINVAL);
	stls_metrics_conf_fini(&c);
}

TEST(who_may_scrape)
{
	struct stls_metrics_conf c;
	struct stls_addr a;
	char err[256];

	CHECK_OK(apply("0.0.0.0:9161", "10.1.2.0/23 2001:db8::1", &c, err,
		       sizeof(err)));
	CHECK_OK(stls_addr_parse_ip("127.0.0.1", &a));
	CHECK(stls_metrics_conf_allows(&c, &a));
	CHECK_OK(stls_addr_parse_ip("::1", &a));
	CHECK(stls_metrics_conf_allows(&c, &a));
	CHECK_OK(stls_addr_parse_ip("10.1.3.200", &a));
	CHECK(stls_metrics_conf_allows(&c, &a));
	CHECK_OK(stls_addr_parse_ip("10.1.4.1", &a));
	CHECK(!stls_metrics_conf_allows(&c, &a));
	CHECK_OK(stls_addr_parse_ip("2001:db8::1", &a));
	CHECK(stls_metrics_conf_allows(&c, &a));
	CHECK_OK(stls_addr_parse_ip("2001:db8::2", &a));
	CHECK(!stls_metrics_conf_allows(&c, &a));
	/* An IPv4-mapped address is not the IPv4 address. */
	CHECK_OK(stls_addr_parse_ip("::ffff:127.0.0.1", &a));
	CHECK(!stls_metrics_conf_allows(&c, &a));
	stls_metrics_conf_fini(&c);
}
