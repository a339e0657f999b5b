/*
 * Tests for lib/tls/profile_cache.c: certificate and key files whose
 * bytes did not change are not parsed again by the next build (the same
 * OpenSSL objects serve), a changed file is, with its usual checks, and
 * files that two builds in a row did not use are forgotten, and a failed
 * build forgets what it added.
 */
#include <errno.h>
#include <stdio.h>

#include "lib/tls/profile_fixture.h"
#include "tls/profile_int.h"

/* Copies test PKI file <name> to <dst> in the temporary directory. */
static const char *put(const char *name, const char *dst)
{
	static char paths[4][512];
	static int next;
	char *path = paths[next++ % 4], buf[16384];
	FILE *in = fopen(test_cert_path(name), "r"), *out;
	size_t n;

	snprintf(path, sizeof(paths[0]), "%s/%s", test_tmp_dir(), dst);
	out = fopen(path, "w");
	CHECK(in && out);
	n = fread(buf, 1, sizeof(buf), in);
	CHECK(n > 0 && fwrite(buf, 1, n, out) == n);
	fclose(in);
	CHECK_EQ(fclose(out), 0);
	return path;
}

/* Builds a set whose server default uses <cert> and <key> (with key
 * password <pw>, NULL: none). */
static int build_pw(struct fx *f, const char *cert, const char *key,
		    const char *pw)
{
	struct stls_profile_conf *c;

	fx_init(f);
	c = fx_add(f, STLS_ROLE_SERVER, "default", 1);
	c->certificate = fx_str(f, cert);
	c->private_key = fx_str(f, key);
	c->private_key_password = pw ? fx_str(f, pw) : NULL;
	fx_loc(c, STLS_PF_PRIVATE_KEY, 3);
	fx_add(f, STLS_ROLE_CLIENT, "default", 5);
	return fx_build(f);
}

static int build(struct fx *f, const char *cert, const char *key)
{
	return build_pw(f, cert, key, NULL);
}

static SSL_CTX *srv_ctx(const struct fx *f)
{
	return stls_profile_ssl_ctx(
		stls_profile_set_default(f->set, STLS_ROLE_SERVER));
}

static const char *cn(const struct fx *f, char *buf, size_t len)
{
	X509 *x = SSL_CTX_get0_certificate(srv_ctx(f));

	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
				  buf, (int)len);
	return buf;
}

/* Both builds serve the very same certificate and key objects. */
static void same_objects_fini(struct fx *a, struct fx *b)
{
	CHECK(SSL_CTX_get0_certificate(srv_ctx(a)) ==
	      SSL_CTX_get0_certificate(srv_ctx(b)));
	CHECK(SSL_CTX_get0_privatekey(srv_ctx(a)) ==
	      SSL_CTX_get0_privatekey(srv_ctx(b)));
	fx_fini(a);
	fx_fini(b);
}

TEST(unchanged_files_are_not_parsed_again)
{
	const char *cert = put("server.pem", "c.pem");
	const char *key = put("server.key", "k.pem");
	struct fx a, b;

	CHECK_OK(build(&a, cert, key));
	CHECK_OK(build(&b, cert, key));
	same_objects_fini(&a, &b);
}

/* A changed file is read as it is now, and checked again. */
TEST(changed_files_are_parsed_and_checked_again)
{
	const char *cert = put("server.pem", "c.pem");
	const char *key = put("server.key", "k.pem");
	char buf[128];
	struct fx f;

	CHECK_OK(build(&f, cert, key));
	CHECK_STR_EQ(cn(&f, buf, sizeof(buf)), "sip.example.test");
	fx_fini(&f);
	put("server2.pem", "c.pem");
	put("server2.key", "k.pem");
	CHECK_OK(build(&f, cert, key));
	CHECK_STR_EQ(cn(&f, buf, sizeof(buf)), "other.example.test");
	fx_fini(&f);
	/* The old certificate is cached, the key is the new one: the pair
	 * is still checked. */
	put("server.pem", "c.pem");
	CHECK_EQ(build(&f, cert, key), -EINVAL);
	CHECK(fx_diag_has(&f, "tls.cfg:3: private_key: does not match "
			  "certificate"));
	fx_fini(&f);
}

/* What two builds in a row did not use is forgotten. */
TEST(unused_files_are_dropped)
{
	const char *c1 = put("server.pem", "c1.pem");
	const char *k1 = put("server.key", "k1.pem");
	const char *c2 = put("server2.pem", "c2.pem");
	const char *k2 = put("server2.key", "k2.pem");
	size_t n1, n2;
	struct fx f;

	CHECK_OK(build(&f, c1, k1));
	fx_fini(&f);
	n1 = stls__pcache_count();
	CHECK_OK(build(&f, c2, k2));
	fx_fini(&f);
	n2 = stls__pcache_count();
	CHECK_EQ(n2, n1 + 2);
	CHECK_OK(build(&f, c2, k2));
	fx_fini(&f);
	CHECK_EQ(stls__pcache_count(), 2);
	FX_LEAK_CHECK();
}

/* Broken files are never cached and keep their messages. */
TEST(broken_files_keep_their_messages)
{
	const char *cert = put("server.key", "c.pem"); /* no certificate */
	const char *key = put("server.key", "k.pem");
	struct stls_profile_conf *c;
	int i;
	struct fx f;

	for (i = 0; i < 2; i++) {
		fx_init(&f);
		c = fx_add(&f, STLS_ROLE_SERVER, "default", 1);
		c->certificate = fx_str(&f, cert);
		c->private_key = fx_str(&f, key);
		fx_loc(c, STLS_PF_CERTIFICATE, 2);
		fx_add(&f, STLS_ROLE_CLIENT, "default", 5);
		CHECK_EQ(fx_build(&f), -EINVAL);
		CHECK(fx_diag_has(&f, "tls.cfg:2: certificate: no certificate "
				  "in"));
		fx_fini(&f);
	}
}

/*
 * A file with the certificate and then its key (the seed's form when
 * private_key is unset) is one entry holding both: the next build takes
 * the same certificate and key objects.
 */
TEST(certificate_and_key_in_one_file_share_an_entry)
{
	char path[512], buf[16384];
	struct stls_profile_conf *c;
	struct fx a, b;
	size_t n = 0;
	FILE *in, *out;
	int i;

	snprintf(path, sizeof(path), "%s/both.pem", test_tmp_dir());
	out = fopen(path, "w");
	CHECK_NOT_NULL(out);
	for (i = 0; i < 2; i++) {
		in = fopen(test_cert_path(i ? "server.key" : "server.pem"),
			   "r");
		CHECK_NOT_NULL(in);
		n = fread(buf, 1, sizeof(buf), in);
		CHECK(n > 0 && fwrite(buf, 1, n, out) == n);
		fclose(in);
	}
	CHECK_EQ(fclose(out), 0);
	for (i = 0; i < 2; i++) {
		struct fx *f = i ? &b : &a;

		fx_init(f);
		c = fx_add(f, STLS_ROLE_SERVER, "default", 1);
		c->certificate = fx_str(f, path);
		fx_add(f, STLS_ROLE_CLIENT, "default", 5);
		CHECK_OK(fx_build(f));
		CHECK_EQ(stls__pcache_count(), 1);
	}
	same_objects_fini(&a, &b);
}

/* A build that fails drops what it parsed; what others use stays. */
TEST(a_failed_build_forgets_what_it_added)
{
	const char *cert = put("server.pem", "c.pem");
	const char *key = put("server.key", "k.pem");
	const char *other = put("server2.key", "k2.pem");
	struct fx f;

	CHECK_OK(build(&f, cert, key));
	fx_fini(&f);
	CHECK_EQ(stls__pcache_count(), 2);
	/* The other key parses (and is cached while the build runs), but
	 * does not match: the build fails and forgets it. */
	CHECK_EQ(build(&f, cert, other), -EINVAL);
	CHECK(fx_diag_has(&f, "private_key: does not match certificate"));
	fx_fini(&f);
	CHECK_EQ(stls__pcache_count(), 2);
	CHECK_OK(build(&f, cert, key));
	fx_fini(&f);
	CHECK_EQ(stls__pcache_count(), 2);
}

/* An encrypted key is decrypted once while its bytes and its password
 * stay the same; another password never finds it: a wrong one fails as
 * without the cache, a right one decrypts again. */
TEST(encrypted_keys_are_decrypted_once_per_password)
{
	const char *cert = put("server.pem", "c.pem");
	const char *key = put("server-enc.key", "k.pem");
	struct fx a, b, c;

	CHECK_OK(build_pw(&a, cert, key, "secret"));
	CHECK_OK(build_pw(&b, cert, key, "secret"));
	CHECK(SSL_CTX_get0_privatekey(srv_ctx(&a)) ==
	      SSL_CTX_get0_privatekey(srv_ctx(&b)));
	fx_fini(&b);
	CHECK_EQ(build_pw(&b, cert, key, "wrong"), -EINVAL);
	CHECK(fx_diag_has(&b, "tls.cfg:3: private_key: cannot decrypt"));
	fx_fini(&b);
	CHECK_EQ(build_pw(&b, cert, key, NULL), -EINVAL);
	CHECK(fx_diag_has(&b, "is encrypted and no private_key_password is "
			  "set"));
	fx_fini(&b);
	/* The file replaced (by a plain key): new bytes, a new key. */
	put("server.key", "k.pem");
	CHECK_OK(build_pw(&c, cert, key, "other"));
	CHECK(SSL_CTX_get0_privatekey(srv_ctx(&a)) !=
	      SSL_CTX_get0_privatekey(srv_ctx(&c)));
	fx_fini(&a);
	fx_fini(&c);
	FX_LEAK_CHECK();
}
