/*
 * Test helper for the TLS engine: SSL_CTX construction from the test PKI
 * and in-memory client/server pairs where both sides are engines. Ciphertext
 * moves whole, one byte at a time, or in seeded random splits.
 * Header-only (static functions) so each test binary stays one file.
 */
#ifndef STLS_TEST_TLS_PAIR_H
#define STLS_TEST_TLS_PAIR_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "stls/conn.h"
#include "test.h"

#define UNUSED __attribute__((unused))

enum split { SPLIT_WHOLE, SPLIT_ONE, SPLIT_RANDOM };

/* verify_client as the seed maps it (behaviour study 5.1). */
enum vmode { VM_OFF, VM_ON, VM_OPTIONAL, VM_OPTIONAL_NO_CA };

static int accept_all_cb(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static UNUSED void settings_default(struct stls_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->con_ct_wq_max = 65536;
	s->ct_wq_max = 10485760;
	s->ct_wq_blk_size = 4096;
}

/* A context for role with cert/key (NULL = none), trusting ca.pem, TLS
 * versions [minv, maxv]. */
static UNUSED SSL_CTX *ctx_new(enum stls_role role, const char *cert,
			       const char *key, int minv, int maxv)
{
	SSL_CTX *ctx = SSL_CTX_new(role == STLS_ROLE_SERVER ? TLS_server_method()
							    : TLS_client_method());

	CHECK_NOT_NULL(ctx);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	CHECK(SSL_CTX_set_min_proto_version(ctx, minv));
	CHECK(SSL_CTX_set_max_proto_version(ctx, maxv));
	if (cert) {
		CHECK(SSL_CTX_use_certificate_chain_file(ctx,
							 test_cert_path(cert)));
		CHECK(SSL_CTX_use_PrivateKey_file(ctx, test_cert_path(key),
						  SSL_FILETYPE_PEM));
	}
	CHECK(SSL_CTX_load_verify_locations(ctx, test_cert_path("ca.pem"),
					    NULL));
	if (role == STLS_ROLE_SERVER) {
		/* As profile contexts: TLS 1.3 servers hand off records. */
		CHECK_OK(stls_conn_ctx_apply(ctx));
	}
	return ctx;
}

static UNUSED void ctx_set_vmode(SSL_CTX *ctx, enum vmode m)
{
	static const int modes[] = {
		[VM_OFF] = SSL_VERIFY_NONE,
		[VM_ON] = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		[VM_OPTIONAL] = SSL_VERIFY_PEER,
		[VM_OPTIONAL_NO_CA] = SSL_VERIFY_PEER,
	};

	SSL_CTX_set_verify(ctx, modes[m],
			   m == VM_OPTIONAL_NO_CA ? accept_all_cb : NULL);
}

static UNUSED void ctx_add_crl(SSL_CTX *ctx, const char *crl)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);

	CHECK(X509_STORE_load_file(st, test_cert_path(crl)));
	CHECK(X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
					       X509_V_FLAG_CRL_CHECK_ALL));
}

struct end {
	struct stls_conn *conn;
	unsigned char rx[262144];
	size_t rxlen;
	enum stls_io last;
};

struct pair {
	SSL_CTX *sctx, *cctx;
	struct stls_settings set;
	struct end s, c;
	enum split split;
	unsigned seed;
	bool use_feed; /* alternate the copying feed() path */
	bool keep_ssl; /* servers keep their SSL (no record hand-off) */
};

/* Engine for role over a new SSL from ctx. */
static UNUSED struct stls_conn *conn_make(struct pair *p, SSL_CTX *ctx,
					  enum stls_role role,
					  const char *sni, const char *vname)
{
	struct stls_conn_opts o = { 0 };
	struct stls_conn *c = NULL;

	o.role = role;
	o.ssl = SSL_new(ctx);
	CHECK_NOT_NULL(o.ssl);
	o.sni = sni;
	o.verify_name = vname;
	o.settings = &p->set;
	o.keep_ssl = p->keep_ssl;
	CHECK_OK(stls_conn_new(&o, &c, NULL));
	return c;
}

static UNUSED void pair_init(struct pair *p, const char *cert,
			     const char *key, int minv, int maxv)
{
	memset(p, 0, sizeof(*p));
	settings_default(&p->set);
	p->sctx = ctx_new(STLS_ROLE_SERVER, cert, key, minv, maxv);
	p->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, minv, maxv);
	p->seed = 1;
}

static UNUSED void pair_start(struct pair *p, const char *sni,
			      const char *vname)
{
	p->s.conn = conn_make(p, p->sctx, STLS_ROLE_SERVER, NULL, NULL);
	p->c.conn = conn_make(p, p->cctx, STLS_ROLE_CLIENT, sni, vname);
}

static UNUSED void pair_fini(struct pair *p)
{
	stls_conn_free(p->s.conn);
	stls_conn_free(p->c.conn);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
}

static size_t next_chunk(struct pair *p, size_t left)
{
	size_t k;

	if (p->split == SPLIT_WHOLE) {
		return left;
	}
	if (p->split == SPLIT_ONE) {
		return 1;
	}
	k = 1 + (size_t)(rand_r(&p->seed) % 700);
	return k < left ? k : left;
}

/* Feed one chunk into `to` and collect its plaintext. */
static void feed_chunk(struct pair *p, struct end *to, const void *d,
		       size_t n)
{
	size_t cap = sizeof(to->rx) - to->rxlen, got = 0;
	unsigned guard = 0;

	if (p->use_feed) {
		CHECK_OK(stls_conn_feed(to->conn, d, n));
		to->last = stls_conn_drain(to->conn, to->rx + to->rxlen, cap,
					   &got);
	} else {
		to->last = stls_conn_feed_drain(to->conn, d, n,
						to->rx + to->rxlen, cap, &got);
	}
	to->rxlen += got;
	while (to->last == STLS_IO_DONE && to->rxlen < sizeof(to->rx) &&
	       guard++ < 100) {
		to->last = stls_conn_drain(to->conn, to->rx + to->rxlen,
					   sizeof(to->rx) - to->rxlen, &got);
		to->rxlen += got;
	}
}

/* Move everything `from` has to send into `to`. Returns bytes moved. */
static UNUSED size_t xfer(struct pair *p, struct end *from, struct end *to)
{
	size_t moved = 0;
	unsigned guard = 0;

	while (stls_conn_get_pending_out(from->conn) && guard++ < 100000) {
		size_t n, k;
		const unsigned char *d = stls_conn_peek(from->conn, &n);

		k = next_chunk(p, n);
		if (to->conn) {
			feed_chunk(p, to, d, k);
		}
		stls_conn_consume(from->conn, k);
		moved += k;
	}
	return moved;
}

static UNUSED bool handshaking(struct stls_conn *c)
{
	enum stls_conn_state st = stls_conn_get_state(c);

	return st == STLS_CONN_ACCEPTING || st == STLS_CONN_CONNECTING;
}

/* Kick both sides and move bytes until nothing moves (bounded). */
static UNUSED void pair_pump(struct pair *p)
{
	int i;

	for (i = 0; i < 10000; i++) {
		size_t got = 0, moved;

		if (handshaking(p->c.conn)) {
			p->c.last = stls_conn_drain(p->c.conn, NULL, 0, &got);
		}
		moved = xfer(p, &p->c, &p->s);
		moved += xfer(p, &p->s, &p->c);
		p->use_feed = p->split == SPLIT_RANDOM && (i & 1);
		if (!moved) {
			return;
		}
	}
	CHECK(!"pair_pump did not settle");
}

/*
 * A finished mutual handshake at version <ver>: server sip.example.test
 * (server.pem, verify_client on), client alice with client.pem, SNI
 * sip.example.test. The facts are stls_conn_get_facts() of p->s.conn and
 * p->c.conn.
 */
static UNUSED void pair_mutual(struct pair *p, int ver)
{
	pair_init(p, "server.pem", "server.key", ver, ver);
	ctx_set_vmode(p->sctx, VM_ON);
	CHECK(SSL_CTX_use_certificate_file(p->cctx,
					   test_cert_path("client.pem"),
					   SSL_FILETYPE_PEM));
	CHECK(SSL_CTX_use_PrivateKey_file(p->cctx,
					  test_cert_path("client.key"),
					  SSL_FILETYPE_PEM));
	pair_start(p, "sip.example.test", "example.test");
	pair_pump(p);
	CHECK_EQ(stls_conn_get_state(p->s.conn), STLS_CONN_ESTABLISHED);
	CHECK_NOT_NULL(stls_conn_get_facts(p->s.conn));
	CHECK_NOT_NULL(stls_conn_get_facts(p->c.conn));
}

static UNUSED void pair_send(struct pair *p, struct end *from,
			     const void *d, size_t n)
{
	CHECK_EQ(stls_conn_push(from->conn, d, n), (long long)n);
	pair_pump(p);
}

#endif
