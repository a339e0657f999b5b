/*
 * Unit tests for daemon/config/core_conf.c: the [core] keyword table, its errors
 * ("FILE:LINE: key: reason"), defaults, and docs/core-config.md in sync.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "config/core_conf.h"
#include "daemon/config/core_section.h"

static struct stls_section *minimal(void)
{
	struct stls_section *s = sec_new("core", "siptlsd.cfg");

	sec_add(s, "listen", "tls:127.0.0.1:5061");
	sec_add(s, "backend", "udp:127.0.0.1:5060");
	return s;
}

/* Returns the formatted entry i of d (static buffer). */
static const char *diag_line(const struct stls_diag *d, size_t i)
{
	static char buf[1024];

	if (i >= d->n)
		return "(none)";
	return stls_diag_format(&d->v[i], buf, sizeof(buf));
}

TEST(core_defaults)
{
	struct stls_section *s = minimal();
	struct stls_core_conf c;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_EQ(d.n, 0);
	CHECK_EQ(c.n_listen, 1);
	CHECK_EQ(c.listen[0].proto, STLS_PROTO_TLS);
	CHECK_EQ(c.listen[0].addr.port, 5061);
	CHECK_EQ(c.backend_proto, STLS_PROTO_UDP);
	CHECK_EQ(c.rpc_socket_mode, 0660);
	CHECK(c.workers >= 1);
	CHECK_EQ(c.max_connections, 10000);
	CHECK_EQ(c.handshake_timeout, 10);
	CHECK_EQ(c.send_timeout, 10);
	CHECK_EQ(c.connection_timeout, 600);
	CHECK_EQ(c.max_message_size, 65535);
	CHECK_EQ(c.log_target, STLS_LOG_STDERR);
	CHECK_EQ(c.debug, 2);
	CHECK_EQ(c.handler, STLS_HANDLER_RELAY);
	CHECK_NULL(c.user);
	CHECK_NULL(c.pid_file);
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

TEST(core_connection_timeout_from_tls)
{
	struct stls_section *s = minimal();
	struct stls_settings tls = { 0 };
	struct stls_core_conf c;
	struct stls_diag d;

	stls_diag_init(&d);
	tls.connection_timeout = 42;
	CHECK_OK(stls_core_conf_apply(s, &tls, &c, &d));
	CHECK_EQ(c.connection_timeout, 42);
	stls_core_conf_fini(&c);
	sec_add(s, "connection_timeout", "-1");
	CHECK_OK(stls_core_conf_apply(s, &tls, &c, &d));
	CHECK_EQ(c.connection_timeout, -1);
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

TEST(core_all_keys)
{
	struct stls_section *s = minimal();
	struct stls_core_conf c;
	struct stls_diag d;
	char buf[STLS_ADDR_STRLEN];

	sec_add(s, "listen", "tcp:[::1]:5060 advertise=sip.example.com:5070");
	sec_add(s, "listen", "udp:0.0.0.0:5060 advertise=[2001:db8::1]");
	sec_add(s, "backend_source", "[::1]");
	sec_add(s, "rpc_socket", "/run/siptlsd.sock");
	sec_add(s, "rpc_socket_mode", "0600");
	sec_add(s, "workers", "3");
	sec_add(s, "max_connections", "50");
	sec_add(s, "handshake_timeout", "2");
	sec_add(s, "send_timeout", "3");
	sec_add(s, "connection_timeout", "7");
	sec_add(s, "max_message_size", "4096");
	sec_add(s, "user", "nobody");
	sec_add(s, "group", "nogroup");
	sec_add(s, "pid_file", "/run/siptlsd.pid");
	sec_add(s, "log_target", "syslog");
	sec_add(s, "debug", "3");
	sec_add(s, "handler", "echo");
	sec_add(s, "refuse_root", "1");
	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_EQ(c.n_listen, 3);
	CHECK_EQ(c.listen[1].addr.family, AF_INET6);
	CHECK_STR_EQ(c.listen[1].advertise_host, "sip.example.com");
	CHECK_EQ(c.listen[1].advertise_port, 5070);
	CHECK_EQ(c.listen[1].loc.line, 4);
	CHECK_STR_EQ(c.listen[2].advertise_host, "[2001:db8::1]");
	CHECK_EQ(c.listen[2].advertise_port, 0);
	CHECK_STR_EQ(stls_addr_str(&c.backend_source, true, buf), "[::1]:0");
	CHECK_EQ(c.rpc_socket_mode, 0600);
	CHECK_EQ(c.workers, 3);
	CHECK_EQ(c.max_connections, 50);
	CHECK_EQ(c.connection_timeout, 7);
	CHECK_EQ(c.log_target, STLS_LOG_SYSLOG);
	CHECK_EQ(c.handler, STLS_HANDLER_ECHO);
	CHECK_STR_EQ(c.pid_file, "/run/siptlsd.pid");
	CHECK_EQ(c.refuse_root, 1);
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

/* Every bad line is reported, with its file and line, and apply goes on. */
TEST(core_errors_have_file_line_key)
{
	struct stls_section *s = sec_new("core", "bad.cfg");
	struct stls_core_conf c;
	struct stls_diag d;

	sec_add(s, "listen", "sctp:127.0.0.1:5061");      /* 2 */
	sec_add(s, "listen", "tls:::1:5061");             /* 3 */
	sec_add(s, "listen", "tls:127.0.0.1");            /* 4 */
	sec_add(s, "backend", "tls:127.0.0.1:5060");      /* 5 */
	sec_add(s, "workers", "0");                       /* 6 */
	sec_add(s, "max_connections", "many");            /* 7 */
	sec_add(s, "bogus", "1");                         /* 8 */
	sec_add(s, "log_target", "file");                 /* 9 */
	sec_add(s, "rpc_socket_mode", "0999");            /* 10 */
	sec_add(s, "workers", "2");                       /* 11 */
	sec_add(s, "listen", "tcp:127.0.0.1:1 advert=x"); /* 12 */
	sec_add(s, "listen", "tcp:127.0.0.1:5");          /* 13 */
	sec_add(s, "listen", "tcp:127.0.0.1:5");          /* 14 */
	sec_add(s, "connection_timeout", "0");            /* 15 */
	stls_diag_init(&d);
	CHECK_EQ(stls_core_conf_apply(s, NULL, &c, &d), -EINVAL);
	CHECK_STR_HAS(diag_line(&d, 0), "bad.cfg:2: listen: expected tls:");
	CHECK_STR_HAS(diag_line(&d, 1), "bad.cfg:3: listen: expected IPv4");
	CHECK_STR_HAS(diag_line(&d, 2), "bad.cfg:4: listen:");
	CHECK_STR_HAS(diag_line(&d, 3), "bad.cfg:5: backend: expected udp:");
	CHECK_STR_HAS(diag_line(&d, 4), "bad.cfg:6: workers: out of range");
	CHECK_STR_HAS(diag_line(&d, 5), "bad.cfg:7: max_connections: expected");
	CHECK_STR_HAS(diag_line(&d, 6), "bad.cfg:8: bogus: unknown [core] key");
	CHECK_STR_HAS(diag_line(&d, 7), "bad.cfg:9: log_target: unknown value");
	CHECK_STR_HAS(diag_line(&d, 8), "bad.cfg:10: rpc_socket_mode:");
	CHECK_STR_HAS(diag_line(&d, 9), "bad.cfg:11: workers: given more");
	CHECK_STR_HAS(diag_line(&d, 10), "bad.cfg:12: listen: expected advert");
	CHECK_STR_HAS(diag_line(&d, 11), "bad.cfg:14: listen: duplicate");
	CHECK_STR_HAS(diag_line(&d, 12), "bad.cfg:15: connection_timeout: out");
	CHECK_EQ(d.errors, 13); /* no "required" for keys written wrong */
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

/* The handshake threads: one per worker by default ("auto"), 0 turns
 * them off; nice 0..19, SCHED_IDLE as yes/no; errors name file, line
 * and key like the others. */
TEST(core_handshake_threads)
{
	struct stls_section *s = minimal();
	struct stls_core_conf c;
	struct stls_diag d;

	sec_add(s, "workers", "3");
	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_EQ(c.handshake_threads, 3);
	CHECK_EQ(c.handshake_nice, 10);
	CHECK_EQ(c.handshake_idle, 0);
	CHECK_EQ(c.handshake_offload_at, 4);
	CHECK_EQ(c.handshake_slice, 100000);
	stls_core_conf_fini(&c);
	sec_free(s);

	s = minimal();
	sec_add(s, "handshake_threads", "0");
	sec_add(s, "handshake_nice", "19");
	sec_add(s, "handshake_idle", "yes");
	sec_add(s, "handshake_offload_at", "0");
	sec_add(s, "handshake_slice", "100");
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_EQ(c.handshake_offload_at, 0);
	CHECK_EQ(c.handshake_slice, 100);
	CHECK_EQ(c.handshake_threads, 0);
	CHECK_EQ(c.handshake_nice, 19);
	CHECK_EQ(c.handshake_idle, 1);
	stls_core_conf_fini(&c);
	sec_free(s);

	s = minimal();
	sec_add(s, "handshake_threads", "auto");
	sec_add(s, "handshake_nice", "-1");    /* 5 */
	sec_add(s, "handshake_idle", "maybe"); /* 6 */
	sec_add(s, "handshake_threads", "2");  /* 7 */
	sec_add(s, "handshake_offload_at", "-2"); /* 8 */
	sec_add(s, "handshake_slice", "50");  /* 9 */
	CHECK_EQ(stls_core_conf_apply(s, NULL, &c, &d), -EINVAL);
	CHECK_STR_HAS(diag_line(&d, 0),
		      "siptlsd.cfg:5: handshake_nice: out of range");
	CHECK_STR_HAS(diag_line(&d, 1),
		      "siptlsd.cfg:6: handshake_idle: unknown value");
	CHECK_STR_HAS(diag_line(&d, 2),
		      "siptlsd.cfg:7: handshake_threads: given more");
	CHECK_STR_HAS(diag_line(&d, 3),
		      "siptlsd.cfg:8: handshake_offload_at: out of range");
	CHECK_STR_HAS(diag_line(&d, 4),
		      "siptlsd.cfg:9: handshake_slice: out of range");
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);

	/* 0 (the kernel's slice) is allowed below the range's 100. */
	s = minimal();
	stls_diag_init(&d);
	sec_add(s, "handshake_slice", "0");
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_EQ(c.handshake_slice, 0);
	stls_core_conf_fini(&c);
	sec_free(s);

	s = minimal();
	sec_add(s, "handshake_slice", "200000"); /* 4 */
	CHECK_EQ(stls_core_conf_apply(s, NULL, &c, &d), -EINVAL);
	CHECK_STR_HAS(diag_line(&d, 0),
		      "siptlsd.cfg:4: handshake_slice: out of range");
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

TEST(core_missing_section_reports_required)
{
	struct stls_core_conf c;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(stls_core_conf_apply(NULL, NULL, &c, &d), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK_STR_HAS(diag_line(&d, 0), "listen: at least one");
	stls_core_conf_fini(&c);
	stls_core_conf_fini(NULL);
	stls_diag_fini(&d);
}

TEST(core_water_marks_ordered)
{
	struct stls_section *s = minimal();
	struct stls_core_conf c;
	struct stls_diag d;

	sec_add(s, "send_high_water", "8192");
	sec_add(s, "send_low_water", "8192");
	stls_diag_init(&d);
	CHECK_EQ(stls_core_conf_apply(s, NULL, &c, &d), -EINVAL);
	CHECK_STR_HAS(diag_line(&d, 0), "send_low_water: must be below");
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

TEST(core_listen_parse_direct)
{
	struct stls_listen_conf l;
	const char *why = NULL;

	CHECK_OK(stls_core_parse_listen("TLS:[::1]:5061", &l, &why));
	CHECK_EQ(l.proto, STLS_PROTO_TLS);
	CHECK_NULL(l.advertise_host);
	CHECK_EQ(stls_core_parse_listen("tls:[::1]:5061 advertise=a:0", &l,
					&why), -EINVAL);
	CHECK_EQ(stls_core_parse_listen("tls:[::1]:5061 advertise=", &l, &why),
		 -EINVAL);
	CHECK_EQ(stls_core_parse_listen("tcp:", &l, &why), -EINVAL);
	CHECK_EQ(stls_core_parse_listen("", &l, &why), -EINVAL);
}

/* The proxy_protocol listener option and proxy_trusted. */
TEST(core_proxy_protocol)
{
	struct stls_section *s = sec_new("core", "p.cfg");
	struct stls_listen_conf l;
	struct stls_core_conf c;
	struct stls_addr a;
	struct stls_diag d;
	const char *why = NULL;

	CHECK_OK(stls_core_parse_listen("tls:0.0.0.0:5061;proxy_protocol", &l,
					&why));
	CHECK(l.proxy);
	CHECK_NULL(l.advertise_host);
	CHECK_OK(stls_core_parse_listen("tls:0.0.0.0:5061 proxy_protocol", &l,
					&why));
	CHECK(l.proxy);
	CHECK_EQ(l.addr.port, 5061);
	CHECK_OK(stls_core_parse_listen("tcp:0.0.0.0:5060;proxy_protocol;"
					"advertise=sip.example.com:5070", &l,
					&why));
	CHECK(l.proxy);
	CHECK_STR_EQ(l.advertise_host, "sip.example.com");
	CHECK_EQ(l.advertise_port, 5070);
	free(l.advertise_host);
	CHECK_EQ(stls_core_parse_listen("udp:0.0.0.0:5060 proxy_protocol", &l,
					&why), -EINVAL);
	CHECK_STR_HAS(why, "tls: and tcp:");
	CHECK_EQ(stls_core_parse_listen("tls:0.0.0.0:5061 proxy_protocol "
					"proxy_protocol", &l, &why), -EINVAL);
	CHECK_EQ(stls_core_parse_listen("tls:0.0.0.0:5061 proxy", &l, &why),
		 -EINVAL);

	/* A proxy listener needs proxy_trusted. */
	sec_add(s, "listen", "tls:127.0.0.1:5061;proxy_protocol"); /* 2 */
	sec_add(s, "backend", "udp:127.0.0.1:5060");
	stls_diag_init(&d);
	CHECK_EQ(stls_core_conf_apply(s, NULL, &c, &d), -EINVAL);
	CHECK_STR_HAS(diag_line(&d, 0), "p.cfg:2: listen: proxy_protocol "
					"needs [core] proxy_trusted");
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_add(s, "proxy_trusted", "10.0.0.0/8,192.0.2.1");
	sec_add(s, "proxy_trusted", "2001:db8::/32");
	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_EQ(c.n_proxy_trusted, 3);
	CHECK(c.listen[0].trusted == c.proxy_trusted);
	CHECK_EQ(c.listen[0].n_trusted, 3);
	CHECK_OK(stls_addr_parse_ip("10.200.1.1", &a));
	CHECK(stls_nets_match(c.proxy_trusted, c.n_proxy_trusted, &a));
	CHECK_OK(stls_addr_parse_ip("192.0.2.2", &a));
	CHECK(!stls_nets_match(c.proxy_trusted, c.n_proxy_trusted, &a));
	CHECK_OK(stls_addr_parse_ip("2001:db8:1::5", &a));
	CHECK(stls_nets_match(c.proxy_trusted, c.n_proxy_trusted, &a));
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_add(s, "proxy_trusted", "10.0.0.0/33"); /* 6 */
	stls_diag_init(&d);
	CHECK_EQ(stls_core_conf_apply(s, NULL, &c, &d), -EINVAL);
	CHECK_STR_HAS(diag_line(&d, 0), "p.cfg:6: proxy_trusted: expected IP");
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}

/* docs/core-config.md is generated from the table and must match it. */
TEST(core_doc_in_sync)
{
	char *want = NULL;
	size_t want_n = 0;
	FILE *mem = open_memstream(&want, &want_n);

	CHECK_NOT_NULL(mem);
	CHECK_OK(stls_core_conf_write_doc(mem));
	fclose(mem);
	test_doc_in_sync("docs/core-config.md", want, "test_core_conf");
	free(want);
}

/* The script keys (docs/scripting.md): defaults, the library list of
 * script_allow, request_callback needing script, event_callback warned
 * about without a script only. */
TEST(core_script_keys)
{
	struct stls_section *s = minimal();
	struct stls_settings tls;
	struct stls_core_conf c;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(s, NULL, &c, &d));
	CHECK_NULL(c.script);
	CHECK_EQ(c.script_instructions, 100000);
	CHECK_EQ(c.script_memory, 8388608);
	CHECK_EQ(c.script_on_error, STLS_SCRIPT_ERR_REPLY);
	CHECK_EQ(c.script_allow, 0);
	stls_core_conf_fini(&c);
	sec_add(s, "script", "edge.lua");
	sec_add(s, "request_callback", "ksr_request_route");
	sec_add(s, "script_instructions", "5000");
	sec_add(s, "script_memory", "262144");
	sec_add(s, "script_on_error", "pass");
	sec_add(s, "script_allow", "io, native");
	memset(&tls, 0, sizeof(tls));
	tls.event_callback = "ksr_tls_event";
	CHECK_OK(stls_core_conf_apply(s, &tls, &c, &d));
	CHECK_EQ(d.warnings, 0);
	CHECK_STR_EQ(c.script, "edge.lua");
	CHECK_STR_EQ(c.request_callback, "ksr_request_route");
	CHECK_EQ(c.script_instructions, 5000);
	CHECK_EQ(c.script_memory, 262144);
	CHECK_EQ(c.script_on_error, STLS_SCRIPT_ERR_PASS);
	CHECK_EQ(c.script_allow,
		 STLS_SCRIPT_ALLOW_IO | STLS_SCRIPT_ALLOW_NATIVE);
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);

	s = minimal();
	sec_add(s, "request_callback", "ksr_request_route");
	sec_add(s, "script_allow", "io,shell");
	sec_add(s, "script_instructions", "10");
	stls_diag_init(&d);
	CHECK_EQ(stls_core_conf_apply(s, &tls, &c, &d), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK_STR_HAS(diag_line(&d, 0), "script_allow: unknown value");
	CHECK_STR_HAS(diag_line(&d, 1), "script_instructions: out of range");
	CHECK_STR_HAS(diag_line(&d, 2),
		      "request_callback: needs [core] script");
	CHECK_EQ(d.warnings, 1); /* event_callback without a script */
	stls_core_conf_fini(&c);
	stls_diag_fini(&d);
	sec_free(s);
}
