/*
 * Library contexts of the threads that parse ahead (profile_ahead.c).
 *
 * On OpenSSL 3.0 every certificate decoded assembles a decoder for its
 * public key from the method store and name map of its library context,
 * under their locks. Two threads decoding in one context spend their
 * time passing those locks between cores (docs/performance.md, "10,000
 * tenants": 4,000 certificates take 0.38 s on one thread, 0.58 s on two
 * in the default context, 0.20 s on two with a context each). So each
 * parsing slot has a library context of its own, with OpenSSL's default
 * provider, made at its first use and kept for the life of the process:
 * the certificates parsed in it point into it (their public keys, their
 * fetches), and live in the file cache and the sets for as long as
 * anything uses them.
 *
 * Only certificates are parsed there; private keys stay in the default
 * context, where the handshake signs with them. A certificate's public
 * key is compared with its private key across the two contexts: OpenSSL
 * exports the public key to the private key's key manager for that, at
 * the first comparison, and keeps the copy on the key (its operation
 * cache), so a mismatch is found as before.
 *
 * For a parse in a fresh context to mean what it means in the default
 * one, the default context must offer nothing but OpenSSL's own default
 * (and base) provider, not in FIPS mode, and no engine may be configured
 * (an engine can claim a key type for every context). Otherwise
 * stls__libctx_private_ok() says no, and the threads parse in the default
 * context as they did before.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "tls/profile_int.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(OSSL_LIB_CTX *) slots[STLS__LIBCTX_SLOTS];

/* Counts the default context's providers that are not OpenSSL's own. */
static int foreign_provider(OSSL_PROVIDER *p, void *arg)
{
	const char *name = OSSL_PROVIDER_get0_name(p);

	if (strcmp(name, "default") != 0 && strcmp(name, "base") != 0) {
		(*(int *)arg)++;
	}
	return 1;
}

bool stls__libctx_private_ok(const struct stls_settings *s)
{
	int foreign = 0;

	if (has_str(s->engine) ||
	    EVP_default_properties_is_fips_enabled(NULL)) {
		return false;
	}
	/* Loads the fallback (default) provider when none is loaded yet,
	 * as the first fetch would. */
	if (OSSL_PROVIDER_do_all(NULL, foreign_provider, &foreign) != 1) {
		ERR_clear_error();
		return false;
	}
	return foreign == 0;
}

/* A new context with the default provider, or NULL. */
static OSSL_LIB_CTX *make(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	/* The provider stays loaded with the context, which is never
	 * freed: its handle is not kept. */
	if (ctx && !OSSL_PROVIDER_load(ctx, "default")) {
		OSSL_LIB_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_clear_error();
	return ctx;
}

OSSL_LIB_CTX *stls__libctx_slot(unsigned slot)
{
	OSSL_LIB_CTX *ctx;

	if (slot >= STLS__LIBCTX_SLOTS) {
		return NULL;
	}
	ctx = atomic_load(&slots[slot]);
	if (ctx) {
		return ctx;
	}
	pthread_mutex_lock(&lock);
	ctx = atomic_load(&slots[slot]);
	if (!ctx && (ctx = make()) != NULL) {
		atomic_store(&slots[slot], ctx);
	}
	pthread_mutex_unlock(&lock);
	return ctx;
}
