/*
 * Unit tests for lib/tls/conn_ctx.c: preparing a server SSL_CTX for the
 * record hand-off. An operator's key-log callback is kept and called for
 * every line whether it was set before or after (before the fix
 * stls_conn_ctx_apply() refused with -EBUSY), replacing our callback
 * stops the hand-off; the record layers' algorithms come from the library
 * context and property query given (the provider objects of a library
 * context of our own), and a query no provider answers is refused.
 */
#include "lib/tls/tls_pair.h"

#include <openssl/provider.h>

#include "tls/tls_int.h"

static int lines;

static void operator_keylog(const SSL *ssl, const char *line)
{
	(void)ssl;
	CHECK(strlen(line) > 64);
	lines++;
}

/* A handshake (version ver) against sctx; returns the server engine
 * (the caller frees it). */
static struct stls_conn *handshake(SSL_CTX *sctx, int ver)
{
	SSL_CTX *cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, ver, ver);
	static struct pair p;
	struct stls_conn *s;

	memset(&p, 0, sizeof(p));
	settings_default(&p.set);
	p.sctx = sctx;
	p.cctx = cctx;
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_ESTABLISHED);
	CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_ESTABLISHED);
	s = p.s.conn;
	stls_conn_free(p.c.conn);
	SSL_CTX_free(cctx);
	return s;
}

TEST(operator_keylog_set_before_apply_is_kept)
{
	SSL_CTX *ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			       TLS1_3_VERSION, TLS1_3_VERSION);
	struct stls_conn *s;

	SSL_CTX_set_keylog_callback(ctx, operator_keylog);
	CHECK_OK(stls_conn_ctx_apply(ctx));
	lines = 0;
	s = handshake(ctx, TLS1_3_VERSION);
	CHECK(stls_conn_is_handed_off(s));
	/* Handshake and application secrets of both sides, exporter. */
	CHECK_EQ(lines, 5);
	stls_conn_free(s);
	SSL_CTX_free(ctx);
}

TEST(operator_keylog_attached_after_apply)
{
	SSL_CTX *ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			       TLS1_2_VERSION, TLS1_3_VERSION);
	struct stls_conn *s;
	int ver;

	stls_conn_ctx_set_keylog(ctx, operator_keylog);
	for (ver = TLS1_2_VERSION; ver <= TLS1_3_VERSION; ver++) {
		lines = 0;
		s = handshake(ctx, ver);
		CHECK(stls_conn_is_handed_off(s));
		CHECK_EQ(lines, ver == TLS1_3_VERSION ? 5 : 1);
		stls_conn_free(s);
	}
	/* Detached: the hand-off goes on alone. */
	stls_conn_ctx_set_keylog(ctx, NULL);
	lines = 0;
	s = handshake(ctx, TLS1_3_VERSION);
	CHECK(stls_conn_is_handed_off(s));
	CHECK_EQ(lines, 0);
	stls_conn_free(s);
	SSL_CTX_free(ctx);
}

/* Our callback replaced behind our back: connections keep their SSL. */
TEST(replaced_keylog_callback_keeps_the_ssl)
{
	SSL_CTX *ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			       TLS1_2_VERSION, TLS1_3_VERSION);
	struct stls_conn *s;
	int ver;

	SSL_CTX_set_keylog_callback(ctx, operator_keylog);
	for (ver = TLS1_2_VERSION; ver <= TLS1_3_VERSION; ver++) {
		s = handshake(ctx, ver);
		CHECK(!stls_conn_is_handed_off(s));
		stls_conn_free(s);
	}
	SSL_CTX_free(ctx);
}

/*
 * The algorithms come from the library context given: in a context of
 * our own with the default provider loaded, the handed-off connection's
 * cipher and digest belong to that provider object, not to the process
 * default's.
 */
TEST(algorithms_from_the_given_library_context)
{
	OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *prov = lc ? OSSL_PROVIDER_load(lc, "default") : NULL;
	SSL_CTX *ctx;
	struct stls_conn *s;
	int ver;

	CHECK(prov != NULL);
	for (ver = TLS1_2_VERSION; ver <= TLS1_3_VERSION; ver++) {
		ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			      ver, ver);
		CHECK_OK(stls_conn_ctx_apply_ex(ctx, lc, "provider=default"));
		s = handshake(ctx, ver);
		CHECK(stls_conn_is_handed_off(s));
		CHECK(EVP_CIPHER_get0_provider(s->rec->cipher) == prov);
		CHECK(EVP_MD_get0_provider(s->rec->md) == prov);
		stls_conn_free(s);
		/* The default context's algorithms by default. */
		CHECK_OK(stls_conn_ctx_apply(ctx));
		s = handshake(ctx, ver);
		CHECK(stls_conn_is_handed_off(s));
		CHECK(EVP_CIPHER_get0_provider(s->rec->cipher) != prov);
		stls_conn_free(s);
		SSL_CTX_free(ctx);
	}
	OSSL_PROVIDER_unload(prov);
	OSSL_LIB_CTX_free(lc);
}

/* A property query no provider answers: refused, nothing changed. */
TEST(query_without_algorithms_refused)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	CHECK(ctx != NULL);
	CHECK_EQ(stls_conn_ctx_apply_ex(ctx, NULL, "provider=nowhere"),
		 -ENOENT);
	CHECK_NULL(SSL_CTX_get_keylog_callback(ctx));
	SSL_CTX_free(ctx);
}
