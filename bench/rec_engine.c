/*
 * rec_engine: what one relayed SIP message costs the server side of an
 * established TLS connection, without sockets: the phone's record in
 * (decrypted to plaintext) and the edge's answer out (encrypted), over
 * memory in one thread. The busy hour's per-message TLS work, alone.
 *
 *   floor   a bare SSL from the profile's SSL_CTX reading from and
 *           writing to the client's own memory BIOs (no copy in
 *           between): SSL_read_ex() until it wants input,
 *           SSL_write_ex();
 *   engine  the same profile through the connection engine
 *           (stls_conn_feed_drain(), stls_conn_push(), peek/consume);
 *   handoff the engine after the record hand-off (our own record layer,
 *           opt-in: tls_record_handoff = yes).
 *
 * floor is the loop applications usually write (the error queue cleared
 * before each call, SSL_read_ex() until WANT_READ); engine - floor is
 * what the engine adds or saves per message, the engine paying besides
 * for one copy each way between the BIOs and its calls (as the daemon
 * copies between the socket and the engine). Only the server's calls are
 * timed (CLOCK_THREAD_CPUTIME_ID, itself a system call in every mode) and
 * they run inside the functions srv_*, so `valgrind --tool=callgrind
 * --toggle-collect='srv_*'` counts them (with srv_new and srv_ready,
 * once a run: take the difference of two counts to drop them and the
 * handshake):
 *
 *   build-release/bench/rec_engine CERT KEY [1.2|1.3] [COUNT] [MODE]
 *
 * Messages: a 620-byte REGISTER in, a 380-byte 200 out (bench/lg_sip.c's
 * sizes), one record each. The client is plain OpenSSL.
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
#define IN_LEN 620
#define OUT_LEN 380

struct srv {
	SSL *ssl;               /* floor */
	struct stls_conn *conn; /* engine, handoff */
};

static const struct stls_profile *prof;
static struct stls_settings set;
static unsigned char plain[16384];
static unsigned char msg_in[IN_LEN], msg_out[OUT_LEN];

/* Feeds the client's bytes to the server and sends its bytes back;
 * *got: the plaintext the server read. */
static NOINLINE int srv_feed(struct srv *s, BIO *c2s, BIO *s2c,
			     size_t *got)
{
	size_t n1;
	int rc;

	*got = 0;
	if (s->ssl) {
		/* The SSL reads c2s and writes s2c itself. */
		if (!SSL_is_init_finished(s->ssl)) {
			ERR_clear_error();
			rc = SSL_do_handshake(s->ssl);
			if (rc != 1 && SSL_get_error(s->ssl, rc) !=
					       SSL_ERROR_WANT_READ)
				return -EPROTO;
		}
		while (SSL_is_init_finished(s->ssl)) {
			ERR_clear_error();
			if (SSL_read_ex(s->ssl, plain, sizeof(plain), &n1) != 1)
				break;
			*got += n1;
		}
		return 0;
	}
	if (bench_conn_feed(s->conn, c2s, plain, sizeof(plain), got) != 0)
		return -EPROTO;
	bench_conn_flush(s->conn, s2c);
	return 0;
}

/* The server's answer: one message, encrypted and handed to s2c. */
static NOINLINE int srv_send(struct srv *s, BIO *s2c)
{
	size_t w;

	if (s->ssl) {
		ERR_clear_error();
		return SSL_write_ex(s->ssl, msg_out, sizeof(msg_out), &w) == 1
			       ? 0
			       : -EPROTO;
	}
	if (stls_conn_push(s->conn, msg_out, sizeof(msg_out)) !=
	    (ssize_t)sizeof(msg_out))
		return -EPROTO;
	bench_conn_flush(s->conn, s2c);
	return 0;
}

/* floor: an SSL on the client's BIOs (c2s to read, s2c to write). */
static int srv_new(struct srv *s, SSL_CTX *ctx, const char *mode, BIO *c2s,
		   BIO *s2c)
{
	if (!strcmp(mode, "floor")) {
		s->ssl = SSL_new(ctx);
		if (!s->ssl)
			return -ENOMEM;
		BIO_up_ref(c2s);
		BIO_up_ref(s2c);
		SSL_set_bio(s->ssl, c2s, s2c);
		SSL_set_accept_state(s->ssl);
		return 0;
	}
	return bench_conn_server(prof, &set, &s->conn);
}

static bool srv_ready(const struct srv *s)
{
	return s->ssl ? SSL_is_init_finished(s->ssl)
		      : stls_conn_get_state(s->conn) ==
				STLS_CONN_ESTABLISHED;
}

/* A client's read of everything the server sent; returns bytes read. */
static size_t cl_drain(SSL *cl)
{
	size_t n, all = 0;

	while (SSL_read_ex(cl, plain, sizeof(plain), &n) == 1)
		all += n;
	ERR_clear_error();
	return all;
}

static int run(const char *mode, SSL_CTX *sctx, SSL_CTX *cctx, int count)
{
	SSL *cl = SSL_new(cctx);
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	struct srv s = { 0 };
	double cpu = 0, t0;
	size_t got = 0, w;
	int i, err = 0;

	if (!cl || !c2s || !s2c) {
		SSL_free(cl);
		BIO_free(c2s);
		BIO_free(s2c);
		return 1;
	}
	BIO_up_ref(c2s);
	BIO_up_ref(s2c);
	SSL_set_bio(cl, s2c, c2s);
	SSL_set_connect_state(cl);
	err = srv_new(&s, sctx, mode, c2s, s2c);
	for (i = 0; i < 20 && !err && !(SSL_is_init_finished(cl) &&
					 srv_ready(&s)); i++) {
		(void)SSL_do_handshake(cl);
		err = srv_feed(&s, c2s, s2c, &got);
	}
	if (!err && srv_ready(&s) && s.conn &&
	    stls_conn_is_handed_off(s.conn) != !strcmp(mode, "handoff")) {
		fprintf(stderr, "rec_engine: %s: the record hand-off %s\n",
			mode, stls_conn_is_handed_off(s.conn) ? "happened"
							       : "did not happen");
		err = -EPROTO;
		count = 0;
	} else if (!err && srv_ready(&s)) {
		(void)cl_drain(cl); /* the tickets */
	} else {
		fprintf(stderr, "rec_engine: %s: handshake failed\n", mode);
		ERR_print_errors_fp(stderr);
		err = -EPROTO;
		count = 0;
	}
	for (i = 0; i < count && !err; i++) {
		if (SSL_write_ex(cl, msg_in, sizeof(msg_in), &w) != 1) {
			err = -EPROTO;
			break;
		}
		t0 = bench_thread_cpu();
		err = srv_feed(&s, c2s, s2c, &got);
		if (!err)
			err = srv_send(&s, s2c);
		cpu += bench_thread_cpu() - t0;
		if (!err && (got != sizeof(msg_in) ||
			     cl_drain(cl) != sizeof(msg_out)))
			err = -EPROTO;
	}
	if (err && count) {
		fprintf(stderr, "rec_engine: %s: message %d failed\n", mode,
			i);
		ERR_print_errors_fp(stderr);
	} else if (!err) {
		printf("RESULT label=rec_engine mode=%s version=%s count=%d "
		       "server_cpu_ns_per_message=%.0f\n", mode,
		       SSL_get_version(cl), count, cpu / count * 1e9);
	}
	if (s.conn) {
		stls_conn_close(s.conn);
		stls_conn_free(s.conn);
	}
	SSL_free(s.ssl);
	SSL_free(cl);
	BIO_free(c2s);
	BIO_free(s2c);
	return err ? 1 : 0;
}

static int profile_init(const char *cert, const char *key, bool handoff,
			struct stls_profile_set **out)
{
	int err = bench_settings_server(&set, cert, key);

	if (err)
		return err;
	set.record_handoff = handoff;
	err = stls_profile_set_build(&set, NULL, NULL, out);
	if (err)
		return err;
	prof = stls_profile_set_default(*out, STLS_ROLE_SERVER);
	return prof ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	const char *ver = argc > 3 ? argv[3] : "1.3";
	int count = argc > 4 ? atoi(argv[4]) : 100000;
	const char *mode = argc > 5 ? argv[5] : "all";
	static const char *const modes[] = { "floor", "engine", "handoff" };
	int v = strcmp(ver, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
	SSL_CTX *cctx;
	int bad = 0;
	size_t i;

	if (argc < 3 || count < 1 || count > 10000000 ||
	    (strcmp(mode, "all") && strcmp(mode, "floor") &&
	     strcmp(mode, "engine") && strcmp(mode, "handoff"))) {
		fprintf(stderr, "usage: rec_engine CERT KEY [1.2|1.3] [COUNT] "
				"[floor|engine|handoff|all]\n");
		return 2;
	}
	memset(msg_in, 'r', sizeof(msg_in));
	memset(msg_out, 'a', sizeof(msg_out));
	cctx = SSL_CTX_new(TLS_client_method());
	if (!cctx)
		return 1;
	SSL_CTX_set_min_proto_version(cctx, v);
	SSL_CTX_set_max_proto_version(cctx, v);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct stls_profile_set *ps = NULL;

		if (strcmp(mode, "all") && strcmp(mode, modes[i]))
			continue;
		if (profile_init(argv[1], argv[2],
				 !strcmp(modes[i], "handoff"), &ps) != 0) {
			fprintf(stderr, "rec_engine: cannot build the "
					"profile\n");
			ERR_print_errors_fp(stderr);
			stls_profile_set_unref(ps);
			stls_settings_fini(&set);
			bad = 1;
			break;
		}
		bad |= run(modes[i], stls_profile_ssl_ctx(prof), cctx, count);
		stls_profile_set_unref(ps);
		stls_settings_fini(&set);
	}
	SSL_CTX_free(cctx);
	return bad;
}
