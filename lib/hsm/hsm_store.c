/*
 * The store key source: OSSL_STORE, OpenSSL 3's URI loaders. "file:"
 * works with the default provider; a provider that registers a scheme
 * (pkcs11-provider registers "pkcs11:" on OpenSSL 3.2 and later, loaded
 * from engine_config's providers section) needs no code here. On
 * Debian 12 (OpenSSL 3.0, no such provider packaged) "pkcs11:" has no
 * loader, and the message says to use the engine.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/store.h>

#include "hsm/hsm_int.h"
#include "stls/p11uri.h"

/* The first private key the store returns, or NULL. */
static EVP_PKEY *first_key(OSSL_STORE_CTX *st)
{
	EVP_PKEY *k = NULL;
	OSSL_STORE_INFO *info;

	while (!k && !OSSL_STORE_eof(st)) {
		info = OSSL_STORE_load(st);
		if (!info) {
			if (OSSL_STORE_error(st)) {
				break;
			}
			continue;
		}
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) {
			k = OSSL_STORE_INFO_get1_PKEY(info);
		}
		OSSL_STORE_INFO_free(info);
	}
	return k;
}

/* Whether a provider offers a store loader for <scheme>. */
static bool has_loader(const char *scheme)
{
	OSSL_STORE_LOADER *l = OSSL_STORE_LOADER_fetch(NULL, scheme, NULL);

	ERR_clear_error();
	OSSL_STORE_LOADER_free(l);
	return l != NULL;
}

static int store_failed(const char *uri, struct stls_hsm_err *err)
{
	enum stls_hsm_cause cause;
	char why[256];

	cause = stls__hsm_cause_drain(STLS_HSM_KEY_NOT_FOUND, why,
				      sizeof(why));
	if (cause == STLS_HSM_NO_LOADER && stls_p11uri_is(uri)) {
		stls__hsm_err_set(err, cause,
				  "no loader for this URI: OpenSSL %s has no "
				  "store for pkcs11: URIs; set [tls] engine "
				  "= pkcs11 (libengine-pkcs11-openssl), or "
				  "load a PKCS#11 provider in engine_config",
				  OpenSSL_version(OPENSSL_VERSION_STRING));
		return -ENODEV;
	}
	stls__hsm_err_set(err, cause, "%s: %s", stls_hsm_cause_names[cause],
			  why);
	return stls__hsm_cause_errno(cause);
}

static int store_load(const char *uri, const char *pin, EVP_PKEY **out,
		      struct stls_hsm_err *err)
{
	struct stls__hsm_pin ask = { pin, false };
	OSSL_STORE_CTX *st;
	EVP_PKEY *k = NULL;
	int rc;

	ERR_clear_error();
	if (stls_p11uri_is(uri) && !has_loader("pkcs11")) {
		ERR_raise(ERR_LIB_OSSL_STORE, OSSL_STORE_R_UNREGISTERED_SCHEME);
		return store_failed(uri, err);
	}
	st = OSSL_STORE_open(uri, stls__hsm_ui(), &ask, NULL, NULL);
	if (!st) {
		return store_failed(uri, err);
	}
	/* Not every loader can filter; first_key() skips other objects. */
	(void)OSSL_STORE_expect(st, OSSL_STORE_INFO_PKEY);
	k = first_key(st);
	OSSL_STORE_close(st);
	if (k) {
		ERR_clear_error();
		*out = k;
		return 0;
	}
	if (ERR_peek_error()) {
		rc = store_failed(uri, err);
	} else {
		stls__hsm_err_set(err, STLS_HSM_KEY_NOT_FOUND,
				  "key not found: the store holds no private "
				  "key there");
		rc = -ENOENT;
	}
	if (ask.asked && !pin) {
		err->cause = STLS_HSM_PIN_MISSING;
		rc = -EACCES;
	}
	return rc;
}

const struct stls__hsm_source stls__hsm_store_source = {
	.name = "store",
	.start = NULL,
	.load = store_load,
	.stop = NULL,
};
