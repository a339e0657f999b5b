/*
 * hs_floor: the OpenSSL floor under any TLS server. Client and server
 * handshake over memory BIOs in one thread; only the server-side calls
 * (SSL_new, SSL_do_handshake, SSL_free) are timed, with
 * CLOCK_THREAD_CPUTIME_ID, so the figure is the CPU a server cannot avoid
 * for one full handshake with a given profile, without sockets or an event
 * loop. A server's measured CPU per handshake minus this floor is what its
 * own machinery costs.
 *
 * The server context uses the settings a siptlsd profile uses: TLS 1.2
 * minimum, renegotiation refused, buffers released when idle, OpenSSL's
 * default groups, the profile's default cipher list and TLS 1.3 suite
 * order (the server prefers TLS_AES_128_GCM_SHA256). The matrix: TLS 1.3 and 1.2, ECDSA P-256 and
 * RSA-2048 (keys and self-signed certificates made at start), 0 or 2
 * session tickets (0 also sets SSL_OP_NO_TICKET), server session cache on or
 * off. Each cell runs --reps repetitions of --count handshakes and reports
 * the median over repetitions of the mean CPU per handshake.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "stls/profile.h"

#define MAX_REPS 101

struct cell {
	bool tls13;
	bool rsa;
	int tickets;
	bool cache;
};

static EVP_PKEY *keys[2];
static X509 *certs[2];

static X509 *self_sign(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n;

	if (!x) {
		return NULL;
	}
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"sip.example.test",
				   -1, -1, 0);
	X509_set_issuer_name(x, n);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	if (!X509_set_version(x, 2) || !X509_set_pubkey(x, k) ||
	    !X509_sign(x, k, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int make_keys(void)
{
	keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (!keys[0] || !keys[1]) {
		return -ENOMEM;
	}
	certs[0] = self_sign(keys[0]);
	certs[1] = self_sign(keys[1]);
	return certs[0] && certs[1] ? 0 : -ENOMEM;
}

static SSL_CTX *server_ctx(const struct cell *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int v = c->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v) ||
	    !SSL_CTX_use_certificate(ctx, certs[c->rsa]) ||
	    !SSL_CTX_use_PrivateKey(ctx, keys[c->rsa])) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 (c->tickets ? 0 : SSL_OP_NO_TICKET));
	if (!SSL_CTX_set_ciphersuites(ctx, stls_profile_default_cipher_suites) ||
	    !SSL_CTX_set_cipher_list(ctx, stls_profile_default_cipher_list)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_num_tickets(ctx, (size_t)c->tickets);
	SSL_CTX_set_session_cache_mode(ctx, c->cache ? SSL_SESS_CACHE_SERVER
						     : SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"floor", 5);
	return ctx;
}

static SSL_CTX *client_ctx(const struct cell *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int v = c->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

/* Moves every pending byte from one memory BIO to another. */
static void move(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		BIO_write(to, buf, n);
	}
}

/* One full handshake; adds the server's CPU to *srv. Returns 0 or -EPROTO. */
static int one(SSL_CTX *sctx, SSL_CTX *cctx, double *srv)
{
	SSL *cl = SSL_new(cctx), *sv;
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	BIO *cin = BIO_new(BIO_s_mem()), *sin = BIO_new(BIO_s_mem());
	int cdone = 0, sdone = 0, i, err = -EPROTO;
	double t0;

	t0 = bench_thread_cpu();
	sv = SSL_new(sctx);
	*srv += bench_thread_cpu() - t0;
	if (!cl || !sv || !c2s || !s2c || !cin || !sin) {
		goto out;
	}
	SSL_set_bio(cl, cin, c2s);
	SSL_set_bio(sv, sin, s2c);
	cin = c2s = sin = s2c = NULL; /* owned by the SSL objects now */
	SSL_set_connect_state(cl);
	SSL_set_accept_state(sv);
	for (i = 0; i < 20 && !(cdone && sdone); i++) {
		if (!cdone) {
			cdone = SSL_do_handshake(cl) == 1;
		}
		move(SSL_get_wbio(cl), SSL_get_rbio(sv));
		t0 = bench_thread_cpu();
		if (!sdone) {
			sdone = SSL_do_handshake(sv) == 1;
		}
		*srv += bench_thread_cpu() - t0;
		move(SSL_get_wbio(sv), SSL_get_rbio(cl));
	}
	err = cdone && sdone ? 0 : -EPROTO;
out:
	SSL_free(cl);
	t0 = bench_thread_cpu();
	SSL_free(sv);
	*srv += bench_thread_cpu() - t0;
	BIO_free(c2s);
	BIO_free(s2c);
	BIO_free(cin);
	BIO_free(sin);
	return err;
}

static int run_cell(const struct cell *c, int reps, int count, double *med)
{
	SSL_CTX *sctx = server_ctx(c), *cctx = client_ctx(c);
	double per[MAX_REPS];
	int r, i, err = 0;

	for (r = 0; r < reps && sctx && cctx && !err; r++) {
		double srv = 0;

		for (i = 0; i < count && !err; i++) {
			err = one(sctx, cctx, &srv);
		}
		per[r] = srv / count * 1e6;
	}
	if (!sctx || !cctx) {
		err = -ENOMEM;
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	*med = err ? 0 : bench_percentile(per, (size_t)reps, 50);
	return err;
}

int main(int argc, char **argv)
{
	int reps = 5, count = 100, t, k, tk, ca, bad = 0;
	const int tickets[2] = { 0, 2 };

	if (argc > 1) {
		reps = atoi(argv[1]);
	}
	if (argc > 2) {
		count = atoi(argv[2]);
	}
	if (reps < 1 || reps > MAX_REPS || count < 1 || count > 100000) {
		fprintf(stderr, "usage: hs_floor [REPS (1-101) [COUNT]]\n");
		return 2;
	}
	if (make_keys()) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	printf("# %s; server CPU per full handshake, median of %d x %d\n",
	       OpenSSL_version(OPENSSL_VERSION), reps, count);
	for (t = 1; t >= 0; t--) {
		for (k = 0; k < 2; k++) {
			for (tk = 0; tk < 2; tk++) {
				for (ca = 0; ca < 2; ca++) {
					struct cell c = { t, k, tickets[tk],
							  ca };
					double med;

					if (run_cell(&c, reps, count, &med)) {
						ERR_print_errors_fp(stderr);
						bad++;
						continue;
					}
					printf("RESULT label=floor tls=%s "
					       "key=%s tickets=%d cache=%s "
					       "server_cpu_us_per_hs=%.1f\n",
					       t ? "1.3" : "1.2",
					       k ? "rsa2048" : "ecdsa-p256",
					       c.tickets, ca ? "on" : "off",
					       med);
				}
			}
		}
	}
	for (k = 0; k < 2; k++) {
		X509_free(certs[k]);
		EVP_PKEY_free(keys[k]);
	}
	return bad ? 1 : 0;
}
