/*
 * PEM and DER file I/O for keys, certificates and CRLs, and the atomic file
 * writer they share.
 *
 * Writing: the content is produced in memory first (a secure-memory BIO for
 * keys, wiped on free), then written to "DIR/.NAME.tmp-RANDOM" created with
 * O_EXCL and its final mode, so a key file is never readable by others even
 * for a moment. After fsync() the temporary file is renamed over the target
 * (or linked, when overwriting is refused, so that an existing file is never
 * replaced by a race). Any failure unlinks the temporary file.
 *
 * Reading: a file is read whole (bounded) so that system errors name the
 * file, then parsed from memory as PEM, or as DER when it has no PEM label.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "x509/x509_int.h"

/* Creates "DIR/.BASE.tmp-XXXXXXXX" with mode; returns the fd or -errno. */
static int open_temp(const char *path, mode_t mode, char *tmp, size_t len)
{
	char copy[4096], copy2[4096];
	unsigned char rnd[4];
	int i, fd, n;

	if (strlen(path) >= sizeof(copy)) {
		return -ENAMETOOLONG;
	}
	for (i = 0; i < 8; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			return -EIO;
		}
		strcpy(copy, path);
		strcpy(copy2, path);
		n = snprintf(tmp, len, "%s/.%s.tmp-%02x%02x%02x%02x",
			     dirname(copy), basename(copy2), rnd[0], rnd[1],
			     rnd[2], rnd[3]);
		if (n < 0 || (size_t)n >= len) {
			return -ENAMETOOLONG;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST) {
			return fd >= 0 ? fd : -errno;
		}
	}
	return -EEXIST;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/* Makes the new name durable: fsync of the directory (best effort). */
static void sync_dir(const char *path)
{
	char copy[4096];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int stls_x509_file_write(const char *path, const void *data, size_t len,
			 mode_t mode, bool overwrite,
			 struct stls_x509_err *err)
{
	char tmp[4200];
	int fd, rc;

	if (!overwrite && access(path, F_OK) == 0) {
		stls_x509_err_set(err, "'%s' already exists", path);
		return -EEXIST;
	}
	fd = open_temp(path, mode, tmp, sizeof(tmp));
	if (fd < 0) {
		stls_x509_err_set(err, "cannot write '%s': %s", path,
				  strerror(-fd));
		return fd;
	}
	rc = write_all(fd, data, len);
	if (close(fd) < 0 && !rc) {
		rc = -errno;
	}
	if (!rc && overwrite && rename(tmp, path) < 0) {
		rc = -errno;
	}
	/* link() refuses to replace an existing file, unlike rename(). */
	if (!rc && !overwrite && link(tmp, path) < 0) {
		rc = -errno;
	}
	if (rc || !overwrite) {
		unlink(tmp);
	}
	if (rc == -EEXIST) {
		stls_x509_err_set(err, "'%s' already exists", path);
	} else if (rc) {
		stls_x509_err_set(err, "cannot write '%s': %s", path,
				  strerror(-rc));
	} else {
		sync_dir(path);
	}
	return rc;
}

/* Writes the content of a memory BIO to path. */
static int write_bio(const char *path, BIO *bio, mode_t mode, bool overwrite,
		     struct stls_x509_err *err)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);

	if (len < 0 || !data) {
		stls_x509_err_set(err, "cannot write '%s': out of memory",
				  path);
		return -ENOMEM;
	}
	return stls_x509_file_write(path, data, (size_t)len, mode, overwrite,
				    err);
}

int stls_x509_key_write(const char *path, EVP_PKEY *key, const char *pass,
			bool overwrite, struct stls_x509_err *err)
{
	const EVP_CIPHER *cipher = pass ? EVP_aes_256_cbc() : NULL;
	BIO *bio = BIO_new(BIO_s_secmem());
	int rc = -ENOMEM;

	if (!bio) {
		stls_x509_err_set(err, "cannot write '%s': out of memory",
				  path);
		goto out;
	}
	if (!PEM_write_bio_PKCS8PrivateKey(bio, key, cipher, NULL, 0, NULL,
					   (void *)pass)) {
		stls__x509_err_ssl(err, "cannot encode private key");
		rc = -EPROTO;
		goto out;
	}
	rc = write_bio(path, bio, 0600, overwrite, err);
out:
	BIO_free(bio);
	return rc;
}

static int put_comments(BIO *bio, X509 *cert)
{
	char fp[100];
	char *subj = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
	int ok;

	if (!subj) {
		return -ENOMEM;
	}
	ok = BIO_printf(bio, "# subject: %s\n# sha256: %s\n", subj,
			stls_x509_fingerprint(cert, fp, sizeof(fp))) > 0;
	OPENSSL_free(subj);
	return ok ? 0 : -ENOMEM;
}

int stls_x509_certs_write(const char *path, X509 *const *v, size_t n,
			  bool comments, bool overwrite,
			  struct stls_x509_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -ENOMEM;
	size_t i;

	if (!bio) {
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (comments && put_comments(bio, v[i]) < 0) {
			goto fail;
		}
		if (!PEM_write_bio_X509(bio, v[i])) {
			goto fail;
		}
	}
	rc = write_bio(path, bio, 0644, overwrite, err);
	BIO_free(bio);
	return rc;
fail:
	stls__x509_err_ssl(err, "cannot encode certificate");
	BIO_free(bio);
	return rc;
}

int stls_x509_crl_write(const char *path, X509_CRL *crl,
			struct stls_x509_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -ENOMEM;

	if (!bio || !PEM_write_bio_X509_CRL(bio, crl)) {
		stls__x509_err_ssl(err, "cannot encode CRL");
		goto out;
	}
	rc = write_bio(path, bio, 0644, true, err);
out:
	BIO_free(bio);
	return rc;
}

int stls__x509_file_slurp(const char *path, const char *what, BIO **out,
			  struct stls_x509_err *err)
{
	unsigned char buf[4096];
	BIO *bio = NULL;
	FILE *f;
	size_t n, total = 0;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		stls_x509_err_set(err, "cannot read %s '%s': %s", what, path,
				  strerror(errno));
		return rc;
	}
	bio = BIO_new(BIO_s_secmem());
	while (bio && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		total += n;
		if (total > STLS__X509_FILE_MAX) {
			rc = -EFBIG;
			break;
		}
		if (BIO_write(bio, buf, (int)n) != (int)n) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!bio) {
		rc = -ENOMEM;
	} else if (!rc && ferror(f)) {
		rc = -EIO;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	if (rc) {
		stls_x509_err_set(err, "cannot read %s '%s': %s", what, path,
				  rc == -EFBIG ? "file too large"
					       : strerror(-rc));
		BIO_free(bio);
		return rc;
	}
	*out = bio;
	return 0;
}

/* True when the BIO's content contains the text (a PEM label). */
static bool bio_has(BIO *bio, const char *text)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	size_t tl = strlen(text);

	if (len <= 0 || !data) {
		return false;
	}
	return memmem(data, (size_t)len, text, tl) != NULL;
}

struct pass_ctx {
	const char *pass;
	bool asked;
};

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t len;

	(void)rwflag;
	pc->asked = true;
	if (!pc->pass) {
		return -1;
	}
	len = strlen(pc->pass);
	if (len > (size_t)size) {
		return -1;
	}
	memcpy(buf, pc->pass, len);
	return (int)len;
}

int stls_x509_key_read(const char *path, const char *what, const char *pass,
		       EVP_PKEY **out, struct stls_x509_err *err)
{
	struct pass_ctx pc = { pass, false };
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	int rc;

	rc = stls__x509_file_slurp(path, what, &bio, err);
	if (rc) {
		return rc;
	}
	ERR_clear_error();
	if (bio_has(bio, "-----BEGIN")) {
		key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
	} else {
		key = d2i_PrivateKey_ex_bio(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	if (key) {
		*out = key;
		return 0;
	}
	if (pc.asked && !pass) {
		ERR_clear_error();
		stls_x509_err_set(err, "%s '%s' is encrypted: give its "
				  "password (--pass-file)", what, path);
	} else if (pc.asked) {
		ERR_clear_error();
		stls_x509_err_set(err, "cannot decrypt %s '%s': wrong "
				  "password?", what, path);
	} else {
		char msg[4200];

		snprintf(msg, sizeof(msg), "no private key in %s '%s'", what,
			 path);
		stls__x509_err_ssl(err, msg);
	}
	return -EKEYREJECTED;
}

/* Reads PEM certificates until the end of the data. */
static int pem_certs(BIO *bio, STACK_OF(X509) *sk)
{
	X509 *x;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			return -ENOMEM;
		}
	}
	/* The loop ends on "no start line" at the end of the data. */
	if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
	}
	return ERR_peek_error() ? -EPROTO : 0;
}

int stls_x509_certs_read(const char *path, const char *what,
			 STACK_OF(X509) **out, struct stls_x509_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	char msg[4200];
	BIO *bio = NULL;
	X509 *x;
	int rc;

	if (!sk) {
		stls_x509_err_set(err, "out of memory");
		return -ENOMEM;
	}
	rc = stls__x509_file_slurp(path, what, &bio, err);
	if (rc) {
		goto out;
	}
	ERR_clear_error();
	if (bio_has(bio, "-----BEGIN")) {
		rc = pem_certs(bio, sk);
	} else if ((x = d2i_X509_bio(bio, NULL)) != NULL) {
		rc = sk_X509_push(sk, x) ? 0 : -ENOMEM;
		if (rc) {
			X509_free(x);
		}
	}
	snprintf(msg, sizeof(msg), "cannot parse %s '%s'", what, path);
	if (rc) {
		stls__x509_err_ssl(err, msg);
	} else if (sk_X509_num(sk) == 0) {
		rc = -ENODATA;
		stls_x509_err_set(err, "no certificate in %s '%s'", what, path);
	}
out:
	BIO_free(bio);
	ERR_clear_error();
	if (rc) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return 0;
}

int stls_x509_cert_read(const char *path, const char *what, X509 **out,
			struct stls_x509_err *err)
{
	STACK_OF(X509) *sk = NULL;
	int rc = stls_x509_certs_read(path, what, &sk, err);

	if (rc) {
		return rc;
	}
	*out = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return 0;
}

int stls_x509_crl_read(const char *path, X509_CRL **out,
		       struct stls_x509_err *err)
{
	X509_CRL *crl;
	BIO *bio = NULL;
	char msg[4200];
	int rc;

	rc = stls__x509_file_slurp(path, "CRL", &bio, err);
	if (rc) {
		return rc;
	}
	ERR_clear_error();
	if (bio_has(bio, "-----BEGIN")) {
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	} else {
		crl = d2i_X509_CRL_bio(bio, NULL);
	}
	BIO_free(bio);
	if (!crl) {
		snprintf(msg, sizeof(msg), "cannot parse CRL '%s'", path);
		stls__x509_err_ssl(err, msg);
		return -EPROTO;
	}
	*out = crl;
	return 0;
}

bool stls_x509_file_is_crl(const char *path)
{
	BIO *bio = NULL;
	bool yes;

	if (stls__x509_file_slurp(path, "file", &bio, NULL)) {
		return false;
	}
	yes = bio_has(bio, "-----BEGIN X509 CRL-----");
	BIO_free(bio);
	return yes;
}
