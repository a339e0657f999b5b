/*
 * Monitoring reads of the TLS layer (stls/tlsmon.h): certificate expiry
 * of a profile and the cause of a verification failure.
 */
#include "stls/tlsmon.h"

#include <errno.h>
#include <string.h>

#include <openssl/x509.h>

#include "stls/conn.h"
#include "stls/facts.h"
#include "tls/profile_int.h"

const char *const stls_verify_cause_names[STLS_VCAUSE__COUNT] = {
	[STLS_VCAUSE_UNTRUSTED] = "untrusted",
	[STLS_VCAUSE_EXPIRED] = "expired",
	[STLS_VCAUSE_NOT_YET_VALID] = "not_yet_valid",
	[STLS_VCAUSE_REVOKED] = "revoked",
	[STLS_VCAUSE_CRL] = "crl",
	[STLS_VCAUSE_SIGNATURE] = "signature",
	[STLS_VCAUSE_CHAIN] = "chain",
	[STLS_VCAUSE_OTHER] = "other",
};

/* notAfter of <x> as Unix time. */
static int not_after(X509 *x, time_t *out)
{
	const ASN1_TIME *t = X509_get0_notAfter(x);
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -ERANGE;
	*out = timegm(&tm);
	return 0;
}

int stls_profile_get_not_after(const struct stls_profile *p, time_t *out)
{
	time_t best = 0, t;
	size_t i;
	int err;

	if (!p->certs || p->certs->n == 0)
		return -ENOENT;
	for (i = 0; i < p->certs->n; i++) {
		if (!p->certs->v[i].x509)
			continue;
		err = not_after(p->certs->v[i].x509, &t);
		if (err)
			return err;
		if (best == 0 || t < best)
			best = t;
	}
	if (best == 0)
		return -ENOENT;
	*out = best;
	return 0;
}

enum stls_verify_cause stls_verify_cause_of(long vr)
{
	switch (vr) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return STLS_VCAUSE_UNTRUSTED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return STLS_VCAUSE_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return STLS_VCAUSE_NOT_YET_VALID;
	case X509_V_ERR_CERT_REVOKED:
		return STLS_VCAUSE_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
		return STLS_VCAUSE_CRL;
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return STLS_VCAUSE_SIGNATURE;
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_INVALID_EXTENSION:
		return STLS_VCAUSE_CHAIN;
	default:
		return STLS_VCAUSE_OTHER;
	}
}

enum stls_verify_cause stls_conn_get_verify_cause(const struct stls_conn *c)
{
	SSL *ssl = stls_conn_get0_ssl(c);
	const struct stls_facts *f;

	if (ssl)
		return stls_verify_cause_of(SSL_get_verify_result(ssl));
	f = stls_conn_get_facts(c);
	return f ? stls_verify_cause_of(stls_facts_get_verify_result(f))
		 : STLS_VCAUSE_OTHER;
}
