/*
 * Can this key serve this certificate? (stls_hsm_key_check, stls/hsm.h)
 *
 * A file key is checked by comparing its public half with the
 * certificate's. A token key is a handle: its public half comes from the
 * token and says nothing about whether the token will sign with it, with
 * which mechanisms, or at all (CKA_SIGN false, an HSM without raw RSA and
 * so without RSA-PSS). So besides the comparison, this makes one real
 * signature per signature scheme the profile's protocol versions use with
 * the key type and verifies each with the certificate's public key:
 *   RSA:  rsa_pkcs1_sha256 (TLS 1.2 only) and rsa_pss_rsae_sha256 (TLS 1.3
 *         requires it; OpenSSL prefers it in TLS 1.2 as well);
 *   EC:   ecdsa with the curve's hash (P-256: SHA-256, P-384: SHA-384,
 *         P-521: SHA-512), as RFC 8446 section 4.2.3 pairs them;
 *   EdDSA: the pure scheme.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>

#include "hsm/hsm_int.h"

struct scheme {
	const char *name; /* RFC 8446 SignatureScheme name */
	const char *md;   /* NULL: none (EdDSA) */
	int padding;      /* RSA only, else 0 */
};

static const char probe_msg[] = "siptls: does this key sign?";

/* One sign-or-verify context set up for <s>. */
static EVP_MD_CTX *md_ctx(EVP_PKEY *k, const struct scheme *s, bool sign)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok;

	if (!m) {
		return NULL;
	}
	ok = sign ? EVP_DigestSignInit(m, &pc, s->md ? EVP_get_digestbyname(
							       s->md) : NULL,
				       NULL, k)
		  : EVP_DigestVerifyInit(m, &pc, s->md ? EVP_get_digestbyname(
							       s->md) : NULL,
					 NULL, k);
	if (ok == 1 && s->padding) {
		ok = EVP_PKEY_CTX_set_rsa_padding(pc, s->padding);
		if (ok > 0 && s->padding == RSA_PKCS1_PSS_PADDING) {
			ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(
				pc, RSA_PSS_SALTLEN_DIGEST);
		}
	}
	if (ok <= 0) {
		EVP_MD_CTX_free(m);
		return NULL;
	}
	return m;
}

static int sign_one(X509 *cert, EVP_PKEY *key, const struct scheme *s,
		    struct stls_hsm_err *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned char sig[1024];
	size_t slen = sizeof(sig);
	enum stls_hsm_cause cause;
	EVP_MD_CTX *m;
	char why[256];
	int ok;

	ERR_clear_error();
	m = md_ctx(key, s, true);
	ok = m && EVP_DigestSign(m, sig, &slen,
				 (const unsigned char *)probe_msg,
				 sizeof(probe_msg) - 1) == 1;
	EVP_MD_CTX_free(m);
	if (!ok) {
		cause = stls__hsm_cause_drain(STLS_HSM_KEY_CANNOT_SIGN, why,
					      sizeof(why));
		stls__hsm_err_set(err, cause, "%s: a test signature with %s "
				  "failed: %s", stls_hsm_cause_names[cause],
				  s->name, why);
		return cause == STLS_HSM_TOKEN_ABSENT ? -ENODEV :
		       cause == STLS_HSM_KEY_NOT_FOUND ? -ENOENT : -EPERM;
	}
	m = pub ? md_ctx(pub, s, false) : NULL;
	ok = m && EVP_DigestVerify(m, sig, slen,
				   (const unsigned char *)probe_msg,
				   sizeof(probe_msg) - 1) == 1;
	EVP_MD_CTX_free(m);
	ERR_clear_error();
	if (!ok) {
		stls__hsm_err_set(err, STLS_HSM_KEY_MISMATCH,
				  "%s: its %s signature does not verify with "
				  "the certificate's public key",
				  stls_hsm_cause_names[STLS_HSM_KEY_MISMATCH],
				  s->name);
		return -EKEYREJECTED;
	}
	return 0;
}

/* The schemes to try for <key>; returns how many went into v. */
static size_t schemes_for(EVP_PKEY *key, bool tls12, struct scheme *v)
{
	int bits = EVP_PKEY_get_bits(key);
	size_t n = 0;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		if (tls12) {
			v[n++] = (struct scheme){ "rsa_pkcs1_sha256", "SHA256",
						  RSA_PKCS1_PADDING };
		}
		v[n++] = (struct scheme){ "rsa_pss_rsae_sha256", "SHA256",
					  RSA_PKCS1_PSS_PADDING };
		break;
	case EVP_PKEY_EC:
		v[n++] = bits > 384 ? (struct scheme){ "ecdsa_secp521r1_sha512",
						       "SHA512", 0 } :
			 bits > 256 ? (struct scheme){ "ecdsa_secp384r1_sha384",
						       "SHA384", 0 } :
				      (struct scheme){ "ecdsa_secp256r1_sha256",
						       "SHA256", 0 };
		break;
	case EVP_PKEY_ED25519:
		v[n++] = (struct scheme){ "ed25519", NULL, 0 };
		break;
	case EVP_PKEY_ED448:
		v[n++] = (struct scheme){ "ed448", NULL, 0 };
		break;
	default:
		break;
	}
	return n;
}

static const char *type_name(EVP_PKEY *k)
{
	const char *n = k ? OBJ_nid2sn(EVP_PKEY_get_base_id(k)) : NULL;

	return n ? n : "unknown";
}

int stls_hsm_key_check(X509 *cert, EVP_PKEY *key, int min_version,
		       int max_version, struct stls_hsm_err *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	struct scheme v[2];
	bool tls12 = min_version == 0 || min_version <= TLS1_2_VERSION;
	size_t n, i;
	int rc;

	(void)max_version; /* every scheme above is valid in TLS 1.3 */
	ERR_clear_error();
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_get_base_id(key)) {
		stls__hsm_err_set(err, STLS_HSM_KEY_MISMATCH,
				  "%s: the key is %s, the certificate's key "
				  "is %s",
				  stls_hsm_cause_names[STLS_HSM_KEY_MISMATCH],
				  type_name(key), type_name(pub));
		return -EKEYREJECTED;
	}
	if (EVP_PKEY_eq(pub, key) == 0) {
		ERR_clear_error();
		stls__hsm_err_set(err, STLS_HSM_KEY_MISMATCH,
				  "%s: same type (%s), different key",
				  stls_hsm_cause_names[STLS_HSM_KEY_MISMATCH],
				  type_name(key));
		return -EKEYREJECTED;
	}
	ERR_clear_error();
	n = schemes_for(key, tls12, v);
	if (n == 0) {
		stls__hsm_err_set(err, STLS_HSM_KEY_CANNOT_SIGN,
				  "%s: TLS has no signature scheme for %s "
				  "keys", stls_hsm_cause_names
				  [STLS_HSM_KEY_CANNOT_SIGN], type_name(key));
		return -EPERM;
	}
	for (i = 0; i < n; i++) {
		rc = sign_one(cert, key, &v[i], err);
		if (rc) {
			return rc;
		}
	}
	return 0;
}
