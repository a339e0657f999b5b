/*
 * Tests for lib/tls/profile_set.c: reference counting, generations,
 * listing, implicit defaults and the private copy of each profile.
 */
#include <errno.h>
#include <pthread.h>

#include "lib/tls/profile_fixture.h"
#include "stls/conf.h"
#include "lib/tls/tenants_gen.h"

TEST(generation_increases)
{
	uint64_t g1, g2;
	struct fx a, b;

	fx_init(&a);
	fx_server(&a, "default", 1, NULL);
	CHECK_OK(fx_build(&a));
	fx_init(&b);
	fx_server(&b, "default", 1, NULL);
	CHECK_OK(fx_build(&b));
	g1 = stls_profile_set_generation(a.set);
	g2 = stls_profile_set_generation(b.set);
	CHECK(g1 >= 1);
	CHECK(g2 > g1);
	fx_fini(&a);
	fx_fini(&b);
}

/* A failed build takes no generation number. */
TEST(failed_build_takes_no_generation)
{
	uint64_t g1, g2;
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	g1 = stls_profile_set_generation(f.set);
	fx_fini(&f);
	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->certificate = "/nonexistent.pem";
	CHECK_EQ(fx_build(&f), -EINVAL);
	fx_fini(&f);
	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	g2 = stls_profile_set_generation(f.set);
	CHECK_EQ(g2, g1 + 1);
	fx_fini(&f);
}

TEST(refcount_last_unref_frees)
{
	struct stls_profile_set *set;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	set = stls_profile_set_ref(f.set);
	CHECK(set == f.set);
	stls_profile_set_unref(f.set);
	/* Still alive through the second reference. */
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(set, 0)),
		     "TLSs<default>");
	stls_profile_set_unref(set);
	f.set = NULL;
	stls_profile_set_unref(NULL);
	fx_fini(&f);
	FX_LEAK_CHECK();
}

/* File order first, then the defaults made from the parameters. */
TEST(count_and_iteration)
{
	struct fx f;

	fx_init(&f);
	fx_server(&f, "10.0.0.1:5061", 1, NULL);
	fx_server(&f, "default", 4, NULL);
	fx_add(&f, STLS_ROLE_CLIENT, "10.0.0.2:5061", 7);
	CHECK_OK(fx_build(&f));
	CHECK_EQ(stls_profile_set_count(f.set), 4);
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(f.set, 0)),
		     "TLSs<10.0.0.1:5061>");
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(f.set, 1)),
		     "TLSs<default>");
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(f.set, 2)),
		     "TLSc<10.0.0.2:5061>");
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(f.set, 3)),
		     "TLSc<default>");
	CHECK(stls_profile_conf_of(stls_profile_set_get0(f.set, 3))->implicit);
	CHECK(!stls_profile_conf_of(stls_profile_set_get0(f.set, 1))->implicit);
	CHECK_NULL(stls_profile_set_get0(f.set, 4));
	CHECK(stls_profile_set_default(f.set, STLS_ROLE_SERVER) ==
	      stls_profile_set_get0(f.set, 1));
	CHECK(stls_profile_set_of(stls_profile_set_get0(f.set, 2)) == f.set);
	fx_fini(&f);
}

/* No profiles at all: both defaults from the parameters (modparam mode). */
TEST(defaults_from_parameters)
{
	const struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	f.s.certificate = fx_cert(&f, "server.pem");
	f.s.private_key = fx_cert(&f, "server.key");
	f.s.server_name = "sip.example.test";
	f.s.verify_client = STLS_VC_ON;
	f.s.ca_list = fx_cert(&f, "ca.pem");
	CHECK_OK(stls_profile_set_build(&f.s, NULL, &f.d, &f.set));
	CHECK_EQ(stls_profile_set_count(f.set), 2);
	c = stls_profile_conf_of(
		stls_profile_set_default(f.set, STLS_ROLE_SERVER));
	CHECK(c->implicit);
	CHECK_STR_EQ(c->certificate, test_cert_path("server.pem"));
	CHECK_EQ(SSL_CTX_get_verify_mode(stls_profile_ssl_ctx(
			 stls_profile_set_default(f.set, STLS_ROLE_SERVER))),
		 SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	c = stls_profile_conf_of(
		stls_profile_set_default(f.set, STLS_ROLE_CLIENT));
	CHECK_STR_EQ(c->server_name, "sip.example.test");
	fx_fini(&f);
}

TEST(duplicate_default_is_an_error)
{
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	fx_server(&f, "default", 9, NULL);
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:9: duplicate [server:default] (first "
			  "at tls.cfg:1)"));
	fx_fini(&f);
}

/* The set keeps its own copy: the parsed config may go away. */
TEST(profile_conf_is_a_private_copy)
{
	char file[] = "tls.cfg", name[] = "example.com";
	const struct stls_profile_conf *c;
	struct stls_profile_conf *src;
	struct fx f;

	fx_init(&f);
	src = fx_server(&f, "any", 3, NULL);
	src->server_name = name;
	src->loc.file = file;
	src->field_loc[STLS_PF_SERVER_NAME].file = file;
	src->field_loc[STLS_PF_SERVER_NAME].line = 4;
	CHECK_OK(fx_build(&f));
	memset(name, 'x', sizeof(name) - 1);
	memset(file, 'y', sizeof(file) - 1);
	c = stls_profile_conf_of(stls_profile_set_get0(f.set, 0));
	CHECK_STR_EQ(c->server_name, "example.com");
	CHECK_STR_EQ(c->loc.file, "tls.cfg");
	CHECK_STR_EQ(c->field_loc[STLS_PF_SERVER_NAME].file, "tls.cfg");
	CHECK_NULL(c->next);
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(f.set, 0)),
		     "TLSs<any:example.com>");
	fx_fini(&f);
}

/* An SSL keeps its set alive after the owner dropped it. */
TEST(ssl_holds_a_reference)
{
	const struct stls_profile *p;
	SSL *ssl;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	ssl = stls_profile_ssl_new(stls_profile_set_get0(f.set, 0), NULL);
	CHECK_NOT_NULL(ssl);
	CHECK(SSL_is_server(ssl));
	fx_fini(&f);
	p = stls_profile_of_ssl(ssl);
	CHECK_NOT_NULL(p);
	CHECK_STR_EQ(stls_profile_name(p), "TLSs<default>");
	CHECK(SSL_get_SSL_CTX(ssl) == stls_profile_ssl_ctx(p));
	SSL_free(ssl);
	FX_LEAK_CHECK();
}

struct hammer {
	struct stls_profile_set *set;
	int rounds;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	int i;

	for (i = 0; i < h->rounds; i++) {
		stls_profile_set_unref(stls_profile_set_ref(h->set));
	}
	return NULL;
}

/* Two threads taking and dropping references leave the count intact. */
TEST(refcount_is_atomic)
{
	struct hammer h;
	pthread_t t[2];
	int i;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	CHECK_OK(fx_build(&f));
	h.set = f.set;
	h.rounds = 200000;
	for (i = 0; i < 2; i++) {
		CHECK_OK(pthread_create(&t[i], NULL, hammer_run, &h));
	}
	for (i = 0; i < 2; i++) {
		CHECK_OK(pthread_join(t[i], NULL));
	}
	CHECK_STR_EQ(stls_profile_name(stls_profile_set_get0(f.set, 0)),
		     "TLSs<default>");
	fx_fini(&f);
	FX_LEAK_CHECK();
}

/* A '*' is a wildcard only as the whole first label of a server
 * profile's name; elsewhere the build says it is literal. */
TEST(wildcard_names_warn_where_literal)
{
	struct stls_profile_conf *c;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	c = fx_server(&f, "any", 2, NULL);
	c->server_name = "*.ok.test";
	fx_loc(c, STLS_PF_SERVER_NAME, 3);
	c = fx_server(&f, "any", 4, NULL);
	c->server_name = "a*.odd.test";
	fx_loc(c, STLS_PF_SERVER_NAME, 5);
	c = fx_server(&f, "any", 6, NULL);
	c->server_name = "*.*.odd.test";
	fx_loc(c, STLS_PF_SERVER_NAME, 7);
	c = fx_server(&f, "any", 8, NULL);
	c->server_name = "*.mode.test";
	c->server_name_mode = 1;
	fx_loc(c, STLS_PF_SERVER_NAME_MODE, 9);
	c = fx_add(&f, STLS_ROLE_CLIENT, "any", 10);
	c->server_name = "*.carrier.test";
	fx_loc(c, STLS_PF_SERVER_NAME, 11);
	fx_add(&f, STLS_ROLE_CLIENT, "default", 12);
	CHECK_OK(fx_build(&f));
	CHECK(!fx_diag_has(&f, "tls.cfg:3:"));
	CHECK(fx_diag_has(&f, "tls.cfg:5: warning: server_name: '*' is a "
			  "wildcard only as the whole first label "
			  "('*.example.com'); elsewhere, as in 'a*.odd.test', "
			  "it matches literally"));
	CHECK(fx_diag_has(&f, "tls.cfg:7: warning: server_name: '*' is a "
			  "wildcard only"));
	CHECK(fx_diag_has(&f, "tls.cfg:9: warning: server_name_mode: 1 is "
			  "ignored for the wildcard '*.mode.test' (it matches "
			  "one label)"));
	CHECK(fx_diag_has(&f, "tls.cfg:11: warning: server_name: "
			  "'*.carrier.test' is taken literally: a client "
			  "profile's name is no wildcard"));
	fx_fini(&f);
}

/* Tenants for the scale test: enough to exercise the index, the shared
 * contexts and the duplicate check at scale within seconds under ASan
 * (bench/tenants runs 10,000). */
#define SCALE_TENANTS 300

/* The server CN a client naming <sni> gets from <set>. */
static const char *scale_cn(struct stls_profile_set *set, const char *sni,
			    char *cn, size_t len)
{
	struct stls_addr local = { .family = AF_INET, .port = 5061 };
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *srv, *cli;

	CHECK_NOT_NULL(cctx);
	srv = stls_profile_ssl_new(stls_profile_set_match_server(set, &local,
								 NULL),
				   &local);
	cli = SSL_new(cctx);
	CHECK(srv && cli);
	SSL_set_connect_state(cli);
	CHECK(SSL_set_tlsext_host_name(cli, sni));
	CHECK_OK(fx_handshake(cli, srv));
	fx_peer_cn(cli, cn, len);
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	return cn;
}

static struct stls_profile_set *scale_build(struct stls_conf *conf,
					    const struct stls_profile_conf *l)
{
	struct stls_profile_set *set = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	if (stls_profile_set_build(&conf->tls, l, &d, &set) != 0) {
		stls_diag_print(&d, stderr);
	}
	CHECK_EQ(d.n, 0);
	stls_diag_fini(&d);
	CHECK_NOT_NULL(set);
	return set;
}

/*
 * A tls.cfg of SCALE_TENANTS [server:any] tenants (every 10th a
 * wildcard), each its own certificate: loaded and reloaded like the
 * daemon does, one shared context, every sampled tenant served its own
 * certificate through SNI; then a duplicate among them is found.
 */
TEST(scale_tenants_load_reload_and_serve)
{
	struct tenants_spec spec = { test_tmp_dir(), SCALE_TENANTS,
				     "tenants.test", 10, 5061 };
	struct stls_profile_conf *list = NULL;
	struct stls_profile_set *set, *next;
	struct stls_conf *conf = NULL;
	char path[512], sni[300], cn[300], want[300];
	struct stls_diag d;
	FILE *f;
	int i;

	CHECK_OK(tenants_gen(&spec));
	snprintf(path, sizeof(path), "%s/siptlsd.conf", test_tmp_dir());
	stls_diag_init(&d);
	CHECK_OK(stls_conf_load(path, &conf, &d));
	set = scale_build(conf, conf->profiles);
	CHECK_EQ(stls_profile_set_count(set), SCALE_TENANTS + 2);
	CHECK(stls_profile_ssl_ctx(stls_profile_set_get0(set, 1)) ==
	      stls_profile_ssl_ctx(stls_profile_set_get0(set, SCALE_TENANTS)));
	CHECK_OK(stls_conf_reload_profiles(conf, &conf->tls, &list, &d));
	next = scale_build(conf, list);
	stls_profile_conf_list_free(list);
	stls_profile_set_unref(set);
	for (i = 0; i < SCALE_TENANTS; i += 29) {
		tenants_sni(&spec, i, sni, sizeof(sni));
		tenants_name(&spec, i, want, sizeof(want));
		CHECK_STR_EQ(scale_cn(next, sni, cn, sizeof(cn)), want);
	}
	CHECK_STR_EQ(scale_cn(next, "unknown.tenants.test", cn, sizeof(cn)),
		     "tenants.test");
	stls_profile_set_unref(next);
	/* One tenant written twice (another case): the load refuses it. */
	snprintf(path, sizeof(path), "%s/tls.cfg", test_tmp_dir());
	f = fopen(path, "a");
	CHECK_NOT_NULL(f);
	fprintf(f, "\n[server:any]\nserver_name = T150.Tenants.TEST\n"
		"certificate = t150.pem\nprivate_key = t150.key\n");
	CHECK_EQ(fclose(f), 0);
	CHECK_EQ(stls_conf_reload_profiles(conf, &conf->tls, &list, &d),
		 -EINVAL);
	CHECK_EQ(d.errors, 1);
	CHECK_STR_HAS(stls_diag_format(&d.v[0], cn, sizeof(cn)),
		      "duplicate profile [server:any] with server_name "
		      "'T150.Tenants.TEST' (first defined at");
	stls_diag_fini(&d);
	stls_conf_free(conf);
	FX_LEAK_CHECK();
}
