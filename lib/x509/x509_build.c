/*
 * Certificate building: one X.509 v3 certificate from a struct
 * stls_x509_req, signed by its issuer (or by itself).
 *
 * The profiles follow RFC 5280 and the CA/Browser baseline where it makes
 * sense for SIP:
 *   CA:     basicConstraints critical CA:TRUE; keyUsage critical
 *           keyCertSign, cRLSign.
 *   server: CA:FALSE; keyUsage critical digitalSignature (+keyEncipherment
 *           for RSA keys); extendedKeyUsage serverAuth, clientAuth, because
 *           a SIP server also opens TLS connections to other servers
 *           (RFC 5922 §7.3) and presents the same certificate there.
 *   client: as server but extendedKeyUsage clientAuth only.
 * Every certificate gets subjectKeyIdentifier and authorityKeyIdentifier,
 * a random positive 128-bit serial (unpredictable serials are what keeps
 * chosen-prefix collisions out of reach) and a notBefore five minutes in
 * the past so that peers with a slightly late clock accept it at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "x509/x509_int.h"

#define BACKDATE_S 300
#define DAYS_MAX 36500

static int set_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1) {
		return -EIO;
	}
	/* Positive (top bit clear) and always 16 octets long (not zero). */
	b[0] &= 0x7f;
	if (b[0] == 0) {
		b[0] = 0x01;
	}
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

static int set_validity(X509 *x, const struct stls_x509_req *req,
			time_t now)
{
	const ASN1_TIME *limit;

	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -BACKDATE_S, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), req->days, 0, &now)) {
		return -ENOMEM;
	}
	if (!req->issuer) {
		return 0;
	}
	/* A certificate cannot be valid longer than the CA that signed it. */
	limit = X509_get0_notAfter(req->issuer);
	if (ASN1_TIME_compare(X509_get0_notAfter(x), limit) > 0 &&
	    !X509_set1_notAfter(x, limit)) {
		return -ENOMEM;
	}
	return 0;
}

GENERAL_NAME *stls__x509_san_gen(const struct stls_x509_san *san)
{
	static const int gen_types[] = {
		[STLS_X509_SAN_DNS] = GEN_DNS,
		[STLS_X509_SAN_URI] = GEN_URI,
		[STLS_X509_SAN_EMAIL] = GEN_EMAIL,
	};
	GENERAL_NAME *gen;
	ASN1_IA5STRING *s;

	if (san->type == STLS_X509_SAN_IP) {
		return a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD,
					san->value, 0);
	}
	gen = GENERAL_NAME_new();
	s = ASN1_IA5STRING_new();
	if (!gen || !s || !ASN1_STRING_set(s, san->value, -1)) {
		GENERAL_NAME_free(gen);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gen, gen_types[san->type], s);
	return gen;
}

static int add_sans(X509 *x, const struct stls_x509_req *req,
		    struct stls_x509_err *err)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *gen;
	size_t i;
	int rc = 0;

	if (req->n_sans == 0) {
		return 0;
	}
	gens = sk_GENERAL_NAME_new_null();
	for (i = 0; gens && i < req->n_sans && !rc; i++) {
		rc = stls_x509_san_validate(&req->sans[i], err);
		if (rc) {
			break;
		}
		gen = stls__x509_san_gen(&req->sans[i]);
		if (!gen || !sk_GENERAL_NAME_push(gens, gen)) {
			GENERAL_NAME_free(gen);
			rc = -ENOMEM;
		}
	}
	if (!gens) {
		rc = -ENOMEM;
	}
	if (!rc && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
				      X509V3_ADD_DEFAULT)) {
		rc = -ENOMEM;
	}
	if (rc == -ENOMEM) {
		stls__x509_err_ssl(err, "cannot add subjectAltName");
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? 0 : -EPROTO;
}

static int add_profile_exts(X509 *x, const struct stls_x509_req *req,
			    struct stls_x509_err *err)
{
	bool rsa = EVP_PKEY_is_a(req->key, "RSA");
	const char *bc = "critical,CA:FALSE";
	const char *ku = rsa ? "critical,digitalSignature,keyEncipherment"
			     : "critical,digitalSignature";
	const char *eku = NULL;
	X509V3_CTX ctx;
	int rc;

	switch (req->profile) {
	case STLS_X509_PROFILE_CA:
		bc = "critical,CA:TRUE";
		ku = "critical,keyCertSign,cRLSign";
		break;
	case STLS_X509_PROFILE_SERVER:
		eku = "serverAuth,clientAuth";
		break;
	case STLS_X509_PROFILE_CLIENT:
		eku = "clientAuth";
		break;
	}
	X509V3_set_ctx(&ctx, req->issuer ? req->issuer : x, x, NULL, NULL, 0);
	rc = add_ext(x, &ctx, NID_basic_constraints, bc);
	if (!rc) {
		rc = add_ext(x, &ctx, NID_key_usage, ku);
	}
	if (!rc && eku) {
		rc = add_ext(x, &ctx, NID_ext_key_usage, eku);
	}
	/* The subject key id must exist before a self-signed AKI uses it. */
	if (!rc) {
		rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	}
	if (!rc) {
		rc = add_ext(x, &ctx, NID_authority_key_identifier,
			     "keyid:always");
	}
	if (rc) {
		stls__x509_err_ssl(err, "cannot add certificate extensions");
	}
	return rc;
}

static int check_req(const struct stls_x509_req *req,
		     struct stls_x509_err *err)
{
	if (!req->key || !req->subject) {
		stls_x509_err_set(err, "a certificate needs a key and a "
				  "subject");
		return -EINVAL;
	}
	if (req->days < 1 || req->days > DAYS_MAX) {
		stls_x509_err_set(err, "validity of %d days is out of range "
				  "1..%d", req->days, DAYS_MAX);
		return -EINVAL;
	}
	if (req->issuer && (!req->issuer_key ||
			    !stls_x509_key_matches(req->issuer,
						   req->issuer_key))) {
		stls_x509_err_set(err, "the CA key does not match the CA "
				  "certificate");
		return -EKEYREJECTED;
	}
	return 0;
}

const EVP_MD *stls__x509_sign_md(EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
		return NULL;
	}
	return EVP_sha256();
}

int stls_x509_cert_build(const struct stls_x509_req *req, X509 **out,
			 struct stls_x509_err *err)
{
	EVP_PKEY *signer = req->issuer ? req->issuer_key : req->key;
	time_t now = req->now ? req->now : time(NULL);
	X509_NAME *issuer_name;
	X509 *x = NULL;
	int rc;

	ERR_clear_error();
	rc = check_req(req, err);
	if (rc) {
		return rc;
	}
	issuer_name = req->issuer ? X509_get_subject_name(req->issuer)
				  : req->subject;
	x = X509_new();
	rc = -ENOMEM;
	if (!x || !X509_set_version(x, X509_VERSION_3) || set_serial(x) ||
	    !X509_set_subject_name(x, req->subject) ||
	    !X509_set_issuer_name(x, issuer_name) ||
	    !X509_set_pubkey(x, req->key) || set_validity(x, req, now)) {
		stls__x509_err_ssl(err, "cannot build certificate");
		goto out;
	}
	rc = add_profile_exts(x, req, err);
	if (!rc) {
		rc = add_sans(x, req, err);
	}
	if (rc) {
		goto out;
	}
	if (!X509_sign(x, signer, stls__x509_sign_md(signer))) {
		stls__x509_err_ssl(err, "cannot sign certificate");
		rc = -EPROTO;
		goto out;
	}
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return rc;
}

const char *stls_x509_serial_hex(X509 *cert, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	return buf;
}

const char *stls_x509_fingerprint(X509 *cert, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	size_t pos = 0;

	buf[0] = '\0';
	if (!X509_digest(cert, EVP_sha256(), md, &n)) {
		ERR_clear_error();
		return buf;
	}
	for (i = 0; i < n && pos + 4 <= len; i++) {
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%02X",
					i ? ":" : "", md[i]);
	}
	return buf;
}

bool stls_x509_is_ca(X509 *cert)
{
	return X509_check_ca(cert) > 0;
}
