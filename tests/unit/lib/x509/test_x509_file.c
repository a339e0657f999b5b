/*
 * Tests of lib/x509/x509_file.c: atomic writes with modes, and reading
 * keys, certificates and CRLs with errors that name the file.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "test.h"

#include "stls/x509.h"

static const char *tpath(const char *name)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", test_tmp_dir(), name);
	return b;
}

static int mode_of(const char *name)
{
	struct stat sb;

	return stat(tpath(name), &sb) < 0 ? -1 : (int)(sb.st_mode & 0777);
}

/* Number of entries in the temporary directory (no leftovers). */
static int entries(void)
{
	DIR *d = opendir(test_tmp_dir());
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

TEST(write_is_atomic_and_refuses_existing)
{
	struct stls_x509_err err;

	CHECK_OK(stls_x509_file_write(tpath("a"), "one", 3, 0644, false,
				      &err));
	CHECK_EQ(stls_x509_file_write(tpath("a"), "two", 3, 0644, false, &err),
		 -EEXIST);
	CHECK_STR_HAS(err.msg, "already exists");
	CHECK_OK(stls_x509_file_write(tpath("a"), "two", 3, 0644, true, &err));
	CHECK_EQ(entries(), 1);
	CHECK_EQ(stls_x509_file_write(tpath("nodir/a"), "x", 1, 0644, true,
				      &err), -ENOENT);
	CHECK_STR_HAS(err.msg, "cannot write '");
	CHECK_STR_HAS(err.msg, "nodir/a': No such file or directory");
}

TEST(key_is_written_0600_and_read_back)
{
	struct stls_x509_keyspec spec = { 0 };
	struct stls_x509_err err;
	EVP_PKEY *k = NULL, *back = NULL;

	umask(022);
	CHECK_OK(stls_x509_key_new(&spec, &k, NULL));
	CHECK_OK(stls_x509_key_write(tpath("k.pem"), k, NULL, false, &err));
	CHECK_EQ(mode_of("k.pem"), 0600);
	CHECK_OK(stls_x509_key_read(tpath("k.pem"), "key", NULL, &back, &err));
	CHECK_EQ(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	back = NULL;
	CHECK_OK(stls_x509_key_write(tpath("e.pem"), k, "secret", false,
				     &err));
	CHECK_EQ(stls_x509_key_read(tpath("e.pem"), "key", NULL, &back, &err),
		 -EKEYREJECTED);
	CHECK_STR_HAS(err.msg, "is encrypted");
	CHECK_EQ(stls_x509_key_read(tpath("e.pem"), "key", "wrong", &back,
				    &err), -EKEYREJECTED);
	CHECK_STR_HAS(err.msg, "wrong password");
	CHECK_OK(stls_x509_key_read(tpath("e.pem"), "key", "secret", &back,
				    &err));
	EVP_PKEY_free(back);
	EVP_PKEY_free(k);
}

TEST(read_errors_name_the_file)
{
	struct stls_x509_err err;
	STACK_OF(X509) *sk = NULL;
	EVP_PKEY *k = NULL;
	X509_CRL *crl = NULL;

	CHECK_EQ(stls_x509_key_read("/nonexistent/ca.key", "CA key", NULL, &k,
				    &err), -ENOENT);
	CHECK_STR_EQ(err.msg, "cannot read CA key '/nonexistent/ca.key': No "
			      "such file or directory");
	CHECK_EQ(stls_x509_certs_read(test_cert_path("server.key"), "cert",
				      &sk, &err), -ENODATA);
	CHECK_STR_HAS(err.msg, "no certificate in cert '");
	CHECK_EQ(stls_x509_crl_read(test_cert_path("server.pem"), &crl, &err),
		 -EPROTO);
	CHECK_STR_HAS(err.msg, "cannot parse CRL '");
	/* An encrypted key from the shared PKI, password "secret". */
	CHECK_OK(stls_x509_key_read(test_cert_path("server-enc.key"), "key",
				    "secret", &k, &err));
	EVP_PKEY_free(k);
}

TEST(chain_files_and_crls_are_read)
{
	struct stls_x509_err err;
	STACK_OF(X509) *sk = NULL;
	X509_CRL *crl = NULL;
	X509 *v[2];

	CHECK_OK(stls_x509_certs_read(test_cert_path("calist.pem"), "CA list",
				      &sk, &err));
	CHECK_EQ(sk_X509_num(sk), 2);
	v[0] = sk_X509_value(sk, 0);
	v[1] = sk_X509_value(sk, 1);
	CHECK_OK(stls_x509_certs_write(tpath("c.pem"), v, 2, true, false,
				       &err));
	CHECK_EQ(mode_of("c.pem"), 0644);
	sk_X509_pop_free(sk, X509_free);
	sk = NULL;
	CHECK_OK(stls_x509_certs_read(tpath("c.pem"), "CA list", &sk, &err));
	CHECK_EQ(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	CHECK(stls_x509_file_is_crl(test_cert_path("crl.pem")));
	CHECK(!stls_x509_file_is_crl(test_cert_path("ca.pem")));
	CHECK_OK(stls_x509_crl_read(test_cert_path("crl.pem"), &crl, &err));
	CHECK_OK(stls_x509_crl_write(tpath("crl.pem"), crl, &err));
	X509_CRL_free(crl);
}
