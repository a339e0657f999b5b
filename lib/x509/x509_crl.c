/*
 * CRL building (RFC 5280 §5): a complete v2 CRL signed by the CA, with
 * cRLNumber, authorityKeyIdentifier and one entry per revoked serial
 * carrying its reason code.
 *
 * The reason names are RFC 5280's CRLReason spellings. certificateHold and
 * removeFromCRL are left out on purpose: a hold can be lifted, and this CA
 * keeps no delta CRLs, so a revocation here is permanent.
 */
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "x509/x509_int.h"

static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", CRL_REASON_UNSPECIFIED },
	{ "keyCompromise", CRL_REASON_KEY_COMPROMISE },
	{ "cACompromise", CRL_REASON_CA_COMPROMISE },
	{ "affiliationChanged", CRL_REASON_AFFILIATION_CHANGED },
	{ "superseded", CRL_REASON_SUPERSEDED },
	{ "cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION },
	{ "privilegeWithdrawn", CRL_REASON_PRIVILEGE_WITHDRAWN },
	{ "aACompromise", CRL_REASON_AA_COMPROMISE },
};

int stls_x509_reason_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < STLS_ARRAY_SIZE(reasons); i++) {
		if (strcasecmp(name, reasons[i].name) == 0) {
			return reasons[i].code;
		}
	}
	return -EINVAL;
}

const char *stls_x509_reason_name(int reason)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(reasons); i++) {
		if (reasons[i].code == reason) {
			return reasons[i].name;
		}
	}
	return NULL;
}

const char *stls_x509_reason_list(void)
{
	return "unspecified, keyCompromise, cACompromise, "
	       "affiliationChanged, superseded, cessationOfOperation, "
	       "privilegeWithdrawn, aACompromise";
}

static int add_entry(X509_CRL *crl, const struct stls_x509_revoked *r,
		     struct stls_x509_err *err)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_ENUMERATED *code = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	BIGNUM *bn = NULL;
	int rc = -ENOMEM;
	int used = r->serial_hex ? BN_hex2bn(&bn, r->serial_hex) : 0;

	if (used <= 0 || used > 40 || r->serial_hex[used] != '\0') {
		stls_x509_err_set(err, "bad serial '%s' in the revocation list",
				  r->serial_hex ? r->serial_hex : "");
		rc = -EINVAL;
		goto out;
	}
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	when = ASN1_TIME_set(NULL, r->when);
	if (!rev || !serial || !when ||
	    !X509_REVOKED_set_serialNumber(rev, serial) ||
	    !X509_REVOKED_set_revocationDate(rev, when)) {
		goto out;
	}
	if (r->reason != CRL_REASON_UNSPECIFIED && r->reason >= 0) {
		code = ASN1_ENUMERATED_new();
		if (!code || !ASN1_ENUMERATED_set(code, r->reason) ||
		    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, code, 0,
					       X509V3_ADD_DEFAULT)) {
			goto out;
		}
	}
	if (!X509_CRL_add0_revoked(crl, rev)) {
		goto out;
	}
	rev = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM) {
		stls__x509_err_ssl(err, "cannot add a CRL entry");
	}
	ASN1_ENUMERATED_free(code);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(when);
	BN_free(bn);
	X509_REVOKED_free(rev);
	return rc;
}

static int add_crl_exts(X509_CRL *crl, X509 *issuer, unsigned long number)
{
	X509_EXTENSION *ext;
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	int ok;

	ok = num && ASN1_INTEGER_set_uint64(num, number) &&
	     X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
				   X509V3_ADD_DEFAULT);
	ASN1_INTEGER_free(num);
	if (!ok) {
		return -ENOMEM;
	}
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
				  "keyid:always");
	ok = ext && X509_CRL_add_ext(crl, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EPROTO;
}

int stls_x509_crl_build(X509 *issuer, EVP_PKEY *issuer_key,
			const struct stls_x509_revoked *v, size_t n,
			unsigned long number, int days, time_t now,
			X509_CRL **out, struct stls_x509_err *err)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *last = NULL, *next = NULL;
	size_t i;
	int rc = -ENOMEM;

	ERR_clear_error();
	if (days < 1 || days > 3650) {
		stls_x509_err_set(err, "CRL validity of %d days is out of "
				  "range 1..3650", days);
		return -EINVAL;
	}
	if (!stls_x509_key_matches(issuer, issuer_key)) {
		stls_x509_err_set(err, "the CA key does not match the CA "
				  "certificate");
		return -EKEYREJECTED;
	}
	if (!now) {
		now = time(NULL);
	}
	crl = X509_CRL_new();
	last = ASN1_TIME_set(NULL, now);
	next = X509_time_adj_ex(NULL, days, 0, &now);
	if (!crl || !last || !next ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) ||
	    !X509_CRL_set1_nextUpdate(crl, next)) {
		stls__x509_err_ssl(err, "cannot build CRL");
		goto out;
	}
	for (i = 0, rc = 0; i < n && !rc; i++) {
		rc = add_entry(crl, &v[i], err);
	}
	if (!rc && add_crl_exts(crl, issuer, number)) {
		stls__x509_err_ssl(err, "cannot add CRL extensions");
		rc = -EPROTO;
	}
	if (rc) {
		goto out;
	}
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, issuer_key, EVP_sha256())) {
		stls__x509_err_ssl(err, "cannot sign CRL");
		rc = -EPROTO;
		goto out;
	}
	*out = crl;
	crl = NULL;
out:
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return rc;
}
