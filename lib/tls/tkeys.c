/*
 * Session ticket key rings (stls/tkeys.h).
 *
 * OpenSSL asks for ticket keys through the callback of
 * SSL_CTX_set_tlsext_ticket_key_evp_cb() (the EVP form: the deprecated
 * HMAC_CTX form is compiled out here). For a new ticket the callback names
 * the key, draws the IV and sets up AES-256-CBC and HMAC-SHA256 with the
 * ENCRYPT key; for a ticket a client offers it finds the key by its name,
 * or answers 0 so that the handshake goes on in full (RFC 5077 section
 * 3.3: a ticket the server cannot use is not an error).
 *
 * Each server context holds a reference on its ring in its ex_data,
 * dropped by OpenSSL's free callback when the context goes, so a ring
 * lives as long as the last set that uses it. The keys sit behind a
 * reader-writer lock; a handshake copies the one key it needs to its stack
 * (wiped after use) and never holds the lock across an OpenSSL call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "stls/tkeys.h"
#include "tls/profile_int.h"

struct stls_tkeys {
	atomic_uint refs;
	pthread_rwlock_t lock;
	size_t n;
	struct stls_tkey keys[STLS_TKEYS_MAX];
	enum stls_tkey_use use[STLS_TKEYS_MAX];
	atomic_uint_fast64_t issued, opened, renewed, unknown, updates;
};

static pthread_once_t tk_once = PTHREAD_ONCE_INIT;
static int tk_idx = -1;
static EVP_CIPHER *tk_aes;

static void tk_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	stls_tkeys_unref(ptr);
}

static void tk_init(void)
{
	tk_idx = SSL_CTX_get_ex_new_index(0, "stls_tkeys", NULL, NULL,
					  tk_ctx_free);
	tk_aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	ERR_clear_error();
}

static bool tk_ready(void)
{
	return pthread_once(&tk_once, tk_init) == 0 && tk_idx >= 0 && tk_aes;
}

int stls_tkey_generate(struct stls_tkey *k)
{
	if (RAND_priv_bytes((unsigned char *)k, (int)sizeof(*k)) != 1) {
		ERR_clear_error();
		stls_tkey_wipe(k);
		return -EIO;
	}
	return 0;
}

void stls_tkey_wipe(struct stls_tkey *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

void stls_tkey_to_hex(const struct stls_tkey *k, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 15];
	}
	buf[2 * sizeof(*k)] = '\0';
}

int stls_tkey_from_hex(const char *hex, struct stls_tkey *k)
{
	uint8_t *p = (uint8_t *)k;
	size_t i;
	int hi, lo;

	if (!hex || strlen(hex) != STLS_TKEY_HEX_LEN) {
		stls_tkey_wipe(k);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(*k); i++) {
		hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			stls_tkey_wipe(k);
			return -EINVAL;
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int stls_tkeys_new(struct stls_tkeys **out)
{
	struct stls_tkeys *tk = calloc(1, sizeof(*tk));

	if (!tk) {
		return -ENOMEM;
	}
	if (pthread_rwlock_init(&tk->lock, NULL) != 0) {
		free(tk);
		return -ENOMEM;
	}
	atomic_init(&tk->refs, 1);
	*out = tk;
	return 0;
}

struct stls_tkeys *stls_tkeys_ref(struct stls_tkeys *tk)
{
	atomic_fetch_add_explicit(&tk->refs, 1, memory_order_relaxed);
	return tk;
}

void stls_tkeys_unref(struct stls_tkeys *tk)
{
	if (!tk ||
	    atomic_fetch_sub_explicit(&tk->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	OPENSSL_cleanse(tk->keys, sizeof(tk->keys));
	pthread_rwlock_destroy(&tk->lock);
	free(tk);
}

int stls_tkeys_set(struct stls_tkeys *tk, const struct stls_tkey *keys,
		   const enum stls_tkey_use *use, size_t n)
{
	size_t i, enc = 0;

	if (n > STLS_TKEYS_MAX || (n && (!keys || !use))) {
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		enc += use[i] == STLS_TKEY_ENCRYPT;
		if (use[i] > STLS_TKEY_RENEW) {
			return -EINVAL;
		}
	}
	if (enc > 1) {
		return -EINVAL;
	}
	pthread_rwlock_wrlock(&tk->lock);
	OPENSSL_cleanse(tk->keys, sizeof(tk->keys));
	if (n) {
		memcpy(tk->keys, keys, n * sizeof(*keys));
		memcpy(tk->use, use, n * sizeof(*use));
	}
	tk->n = n;
	pthread_rwlock_unlock(&tk->lock);
	atomic_fetch_add_explicit(&tk->updates, 1, memory_order_relaxed);
	return 0;
}

size_t stls_tkeys_count(struct stls_tkeys *tk)
{
	size_t n;

	pthread_rwlock_rdlock(&tk->lock);
	n = tk->n;
	pthread_rwlock_unlock(&tk->lock);
	return n;
}

void stls_tkeys_stats(struct stls_tkeys *tk, struct stls_tkeys_stats *out)
{
	out->issued = atomic_load_explicit(&tk->issued, memory_order_relaxed);
	out->opened = atomic_load_explicit(&tk->opened, memory_order_relaxed);
	out->renewed =
		atomic_load_explicit(&tk->renewed, memory_order_relaxed);
	out->unknown =
		atomic_load_explicit(&tk->unknown, memory_order_relaxed);
	out->updates =
		atomic_load_explicit(&tk->updates, memory_order_relaxed);
}

/*
 * Copies the key to use into *k: the ENCRYPT key (enc), or the key named
 * <name>. Returns its use, or -1 when there is none.
 */
static int pick(struct stls_tkeys *tk, bool enc, const unsigned char *name,
		struct stls_tkey *k)
{
	int use = -1;
	size_t i;

	pthread_rwlock_rdlock(&tk->lock);
	for (i = 0; i < tk->n && use < 0; i++) {
		if (enc ? tk->use[i] == STLS_TKEY_ENCRYPT
			: memcmp(tk->keys[i].name, name,
				 STLS_TKEY_NAME_LEN) == 0) {
			*k = tk->keys[i];
			use = (int)tk->use[i];
		}
	}
	pthread_rwlock_unlock(&tk->lock);
	return use;
}

/* HMAC-SHA256 with the key's MAC key on <hctx>. */
static bool set_mac(EVP_MAC_CTX *hctx, struct stls_tkey *k)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac,
						  sizeof(k->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

/*
 * OpenSSL's ticket key callback. Encrypting: 1 with a ticket set up, 0 for
 * no ticket. Decrypting: 1 (use it), 2 (use it and issue a new one), 0
 * (unknown key: full handshake). Failures of OpenSSL calls give 0 too, so
 * that a ticket never fails a handshake.
 */
static int tk_cb(SSL *ssl, unsigned char name[STLS_TKEY_NAME_LEN],
		 unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
		 int enc)
{
	struct stls_tkeys *tk =
		SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tk_idx);
	struct stls_tkey k;
	int use, rc = 0;

	if (!tk) {
		return 0;
	}
	use = pick(tk, enc, name, &k);
	if (use < 0) {
		if (!enc) {
			atomic_fetch_add_explicit(&tk->unknown, 1,
						  memory_order_relaxed);
		}
		return 0;
	}
	if (enc) {
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(tk_aes)) == 1 &&
		    EVP_EncryptInit_ex2(cctx, tk_aes, k.aes, iv, NULL) == 1 &&
		    set_mac(hctx, &k)) {
			memcpy(name, k.name, STLS_TKEY_NAME_LEN);
			atomic_fetch_add_explicit(&tk->issued, 1,
						  memory_order_relaxed);
			rc = 1;
		}
	} else if (EVP_DecryptInit_ex2(cctx, tk_aes, k.aes, iv, NULL) == 1 &&
		   set_mac(hctx, &k)) {
		atomic_fetch_add_explicit(&tk->opened, 1, memory_order_relaxed);
		rc = 1;
		if (use == STLS_TKEY_RENEW) {
			atomic_fetch_add_explicit(&tk->renewed, 1,
						  memory_order_relaxed);
			rc = 2;
		}
	}
	stls_tkey_wipe(&k);
	if (!rc) {
		ERR_clear_error();
	}
	return rc;
}

int stls_profile_set_use_tkeys(struct stls_profile_set *set,
			       struct stls_tkeys *tk)
{
	struct stls_tkeys *old;
	SSL_CTX *ctx;
	size_t i;

	if (!tk_ready()) {
		return -ENOMEM;
	}
	for (i = 0; i < set->n; i++) {
		ctx = set->v[i].ctx;
		old = SSL_CTX_get_ex_data(ctx, tk_idx);
		if (set->v[i].conf.role != STLS_ROLE_SERVER || old == tk) {
			continue; /* a client, or a context shared earlier */
		}
		/* The context's reference: released by tk_ctx_free(). */
		if (!SSL_CTX_set_ex_data(ctx, tk_idx, stls_tkeys_ref(tk))) {
			stls_tkeys_unref(tk);
			ERR_clear_error();
			return -ENOMEM;
		}
		stls_tkeys_unref(old); /* a ring given before: replaced */
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tk_cb);
	}
	return 0;
}
