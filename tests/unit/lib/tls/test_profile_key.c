/*
 * Tests for lib/tls/profile_key.c: the fast reader takes unencrypted
 * PKCS#8 keys, after certificates too, and leaves every other form to the
 * general reader (NULL), which the profile build then uses: such keys
 * still load, with their usual messages.
 */
#include <errno.h>
#include <stdio.h>

#include <openssl/pem.h>

#include "lib/tls/profile_fixture.h"
#include "tls/profile_int.h"

static EVP_PKEY *key_of(const char *name)
{
	EVP_PKEY *k = NULL;
	FILE *fp = fopen(test_cert_path(name), "r");

	CHECK_NOT_NULL(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	CHECK_NOT_NULL(k);
	return k;
}

/* Writes <text> then <key> (traditional or PKCS#8) to a temporary file. */
static const char *write_key(const char *file, const char *text,
			     EVP_PKEY *key, bool traditional)
{
	static char path[512];
	BIO *bio;

	snprintf(path, sizeof(path), "%s/%s", test_tmp_dir(), file);
	bio = BIO_new_file(path, "w");
	CHECK_NOT_NULL(bio);
	CHECK(BIO_puts(bio, text) >= 0);
	if (key && traditional) {
		CHECK(PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL,
							   0, NULL, NULL));
	} else if (key) {
		CHECK(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
					       NULL));
	}
	BIO_free(bio);
	return path;
}

static char *slurp(const char *name)
{
	static char buf[16384];
	FILE *fp = fopen(test_cert_path(name), "r");
	size_t n;

	CHECK_NOT_NULL(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

TEST(reads_pkcs8_keys)
{
	struct stls__keyrd *kr;
	EVP_PKEY *want = key_of("server.key"), *got;
	EVP_PKEY *rsa = key_of("server-rsa.key");
	int i;

	CHECK_OK(stls__keyrd_new(0, &kr));
	/* Several keys through one reader, of both types. */
	for (i = 0; i < 3; i++) {
		got = stls__keyrd_read(kr, write_key("k.pem", "", want,
						     false));
		CHECK_NOT_NULL(got);
		CHECK_EQ(EVP_PKEY_eq(got, want), 1);
		EVP_PKEY_free(got);
		got = stls__keyrd_read(kr, write_key("r.pem", "", rsa, false));
		CHECK_NOT_NULL(got);
		CHECK_EQ(EVP_PKEY_eq(got, rsa), 1);
		EVP_PKEY_free(got);
	}
	/* The seed's form: the key after the certificate, in one file. */
	got = stls__keyrd_read(kr, write_key("both.pem", slurp("server.pem"),
					     want, false));
	CHECK_NOT_NULL(got);
	CHECK_EQ(EVP_PKEY_eq(got, want), 1);
	EVP_PKEY_free(got);
	stls__keyrd_free(kr);
	EVP_PKEY_free(want);
	EVP_PKEY_free(rsa);
	FX_LEAK_CHECK();
}

/* An EC key written without its public key (RFC 5915 allows it) is
 * decoded the general way, which derives the public key. */
TEST(ec_key_without_public_key)
{
	struct stls__keyrd *kr;
	EVP_PKEY *key = key_of("server.key"), *got;

	CHECK_OK(stls__keyrd_new(0, &kr));
	CHECK_EQ(EVP_PKEY_set_int_param(key, "include-public", 0), 1);
	got = stls__keyrd_read(kr, write_key("nopub.pem", "", key, false));
	CHECK_NOT_NULL(got);
	CHECK_EQ(EVP_PKEY_eq(got, key), 1);
	EVP_PKEY_free(got);
	EVP_PKEY_free(key);
	stls__keyrd_free(kr);
	FX_LEAK_CHECK();
}

/* Everything else is for the general reader. */
TEST(other_forms_are_left_alone)
{
	struct stls__keyrd *kr;
	EVP_PKEY *key = key_of("server.key"), *got;

	CHECK_OK(stls__keyrd_new(0, &kr));
	CHECK_NULL(stls__keyrd_read(kr, write_key("t.pem", "", key, true)));
	CHECK_NULL(stls__keyrd_read(kr, test_cert_path("server-enc.key")));
	CHECK_NULL(stls__keyrd_read(kr, test_cert_path("server.pem")));
	CHECK_NULL(stls__keyrd_read(kr, "/nonexistent/key.pem"));
	CHECK_NULL(stls__keyrd_read(kr, write_key("g.pem",
						  "-----BEGIN PRIVATE KEY-----"
						  "\nAAAA\n-----END PRIVATE "
						  "KEY-----\n",
						  NULL, false)));
	/* A traditional key before a PKCS#8 one: the first key decides. */
	CHECK_NULL(stls__keyrd_read(kr, write_key("tp.pem", "", key, true)));
	CHECK_NULL(stls__keyrd_read(NULL, test_cert_path("server.key")));
	/* The reader still works after all that. */
	got = stls__keyrd_read(kr, write_key("k.pem", "", key, false));
	CHECK_NOT_NULL(got);
	CHECK_EQ(EVP_PKEY_eq(got, key), 1);
	EVP_PKEY_free(got);
	EVP_PKEY_free(key);
	stls__keyrd_free(kr);
	stls__keyrd_free(NULL);
	FX_LEAK_CHECK();
}

/* Keys the fast reader leaves alone still load in a profile. */
TEST(profiles_load_every_key_form)
{
	struct stls_profile_conf *c;
	EVP_PKEY *key = key_of("server.key");
	struct fx f;

	fx_init(&f);
	c = fx_server(&f, "default", 1, NULL);
	c->private_key = fx_str(&f, write_key("trad.pem", "", key, true));
	c = fx_server(&f, "any", 2, NULL);
	c->server_name = "enc.test";
	c->private_key = fx_cert(&f, "server-enc.key");
	c->private_key_password = "secret";
	c = fx_server(&f, "any", 3, NULL);
	c->server_name = "p8.test";
	c->private_key = fx_str(&f, write_key("p8.pem", "", key, false));
	fx_add(&f, STLS_ROLE_CLIENT, "default", 10);
	CHECK_OK(fx_build(&f));
	fx_fini(&f);
	EVP_PKEY_free(key);
}
