/*
 * Unit tests for daemon/config/relay_conf.c: the [relay] keyword table, defaults,
 * every kind of value (facts list, listener list, networks, reply), the
 * errors ("FILE:LINE: key: reason"), and docs/relay-config.md in sync.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "config/core_conf.h"
#include "daemon/config/core_section.h"
#include "relay/relay.h"

/* A [core] with a tcp: and two tls: listeners. */
static void core_of(struct stls_core_conf *c)
{
	struct stls_section *s = sec_new("core", "siptlsd.cfg");
	struct stls_diag d;

	sec_add(s, "listen", "tcp:127.0.0.1:5060");
	sec_add(s, "listen", "tls:127.0.0.1:5061");
	sec_add(s, "listen", "tls:[::1]:5061");
	sec_add(s, "backend", "udp:127.0.0.1:5070");
	stls_diag_init(&d);
	CHECK_OK(stls_core_conf_apply(s, NULL, c, &d));
	stls_diag_fini(&d);
	sec_free(s);
}

static const char *diag_line(const struct stls_diag *d, size_t i)
{
	static char buf[1024];

	if (i >= d->n)
		return "(none)";
	return stls_diag_format(&d->v[i], buf, sizeof(buf));
}

TEST(relay_defaults)
{
	struct stls_core_conf c;
	struct stls_relay_settings s;
	struct stls_diag d;

	core_of(&c);
	stls_diag_init(&d);
	CHECK_OK(stls_relay_settings_apply(NULL, &c, &s, &d));
	CHECK_EQ(d.n, 0);
	CHECK_EQ(s.facts, 0);
	CHECK_STR_EQ(s.facts_prefix, "X-TLS-");
	CHECK_EQ(s.n_listen, 3);
	CHECK(!s.verified_only[0] && !s.verified_only[1] &&
	      !s.verified_only[2]);
	CHECK_EQ(s.unverified_code, 403);
	CHECK_NULL(s.unverified_reason);
	CHECK_EQ(s.options_reply, 1);
	CHECK_STR_EQ(s.server_header, "siptlsd");
	CHECK_EQ(s.plain_targets, STLS_RELAY_PLAIN_TCP);
	CHECK_EQ(s.n_deny, 0);
	CHECK_EQ(s.n_allow, 0);
	CHECK_EQ(s.out_queue_max, 64);
	CHECK_NULL(s.inside_host);
	stls_relay_settings_fini(&s);
	stls_relay_settings_fini(&s); /* zeroed: a no-op */
	stls_diag_fini(&d);
	stls_core_conf_fini(&c);
}

TEST(relay_values)
{
	struct stls_section *sec = sec_new("relay", "siptlsd.cfg");
	struct stls_core_conf c;
	struct stls_relay_settings s;
	struct stls_diag d;

	core_of(&c);
	sec_add(sec, "facts", "verified, SAN,fingerprint sni");
	sec_add(sec, "facts_prefix", "X-Edge-");
	sec_add(sec, "verified_only", "tls:[::1]:5061");
	sec_add(sec, "unverified_reply", "495 Bad Certificate");
	sec_add(sec, "options_reply", "0");
	sec_add(sec, "server_header", "none");
	sec_add(sec, "plain_targets", "refuse");
	sec_add(sec, "connection_out_deny", "10.0.0.0/8, 192.168.1.77");
	sec_add(sec, "connection_out_deny", "fd00::/8");
	sec_add(sec, "connection_out_allow", "0.0.0.0/0");
	sec_add(sec, "out_queue_max", "5");
	sec_add(sec, "inside_host", "pbx-edge.internal");
	stls_diag_init(&d);
	CHECK_OK(stls_relay_settings_apply(sec, &c, &s, &d));
	CHECK_EQ(d.n, 0);
	CHECK_EQ(s.facts, STLS_RELAY_FACT_VERIFIED | STLS_RELAY_FACT_SAN |
				  STLS_RELAY_FACT_FINGERPRINT |
				  STLS_RELAY_FACT_SNI);
	CHECK_STR_EQ(s.facts_prefix, "X-Edge-");
	CHECK(!s.verified_only[0] && !s.verified_only[1] &&
	      s.verified_only[2]);
	CHECK_EQ(s.unverified_code, 495);
	CHECK_STR_EQ(s.unverified_reason, "Bad Certificate");
	CHECK_EQ(s.options_reply, 0);
	CHECK_NULL(s.server_header);
	CHECK_EQ(s.plain_targets, STLS_RELAY_PLAIN_REFUSE);
	CHECK_EQ(s.n_deny, 3);
	CHECK_EQ(s.deny[0].bits, 8);
	CHECK_EQ(s.deny[1].bits, 32);
	CHECK_EQ(s.deny[2].family, AF_INET6);
	CHECK_EQ(s.deny[2].bits, 8);
	CHECK_EQ(s.n_allow, 1);
	CHECK_EQ(s.out_queue_max, 5);
	CHECK_STR_EQ(s.inside_host, "pbx-edge.internal");
	stls_relay_settings_fini(&s);
	stls_diag_fini(&d);
	stls_core_conf_fini(&c);
	sec_free(sec);
}

TEST(relay_all_and_networks_masked)
{
	struct stls_section *sec = sec_new("relay", "siptlsd.cfg");
	struct stls_core_conf c;
	struct stls_relay_settings s;
	struct stls_diag d;

	core_of(&c);
	sec_add(sec, "facts", "all");
	sec_add(sec, "verified_only", "all");
	sec_add(sec, "connection_out_deny", "10.1.2.3/12");
	stls_diag_init(&d);
	CHECK_OK(stls_relay_settings_apply(sec, &c, &s, &d));
	/* Every fact but the certificate itself. */
	CHECK_EQ(s.facts, STLS_RELAY_FACTS_ALL);
	CHECK(s.facts & STLS_RELAY_FACT_SERIAL);
	CHECK(s.facts & STLS_RELAY_FACT_CHAIN);
	CHECK(!(s.facts & STLS_RELAY_FACT_CERT));
	CHECK(!s.verified_only[0] && s.verified_only[1] &&
	      s.verified_only[2]);
	/* Host bits below the prefix are cleared: 10.0.0.0/12. */
	CHECK_EQ(s.deny[0].ip[0], 10);
	CHECK_EQ(s.deny[0].ip[1], 0);
	CHECK_EQ(s.deny[0].ip[2], 0);
	stls_relay_settings_fini(&s);
	stls_diag_fini(&d);
	stls_core_conf_fini(&c);
	sec_free(sec);
}

TEST(relay_errors_name_file_line_and_key)
{
	struct stls_section *sec = sec_new("relay", "siptlsd.cfg");
	struct stls_core_conf c;
	struct stls_relay_settings s;
	struct stls_diag d;

	core_of(&c);
	sec_add(sec, "facts", "verified, colour");            /* line 2 */
	sec_add(sec, "verified_only", "tcp:127.0.0.1:5060"); /* line 3 */
	sec_add(sec, "unverified_reply", "200 OK");          /* line 4 */
	sec_add(sec, "connection_out_deny", "10.0.0.0/33");  /* line 5 */
	sec_add(sec, "connection_out_allow", "example.com"); /* line 6 */
	sec_add(sec, "out_queue_max", "0");                  /* line 7 */
	sec_add(sec, "plain_targets", "udp");                /* line 8 */
	sec_add(sec, "no_such_key", "1");                    /* line 9 */
	sec_add(sec, "options_reply", "1");                  /* line 10 */
	sec_add(sec, "options_reply", "0");                  /* line 11 */
	sec_add(sec, "verified_only", "tls:1.2.3.4:5061");   /* line 12 */
	stls_diag_init(&d);
	CHECK_EQ(stls_relay_settings_apply(sec, &c, &s, &d), -EINVAL);
	CHECK_EQ(d.n, 10);
	CHECK_STR_HAS(diag_line(&d, 0), "siptlsd.cfg:2: facts: unknown fact");
	CHECK_STR_HAS(diag_line(&d, 1), "siptlsd.cfg:3: verified_only: no "
					"such tls: listener");
	CHECK_STR_HAS(diag_line(&d, 2), ":4: unverified_reply:");
	CHECK_STR_HAS(diag_line(&d, 3), ":5: connection_out_deny: expected");
	CHECK_STR_HAS(diag_line(&d, 4), ":6: connection_out_allow:");
	CHECK_STR_HAS(diag_line(&d, 5), ":7: out_queue_max:");
	CHECK_STR_HAS(diag_line(&d, 6), ":8: plain_targets: unknown value");
	CHECK_STR_HAS(diag_line(&d, 7), ":9: no_such_key: unknown [relay] key");
	CHECK_STR_HAS(diag_line(&d, 8), ":11: options_reply: given more than");
	CHECK_STR_HAS(diag_line(&d, 9), ":12: verified_only:");
	stls_relay_settings_fini(&s);
	stls_diag_fini(&d);
	stls_core_conf_fini(&c);
	sec_free(sec);
}

TEST(relay_doc_is_current)
{
	char path[4096], *want = NULL, *have = NULL;
	size_t want_n = 0, have_n = 0;
	FILE *mem, *f;

	snprintf(path, sizeof(path), "%s/docs/relay-config.md",
		 STLS_SOURCE_DIR);
	mem = open_memstream(&want, &want_n);
	CHECK_NOT_NULL(mem);
	CHECK_OK(stls_relay_settings_write_doc(mem));
	fclose(mem);
	if (getenv("STLS_REGEN_DOCS")) {
		f = fopen(path, "w");
		CHECK_NOT_NULL(f);
		fwrite(want, 1, want_n, f);
		fclose(f);
	}
	f = fopen(path, "r");
	CHECK_NOT_NULL(f);
	have = calloc(1, want_n + 2);
	have_n = fread(have, 1, want_n + 1, f);
	fclose(f);
	if (have_n != want_n || memcmp(have, want, want_n) != 0)
		test_fail(__FILE__, __LINE__, "docs/relay-config.md is stale: "
			  "run STLS_REGEN_DOCS=1 build/test_relay_conf");
	free(have);
	free(want);
}
