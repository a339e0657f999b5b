/*
 * Tests for lib/tls/profile_ahead.c: the certificate and key files of a
 * set parsed ahead on several threads, into the file cache, before the
 * serial build; the set built is the same with any number of threads,
 * and so are its messages: a bad file among many is still named at its
 * file:line, in file order, and a failed build leaves nothing cached.
 *
 * ctest-label: tsan
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/provider.h>

#include "lib/tls/profile_fixture.h"
#include "lib/tls/tenants_gen.h"
#include "stls/conf.h"
#include "tls/profile_int.h"

#define TENANTS 200 /* 402 files with the default's */

struct farm {
	struct tenants_spec spec;
	struct stls_conf *conf;
	char dir[512];
};

/* Makes TENANTS tenants in the case's directory and loads them. */
static void farm_init(struct farm *f)
{
	char path[600];
	struct stls_diag d;

	snprintf(f->dir, sizeof(f->dir), "%s", test_tmp_dir());
	f->spec = (struct tenants_spec){ f->dir, TENANTS, "tenants.test", 10,
					 5061 };
	CHECK_OK(tenants_gen(&f->spec));
	snprintf(path, sizeof(path), "%s/siptlsd.conf", f->dir);
	stls_diag_init(&d);
	f->conf = NULL;
	CHECK_OK(stls_conf_load(path, &f->conf, &d));
	CHECK_EQ(d.n, 0);
	stls_diag_fini(&d);
}

/* The tls.cfg line whose value is file <name> ("key = name"). */
static int line_of(const struct farm *f, const char *name)
{
	char path[600], buf[512], pat[128];
	FILE *in;
	int line = 0;
	bool found = false;

	snprintf(path, sizeof(path), "%s/tls.cfg", f->dir);
	snprintf(pat, sizeof(pat), " = %s\n", name);
	in = fopen(path, "r");
	CHECK_NOT_NULL(in);
	while (!found && fgets(buf, sizeof(buf), in)) {
		line++;
		found = strstr(buf, pat) != NULL;
	}
	fclose(in);
	CHECK(found);
	return line;
}

/* Writes <text> over file <name> of the farm. */
static void spoil(const struct farm *f, const char *name, const char *text)
{
	char path[600];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	out = fopen(path, "w");
	CHECK_NOT_NULL(out);
	fputs(text, out);
	CHECK_EQ(fclose(out), 0);
}

/*
 * Builds the farm's profiles with <threads> load threads; the messages,
 * one per line, into <msgs>. Returns the build's result.
 */
static int build(struct farm *f, int threads, char *msgs, size_t len,
		 struct stls_profile_set **out)
{
	struct stls_profile_set *set = NULL;
	struct stls_diag d;
	size_t i, at = 0;
	char buf[1024];
	int err;

	f->conf->tls.load_threads = threads;
	stls_diag_init(&d);
	err = stls_profile_set_build(&f->conf->tls, f->conf->profiles, &d,
				     &set);
	msgs[0] = '\0';
	for (i = 0; i < d.n && at < len; i++) {
		at += (size_t)snprintf(msgs + at, len - at, "%s\n",
				       stls_diag_format(&d.v[i], buf,
							sizeof(buf)));
	}
	stls_diag_fini(&d);
	if (out) {
		*out = set;
	} else {
		stls_profile_set_unref(set);
	}
	return err;
}

/* The subject CN of the certificate tenant <i> is served with. */
static const char *served_cn(const struct farm *f,
			     const struct stls_profile_set *set, int i,
			     char *buf, size_t len)
{
	const struct stls_profile *p;
	struct stls_addr local;
	char sni[300];
	X509 *x;

	CHECK_OK(stls_addr_parse("127.0.0.1:5061", true, &local));
	tenants_sni(&f->spec, i, sni, sizeof(sni));
	p = stls_profile_set_match_server(set, &local, sni);
	x = p->certs->v[p->certs->n - 1].x509;
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
				  buf, (int)len);
	return buf;
}

/* Writes the key of file <from> into file <to> of the farm in the
 * traditional "EC PRIVATE KEY" form, which the fast reader leaves to the
 * build (read in the default library context). */
static void traditional_key(const struct farm *f, const char *from,
			    const char *to)
{
	char path[600];
	EVP_PKEY *pkey;
	BIO *io;

	snprintf(path, sizeof(path), "%s/%s", f->dir, from);
	CHECK_NOT_NULL(io = BIO_new_file(path, "r"));
	CHECK_NOT_NULL(pkey = PEM_read_bio_PrivateKey(io, NULL, NULL, NULL));
	BIO_free(io);
	snprintf(path, sizeof(path), "%s/%s", f->dir, to);
	CHECK_NOT_NULL(io = BIO_new_file(path, "w"));
	CHECK(PEM_write_bio_PrivateKey_traditional(io, pkey, NULL, NULL, 0,
						   NULL, NULL) == 1);
	BIO_free(io);
	EVP_PKEY_free(pkey);
}

/* Whether <k> is held by the default library context's provider. */
static bool from_default_ctx(EVP_PKEY *k)
{
	OSSL_PROVIDER *def = OSSL_PROVIDER_load(NULL, "default");
	bool same = EVP_PKEY_get0_provider(k) == def;

	OSSL_PROVIDER_unload(def);
	return same;
}

/*
 * A TLS handshake with tenant <i> of <set> (TLS 1.2 or 1.3 by <version>):
 * the server as the daemon makes it (the default profile, the SNI switch
 * in its ClientHello callback), a plain OpenSSL client naming the tenant
 * and checking its certificate against the farm's CA. Returns the CN the
 * client saw, "" when the handshake failed.
 */
static const char *shake(const struct farm *f,
			 const struct stls_profile_set *set, int i,
			 int version, char *cn, size_t len)
{
	struct stls_addr local;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	char sni[300], ca[600];
	SSL *cli, *srv;

	CHECK_OK(stls_addr_parse("127.0.0.1:5061", true, &local));
	snprintf(ca, sizeof(ca), "%s/ca.pem", f->dir);
	CHECK(cctx && SSL_CTX_load_verify_locations(cctx, ca, NULL) == 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	CHECK(SSL_CTX_set_min_proto_version(cctx, version) == 1);
	CHECK(SSL_CTX_set_max_proto_version(cctx, version) == 1);
	cli = SSL_new(cctx);
	srv = stls_profile_ssl_new(stls_profile_set_match_server(set, &local,
								 NULL),
				   &local);
	CHECK(cli && srv);
	SSL_set_tlsext_host_name(cli, tenants_sni(&f->spec, i, sni,
						  sizeof(sni)));
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	cn[0] = '\0';
	if (fx_handshake(cli, srv) == 0 &&
	    SSL_get_verify_result(cli) == X509_V_OK) {
		fx_peer_cn(cli, cn, len);
	}
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	return cn;
}

/*
 * On threads, certificates are parsed in library contexts of their own
 * (profile_libctx.c), not the default one that the profiles' SSL_CTXs
 * use; keys stay in the default context, whether the fast reader took
 * them on a thread or the build read them (another key form); they still
 * match, and handshakes over TLS 1.3 and 1.2 present the certificates and
 * sign with the keys.
 */
TEST(threads_parse_in_their_own_library_contexts)
{
	const struct stls_profile *p;
	struct stls_profile_set *set;
	struct stls_addr local;
	char msgs[2048], cn[300], want[300], sni[300];
	struct farm f;
	int i;

	farm_init(&f);
	CHECK(stls__libctx_private_ok(&f.conf->tls));
	/* Tenant 3's key in the traditional form: the build reads it in
	 * the default context, its certificate was parsed on a thread. */
	traditional_key(&f, "t3.key", "t3.key");

	CHECK_OK(build(&f, 2, msgs, sizeof(msgs), &set));
	CHECK_STR_EQ(msgs, "");
	CHECK_OK(stls_addr_parse("127.0.0.1:5061", true, &local));
	for (i = 0; i < 8; i++) {
		p = stls_profile_set_match_server(
			set, &local, tenants_sni(&f.spec, i, sni, sizeof(sni)));
		CHECK(!from_default_ctx(X509_get0_pubkey(
			p->certs->v[p->certs->n - 1].x509)));
		CHECK(from_default_ctx(p->certs->v[p->certs->n - 1].key));
		tenants_name(&f.spec, i, want, sizeof(want));
		CHECK_STR_EQ(shake(&f, set, i, TLS1_3_VERSION, cn, sizeof(cn)),
			     want);
		CHECK_STR_EQ(shake(&f, set, i, TLS1_2_VERSION, cn, sizeof(cn)),
			     want);
	}
	stls_profile_set_unref(set);
	stls_conf_free(f.conf);
	FX_LEAK_CHECK();
}

/*
 * A certificate parsed on a thread and the key of another tenant, in the
 * default context: still refused as not matching.
 */
TEST(a_key_of_another_context_is_still_checked)
{
	char msgs[2048], want[700];
	struct farm f;

	farm_init(&f);
	traditional_key(&f, "t4.key", "t3.key");
	CHECK_EQ(build(&f, 2, msgs, sizeof(msgs), NULL), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/tls.cfg:%d: private_key: does not match certificate",
		 f.dir, line_of(&f, "t3.key"));
	CHECK_STR_HAS(msgs, want);
	stls_conf_free(f.conf);
	FX_LEAK_CHECK();
}

/* Every file of the farm is in the cache after the parse ahead alone. */
TEST(files_are_parsed_ahead_into_the_cache)
{
	struct stls__pc_file file;
	struct stls__seen *seen;
	struct farm f;
	STACK_OF(X509) *sk;
	char path[600], buf[300], want[300];
	uint64_t id;

	farm_init(&f);
	f.conf->tls.load_threads = 4;
	id = stls__pcache_begin();
	seen = stls__parse_ahead(&f.conf->tls, f.conf->profiles, id);
	CHECK_NOT_NULL(seen);
	/* Each tenant's certificate file and key file, and the default's. */
	CHECK_EQ(stls__pcache_count(), 2 * TENANTS + 2);
	snprintf(path, sizeof(path), "%s/t137.pem", f.dir);
	/* The digest of the bytes read ahead, by the path the profile
	 * names (the conf's own string, or an equal one). */
	CHECK_OK(stls__pcache_read(path, &file));
	CHECK_NOT_NULL(stls__seen_md(seen, path));
	CHECK_EQ(memcmp(stls__seen_md(seen, path), file.md, sizeof(file.md)),
		 0);
	stls__pcache_file_fini(&file);
	sk = stls__certs_read(id, path, false);
	CHECK_NOT_NULL(sk);
	X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(sk, 0)),
				  NID_commonName, buf, sizeof(buf));
	CHECK_STR_EQ(buf, tenants_name(&f.spec, 137, want, sizeof(want)));
	sk_X509_pop_free(sk, X509_free);
	CHECK_EQ(stls__pcache_count(), 2 * TENANTS + 2);
	stls__seen_free(seen);
	stls__pcache_end(id);
	stls_conf_free(f.conf);
}

/* One thread, or a set too small for threads: nothing is done ahead. */
TEST(no_threads_for_one_thread_or_few_files)
{
	struct stls_profile_conf *c;
	struct farm f;
	uint64_t id;
	int i;

	farm_init(&f);
	f.conf->tls.load_threads = 1;
	id = stls__pcache_begin();
	CHECK_NULL(stls__parse_ahead(&f.conf->tls, f.conf->profiles, id));
	CHECK_EQ(stls__pcache_count(), 0);
	/* 31 profiles: 62 files, fewer than 32 for each of two threads. */
	for (c = f.conf->profiles, i = 0; i < 30; i++) {
		c = c->next;
	}
	f.conf->tls.load_threads = 2;
	{
		struct stls_profile_conf *rest = c->next;

		c->next = NULL;
		CHECK_NULL(stls__parse_ahead(&f.conf->tls, f.conf->profiles,
					     id));
		CHECK_EQ(stls__pcache_count(), 0);
		c->next = rest;
	}
	stls__seen_free(stls__parse_ahead(&f.conf->tls, f.conf->profiles,
					  id));
	CHECK_EQ(stls__pcache_count(), 2 * TENANTS + 2);
	stls__pcache_end(id);
	stls_conf_free(f.conf);
}

/* The same set with 1, 3 and 64 threads: each tenant its certificate. */
TEST(the_set_is_the_same_with_any_number_of_threads)
{
	static const int threads[] = { 3, 1, 64 };
	struct stls_profile_set *set;
	char msgs[256], cn[300], want[300];
	struct farm f;
	size_t t;
	int i;

	farm_init(&f);
	for (t = 0; t < STLS_ARRAY_SIZE(threads); t++) {
		CHECK_OK(build(&f, threads[t], msgs, sizeof(msgs), &set));
		CHECK_STR_EQ(msgs, "");
		CHECK_EQ(stls_profile_set_count(set), TENANTS + 2);
		for (i = 0; i < TENANTS; i += 7) {
			CHECK_STR_EQ(served_cn(&f, set, i, cn, sizeof(cn)),
				     tenants_name(&f.spec, i, want,
						  sizeof(want)));
		}
		stls_profile_set_unref(set);
	}
	CHECK_EQ(stls__pcache_count(), 2 * TENANTS + 2);
	stls_conf_free(f.conf);
	FX_LEAK_CHECK();
}

/*
 * Bad files among many (a certificate that does not parse, one that is
 * gone, a key that does not parse): the threaded build names each at its
 * file:line, in file order, with the same words as one thread, every
 * time; and it leaves nothing in the cache.
 */
TEST(bad_files_among_many_are_named_at_their_line)
{
	char one[4096], many[4096], want[1400], path[600];
	struct farm f;
	int run;

	farm_init(&f);
	spoil(&f, "t137.pem", "-----BEGIN CERTIFICATE-----\nMIIBbroken\n"
			      "-----END CERTIFICATE-----\n");
	spoil(&f, "t61.key", "not a key\n");
	snprintf(path, sizeof(path), "%s/t170.pem", f.dir);
	CHECK_EQ(unlink(path), 0);
	for (run = 0; run < 3; run++) {
		CHECK_EQ(build(&f, 4, many, sizeof(many), NULL), -EINVAL);
		CHECK_EQ(stls__pcache_count(), 0);
	}
	CHECK_EQ(build(&f, 1, one, sizeof(one), NULL), -EINVAL);
	CHECK_STR_EQ(many, one);
	snprintf(want, sizeof(want),
		 "%s/tls.cfg:%d: private_key: no private key in '%s/t61.key'",
		 f.dir, line_of(&f, "t61.key"), f.dir);
	CHECK_STR_HAS(many, want);
	snprintf(want, sizeof(want),
		 "%s/tls.cfg:%d: certificate: cannot load '%s/t137.pem': ",
		 f.dir, line_of(&f, "t137.pem"), f.dir);
	CHECK_STR_HAS(many, want);
	CHECK(strstr(many, "t61.key") < strstr(many, "t137.pem"));
	snprintf(want, sizeof(want),
		 "%s/tls.cfg:%d: certificate: cannot load '%s/t170.pem': No "
		 "such file or directory\n",
		 f.dir, line_of(&f, "t170.pem"), f.dir);
	CHECK_STR_HAS(many, want);
	CHECK(strstr(many, "t137.pem") < strstr(many, "t170.pem"));
	stls_conf_free(f.conf);
	FX_LEAK_CHECK();
}

/*
 * A reload that fails keeps what the live set's files parsed to, and
 * drops what it parsed itself; the next good reload parses what changed.
 */
TEST(a_failed_reload_leaves_nothing_behind)
{
	struct stls_profile_set *live;
	char msgs[2048], from[600], to[600];
	struct farm f;

	farm_init(&f);
	CHECK_OK(build(&f, 2, msgs, sizeof(msgs), &live));
	CHECK_EQ(stls__pcache_count(), 2 * TENANTS + 2);
	/* Tenant 5 gets another key: it parses, but no longer matches;
	 * tenant 9's certificate is broken. */
	CHECK_OK(tenants_cert(f.dir, "x", "x.tenants.test", NULL, NULL, NULL,
			      NULL));
	snprintf(from, sizeof(from), "%s/x.key", f.dir);
	snprintf(to, sizeof(to), "%s/t5.key", f.dir);
	CHECK_OK(rename(from, to));
	spoil(&f, "t9.pem", "garbage\n");
	CHECK_EQ(build(&f, 2, msgs, sizeof(msgs), NULL), -EINVAL);
	CHECK_STR_HAS(msgs, "private_key: does not match certificate");
	CHECK_STR_HAS(msgs, "certificate: no certificate in");
	CHECK_EQ(stls__pcache_count(), 2 * TENANTS + 2);
	stls_profile_set_unref(live);
	stls_conf_free(f.conf);
	FX_LEAK_CHECK();
}
