/*
 * A small certificate authority kept in one directory, for operators who
 * run their own CA for SIP over TLS (the seed's "Quick Certificate Howto").
 *
 * Layout of DIR (see docs/certificates.md):
 *   ca.pem         the CA certificate (self-signed)
 *   ca.key         its private key, mode 0600, optionally encrypted
 *   ca-state.txt   the CA state: next CRL number, issued and revoked serials
 *   .lock          an empty file that serialises concurrent commands
 *
 * The state file is plain text, one record per line, '#' comments:
 *   format 1
 *   crl-number N                          number of the next CRL
 *   issued SERIAL NOTAFTER PROFILE NAME   one line per certificate signed
 *   revoked SERIAL TIME REASON            one line per revocation
 * SERIAL is upper-case hex, NOTAFTER and TIME are UTC as YYYYMMDDHHMMSSZ,
 * PROFILE is ca, server or client, REASON an RFC 5280 reason name, NAME the
 * rest of the line. Serials are random (128 bits), so there is no serial
 * counter: the issued list is what makes them unique.
 *
 * Thread: an opened CA belongs to one thread; the directory lock (flock)
 * keeps two processes from changing the same CA at once.
 */
#ifndef STLS_X509_CA_H
#define STLS_X509_CA_H

#include "stls/x509.h"

/* One record of the state file. */
struct stls_x509_carec {
	bool revoked;     /* false: "issued", true: "revoked" */
	char serial[41];  /* upper-case hex */
	time_t when;      /* notAfter (issued) or revocation time */
	char word[24];    /* profile (issued) or reason name (revoked) */
	char *name;       /* issued: the certificate's name; else NULL */
};

struct stls_x509_castate {
	unsigned long crl_number; /* the number the next CRL carries */
	struct stls_x509_carec *v;
	size_t n, cap;
};

void stls_x509_castate_init(struct stls_x509_castate *st);
void stls_x509_castate_fini(struct stls_x509_castate *st);

/*
 * Parses the state file text (len bytes, need not be NUL-terminated).
 * Refuses unknown keywords, bad serials and bad times with -EINVAL and a
 * message "FILE:LINE: reason". st must be freshly initialised.
 */
STLS_MUST_USE int stls_x509_castate_parse(struct stls_x509_castate *st,
					  const char *text, size_t len,
					  const char *file,
					  struct stls_x509_err *err);

/*
 * Formats the state as text. Returns a malloc'd NUL-terminated string
 * (free()) or NULL when out of memory.
 */
char *stls_x509_castate_format(const struct stls_x509_castate *st);

/*
 * Adds a record. name is copied (issued only; it must not contain a
 * newline). Refuses a bad serial or word with -EINVAL, a serial already
 * issued or already revoked with -EEXIST or -EALREADY. Returns 0 or -errno.
 */
STLS_MUST_USE int stls_x509_castate_add(struct stls_x509_castate *st,
					const struct stls_x509_carec *rec);

/* Index of the record with this serial and kind, or -1. */
ssize_t stls_x509_castate_find(const struct stls_x509_castate *st,
			       const char *serial, bool revoked);

/* --- the CA directory -------------------------------------------------- */

struct stls_x509_ca;

struct stls_x509_ca_params {
	X509_NAME *subject; /* borrowed */
	int days;
	struct stls_x509_keyspec key;
	const char *pass; /* NULL: the key is stored unencrypted */
	bool force;       /* replace an existing CA */
};

/*
 * Creates a new CA in dir (created with mode 0700 when missing): key,
 * self-signed certificate and an empty state. Refuses an existing CA with
 * -EEXIST unless p->force. All files appear together or not at all.
 */
STLS_MUST_USE int stls_x509_ca_create(const char *dir,
				      const struct stls_x509_ca_params *p,
				      struct stls_x509_err *err);

/*
 * Opens the CA in dir: takes the directory lock (-EBUSY when another
 * command holds it), reads ca.pem, ca.key (with pass when encrypted) and
 * the state, and checks that key and certificate match. *out owns the CA.
 */
STLS_MUST_USE int stls_x509_ca_open(const char *dir, const char *pass,
				    struct stls_x509_ca **out,
				    struct stls_x509_err *err);

/* Releases the lock and frees everything (NULL is a no-op). */
void stls_x509_ca_free(struct stls_x509_ca *ca);

X509 *stls_x509_ca_get0_cert(const struct stls_x509_ca *ca);
const struct stls_x509_castate *
stls_x509_ca_get0_state(const struct stls_x509_ca *ca);

/*
 * Signs a certificate for req with this CA (req->issuer and issuer_key are
 * set here), with a serial the CA has never issued. Does not record it:
 * call stls_x509_ca_record() once the files are written.
 */
STLS_MUST_USE int stls_x509_ca_issue(struct stls_x509_ca *ca,
				     const struct stls_x509_req *req,
				     X509 **out, struct stls_x509_err *err);

/* Records an issued certificate under name and saves the state. */
STLS_MUST_USE int stls_x509_ca_record(struct stls_x509_ca *ca, X509 *cert,
				      enum stls_x509_profile profile,
				      const char *name,
				      struct stls_x509_err *err);

/*
 * Records the revocation of cert (which must be signed by this CA: else
 * -EINVAL) with reason and saves the state. -EALREADY when already revoked.
 */
STLS_MUST_USE int stls_x509_ca_revoke(struct stls_x509_ca *ca, X509 *cert,
				      int reason, struct stls_x509_err *err);

/*
 * Builds a CRL of every revoked serial valid for days, with the next CRL
 * number, then increments the number and saves the state (a failed write
 * afterwards only skips a number). *out owns the CRL.
 */
STLS_MUST_USE int stls_x509_ca_crl(struct stls_x509_ca *ca, int days,
				   X509_CRL **out, struct stls_x509_err *err);

#endif
