/*
 * Tests for lib/tls/profile_share.c: profiles with equal settings share
 * one SSL_CTX, yet every connection presents the certificates of its own
 * profile, in real in-memory handshakes (with and without SNI, switching
 * between profiles of one context and of two), and every profile still
 * reports its own problems.
 */
#include <errno.h>

#include "lib/tls/profile_fixture.h"

/* The ctx of the profile named <name>. */
static SSL_CTX *ctx_of(const struct fx *f, const char *name)
{
	const struct stls_profile *p = fx_find(f, name);

	CHECK_NOT_NULL(p);
	return stls_profile_ssl_ctx(p);
}

/*
 * Line 1: [server:any] one.test, server.pem (makes the shared context);
 * 2: [server:any] two.test, server2.pem; 3: [server:default],
 * wrongname.pem; 4: [server:any] own.test, server2.pem with its own
 * cipher_list; 5: [server:any] both.test, server.pem + server-rsa.pem.
 */
static void share_set(struct fx *f)
{
	struct stls_profile_conf *c;

	fx_init(f);
	c = fx_server(f, "any", 1, NULL);
	c->server_name = "one.test";
	c = fx_server(f, "any", 2, "server2");
	c->server_name = "two.test";
	fx_server(f, "default", 3, "wrongname");
	c = fx_server(f, "any", 4, "server2");
	c->server_name = "own.test";
	c->cipher_list = "ECDHE-ECDSA-AES256-GCM-SHA384";
	c = fx_server(f, "any", 5, NULL);
	c->server_name = "both.test";
	c->certificate2 = fx_cert(f, "server-rsa.pem");
	c->private_key2 = fx_cert(f, "server-rsa.key");
	fx_add(f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(f));
}

/*
 * A handshake with a server SSL made for the profile <start> (NULL: the
 * server default), the client sending <sni> (may be NULL) and, when
 * <sigalgs> is set, offering only those signature algorithms. Returns
 * the CN the client saw ("" when the handshake failed) and the profile
 * in use at the end in *prof.
 */
static const char *shake(const struct fx *f, const char *start,
			 const char *sni, const char *sigalgs,
			 const char **prof, char *cn, size_t len)
{
	const struct stls_profile *p =
		start ? fx_find(f, start)
		      : stls_profile_set_default(f->set, STLS_ROLE_SERVER);
	SSL *srv, *cli;

	CHECK_NOT_NULL(p);
	srv = stls_profile_ssl_new(p, NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_CLIENT), NULL);
	CHECK(srv && cli);
	if (sni) {
		CHECK(SSL_set_tlsext_host_name(cli, sni));
	}
	if (sigalgs) {
		CHECK(SSL_set1_sigalgs_list(cli, sigalgs));
	}
	cn[0] = '\0';
	if (fx_handshake(cli, srv) == 0) {
		fx_peer_cn(cli, cn, len);
	}
	*prof = stls_profile_name(stls_profile_of_ssl(srv));
	SSL_free(cli);
	SSL_free(srv);
	return cn;
}

TEST(equal_settings_share_one_context)
{
	struct fx f;

	share_set(&f);
	CHECK(ctx_of(&f, "TLSs<any:two.test>") ==
	      ctx_of(&f, "TLSs<any:one.test>"));
	CHECK(ctx_of(&f, "TLSs<default>") == ctx_of(&f, "TLSs<any:one.test>"));
	CHECK(ctx_of(&f, "TLSs<any:both.test>") ==
	      ctx_of(&f, "TLSs<any:one.test>"));
	/* Another cipher list, another context. */
	CHECK(ctx_of(&f, "TLSs<any:own.test>") !=
	      ctx_of(&f, "TLSs<any:one.test>"));
	/* A client profile never shares with a server one. */
	CHECK(stls_profile_ssl_ctx(stls_profile_set_default(
		      f.set, STLS_ROLE_CLIENT)) !=
	      ctx_of(&f, "TLSs<any:one.test>"));
	/* The context holds the certificate of the profile that made it. */
	CHECK(X509_cmp(SSL_CTX_get0_certificate(ctx_of(&f,
						       "TLSs<any:one.test>")),
		       SSL_CTX_get0_certificate(
			       ctx_of(&f, "TLSs<any:both.test>"))) == 0);
	fx_fini(&f);
}

/* Each profile presents its own certificate, through SNI or directly. */
TEST(each_profile_presents_its_own_certificate)
{
	const char *prof;
	char cn[128];
	struct fx f;

	share_set(&f);
	CHECK_STR_EQ(shake(&f, NULL, NULL, NULL, &prof, cn, sizeof(cn)),
		     "wrong.example.test");
	CHECK_STR_EQ(prof, "TLSs<default>");
	CHECK_STR_EQ(shake(&f, NULL, "one.test", NULL, &prof, cn, sizeof(cn)),
		     "sip.example.test");
	CHECK_STR_EQ(prof, "TLSs<any:one.test>");
	CHECK_STR_EQ(shake(&f, NULL, "two.test", NULL, &prof, cn, sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(shake(&f, NULL, "own.test", NULL, &prof, cn, sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(prof, "TLSs<any:own.test>");
	/* An SSL made for a sharing profile, without SNI. */
	CHECK_STR_EQ(shake(&f, "TLSs<any:two.test>", NULL, NULL, &prof, cn,
			   sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(shake(&f, "TLSs<any:one.test>", NULL, NULL, &prof, cn,
			   sizeof(cn)),
		     "sip.example.test");
	fx_fini(&f);
}

/* Switches inside one context, and out of it and back. */
TEST(switches_between_profiles_of_one_context)
{
	const char *prof;
	char cn[128];
	struct fx f;

	share_set(&f);
	/* Sharing profile -> the profile that made the context. */
	CHECK_STR_EQ(shake(&f, "TLSs<any:two.test>", "one.test", NULL, &prof,
			   cn, sizeof(cn)),
		     "sip.example.test");
	/* The maker -> a sharing profile. */
	CHECK_STR_EQ(shake(&f, "TLSs<any:one.test>", "two.test", NULL, &prof,
			   cn, sizeof(cn)),
		     "other.example.test");
	/* Its own context -> a sharing profile, and the reverse. */
	CHECK_STR_EQ(shake(&f, "TLSs<any:own.test>", "two.test", NULL, &prof,
			   cn, sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(prof, "TLSs<any:two.test>");
	CHECK_STR_EQ(shake(&f, "TLSs<any:two.test>", "own.test", NULL, &prof,
			   cn, sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(prof, "TLSs<any:own.test>");
	fx_fini(&f);
}

/*
 * A profile's certificates replace the previous profile's entirely: from
 * an ECDSA + RSA profile to an ECDSA-only one, a client that accepts only
 * RSA signatures fails; it succeeds on the two-chain profile.
 */
TEST(switch_drops_the_previous_certificates)
{
	static const char rsa[] = "rsa_pss_rsae_sha256:RSA+SHA256";
	const char *prof;
	char cn[128];
	struct fx f;

	share_set(&f);
	CHECK_STR_EQ(shake(&f, NULL, "both.test", rsa, &prof, cn, sizeof(cn)),
		     "sip.example.test");
	CHECK_STR_EQ(shake(&f, "TLSs<any:both.test>", NULL, rsa, &prof, cn,
			   sizeof(cn)),
		     "sip.example.test");
	CHECK_STR_EQ(shake(&f, "TLSs<any:both.test>", "two.test", rsa, &prof,
			   cn, sizeof(cn)),
		     "");
	CHECK_STR_EQ(prof, "TLSs<any:two.test>");
	CHECK_STR_EQ(shake(&f, "TLSs<any:both.test>", "one.test", rsa, &prof,
			   cn, sizeof(cn)),
		     "");
	fx_fini(&f);
}

/* A sharing profile's chain is built from the shared store, as OpenSSL
 * would at each handshake: leaf + intermediate + root. */
TEST(sharing_profile_chain_built_from_the_store)
{
	struct stls_profile_conf *c;
	STACK_OF(X509) *sk;
	SSL *srv, *cli;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->ca_list = fx_cert(&f, "calist.pem");
	c = fx_server(&f, "any", 2, "server-leaf");
	c->server_name = "chain.test";
	c->ca_list = fx_cert(&f, "calist.pem");
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(&f));
	CHECK(ctx_of(&f, "TLSs<any:chain.test>") ==
	      ctx_of(&f, "TLSs<default>"));
	srv = stls_profile_ssl_new(fx_find(&f, "TLSs<any:chain.test>"), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_CLIENT), NULL);
	CHECK(srv && cli);
	CHECK_OK(fx_handshake(cli, srv));
	sk = SSL_get_peer_cert_chain(cli);
	CHECK_NOT_NULL(sk);
	CHECK_EQ(sk_X509_num(sk), 3);
	SSL_free(cli);
	SSL_free(srv);
	fx_fini(&f);
}

/* Settings that draw a warning are not shared: each profile reports it at
 * its own line. */
TEST(profiles_with_warnings_report_their_own)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "any", 2, "server2");
	c->server_name = "a.test";
	c->verify_client = STLS_VC_ON;
	fx_loc(c, STLS_PF_VERIFY_CLIENT, 3);
	c = fx_server(&f, "any", 4, "server2");
	c->server_name = "b.test";
	c->verify_client = STLS_VC_ON;
	fx_loc(c, STLS_PF_VERIFY_CLIENT, 5);
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "tls.cfg:3: warning: verification is on"));
	CHECK(fx_diag_has(&f, "tls.cfg:5: warning: verification is on"));
	CHECK(ctx_of(&f, "TLSs<any:a.test>") != ctx_of(&f, "TLSs<any:b.test>"));
	fx_fini(&f);
}

/* A sharing profile's own problems are reported at its lines, and the
 * failed build leaves nothing behind. */
TEST(sharing_profile_errors_are_its_own)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "any", 2, NULL);
	c->server_name = "a.test";
	c->private_key = fx_cert(&f, "server2.key");
	fx_loc(c, STLS_PF_PRIVATE_KEY, 4);
	c = fx_server(&f, "any", 5, NULL);
	c->server_name = "b.test";
	c->certificate = "/nonexistent/b.pem";
	fx_loc(c, STLS_PF_CERTIFICATE, 6);
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:4: private_key: does not match "
			  "certificate"));
	CHECK(fx_diag_has(&f, "tls.cfg:6: certificate: cannot load "
			  "'/nonexistent/b.pem'"));
	CHECK_EQ(f.d.errors, 2);
	fx_fini(&f);
	FX_LEAK_CHECK();
}

/* Many connections on sharing profiles leave nothing behind. */
TEST(sharing_profile_connections_leak_nothing)
{
	const char *prof;
	char cn[128];
	int i;
	struct fx f;

	share_set(&f);
	for (i = 0; i < 20; i++) {
		CHECK_STR_EQ(shake(&f, i % 2 ? "TLSs<any:both.test>" : NULL,
				   i % 3 ? "two.test" : "both.test", NULL,
				   &prof, cn, sizeof(cn)),
			     i % 3 ? "other.example.test"
				   : "sip.example.test");
	}
	fx_fini(&f);
	FX_LEAK_CHECK();
}
