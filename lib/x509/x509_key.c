/*
 * Private keys: generation (ECDSA P-256 by default, RSA on request), a
 * readable description, and the key/certificate match check.
 *
 * P-256 is the default because every SIP stack in the field (phones,
 * carriers, Teams Direct Routing) accepts it, its handshakes are several
 * times cheaper than RSA-2048 for the server, and the keys are small.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "x509/x509_int.h"

#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 16384

int stls_x509_key_new(const struct stls_x509_keyspec *spec, EVP_PKEY **out,
		      struct stls_x509_err *err)
{
	EVP_PKEY *key = NULL;
	int bits = spec->bits ? spec->bits : RSA_BITS_MIN;

	ERR_clear_error();
	switch (spec->type) {
	case STLS_X509_KEY_EC:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case STLS_X509_KEY_RSA:
		if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX) {
			stls_x509_err_set(err, "RSA key size %d is out of "
					  "range %d..%d", bits, RSA_BITS_MIN,
					  RSA_BITS_MAX);
			return -EINVAL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		stls_x509_err_set(err, "unknown key type");
		return -EINVAL;
	}
	if (!key) {
		stls__x509_err_ssl(err, "cannot generate a key");
		return -EPROTO;
	}
	*out = key;
	return 0;
}

const char *stls_x509_key_describe(const EVP_PKEY *key, char *buf,
				   size_t len)
{
	char group[64];
	size_t glen = 0;

	if (!key) {
		snprintf(buf, len, "none");
	} else if (EVP_PKEY_is_a(key, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(key,
						    OSSL_PKEY_PARAM_GROUP_NAME,
						    group, sizeof(group),
						    &glen)) {
			snprintf(group, sizeof(group), "%d bits",
				 EVP_PKEY_get_bits(key));
		}
		/* Operators know P-256 better than prime256v1. */
		if (strcmp(group, "prime256v1") == 0) {
			snprintf(group, sizeof(group), "P-256");
		}
		snprintf(buf, len, "EC %s", group);
	} else if (EVP_PKEY_is_a(key, "RSA")) {
		snprintf(buf, len, "RSA %d", EVP_PKEY_get_bits(key));
	} else {
		snprintf(buf, len, "%s %d", EVP_PKEY_get0_type_name(key),
			 EVP_PKEY_get_bits(key));
	}
	ERR_clear_error();
	return buf;
}

bool stls_x509_key_matches(X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	bool ok = pub && key && EVP_PKEY_eq(pub, key) == 1;

	ERR_clear_error();
	return ok;
}
