/*
 * Unit tests for daemon/relay/relay_policy.c: the connection-out rules (deny and
 * allow networks, IPv4 and IPv6, prefix edges), the hook's phases and its
 * counter. Facts headers and the verified-only policy need real TLS
 * connections: test_relay_tls.py covers them.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "config/core_conf.h"
#include "daemon/config/core_section.h"
#include "relay/relay.h"
#include "tlsx/tlsx.h"

struct fixture {
	struct stls_core_conf core;
	struct stls_relay_settings rs;
};

static void setup(struct fixture *f, const char *deny, const char *allow)
{
	struct stls_section *c = sec_new("core", "t.cfg");
	struct stls_section *r = sec_new("relay", "t.cfg");
	struct stls_diag d;

	sec_add(c, "listen", "tls:127.0.0.1:5061");
	sec_add(c, "backend", "udp:127.0.0.1:5060");
	sec_add(c, "workers", "2");
	if (deny)
		sec_add(r, "connection_out_deny", deny);
	if (allow)
		sec_add(r, "connection_out_allow", allow);
	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(c, NULL, &f->core, &d));
	CHECK_OK(stls_relay_settings_apply(r, &f->core, &f->rs, &d));
	stls_diag_fini(&d);
	sec_free(c);
	sec_free(r);
}

static void teardown(struct fixture *f)
{
	stls_relay_settings_fini(&f->rs);
	stls_core_conf_fini(&f->core);
}

static bool allowed(struct fixture *f, const char *ip)
{
	struct stls_addr a;

	CHECK_OK(stls_addr_parse_ip(ip, &a));
	return stls_relay_dst_allowed(&f->rs, &a);
}

TEST(relay_no_rules_allow_everything)
{
	struct fixture f;

	setup(&f, NULL, NULL);
	CHECK(allowed(&f, "10.0.0.1"));
	CHECK(allowed(&f, "2001:db8::1"));
	teardown(&f);
}

TEST(relay_deny_networks_v4_v6_and_edges)
{
	struct fixture f;

	setup(&f, "10.0.0.0/8, 192.168.1.77, 172.16.0.0/12, fd00::/8", NULL);
	CHECK(!allowed(&f, "10.255.255.255"));
	CHECK(allowed(&f, "11.0.0.0"));
	CHECK(!allowed(&f, "192.168.1.77"));
	CHECK(allowed(&f, "192.168.1.78"));
	CHECK(!allowed(&f, "172.31.255.1"));
	CHECK(allowed(&f, "172.32.0.1"));
	CHECK(!allowed(&f, "fdff::1"));
	CHECK(allowed(&f, "fe80::1"));
	teardown(&f);
}

TEST(relay_allow_list_restricts_and_deny_wins)
{
	struct fixture f;

	setup(&f, "203.0.113.9", "203.0.113.0/24, 2001:db8::/32");
	CHECK(allowed(&f, "203.0.113.1"));
	CHECK(!allowed(&f, "203.0.113.9"));
	CHECK(!allowed(&f, "198.51.100.1"));
	CHECK(allowed(&f, "2001:db8:1::5"));
	CHECK(!allowed(&f, "2001:db9::5"));
	teardown(&f);
}

TEST(relay_conn_out_hook_counts_refusals)
{
	struct stls_conn_out_event ev = { .phase = STLS_CONN_OUT_CONNECT };
	uint64_t v[STLS_RELAY__COUNT];
	struct stls_relay *r;
	struct stls_addr a;
	struct fixture f;

	setup(&f, "10.0.0.0/8", NULL);
	CHECK_OK(stls_relay_new(&f.rs, &f.core, NULL, &r));
	CHECK_OK(stls_addr_parse_ip("10.1.1.1", &a));
	ev.dst = &a;
	CHECK_EQ(stls_relay_conn_out(&ev, r), -EPERM);
	/* After the handshake the destination was already checked. */
	ev.phase = STLS_CONN_OUT_ESTABLISHED;
	CHECK_EQ(stls_relay_conn_out(&ev, r), 0);
	ev.phase = STLS_CONN_OUT_CONNECT;
	CHECK_OK(stls_addr_parse_ip("192.0.2.1", &a));
	CHECK_EQ(stls_relay_conn_out(&ev, r), 0);
	stls_relay_stats(r, v);
	CHECK_EQ(v[STLS_RELAY_OUT_DENIED], 1);
	stls_relay_free(r);
	stls_relay_free(NULL);
	teardown(&f);
}
