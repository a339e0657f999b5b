/*
 * Server contexts prepared for the record hand-off (stls/conn.h,
 * stls_conn_ctx_apply(); docs/engine.md).
 *
 * A prepared SSL_CTX carries, in its ex-data, the record layers'
 * algorithms fetched once with the context's library context and property
 * query (rec_algs.c), and the key-log callback of an operator, if any. Our
 * key-log callback (the only way OpenSSL 3.0 gives out TLS 1.3 traffic
 * secrets) takes the context's slot and calls the operator's first, for
 * every line, so that debugging with a key log still works; then it hands
 * the line to the hand-off (conn_handoff.c), which ignores connections
 * that keep their SSL. OpenSSL formats key-log lines for every connection
 * of a context that has a callback, so contexts whose connections never
 * hand off should not be prepared (profiles: `record_handoff` in the
 * settings).
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <pthread.h>

#include <openssl/crypto.h>

struct stls_ctx_prep {
	struct stls_rec_algs algs;         /* references */
	SSL_CTX_keylog_cb_func user_keylog; /* the operator's, or NULL */
};

static int prep_idx = -1;
static pthread_once_t prep_once = PTHREAD_ONCE_INIT;

static void prep_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		      long argl, void *argp)
{
	struct stls_ctx_prep *p = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (p) {
		stls__rec_algs_free(&p->algs);
		OPENSSL_free(p);
	}
}

static void prep_idx_init(void)
{
	prep_idx = SSL_CTX_get_ex_new_index(0, "stls_ctx_prep", NULL, NULL,
					    prep_free);
}

static struct stls_ctx_prep *prep_of(const SSL_CTX *ctx)
{
	pthread_once(&prep_once, prep_idx_init);
	return prep_idx < 0 ? NULL : SSL_CTX_get_ex_data(ctx, prep_idx);
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	const struct stls_ctx_prep *p = prep_of(SSL_get_SSL_CTX(ssl));

	if (p && p->user_keylog) {
		p->user_keylog(ssl, line);
	}
	stls__conn_keylog(ssl, line);
}

/*
 * The algorithms of a context prepared by stls_conn_ctx_apply_ex() and
 * still holding our key-log callback, or NULL (not prepared, or someone
 * replaced the callback since: no secrets reach the hand-off then).
 * Borrowed: valid while ctx lives. Any thread.
 */
const struct stls_rec_algs *stls__ctx_algs(const SSL_CTX *ctx)
{
	const struct stls_ctx_prep *p = prep_of(ctx);

	if (!p || SSL_CTX_get_keylog_callback(ctx) != keylog_cb) {
		return NULL;
	}
	return &p->algs;
}

/* True when ctx was prepared at all (even if its callback was replaced). */
bool stls__ctx_was_prepared(const SSL_CTX *ctx)
{
	return prep_of(ctx) != NULL;
}

int stls_conn_ctx_apply_ex(SSL_CTX *ctx, OSSL_LIB_CTX *libctx,
			   const char *propq)
{
	SSL_CTX_keylog_cb_func cur = SSL_CTX_get_keylog_callback(ctx);
	struct stls_ctx_prep *p = prep_of(ctx), *n;
	int err;

	if (prep_idx < 0) {
		return -ENOMEM;
	}
	n = OPENSSL_zalloc(sizeof(*n));
	if (!n) {
		return -ENOMEM;
	}
	err = stls__rec_algs_fetch(&n->algs, libctx, propq);
	if (err) {
		OPENSSL_free(n);
		return err;
	}
	/* An operator's callback already set keeps being called. */
	n->user_keylog = cur != keylog_cb ? cur : p ? p->user_keylog : NULL;
	if (!SSL_CTX_set_ex_data(ctx, prep_idx, n)) {
		prep_free(NULL, n, NULL, 0, 0, NULL);
		return -ENOMEM;
	}
	/* The old block, if any (applied twice): ours to free now. */
	prep_free(NULL, p, NULL, 0, 0, NULL);
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

int stls_conn_ctx_apply(SSL_CTX *ctx)
{
	return stls_conn_ctx_apply_ex(ctx, NULL, NULL);
}

void stls_conn_ctx_set_keylog(SSL_CTX *ctx, SSL_CTX_keylog_cb_func cb)
{
	struct stls_ctx_prep *p = prep_of(ctx);

	if (p && SSL_CTX_get_keylog_callback(ctx) == keylog_cb) {
		p->user_keylog = cb;
	} else {
		SSL_CTX_set_keylog_callback(ctx, cb);
	}
}
