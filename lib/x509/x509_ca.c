/*
 * The CA directory: create, open (under a lock), issue, record, revoke and
 * build CRLs. The file layout and state format are described in
 * include/stls/x509_ca.h.
 *
 * Consistency: every file is replaced atomically (x509_file.c). Creating a
 * CA writes three files, so they are first written as "*.new" and renamed
 * only once all three exist. Changes to the state are made in memory,
 * saved, and undone in memory when saving fails, so the file and the
 * opened CA never disagree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "x509/x509_int.h"
#include "stls/x509_ca.h"

#define PATH_LEN 4096

static const char *const file_names[] = { "ca.key", "ca.pem",
					  "ca-state.txt" };

struct stls_x509_ca {
	char dir[PATH_LEN];
	int lock_fd;
	X509 *cert;
	EVP_PKEY *key;
	struct stls_x509_castate st;
};

/* DIR/NAMESUFFIX in buf; a path too long for buf becomes "" (which then
 * fails to open with ENOENT rather than naming a truncated file). */
static const char *path_in(char *buf, const char *dir, const char *name,
			   const char *suffix)
{
	int n = snprintf(buf, PATH_LEN, "%s/%s%s", dir, name, suffix);

	if (n < 0 || n >= PATH_LEN)
		buf[0] = '\0';
	return buf;
}

static int lock_dir(const char *dir, struct stls_x509_err *err)
{
	char path[PATH_LEN];
	int fd, rc;

	fd = open(path_in(path, dir, ".lock", ""),
		  O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		stls_x509_err_set(err, "cannot open CA directory '%s': %s",
				  dir, strerror(errno));
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		stls_x509_err_set(err, "CA '%s' is busy: another siptlsctl "
				  "cert command is using it", dir);
		close(fd);
		return rc;
	}
	return fd;
}

static int save_state(struct stls_x509_ca *ca, const char *suffix,
		      struct stls_x509_err *err)
{
	char path[PATH_LEN];
	char *text = stls_x509_castate_format(&ca->st);
	int rc;

	if (!text) {
		stls_x509_err_set(err, "out of memory");
		return -ENOMEM;
	}
	rc = stls_x509_file_write(path_in(path, ca->dir, "ca-state.txt",
					  suffix),
				  text, strlen(text), 0600, true, err);
	free(text);
	return rc;
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm)) {
		return 0;
	}
	return timegm(&tm);
}

static const char *const profile_words[] = {
	[STLS_X509_PROFILE_CA] = "ca",
	[STLS_X509_PROFILE_SERVER] = "server",
	[STLS_X509_PROFILE_CLIENT] = "client",
};

/* Adds an "issued" record for cert to the in-memory state. */
static int add_issued(struct stls_x509_ca *ca, X509 *cert,
		      enum stls_x509_profile profile, const char *name)
{
	struct stls_x509_carec rec;

	memset(&rec, 0, sizeof(rec));
	stls_x509_serial_hex(cert, rec.serial, sizeof(rec.serial));
	rec.when = asn1_to_time(X509_get0_notAfter(cert));
	snprintf(rec.word, sizeof(rec.word), "%s", profile_words[profile]);
	rec.name = (char *)name;
	return stls_x509_castate_add(&ca->st, &rec);
}

/* Builds the new CA's key, certificate and state in memory. */
static int build_ca(struct stls_x509_ca *ca,
		    const struct stls_x509_ca_params *p,
		    struct stls_x509_err *err)
{
	struct stls_x509_req req = {
		.profile = STLS_X509_PROFILE_CA,
		.subject = p->subject,
		.days = p->days,
	};
	int rc;

	rc = stls_x509_key_new(&p->key, &ca->key, err);
	if (rc) {
		return rc;
	}
	req.key = ca->key;
	rc = stls_x509_cert_build(&req, &ca->cert, err);
	if (rc) {
		return rc;
	}
	rc = add_issued(ca, ca->cert, STLS_X509_PROFILE_CA, "CA");
	if (rc) {
		stls_x509_err_set(err, "out of memory");
	}
	return rc;
}

/* Writes the three files as *.new, then renames them into place. */
static int write_ca(struct stls_x509_ca *ca, const char *pass,
		    struct stls_x509_err *err)
{
	char from[PATH_LEN], to[PATH_LEN];
	size_t i;
	int rc;

	rc = stls_x509_key_write(path_in(from, ca->dir, "ca.key", ".new"),
				 ca->key, pass, true, err);
	if (!rc) {
		rc = stls_x509_certs_write(path_in(from, ca->dir, "ca.pem",
						   ".new"),
					   &ca->cert, 1, false, true, err);
	}
	if (!rc) {
		rc = save_state(ca, ".new", err);
	}
	for (i = 0; i < STLS_ARRAY_SIZE(file_names); i++) {
		path_in(from, ca->dir, file_names[i], ".new");
		path_in(to, ca->dir, file_names[i], "");
		if (!rc && rename(from, to) < 0) {
			rc = -errno;
			stls_x509_err_set(err, "cannot write '%s': %s", to,
					  strerror(errno));
		}
		if (rc) {
			unlink(from);
		}
	}
	return rc;
}

static int refuse_existing(const char *dir, struct stls_x509_err *err)
{
	char path[PATH_LEN];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (access(path_in(path, dir, file_names[i], ""), F_OK) == 0) {
			stls_x509_err_set(err, "a CA already exists in '%s' "
					  "('%s'): use --force to replace it",
					  dir, path);
			return -EEXIST;
		}
	}
	return 0;
}

int stls_x509_ca_create(const char *dir, const struct stls_x509_ca_params *p,
			struct stls_x509_err *err)
{
	struct stls_x509_ca *ca = calloc(1, sizeof(*ca));
	int rc;

	if (!ca) {
		stls_x509_err_set(err, "out of memory");
		return -ENOMEM;
	}
	stls_x509_castate_init(&ca->st);
	ca->lock_fd = -1;
	snprintf(ca->dir, sizeof(ca->dir), "%s", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		stls_x509_err_set(err, "cannot create CA directory '%s': %s",
				  dir, strerror(errno));
		goto out;
	}
	rc = lock_dir(dir, err);
	if (rc < 0) {
		goto out;
	}
	ca->lock_fd = rc;
	rc = p->force ? 0 : refuse_existing(dir, err);
	if (!rc) {
		rc = build_ca(ca, p, err);
	}
	if (!rc) {
		rc = write_ca(ca, p->pass, err);
	}
out:
	stls_x509_ca_free(ca);
	return rc;
}

static int read_state(struct stls_x509_ca *ca, struct stls_x509_err *err)
{
	char path[PATH_LEN];
	char *data = NULL;
	BIO *bio = NULL;
	long len;
	int rc;

	path_in(path, ca->dir, "ca-state.txt", "");
	rc = stls__x509_file_slurp(path, "CA state", &bio, err);
	if (rc) {
		return rc;
	}
	len = BIO_get_mem_data(bio, &data);
	rc = stls_x509_castate_parse(&ca->st, data ? data : "",
				     len > 0 ? (size_t)len : 0, path, err);
	BIO_free(bio);
	return rc;
}

static int load_ca(struct stls_x509_ca *ca, const char *pass,
		   struct stls_x509_err *err)
{
	char path[PATH_LEN];
	int rc;

	rc = stls_x509_cert_read(path_in(path, ca->dir, "ca.pem", ""),
				 "CA certificate", &ca->cert, err);
	if (!rc) {
		rc = stls_x509_key_read(path_in(path, ca->dir, "ca.key", ""),
					"CA key", pass, &ca->key, err);
	}
	if (!rc) {
		rc = read_state(ca, err);
	}
	if (rc) {
		return rc;
	}
	if (!stls_x509_is_ca(ca->cert)) {
		stls_x509_err_set(err, "'%s/ca.pem' is not a CA certificate",
				  ca->dir);
		return -EINVAL;
	}
	if (!stls_x509_key_matches(ca->cert, ca->key)) {
		stls_x509_err_set(err, "CA key '%s/ca.key' does not match CA "
				  "certificate '%s/ca.pem'", ca->dir, ca->dir);
		return -EKEYREJECTED;
	}
	return 0;
}

/* A missing CA gets a hint instead of a lock file in a stray directory. */
static int check_exists(const char *dir, struct stls_x509_err *err)
{
	char path[PATH_LEN];
	int rc;

	if (access(path_in(path, dir, "ca.pem", ""), F_OK) == 0) {
		return 0;
	}
	rc = -errno;
	stls_x509_err_set(err, "cannot read CA certificate '%s': %s (create "
			  "a CA with: siptlsctl cert ca init %s)", path,
			  strerror(errno), dir);
	return rc;
}

int stls_x509_ca_open(const char *dir, const char *pass,
		      struct stls_x509_ca **out, struct stls_x509_err *err)
{
	struct stls_x509_ca *ca = calloc(1, sizeof(*ca));
	int rc;

	if (!ca) {
		stls_x509_err_set(err, "out of memory");
		return -ENOMEM;
	}
	stls_x509_castate_init(&ca->st);
	snprintf(ca->dir, sizeof(ca->dir), "%s", dir);
	ca->lock_fd = -1;
	rc = check_exists(dir, err);
	if (rc) {
		goto out;
	}
	rc = lock_dir(dir, err);
	if (rc < 0) {
		goto out;
	}
	ca->lock_fd = rc;
	rc = load_ca(ca, pass, err);
	if (!rc) {
		*out = ca;
		return 0;
	}
out:
	stls_x509_ca_free(ca);
	return rc;
}

void stls_x509_ca_free(struct stls_x509_ca *ca)
{
	if (!ca) {
		return;
	}
	if (ca->lock_fd >= 0) {
		close(ca->lock_fd);
	}
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	stls_x509_castate_fini(&ca->st);
	free(ca);
}

X509 *stls_x509_ca_get0_cert(const struct stls_x509_ca *ca)
{
	return ca->cert;
}

const struct stls_x509_castate *
stls_x509_ca_get0_state(const struct stls_x509_ca *ca)
{
	return &ca->st;
}

int stls_x509_ca_issue(struct stls_x509_ca *ca,
		       const struct stls_x509_req *req, X509 **out,
		       struct stls_x509_err *err)
{
	struct stls_x509_req r = *req;
	char serial[64];
	X509 *x = NULL;
	int rc, i;

	r.issuer = ca->cert;
	r.issuer_key = ca->key;
	/* A repeated 127-bit random serial is astronomically unlikely. */
	for (i = 0; i < 4; i++) {
		rc = stls_x509_cert_build(&r, &x, err);
		if (rc) {
			return rc;
		}
		stls_x509_serial_hex(x, serial, sizeof(serial));
		if (stls_x509_castate_find(&ca->st, serial, false) < 0) {
			*out = x;
			return 0;
		}
		X509_free(x);
		x = NULL;
	}
	stls_x509_err_set(err, "cannot find an unused serial number");
	return -EEXIST;
}

/* Removes the last record (undo of a change that could not be saved). */
static void drop_last(struct stls_x509_ca *ca)
{
	ca->st.n--;
	free(ca->st.v[ca->st.n].name);
	ca->st.v[ca->st.n].name = NULL;
}

int stls_x509_ca_record(struct stls_x509_ca *ca, X509 *cert,
			enum stls_x509_profile profile, const char *name,
			struct stls_x509_err *err)
{
	int rc = add_issued(ca, cert, profile, name);

	if (rc) {
		stls_x509_err_set(err, "cannot record certificate '%s': %s",
				  name, strerror(-rc));
		return rc;
	}
	rc = save_state(ca, "", err);
	if (rc) {
		drop_last(ca);
	}
	return rc;
}

int stls_x509_ca_revoke(struct stls_x509_ca *ca, X509 *cert, int reason,
			struct stls_x509_err *err)
{
	struct stls_x509_carec rec;
	const char *rname = stls_x509_reason_name(reason);
	int rc;

	if (!rname) {
		stls_x509_err_set(err, "unknown revocation reason %d", reason);
		return -EINVAL;
	}
	if (X509_check_issued(ca->cert, cert) != X509_V_OK ||
	    X509_verify(cert, ca->key) != 1) {
		ERR_clear_error();
		stls_x509_err_set(err, "the certificate was not issued by the "
				  "CA in '%s'", ca->dir);
		return -EINVAL;
	}
	memset(&rec, 0, sizeof(rec));
	rec.revoked = true;
	stls_x509_serial_hex(cert, rec.serial, sizeof(rec.serial));
	rec.when = time(NULL);
	snprintf(rec.word, sizeof(rec.word), "%s", rname);
	rc = stls_x509_castate_add(&ca->st, &rec);
	if (rc == -EALREADY) {
		stls_x509_err_set(err, "serial %s is already revoked",
				  rec.serial);
	} else if (rc) {
		stls_x509_err_set(err, "cannot record the revocation: %s",
				  strerror(-rc));
	}
	if (rc) {
		return rc;
	}
	rc = save_state(ca, "", err);
	if (rc) {
		drop_last(ca);
	}
	return rc;
}

int stls_x509_ca_crl(struct stls_x509_ca *ca, int days, X509_CRL **out,
		     struct stls_x509_err *err)
{
	struct stls_x509_revoked *v;
	X509_CRL *crl = NULL;
	size_t i, n = 0;
	int rc;

	v = calloc(ca->st.n + 1, sizeof(*v));
	if (!v) {
		stls_x509_err_set(err, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < ca->st.n; i++) {
		if (ca->st.v[i].revoked) {
			v[n].serial_hex = ca->st.v[i].serial;
			v[n].when = ca->st.v[i].when;
			v[n].reason = stls_x509_reason_parse(ca->st.v[i].word);
			n++;
		}
	}
	rc = stls_x509_crl_build(ca->cert, ca->key, v, n, ca->st.crl_number,
				 days, 0, &crl, err);
	free(v);
	if (rc) {
		return rc;
	}
	ca->st.crl_number++;
	rc = save_state(ca, "", err);
	if (rc) {
		ca->st.crl_number--;
		X509_CRL_free(crl);
		return rc;
	}
	*out = crl;
	return 0;
}
