/*
 * Tests for lib/tls/profile_match.c: server and client matching rules,
 * profile names, and SNI switching in real in-memory handshakes.
 */
#include <errno.h>

#include "lib/tls/profile_fixture.h"

static struct stls_addr A(const char *s)
{
	struct stls_addr a;

	CHECK_OK(stls_addr_parse(s, true, &a));
	return a;
}

static struct stls_profile_conf *named(struct fx *f, const char *dom,
				       int line, const char *name, int mode)
{
	struct stls_profile_conf *c = fx_server(f, dom, line, NULL);

	c->server_name = fx_str(f, name);
	c->server_name_mode = mode;
	return c;
}

/* The server profile chosen, by its section line. */
static int srv_line(struct fx *f, const char *local, const char *sni)
{
	struct stls_addr a = A(local);

	return stls_profile_conf_of(
		       stls_profile_set_match_server(f->set, &a, sni))
		->loc.line;
}

static void server_set(struct fx *f)
{
	fx_init(f);
	fx_server(f, "default", 1, NULL);
	fx_server(f, "10.0.0.1:5061", 2, NULL);
	named(f, "10.0.0.1:5061", 3, "a.example.com", 0);
	fx_server(f, "10.0.0.1:0", 4, NULL);
	named(f, "any", 5, "example.com", 1);
	named(f, "any", 6, "sub.example.com", 2);
	fx_server(f, "[2001:db8::1]:5061", 7, NULL);
	fx_server(f, "[::ffff:10.0.0.2]:5061", 8, NULL);
	named(f, "10.0.0.3:5061", 9, "x.example.com", 0);
	named(f, "10.0.0.3:5061", 10, "example.com", 1);
	named(f, "10.0.0.4:5061", 11, "n.example.net", 0);
	named(f, "10.0.0.4:5061", 12, "m.example.net", 0);
	CHECK_OK(fx_build(f));
}

TEST(server_address_port_and_family)
{
	struct fx f;

	server_set(&f);
	CHECK_EQ(srv_line(&f, "10.0.0.1:5061", NULL), 2);
	CHECK_EQ(srv_line(&f, "10.0.0.1:5061", ""), 2);
	/* Port 0 = any port; the exact port wins over it. */
	CHECK_EQ(srv_line(&f, "10.0.0.1:5062", NULL), 4);
	CHECK_EQ(srv_line(&f, "10.0.0.9:5061", NULL), 1);
	CHECK_EQ(srv_line(&f, "[2001:db8::1]:5061", NULL), 7);
	CHECK_EQ(srv_line(&f, "[2001:db8::1]:5062", NULL), 1);
	CHECK_EQ(srv_line(&f, "[2001:db8::2]:5061", NULL), 1);
	/* IPv4 never equals IPv4-mapped IPv6, in either direction. */
	CHECK_EQ(srv_line(&f, "10.0.0.2:5061", NULL), 1);
	CHECK_EQ(srv_line(&f, "[::ffff:10.0.0.2]:5061", NULL), 8);
	CHECK_EQ(srv_line(&f, "[::ffff:10.0.0.1]:5061", NULL), 1);
	/* No local address at all: only the default. */
	CHECK_EQ(stls_profile_conf_of(stls_profile_set_match_server(
					      f.set, NULL, NULL))
			 ->loc.line, 1);
	fx_fini(&f);
}

TEST(server_sni_rules)
{
	struct fx f;

	server_set(&f);
	/* Exact name on the address. */
	CHECK_EQ(srv_line(&f, "10.0.0.1:5061", "a.example.com"), 3);
	CHECK_EQ(srv_line(&f, "10.0.0.1:5061", "A.Example.COM"), 3);
	/* Unknown name: the address profile without server_name. */
	CHECK_EQ(srv_line(&f, "10.0.0.1:5061", "zzz.org"), 2);
	/* A name that fits an any profile beats a nameless address one. */
	CHECK_EQ(srv_line(&f, "10.0.0.1:5061", "b.example.com"), 5);
	/* Any profiles only through names; mode 1: domain and subdomains. */
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", NULL), 1);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "example.com"), 5);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "EXAMPLE.com"), 5);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "deep.a.example.com"), 5);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "badexample.com"), 1);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "other.org"), 1);
	/* Mode 2: subdomains only; the longer suffix wins. */
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "sub.example.com"), 5);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "a.sub.example.com"), 6);
	CHECK_EQ(srv_line(&f, "10.9.9.9:5061", "b.a.sub.example.com"), 6);
	/* Exact beats suffix; address beats any at the same fit. */
	CHECK_EQ(srv_line(&f, "10.0.0.3:5061", "x.example.com"), 9);
	CHECK_EQ(srv_line(&f, "10.0.0.3:5061", "y.example.com"), 10);
	CHECK_EQ(srv_line(&f, "10.0.0.3:5061", "example.com"), 10);
	/* ... even when the any profile has the longer suffix. */
	CHECK_EQ(srv_line(&f, "10.0.0.3:5061", "a.sub.example.com"), 10);
	fx_fini(&f);
}

/* Without SNI a named address profile serves, the later one on a tie. */
TEST(server_named_address_profiles_without_sni)
{
	struct fx f;

	server_set(&f);
	CHECK_EQ(srv_line(&f, "10.0.0.4:5061", NULL), 12);
	CHECK_EQ(srv_line(&f, "10.0.0.4:5061", "n.example.net"), 11);
	CHECK_EQ(srv_line(&f, "10.0.0.4:5061", "q.example.net"), 1);
	CHECK_EQ(srv_line(&f, "10.0.0.3:5061", NULL), 10);
	fx_fini(&f);
}

static int cli_line(struct fx *f, const char *dst, const char *name,
		    const char *id)
{
	struct stls_addr a = A(dst);

	return stls_profile_conf_of(
		       stls_profile_set_match_client(f->set, &a, name, id))
		->loc.line;
}

TEST(client_rules)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_add(&f, STLS_ROLE_CLIENT, "default", 1);
	fx_add(&f, STLS_ROLE_CLIENT, "10.1.1.1:5061", 2);
	c = fx_add(&f, STLS_ROLE_CLIENT, "10.1.1.1:5061", 3);
	c->server_name = "carrier.example";
	c = fx_add(&f, STLS_ROLE_CLIENT, "any", 4);
	c->server_name = "teams.example";
	c->server_name_mode = 1;
	c = fx_add(&f, STLS_ROLE_CLIENT, "10.2.2.2:0", 5);
	c->server_id = "PBX1";
	c = fx_add(&f, STLS_ROLE_CLIENT, "any", 6);
	c->server_name = "id.example";
	c->server_id = "trunk7";
	fx_add(&f, STLS_ROLE_CLIENT, "[2001:db8::5]:5061", 7);
	CHECK_OK(fx_build(&f));

	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", NULL, NULL), 2);
	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", "carrier.example", NULL), 3);
	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", "CARRIER.example", ""), 3);
	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", "other.example", NULL), 2);
	CHECK_EQ(cli_line(&f, "10.1.1.1:5062", NULL, NULL), 1);
	/* Destination first, then any + server_name. */
	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", "sip.teams.example", NULL), 2);
	CHECK_EQ(cli_line(&f, "10.3.3.3:5061", "sip.teams.example", NULL), 4);
	CHECK_EQ(cli_line(&f, "10.3.3.3:5061", "teams.example", NULL), 4);
	CHECK_EQ(cli_line(&f, "10.3.3.3:5061", "unknown.example", NULL), 1);
	CHECK_EQ(cli_line(&f, "10.3.3.3:5061", NULL, NULL), 1);
	/* server_id first, case-insensitively, whatever the address. */
	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", "carrier.example", "pbx1"), 5);
	CHECK_EQ(cli_line(&f, "10.9.9.9:1", NULL, "TRUNK7"), 6);
	CHECK_EQ(cli_line(&f, "10.1.1.1:5061", NULL, "nope"), 2);
	CHECK_EQ(cli_line(&f, "10.2.2.2:40000", NULL, NULL), 5);
	CHECK_EQ(cli_line(&f, "[2001:db8::5]:5061", NULL, NULL), 7);
	CHECK_EQ(cli_line(&f, "[2001:db8::5]:5060", NULL, NULL), 1);
	CHECK_EQ(stls_profile_conf_of(stls_profile_set_match_client(
					      f.set, NULL, NULL, NULL))
			 ->loc.line, 1);
	fx_fini(&f);
}

TEST(profile_names)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	named(&f, "any", 2, "example.com", 0);
	fx_server(&f, "[2001:db8::1]:5061", 3, NULL);
	c = fx_add(&f, STLS_ROLE_CLIENT, "1.2.3.4:5061", 4);
	(void)c;
	CHECK_OK(fx_build(&f));
	CHECK_NOT_NULL(fx_find(&f, "TLSs<default>"));
	CHECK_NOT_NULL(fx_find(&f, "TLSs<any:example.com>"));
	CHECK_NOT_NULL(fx_find(&f, "TLSs<[2001:db8::1]:5061>"));
	CHECK_NOT_NULL(fx_find(&f, "TLSc<1.2.3.4:5061>"));
	CHECK_NOT_NULL(fx_find(&f, "TLSc<default>"));
	CHECK_EQ(stls_profile_role(fx_find(&f, "TLSc<1.2.3.4:5061>")),
		 STLS_ROLE_CLIENT);
	fx_fini(&f);
}

/* [server:default] server.pem; [server:any] other.example.test. */
static void sni_set(struct fx *f, int vc_other)
{
	struct stls_profile_conf *c;

	fx_init(f);
	fx_server(f, "default", 1, NULL);
	c = fx_server(f, "any", 5, "server2");
	c->server_name = "other.example.test";
	c->verify_client = vc_other;
	c->ca_list = fx_cert(f, "ca.pem");
	c = fx_add(f, STLS_ROLE_CLIENT, "default", 10);
	c->verify_certificate = 1;
	c->ca_list = fx_cert(f, "ca.pem");
	CHECK_OK(fx_build(f));
}

/* Handshake; returns the CN the server presented ("" on failure). */
static const char *sni_run(struct stls_profile_set *set, const char *sni,
			   int method, const char **prof, char *cn,
			   size_t len)
{
	const struct stls_profile *sp, *cp;
	SSL *srv, *cli;

	sp = stls_profile_set_default(set, STLS_ROLE_SERVER);
	cp = stls_profile_set_default(set, STLS_ROLE_CLIENT);
	srv = stls_profile_ssl_new(sp, NULL);
	cli = stls_profile_ssl_new(cp, NULL);
	CHECK_NOT_NULL(srv);
	CHECK_NOT_NULL(cli);
	if (method) {
		CHECK(SSL_set_max_proto_version(cli, method));
	}
	if (sni) {
		CHECK(SSL_set_tlsext_host_name(cli, sni));
	}
	cn[0] = '\0';
	if (fx_handshake(cli, srv) == 0) {
		fx_peer_cn(cli, cn, len);
		CHECK_EQ(SSL_get_verify_result(cli), X509_V_OK);
	}
	*prof = stls_profile_name(stls_profile_of_ssl(srv));
	SSL_free(cli);
	SSL_free(srv);
	return cn;
}

TEST(sni_switches_certificate)
{
	static const int versions[] = { TLS1_3_VERSION, TLS1_2_VERSION };
	const char *prof;
	char cn[128];
	size_t i;
	struct fx f;

	sni_set(&f, STLS_VC_OFF);
	for (i = 0; i < 2; i++) {
		CHECK_STR_EQ(sni_run(f.set, "other.example.test", versions[i],
				     &prof, cn, sizeof(cn)),
			     "other.example.test");
		CHECK_STR_EQ(prof, "TLSs<any:other.example.test>");
		CHECK_STR_EQ(sni_run(f.set, NULL, versions[i], &prof, cn,
				     sizeof(cn)), "sip.example.test");
		CHECK_STR_EQ(prof, "TLSs<default>");
		CHECK_STR_EQ(sni_run(f.set, "sip.example.test", versions[i],
				     &prof, cn, sizeof(cn)),
			     "sip.example.test");
		CHECK_STR_EQ(prof, "TLSs<default>");
	}
	fx_fini(&f);
}

/* The new profile's verify mode applies after the switch. */
TEST(sni_switch_copies_verify_mode)
{
	const char *prof;
	char cn[128];
	struct fx f;

	sni_set(&f, STLS_VC_ON);
	/* The client has no certificate: refused on the SNI profile only. */
	CHECK_STR_EQ(sni_run(f.set, "other.example.test", 0, &prof, cn,
			     sizeof(cn)), "");
	CHECK_STR_EQ(prof, "TLSs<any:other.example.test>");
	CHECK_STR_EQ(sni_run(f.set, NULL, 0, &prof, cn, sizeof(cn)),
		     "sip.example.test");
	fx_fini(&f);
}

/* The client profile's server_name is sent as SNI by default. */
TEST(client_profile_sends_its_server_name)
{
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	char cn[128];
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "10.0.0.1:5061", 3, "server2");
	c->server_name = "other.example.test";
	c = fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	c->server_name = "other.example.test";
	CHECK_OK(fx_build(&f));
	{
		struct stls_addr local = A("10.0.0.1:5061");
		const struct stls_profile *sp =
			stls_profile_set_match_server(f.set, &local, NULL);

		srv = stls_profile_ssl_new(sp, &local);
	}
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_CLIENT), NULL);
	CHECK_OK(fx_handshake(cli, srv));
	CHECK_STR_EQ(fx_peer_cn(cli, cn, sizeof(cn)), "other.example.test");
	CHECK_STR_EQ(stls_profile_name(stls_profile_of_ssl(srv)),
		     "TLSs<10.0.0.1:5061>");
	SSL_free(cli);
	SSL_free(srv);
	fx_fini(&f);
}

/*
 * Reload safety: an SSL keeps the set it started with. A newer set that
 * would serve another certificate for the same name changes nothing, and
 * the old set stays alive after its owner dropped it.
 */
TEST(sni_uses_the_set_the_connection_started_with)
{
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	char cn[128];
	struct fx a, b;

	sni_set(&a, STLS_VC_OFF);
	srv = stls_profile_ssl_new(
		stls_profile_set_default(a.set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(a.set, STLS_ROLE_CLIENT), NULL);
	CHECK(SSL_set_tlsext_host_name(cli, "other.example.test"));
	fx_init(&b);
	fx_server(&b, "default", 1, NULL);
	c = fx_server(&b, "any", 5, "server");
	c->server_name = "other.example.test";
	CHECK_OK(fx_build(&b));
	fx_fini(&a); /* the "old" set: only the SSLs hold it now */
	CHECK_OK(fx_handshake(cli, srv));
	CHECK_STR_EQ(fx_peer_cn(cli, cn, sizeof(cn)), "other.example.test");
	CHECK(stls_profile_set_of(stls_profile_of_ssl(srv)) != b.set);
	SSL_free(cli);
	SSL_free(srv);
	fx_fini(&b);
	FX_LEAK_CHECK();
}

TEST(profile_of_foreign_ssl_is_null)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	SSL *ssl = SSL_new(ctx);

	CHECK_NULL(stls_profile_of_ssl(ssl));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* The SNI profile's cipher list and suites apply, not the first one's. */
TEST(sni_switch_applies_ciphers)
{
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	static const char *const want[] = { "ECDHE-ECDSA-CHACHA20-POLY1305",
					     "TLS_CHACHA20_POLY1305_SHA256" };
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	size_t i;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "any", 5, "server2");
	c->server_name = "other.example.test";
	c->cipher_list = "ECDHE-ECDSA-CHACHA20-POLY1305";
	c->cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(&f));
	for (i = 0; i < 2; i++) {
		srv = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_SERVER),
			NULL);
		cli = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_CLIENT),
			NULL);
		CHECK(SSL_set_max_proto_version(cli, versions[i]));
		CHECK(SSL_set_tlsext_host_name(cli, "other.example.test"));
		CHECK_OK(fx_handshake(cli, srv));
		CHECK_STR_EQ(SSL_CIPHER_get_name(SSL_get_current_cipher(srv)),
			     want[i]);
		SSL_free(cli);
		SSL_free(srv);
	}
	fx_fini(&f);
}

/* The SNI profile's tls_method applies: TLS 1.2 refused there only. */
TEST(sni_switch_applies_method)
{
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	int i;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "any", 5, "server2");
	c->server_name = "other.example.test";
	c->method = STLS_METHOD_TLSV1_3;
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(&f));
	for (i = 0; i < 2; i++) {
		srv = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_SERVER),
			NULL);
		cli = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_CLIENT),
			NULL);
		CHECK(SSL_set_max_proto_version(cli, TLS1_2_VERSION));
		if (i == 0) {
			CHECK(SSL_set_tlsext_host_name(cli,
						       "other.example.test"));
		}
		CHECK_EQ(fx_handshake(cli, srv), i == 0 ? -1 : 0);
		SSL_free(cli);
		SSL_free(srv);
	}
	fx_fini(&f);
}

/* Without cipher_suites the SNI profile keeps the profile default order
 * (AES-128-GCM first, docs/profiles.md), as a connection that starts on
 * it does, whatever the first profile set. */
TEST(sni_switch_applies_default_suite_order)
{
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
	c = fx_server(&f, "any", 5, "server2");
	c->server_name = "other.example.test";
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(&f));
	srv = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_CLIENT), NULL);
	CHECK(SSL_set_tlsext_host_name(cli, "other.example.test"));
	CHECK_OK(fx_handshake(cli, srv));
	CHECK_STR_EQ(SSL_CIPHER_get_name(SSL_get_current_cipher(srv)),
		     "TLS_AES_128_GCM_SHA256");
	SSL_free(cli);
	SSL_free(srv);
	fx_fini(&f);
}

/* A wildcard tenant gets its certificate for any one-label name under
 * its base, in a real handshake; a deeper name does not. */
TEST(sni_wildcard_switches_certificate)
{
	struct stls_profile_conf *c;
	const char *prof;
	char cn[128];
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "any", 5, "server2");
	c->server_name = "*.tenant.test";
	c = fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	c->verify_certificate = 1;
	c->ca_list = fx_cert(&f, "ca.pem");
	CHECK_OK(fx_build(&f));
	CHECK_STR_EQ(sni_run(f.set, "sip.tenant.test", 0, &prof, cn,
			     sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(prof, "TLSs<any:*.tenant.test>");
	CHECK_STR_EQ(sni_run(f.set, "a.sip.tenant.test", 0, &prof, cn,
			     sizeof(cn)),
		     "sip.example.test");
	CHECK_STR_EQ(prof, "TLSs<default>");
	CHECK_STR_EQ(sni_run(f.set, "tenant.test", 0, &prof, cn, sizeof(cn)),
		     "sip.example.test");
	fx_fini(&f);
}

/* The SNI profile's groups apply, and a switch to a profile without
 * groups restores OpenSSL's defaults (X25519 first). TLS 1.3: the group
 * of the key exchange is the server's choice among the client's. */
TEST(sni_switch_applies_groups)
{
	static const struct {
		const char *sni;
		int nid;
	} t[] = {
		{ NULL, NID_secp384r1 },
		{ "other.example.test", NID_X448 },
		{ "sip.example.test", NID_X25519 },
	};
	struct stls_profile_conf *c;
	SSL *srv, *cli;
	size_t i;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->groups = "P-384";
	c = fx_server(&f, "any", 5, "server2");
	c->server_name = "other.example.test";
	c->groups = "X448";
	c = fx_server(&f, "any", 9, NULL);
	c->server_name = "sip.example.test";
	fx_add(&f, STLS_ROLE_CLIENT, "default", 12);
	CHECK_OK(fx_build(&f));
	for (i = 0; i < STLS_ARRAY_SIZE(t); i++) {
		srv = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_SERVER),
			NULL);
		cli = stls_profile_ssl_new(
			stls_profile_set_default(f.set, STLS_ROLE_CLIENT),
			NULL);
		CHECK(SSL_set1_groups_list(cli, "X25519:P-384:X448"));
		if (t[i].sni) {
			CHECK(SSL_set_tlsext_host_name(cli, t[i].sni));
		}
		CHECK_OK(fx_handshake(cli, srv));
		CHECK_EQ(SSL_get_negotiated_group(srv), t[i].nid);
		SSL_free(cli);
		SSL_free(srv);
	}
	fx_fini(&f);
}
