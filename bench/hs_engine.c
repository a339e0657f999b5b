/*
 * hs_engine: what siptls itself adds to a TLS handshake, without sockets.
 * A plain OpenSSL client and a server handshake over memory in one thread,
 * like hs_floor, and only the server-side calls are timed
 * (CLOCK_THREAD_CPUTIME_ID). Three servers, one certificate:
 *
 *   floor   a bare SSL_CTX (hs_floor's settings, the profile's ticket
 *           count and session cache), plain SSL_do_handshake();
 *   ctx     the SSL_CTX a siptls profile builds (stls_profile_set_build()
 *           in the seed's modparam mode), plain SSL_do_handshake();
 *   engine  the same profile through stls_profile_ssl_new() and the
 *           connection engine (stls_conn_*), facts included.
 *
 * ctx - floor is what the profile's OpenSSL settings cost; engine - ctx is
 * what our code costs. For callgrind, the server calls run inside the
 * functions srv_* (--toggle-collect='srv_*' counts only those).
 *
 * Usage: hs_engine CERT KEY [1.2|1.3] [COUNT] [MODE] [CACHE] [CA_LIST]
 * (MODE: floor, ctx, engine or all; CACHE: 0 or 1, the session cache;
 * CA_LIST: the profile's ca_list, also loaded into the floor's store,
 * where OpenSSL searches for the server's chain at every handshake).
 * With HS_RESUME=1 in the environment every timed handshake resumes the
 * session of one untimed full handshake: TLS 1.3 tickets, or for TLS 1.2
 * the session-id cache (the client sets SSL_OP_NO_TICKET; give CACHE 1).
 * The profile is prepared for the record hand-off (siptlsd's
 * tls_record_handoff = yes) unless HS_KEEP_SSL=1 is set.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem_tls.h"
#include "stls/conn.h"
#include "stls/profile.h"
#include "stls/settings.h"

#define NOINLINE __attribute__((noinline))

struct srv {
	SSL *ssl;                 /* floor, ctx */
	struct stls_conn *conn;   /* engine */
	bool done;
};

static const struct stls_profile *prof;
static bool resume;       /* HS_RESUME=1: offer the first session again */
static SSL_SESSION *sess; /* the client's session to offer */
static struct stls_settings set;
static unsigned char plain[16384];

static NOINLINE int srv_new(struct srv *s, SSL_CTX *ctx, bool engine)
{
	if (!engine) {
		s->ssl = SSL_new(ctx);
		if (!s->ssl) {
			return -ENOMEM;
		}
		SSL_set_bio(s->ssl, BIO_new(BIO_s_mem()),
			    BIO_new(BIO_s_mem()));
		SSL_set_accept_state(s->ssl);
		return 0;
	}
	return bench_conn_server(prof, &set, &s->conn);
}

/* Feeds the client's bytes to the server and sends its answer back. */
static NOINLINE int srv_step(struct srv *s, BIO *c2s, BIO *s2c)
{
	if (s->ssl) {
		bench_bio_move(c2s, SSL_get_rbio(s->ssl));
		if (!s->done) {
			s->done = SSL_do_handshake(s->ssl) == 1;
		}
		bench_bio_move(SSL_get_wbio(s->ssl), s2c);
		return 0;
	}
	if (bench_conn_feed(s->conn, c2s, plain, sizeof(plain), NULL) != 0) {
		return -EPROTO;
	}
	bench_conn_flush(s->conn, s2c);
	s->done = stls_conn_get_state(s->conn) == STLS_CONN_ESTABLISHED;
	return 0;
}

static NOINLINE void srv_free(struct srv *s)
{
	if (s->conn) {
		stls_conn_close(s->conn);
		stls_conn_free(s->conn);
	}
	if (s->ssl && s->done) {
		/* A clean end keeps the session resumable (as the engine). */
		SSL_set_shutdown(s->ssl,
				 SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	}
	SSL_free(s->ssl);
}

/* One full handshake; adds the server's CPU to *cpu. */
static int one(SSL_CTX *sctx, SSL_CTX *cctx, bool engine, double *cpu)
{
	SSL *cl = SSL_new(cctx);
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	struct srv s = { 0 };
	bool cdone = false;
	double t0;
	int i, err;

	if (!cl || !c2s || !s2c) {
		return -ENOMEM;
	}
	BIO_up_ref(c2s);
	BIO_up_ref(s2c);
	SSL_set_bio(cl, s2c, c2s); /* the SSL holds one reference each */
	SSL_set_connect_state(cl);
	if (sess) {
		SSL_set_session(cl, sess);
	}
	t0 = bench_thread_cpu();
	err = srv_new(&s, sctx, engine);
	*cpu += bench_thread_cpu() - t0;
	for (i = 0; i < 20 && !err && !(cdone && s.done); i++) {
		if (!cdone) {
			cdone = SSL_do_handshake(cl) == 1;
		}
		t0 = bench_thread_cpu();
		err = srv_step(&s, c2s, s2c);
		*cpu += bench_thread_cpu() - t0;
	}
	if (!err) {
		(void)SSL_read(cl, plain, 1); /* take the tickets */
		if (resume && !sess) {
			sess = SSL_get1_session(cl);
		} else if (resume && !SSL_session_reused(cl)) {
			err = -EPROTO; /* a resumption was expected */
		}
	}
	t0 = bench_thread_cpu();
	srv_free(&s);
	*cpu += bench_thread_cpu() - t0;
	if (cdone) {
		SSL_set_shutdown(cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	}
	SSL_free(cl);
	BIO_free(c2s);
	BIO_free(s2c);
	return err || !(cdone && s.done) ? -EPROTO : 0;
}

/* The floor context; <ca> (may be NULL) goes into its store, where
 * OpenSSL searches for the server's chain at every handshake. */
static SSL_CTX *floor_ctx(const char *cert, const char *key, bool cache,
			  const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || !SSL_CTX_use_certificate_chain_file(ctx, cert) ||
	    !SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) ||
	    (ca && !SSL_CTX_load_verify_locations(ctx, ca, NULL))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* The profile's default suites, as hs_floor. */
	SSL_CTX_set_ciphersuites(ctx, stls_profile_default_cipher_suites);
	SSL_CTX_set_cipher_list(ctx, stls_profile_default_cipher_list);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_num_tickets(ctx, STLS_PROFILE_NUM_TICKETS);
	SSL_CTX_set_session_cache_mode(ctx, cache ? SSL_SESS_CACHE_SERVER
						  : SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"floor", 5);
	return ctx;
}

static int profile_init(const char *cert, const char *key, bool cache,
			const char *ca, struct stls_profile_set **out)
{
	int err = bench_settings_server(&set, cert, key);

	if (err) {
		return err;
	}
	set.session_cache = cache;
	set.record_handoff = getenv("HS_KEEP_SSL") == NULL;
	set.ca_list = ca ? strdup(ca) : NULL;
	/* HS_SUITES: the profile's cipher_suites (TLS 1.3), to compare. */
	if (getenv("HS_SUITES")) {
		free(set.cipher_suites);
		set.cipher_suites = strdup(getenv("HS_SUITES"));
	}
	err = stls_profile_set_build(&set, NULL, NULL, out);
	if (err) {
		return err;
	}
	prof = stls_profile_set_default(*out, STLS_ROLE_SERVER);
	return prof ? 0 : -EINVAL;
}

static int run(const char *mode, SSL_CTX *sctx, SSL_CTX *cctx, int count)
{
	bool engine = strcmp(mode, "engine") == 0;
	double cpu = 0;
	int i;

	SSL_SESSION_free(sess);
	sess = NULL;
	if (resume && one(sctx, cctx, engine, &cpu) != 0) {
		return 1; /* the full handshake that makes the session */
	}
	cpu = 0;
	for (i = 0; i < count; i++) {
		if (one(sctx, cctx, engine, &cpu) != 0) {
			fprintf(stderr, "hs_engine: %s: handshake failed\n",
				mode);
			ERR_print_errors_fp(stderr);
			return 1;
		}
	}
	printf("RESULT label=hs_engine mode=%s resume=%d count=%d "
	       "server_cpu_us_per_hs=%.1f\n", mode, resume, count,
	       cpu / count * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ver = argc > 3 ? argv[3] : "1.3";
	int count = argc > 4 ? atoi(argv[4]) : 200;
	const char *mode = argc > 5 ? argv[5] : "all";
	bool cache = argc > 6 && atoi(argv[6]) == 1;
	const char *ca = argc > 7 ? argv[7] : NULL;
	struct stls_profile_set *ps = NULL;
	SSL_CTX *fctx, *pctx, *cctx;
	int v = strcmp(ver, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
	int bad = 0;

	if (argc < 3 || count < 1 || count > 100000) {
		fprintf(stderr, "usage: hs_engine CERT KEY [1.2|1.3] [COUNT] "
				"[floor|ctx|engine|all] [CACHE 0|1] "
				"[CA_LIST]\n");
		return 2;
	}
	fctx = floor_ctx(argv[1], argv[2], cache, ca);
	cctx = SSL_CTX_new(TLS_client_method());
	if (!fctx || !cctx || profile_init(argv[1], argv[2], cache, ca, &ps)) {
		fprintf(stderr, "hs_engine: cannot build the contexts\n");
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_min_proto_version(cctx, v);
	SSL_CTX_set_max_proto_version(cctx, v);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	resume = getenv("HS_RESUME") && atoi(getenv("HS_RESUME")) == 1;
	if (resume && v == TLS1_2_VERSION) {
		/* TLS 1.2: the session-id cache (CACHE 1), not tickets. */
		SSL_CTX_set_options(cctx, SSL_OP_NO_TICKET);
	}
	pctx = stls_profile_ssl_ctx(prof);
	if (!strcmp(mode, "floor") || !strcmp(mode, "all")) {
		bad |= run("floor", fctx, cctx, count);
	}
	if (!strcmp(mode, "ctx") || !strcmp(mode, "all")) {
		bad |= run("ctx", pctx, cctx, count);
	}
	if (!strcmp(mode, "engine") || !strcmp(mode, "all")) {
		bad |= run("engine", pctx, cctx, count);
	}
	SSL_SESSION_free(sess);
	SSL_CTX_free(fctx);
	SSL_CTX_free(cctx);
	stls_profile_set_unref(ps);
	stls_settings_fini(&set);
	return bad;
}
