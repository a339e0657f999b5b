/*
 * Tests for lib/tls/profile_pem.c and the PEM-text paths of the profile
 * build (a database row with file_type = 1): certificates, chains, keys,
 * CA lists and CRLs read from memory give the same contexts as the files
 * do; a key held as PEM text must be encrypted; messages name PEM text as
 * "(PEM value)" and never print it.
 */
#include <errno.h>
#include <stdio.h>

#include "lib/tls/profile_fixture.h"

/* The content of test PKI file <name>, kept until fx_fini(). */
static char *pem_of(struct fx *f, const char *name)
{
	FILE *fp = fopen(test_cert_path(name), "r");
	char buf[16384];
	size_t n;

	CHECK_NOT_NULL(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	CHECK(n > 0 && n < sizeof(buf) - 1);
	buf[n] = '\0';
	return fx_str(f, buf);
}

/* Concatenation of two PEM files. */
static char *pem_cat(struct fx *f, const char *a, const char *b)
{
	char buf[32768];

	snprintf(buf, sizeof(buf), "%s%s", pem_of(f, a), pem_of(f, b));
	return fx_str(f, buf);
}

static void set_pem(struct stls_profile_conf *c, enum stls_pf field,
		    char **slot, char *pem, int line)
{
	*slot = pem;
	c->pem_inline |= 1u << field;
	fx_loc(c, field, line);
}

/* A server whose certificate and encrypted key are PEM text. */
static struct stls_profile_conf *pem_server(struct fx *f, const char *key)
{
	struct stls_profile_conf *c = fx_add(f, STLS_ROLE_SERVER, "default", 1);

	set_pem(c, STLS_PF_CERTIFICATE, &c->certificate,
		pem_of(f, "server.pem"), 2);
	set_pem(c, STLS_PF_PRIVATE_KEY, &c->private_key, pem_of(f, key), 3);
	c->private_key_password = "secret";
	return c;
}

static void check_no_pem_in_diag(const struct fx *f)
{
	CHECK(!fx_diag_has(f, "-----BEGIN"));
	CHECK(!fx_diag_has(f, "secret"));
}

/* Certificate and encrypted key from memory: the context serves a TLS
 * handshake with that certificate. */
TEST(pem_certificate_and_encrypted_key_serve)
{
	SSL *cli, *srv;
	char cn[64];
	struct fx f;

	fx_init(&f);
	pem_server(&f, "server-enc.key");
	fx_add(&f, STLS_ROLE_CLIENT, "default", 9);
	CHECK_OK(fx_build(&f));
	srv = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f.set, STLS_ROLE_CLIENT), NULL);
	CHECK_OK(fx_handshake(cli, srv));
	CHECK_STR_EQ(fx_peer_cn(cli, cn, sizeof(cn)), "sip.example.test");
	/* The set keeps no key material: the PEM key is dropped. */
	CHECK_NULL(stls_profile_conf_of(stls_profile_set_default(
			   f.set, STLS_ROLE_SERVER))->private_key);
	SSL_free(cli);
	SSL_free(srv);
	fx_fini(&f);
	FX_LEAK_CHECK();
}

/* A plain (unencrypted) key as PEM text is refused, at its location. */
TEST(plain_pem_key_is_refused)
{
	struct fx f;

	fx_init(&f);
	pem_server(&f, "server.key");
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: private_key: the PEM key is not "
			      "encrypted: a key held in the database must be "
			      "encrypted"));
	check_no_pem_in_diag(&f);
	fx_fini(&f);
}

/* An encrypted PEM key without a password, or with a wrong one. */
TEST(encrypted_pem_key_needs_its_password)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	c->private_key_password = NULL;
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: private_key: '(PEM value)' is "
			      "encrypted and no private_key_password is set"));
	fx_fini(&f);
	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	c->private_key_password = "wrong";
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "private_key: cannot decrypt '(PEM value)' "
			      "(wrong password?)"));
	check_no_pem_in_diag(&f);
	fx_fini(&f);
}

/* With private_key "" the key follows the certificate in the same PEM
 * text, and the plain-key rule applies to it too. */
TEST(key_following_the_certificate_in_pem_text)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	c->certificate = pem_cat(&f, "server.pem", "server-enc.key");
	c->private_key = "";
	c->pem_inline &= ~(1u << STLS_PF_PRIVATE_KEY);
	CHECK_OK(fx_build(&f));
	fx_fini(&f);
	fx_init(&f);
	c = pem_server(&f, "server.key");
	c->certificate = pem_cat(&f, "server.pem", "server.key");
	c->private_key = "";
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "the PEM key is not encrypted"));
	fx_fini(&f);
}

/* The chain after the leaf in PEM text is sent as the chain. */
TEST(pem_chain_is_the_context_chain)
{
	STACK_OF(X509) *chain = NULL;
	struct stls_profile_conf *c;
	SSL_CTX *ctx;
	struct fx f;

	fx_init(&f);
	c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
	set_pem(c, STLS_PF_CERTIFICATE, &c->certificate,
		pem_of(&f, "server-chain.pem"), 2);
	c->private_key = fx_cert(&f, "server-chain.key");
	CHECK_OK(fx_build(&f));
	ctx = stls_profile_ssl_ctx(stls_profile_set_default(f.set,
							    STLS_ROLE_SERVER));
	CHECK_EQ(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
	CHECK_NOT_NULL(chain);
	CHECK_EQ(sk_X509_num(chain), 1);
	fx_fini(&f);
}

/* Text without a certificate, and broken PEM, name the key, not the
 * text. */
TEST(bad_pem_text_is_reported_without_its_content)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	c->certificate = "not a certificate at all";
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:2: certificate: no certificate in "
			      "'(PEM value)'"));
	fx_fini(&f);
	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	c->certificate = "-----BEGIN CERTIFICATE-----\n@@@@\n"
			 "-----END CERTIFICATE-----\n";
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:2: certificate: cannot load "
			      "'(PEM value)': "));
	check_no_pem_in_diag(&f);
	fx_fini(&f);
}

/* A key that belongs to another certificate. */
TEST(pem_key_of_another_certificate)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	set_pem(c, STLS_PF_CERTIFICATE, &c->certificate,
		pem_of(&f, "server2.pem"), 2);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: private_key: does not match "
			      "certificate '(PEM value)'"));
	fx_fini(&f);
}

/*
 * ca_list and crl as PEM text verify client certificates as the files
 * do: a valid client passes, a revoked one fails.
 */
TEST(pem_ca_list_and_crl_verify_clients)
{
	static const char *const clients[] = { "client", "client-revoked" };
	struct stls_profile_conf *c, *cc;
	SSL *cli, *srv;
	size_t i;
	struct fx f;

	for (i = 0; i < 2; i++) {
		fx_init(&f);
		c = pem_server(&f, "server-enc.key");
		c->verify_client = STLS_VC_ON;
		set_pem(c, STLS_PF_CA_LIST, &c->ca_list,
			pem_of(&f, "calist.pem"), 4);
		set_pem(c, STLS_PF_CRL, &c->crl,
			pem_cat(&f, "crl.pem", "int-crl.pem"), 5);
		cc = fx_server(&f, "default", 9, clients[i]);
		cc->role = STLS_ROLE_CLIENT;
		CHECK_OK(fx_build(&f));
		srv = stls_profile_ssl_new(stls_profile_set_default(
						   f.set, STLS_ROLE_SERVER),
					   NULL);
		cli = stls_profile_ssl_new(stls_profile_set_default(
						   f.set, STLS_ROLE_CLIENT),
					   NULL);
		CHECK_EQ(fx_handshake(cli, srv), i == 0 ? 0 : -1);
		if (i == 1) {
			CHECK_EQ(SSL_get_verify_result(srv),
				 X509_V_ERR_CERT_REVOKED);
		}
		SSL_free(cli);
		SSL_free(srv);
		fx_fini(&f);
	}
}

/* PEM text without the expected objects. */
TEST(pem_ca_list_and_crl_without_objects)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	set_pem(c, STLS_PF_CA_LIST, &c->ca_list, pem_of(&f, "crl.pem"), 4);
	set_pem(c, STLS_PF_CRL, &c->crl, pem_of(&f, "ca.pem"), 5);
	c->verify_certificate = 1;
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:4: ca_list: no certificate in "
			      "'(PEM value)'"));
	CHECK(fx_diag_has(&f, "tls.cfg:5: crl: no CRL found in "
			      "'(PEM value)'"));
	fx_fini(&f);
}

/* A path is still a path: a missing file is named. */
TEST(paths_are_still_files)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->ca_list = "/nonexistent/ca.pem";
	fx_loc(c, STLS_PF_CA_LIST, 4);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:4: ca_list: cannot load "
			      "'/nonexistent/ca.pem': No such file"));
	fx_fini(&f);
}

/* The CN a client sees with SNI <sni> against the server default. */
static const char *cn_for(const struct fx *f, const char *sni, char *cn,
			  size_t len)
{
	SSL *srv, *cli;

	srv = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_CLIENT), NULL);
	CHECK(srv && cli);
	CHECK(SSL_set_tlsext_host_name(cli, sni));
	cn[0] = '\0';
	if (fx_handshake(cli, srv) == 0) {
		fx_peer_cn(cli, cn, len);
	}
	SSL_free(cli);
	SSL_free(srv);
	return cn;
}

/*
 * Profiles from rows with equal settings share one SSL_CTX (profile
 * _share.c): the later one reads its PEM certificate into the scratch SSL
 * of the shared context, and each still presents its own certificate.
 */
TEST(pem_profiles_share_a_context_and_keep_their_certificates)
{
	const struct stls_profile *one, *two;
	struct stls_profile_conf *c;
	char cn[64];
	struct fx f;

	fx_init(&f);
	c = pem_server(&f, "server-enc.key");
	c->kind = STLS_PROF_ANY;
	c->server_name = "sip.example.test";
	c = fx_add(&f, STLS_ROLE_SERVER, "any", 4);
	c->server_name = "other.example.test";
	set_pem(c, STLS_PF_CERTIFICATE, &c->certificate,
		pem_of(&f, "server2.pem"), 5);
	c->private_key = fx_cert(&f, "server2.key");
	fx_server(&f, "default", 7, NULL);
	fx_add(&f, STLS_ROLE_CLIENT, "default", 9);
	CHECK_OK(fx_build(&f));
	one = fx_find(&f, "TLSs<any:sip.example.test>");
	two = fx_find(&f, "TLSs<any:other.example.test>");
	CHECK(one && two);
	CHECK(stls_profile_ssl_ctx(one) == stls_profile_ssl_ctx(two));
	CHECK_STR_EQ(cn_for(&f, "other.example.test", cn, sizeof(cn)),
		     "other.example.test");
	CHECK_STR_EQ(cn_for(&f, "sip.example.test", cn, sizeof(cn)),
		     "sip.example.test");
	fx_fini(&f);
	FX_LEAK_CHECK();
}

/*
 * PEM text is digested like a file's bytes: the next build of the same
 * text takes the parsed certificate from the file cache; changed text is
 * parsed again.
 */
TEST(unchanged_pem_text_is_not_parsed_again)
{
	X509 *first;
	struct fx a, b, c;

	fx_init(&a);
	pem_server(&a, "server-enc.key");
	CHECK_OK(fx_build(&a));
	first = SSL_CTX_get0_certificate(stls_profile_ssl_ctx(
		stls_profile_set_default(a.set, STLS_ROLE_SERVER)));
	fx_init(&b);
	pem_server(&b, "server-enc.key");
	CHECK_OK(fx_build(&b));
	CHECK(SSL_CTX_get0_certificate(stls_profile_ssl_ctx(
		      stls_profile_set_default(b.set, STLS_ROLE_SERVER))) ==
	      first);
	fx_init(&c);
	pem_server(&c, "server-enc.key");
	c.p[0].certificate = pem_cat(&c, "server.pem", "ca.pem");
	CHECK_OK(fx_build(&c));
	CHECK(SSL_CTX_get0_certificate(stls_profile_ssl_ctx(
		      stls_profile_set_default(c.set, STLS_ROLE_SERVER))) !=
	      first);
	fx_fini(&a);
	fx_fini(&b);
	fx_fini(&c);
}
