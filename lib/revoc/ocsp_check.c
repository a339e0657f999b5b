/*
 * Checking an OCSP response (RFC 6960) for one certificate.
 *
 * The bytes come from the network (a responder, a peer's staple) or from
 * a file an operator names: untrusted. The response must be a
 * "successful" basic response whose signature verifies with the key of
 * the certificate's issuer, or with the key of a responder certificate
 * that the issuer issued for OCSP signing (id-kp-OCSPSigning, section
 * 4.2.2.2) and that is valid at the time of the check. OpenSSL's
 * OCSP_basic_verify() checks signatures and the responder's chain, but
 * falls back to trusting any signer under a self-signed root without
 * trust settings: the authorization is therefore checked here, strictly,
 * on top of it. The SingleResponse for the certificate is found whatever
 * hash the responder used in its CertID.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "revoc/revoc.h"

time_t stls__asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		return 0;
	}
	return timegm(&tm);
}

const char *stls__time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		snprintf(buf, len, "?");
	}
	return buf;
}

X509 *stls__find_issuer(X509 *leaf, STACK_OF(X509) *certs)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		EVP_PKEY *k = X509_get0_pubkey(x);

		if (x != leaf &&
		    X509_NAME_cmp(X509_get_subject_name(x),
				  X509_get_issuer_name(leaf)) == 0 &&
		    k && X509_verify(leaf, k) == 1) {
			return x;
		}
	}
	ERR_clear_error();
	return NULL;
}

bool stls__must_staple(X509 *x)
{
	STACK_OF(ASN1_INTEGER) *feats;
	bool yes = false;
	int i;

	feats = X509_get_ext_d2i(x, NID_tlsfeature, NULL, NULL);
	for (i = 0; i < sk_ASN1_INTEGER_num(feats); i++) {
		/* status_request (RFC 6066 section 8) is extension 5. */
		if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(feats, i)) == 5) {
			yes = true;
		}
	}
	sk_ASN1_INTEGER_pop_free(feats, ASN1_INTEGER_free);
	ERR_clear_error();
	return yes;
}

/* The response's signer must be the issuer or its delegated responder. */
static bool signer_authorised(OCSP_BASICRESP *bs, X509 *issuer,
			      STACK_OF(X509) *extra)
{
	X509 *signer = NULL;

	/* <extra> holds the issuer: a response it signed itself usually
	 * carries no certificate (OCSP_NOCERTS). */
	if (!OCSP_resp_get0_signer(bs, &signer, extra) || !signer) {
		return false;
	}
	if (X509_cmp(signer, issuer) == 0) {
		return true;
	}
	return X509_check_issued(issuer, signer) == X509_V_OK &&
	       (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) &&
	       (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN);
}

/* Verifies the basic response's signature and its signer. */
static int verify_basic(OCSP_BASICRESP *bs, X509 *issuer, time_t now,
			char *why, size_t whylen)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *store = X509_STORE_new();
	X509_VERIFY_PARAM *vp;
	int err = 0;

	if (!certs || !store || !sk_X509_push(certs, issuer) ||
	    !X509_STORE_add_cert(store, issuer)) {
		err = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	/* The issuer is the trust anchor, wherever it sits in its chain;
	 * a delegated responder's validity is checked at <now>. */
	vp = X509_STORE_get0_param(store);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(vp, now);
	if (OCSP_basic_verify(bs, certs, store, OCSP_TRUSTOTHER) <= 0) {
		unsigned long e = ERR_peek_last_error();

		snprintf(why, whylen, "signature or signer refused: %s",
			 e ? ERR_reason_error_string(e) : "unknown");
		err = -EBADMSG;
	} else if (!signer_authorised(bs, issuer, certs)) {
		snprintf(why, whylen, "signed by neither the issuer nor a "
			 "responder it authorised (id-kp-OCSPSigning)");
		err = -EBADMSG;
	}
out:
	ERR_clear_error();
	sk_X509_free(certs);
	X509_STORE_free(store);
	return err;
}

/* The SingleResponse about <leaf>, whatever hash its CertID uses. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *leaf,
				    X509 *issuer)
{
	int i, n = OCSP_resp_count(bs);

	for (i = 0; i < n; i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
		ASN1_OBJECT *md_oid = NULL;
		const EVP_MD *md;
		OCSP_CERTID *mine;
		bool same;

		if (!cid || !OCSP_id_get0_info(NULL, &md_oid, NULL, NULL,
					       (OCSP_CERTID *)cid)) {
			continue;
		}
		md = EVP_get_digestbyobj(md_oid);
		mine = md ? OCSP_cert_to_id(md, leaf, issuer) : NULL;
		same = mine && OCSP_id_cmp(mine, cid) == 0;
		OCSP_CERTID_free(mine);
		if (same) {
			return sr;
		}
	}
	return NULL;
}

/* Fills *out from the SingleResponse and checks its time window. */
static int read_single(OCSP_SINGLERESP *sr, time_t now, long skew,
		       struct stls__ocsp_result *out, char *why,
		       size_t whylen)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int reason = -1;

	out->status = OCSP_single_get0_status(sr, &reason, &rev, &thisupd,
					      &nextupd);
	out->reason = reason;
	out->revoked_at = stls__asn1_to_time(rev);
	out->this_update = stls__asn1_to_time(thisupd);
	out->next_update = nextupd ? stls__asn1_to_time(nextupd) : 0;
	if (out->status < 0 || !thisupd || out->this_update == 0 ||
	    (nextupd && out->next_update == 0)) {
		snprintf(why, whylen, "malformed status or times");
		return -EBADMSG;
	}
	if (out->next_update && out->next_update < out->this_update) {
		snprintf(why, whylen, "nextUpdate before thisUpdate");
		return -EBADMSG;
	}
	if (out->this_update > now + skew) {
		snprintf(why, whylen, "thisUpdate is in the future");
		return -ESTALE;
	}
	if (out->next_update && out->next_update <= now - skew) {
		snprintf(why, whylen, "expired (nextUpdate has passed)");
		return -ESTALE;
	}
	return 0;
}

int stls__ocsp_check(const unsigned char *der, size_t len, X509 *leaf,
		     X509 *issuer, time_t now, long skew,
		     struct stls__ocsp_result *out, char *why, size_t whylen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *sr;
	int err, st;

	memset(out, 0, sizeof(*out));
	out->status = -1;
	why[0] = '\0';
	if (!der || len == 0 || len > STLS__OCSP_MAX_RESP || !leaf ||
	    !issuer) {
		snprintf(why, whylen, "no response");
		return -EBADMSG;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp || p != der + len) {
		snprintf(why, whylen, "not a DER OCSP response");
		err = -EBADMSG;
		goto out;
	}
	st = OCSP_response_status(resp);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, whylen, "responder error: %s",
			 OCSP_response_status_str(st));
		err = -EPROTO;
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (!bs) {
		snprintf(why, whylen, "not a basic OCSP response");
		err = -EBADMSG;
		goto out;
	}
	err = verify_basic(bs, issuer, now, why, whylen);
	if (err) {
		goto out;
	}
	sr = find_single(bs, leaf, issuer);
	if (!sr) {
		snprintf(why, whylen, "no status for this certificate");
		err = -EBADMSG;
		goto out;
	}
	err = read_single(sr, now, skew, out, why, whylen);
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return err;
}
