/*
 * hs_mem: what an idle established TLS server connection keeps in memory,
 * by allocation site. OpenSSL's allocations are tracked through
 * CRYPTO_set_mem_functions() (a header in front of every block links the
 * live blocks and records the file:line OpenSSL passes), ours through
 * glibc's mallinfo2(). N server connections are made with the real
 * profile code and the engine (stls_profile_ssl_new + stls_conn_*), each
 * driven through a full handshake by a plain OpenSSL client which is then
 * freed; the server connections are kept, as in an idle daemon.
 *
 * Usage: hs_mem CERT KEY [1.2|1.3] [N] [CACHE 0|1]
 * (HS_MEM_NOTRACK=1 in the environment: no tracking headers, so the heap
 * figure is exact and the OpenSSL figure is 0. HS_MEM_KEEP_SSL=1: the
 * server connections keep their SSL, as before the record hand-off.)
 * Prints the heap bytes per connection (mallinfo2 in-use bytes, which
 * include glibc's 8-16 bytes of chunk overhead per block), the OpenSSL
 * part, and the OpenSSL sites holding the most bytes per connection.
 *
 * Then the CPU cost (CLOCK_THREAD_CPUTIME_ID) of one 200-byte record
 * through the server engine, in (feed_drain) and out (push), with the SSL
 * kept and after the hand-off; and what one AES-128-GCM record costs with
 * an EVP_CIPHER_CTX kept keyed versus made, keyed and freed per record
 * (the choice docs/engine.md explains).
 */
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem_tls.h"
#include "stls/conn.h"
#include "stls/profile.h"
#include "stls/settings.h"

#define MAX_N 20000
#define MAX_SITES 512

struct blk {
	struct blk *prev, *next;
	const char *file;
	int line;
	size_t size;
	size_t pad; /* keeps the payload 16-byte aligned */
};

static struct blk head = { &head, &head, NULL, 0, 0, 0 };
static bool tracking;
static bool keep_ssl;

static void *t_malloc(size_t n, const char *file, int line)
{
	struct blk *b = malloc(sizeof(*b) + n);

	if (!b) {
		return NULL;
	}
	b->file = file;
	b->line = line;
	b->size = n;
	b->next = &head;
	b->prev = head.prev;
	head.prev->next = b;
	head.prev = b;
	return b + 1;
}

static void t_free(void *p, const char *file, int line)
{
	struct blk *b;

	(void)file;
	(void)line;
	if (!p) {
		return;
	}
	b = (struct blk *)p - 1;
	b->prev->next = b->next;
	b->next->prev = b->prev;
	free(b);
}

static void *t_realloc(void *p, size_t n, const char *file, int line)
{
	void *q;
	size_t old;

	if (!p) {
		return t_malloc(n, file, line);
	}
	if (n == 0) {
		t_free(p, file, line);
		return NULL;
	}
	old = ((struct blk *)p - 1)->size;
	q = t_malloc(n, file, line);
	if (q) {
		memcpy(q, p, old < n ? old : n);
		t_free(p, file, line);
	}
	return q;
}

struct site {
	const char *file;
	int line;
	size_t bytes, count;
};

static struct site sites[MAX_SITES];
static size_t n_sites;

static int by_bytes(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* Live OpenSSL bytes by site; returns the total. */
static size_t census(bool keep)
{
	struct blk *b;
	size_t total = 0, i;

	n_sites = 0;
	for (b = head.next; b != &head; b = b->next) {
		total += b->size;
		if (!keep) {
			continue;
		}
		for (i = 0; i < n_sites; i++) {
			if (sites[i].line == b->line &&
			    sites[i].file == b->file) {
				break;
			}
		}
		if (i == n_sites && n_sites < MAX_SITES) {
			sites[n_sites].file = b->file;
			sites[n_sites].line = b->line;
			sites[n_sites].bytes = sites[n_sites].count = 0;
			n_sites++;
		}
		if (i < n_sites) {
			sites[i].bytes += b->size;
			sites[i].count++;
		}
	}
	return total;
}

/* One server connection through a full handshake; the client is kept
 * in *keep_cl (with its BIOs: *c2s_out, *s2c_out) or freed. */
static struct stls_conn *one_cl(const struct stls_profile *p, SSL_CTX *cctx,
				const struct stls_settings *set, bool keep,
				SSL **keep_cl, BIO **c2s_out, BIO **s2c_out)
{
	static unsigned char plain[16384];
	struct stls_conn_opts o = { 0 };
	struct stls_addr a = { 0 };
	struct stls_conn *c = NULL;
	SSL *cl = SSL_new(cctx);
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	int i;

	o.role = STLS_ROLE_SERVER;
	o.ssl = stls_profile_ssl_new(p, &a);
	o.settings = set;
	o.keep_ssl = keep;
	if (!cl || !c2s || !s2c || stls_conn_new(&o, &c, NULL) != 0) {
		return NULL;
	}
	BIO_up_ref(c2s);
	BIO_up_ref(s2c);
	SSL_set_bio(cl, s2c, c2s);
	SSL_set_connect_state(cl);
	for (i = 0; i < 20; i++) {
		(void)SSL_do_handshake(cl);
		(void)bench_conn_feed(c, c2s, plain, sizeof(plain), NULL);
		bench_conn_flush(c, s2c);
		if (SSL_is_init_finished(cl) &&
		    stls_conn_get_state(c) == STLS_CONN_ESTABLISHED) {
			break;
		}
	}
	(void)SSL_read(cl, plain, 1); /* the tickets */
	bench_bio_move(c2s, s2c);
	if (keep_cl) {
		*keep_cl = cl;
		*c2s_out = c2s;
		*s2c_out = s2c;
		return c;
	}
	SSL_free(cl);
	BIO_free(c2s);
	BIO_free(s2c);
	if (stls_conn_get_state(c) != STLS_CONN_ESTABLISHED) {
		stls_conn_free(c);
		return NULL;
	}
	return c;
}

static struct stls_conn *one(const struct stls_profile *p, SSL_CTX *cctx,
			     const struct stls_settings *set)
{
	return one_cl(p, cctx, set, keep_ssl, NULL, NULL, NULL);
}

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Engine CPU per 200-byte record in and out, SSL kept or handed off. */
static void record_cost(const struct stls_profile *p, SSL_CTX *cctx,
			const struct stls_settings *set, bool keep)
{
	enum { ROUNDS = 20000 };
	static unsigned char rec[512], plain[512];
	unsigned char msg[200];
	double t_in = 0, t_out = 0, t0;
	BIO *c2s = NULL, *s2c = NULL;
	struct stls_conn *c;
	const void *q;
	size_t len, got, w;
	enum stls_io io;
	ssize_t pushed;
	SSL *cl = NULL;
	int i, n;

	memset(msg, 'x', sizeof(msg));
	c = one_cl(p, cctx, set, keep, &cl, &c2s, &s2c);
	if (!c) {
		fprintf(stderr, "hs_mem: record_cost handshake failed\n");
		return;
	}
	for (i = 0; i < ROUNDS; i++) {
		if (SSL_write_ex(cl, msg, sizeof(msg), &w) != 1) {
			break;
		}
		n = BIO_read(c2s, rec, sizeof(rec));
		t0 = cpu_ns();
		io = stls_conn_feed_drain(c, rec, (size_t)n, plain,
					  sizeof(plain), &got);
		t_in += cpu_ns() - t0;
		t0 = cpu_ns();
		pushed = stls_conn_push(c, msg, sizeof(msg));
		q = stls_conn_peek(c, &len);
		t_out += cpu_ns() - t0;
		if (io == STLS_IO_FAILED || got != sizeof(msg) ||
		    pushed != (ssize_t)sizeof(msg)) {
			break;
		}
		BIO_write(s2c, q, (int)len);
		stls_conn_consume(c, len);
		(void)SSL_read_ex(cl, plain, sizeof(plain), &got);
	}
	printf("RESULT label=hs_mem what=record_200B path=%s rounds=%d "
	       "in_ns=%.0f out_ns=%.0f\n",
	       keep ? "ssl" : "handoff", i, t_in / i, t_out / i);
	stls_conn_free(c);
	SSL_free(cl);
	BIO_free(c2s);
	BIO_free(s2c);
}

/* One AES-128-GCM 200-byte record: a kept, keyed context vs. per record. */
static void evp_cost(void)
{
	enum { ROUNDS = 50000 };
	static const unsigned char key[16] = { 1 }, iv[12] = { 2 };
	unsigned char in[200] = { 0 }, out[256], tag[16];
	EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	double t0, kept, fresh;
	int i, l;

	EVP_EncryptInit_ex2(x, ci, key, NULL, NULL);
	t0 = cpu_ns();
	for (i = 0; i < ROUNDS; i++) {
		EVP_EncryptInit_ex2(x, NULL, NULL, iv, NULL);
		EVP_EncryptUpdate(x, NULL, &l, in, 5);
		EVP_EncryptUpdate(x, out, &l, in, sizeof(in));
		EVP_EncryptFinal_ex(x, out + l, &l);
		EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag);
	}
	kept = (cpu_ns() - t0) / ROUNDS;
	EVP_CIPHER_CTX_free(x);
	t0 = cpu_ns();
	for (i = 0; i < ROUNDS; i++) {
		x = EVP_CIPHER_CTX_new();
		EVP_EncryptInit_ex2(x, ci, key, NULL, NULL);
		EVP_EncryptInit_ex2(x, NULL, NULL, iv, NULL);
		EVP_EncryptUpdate(x, NULL, &l, in, 5);
		EVP_EncryptUpdate(x, out, &l, in, sizeof(in));
		EVP_EncryptFinal_ex(x, out + l, &l);
		EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag);
		EVP_CIPHER_CTX_free(x);
	}
	fresh = (cpu_ns() - t0) / ROUNDS;
	printf("RESULT label=hs_mem what=evp_gcm_200B kept_ctx_ns=%.0f "
	       "new_ctx_per_record_ns=%.0f\n",
	       kept, fresh);
	EVP_CIPHER_free(ci);
}

static void report(const char *what, size_t n, size_t heap, size_t ossl)
{
	printf("RESULT label=hs_mem what=%s conns=%zu heap_bytes_per_conn=%.0f "
	       "openssl_bytes_per_conn=%.0f\n",
	       what, n, (double)heap / n, (double)ossl / n);
}

int main(int argc, char **argv)
{
	static struct stls_conn *conns[MAX_N];
	static SSL *bare[MAX_N];
	const char *ver = argc > 3 ? argv[3] : "1.3";
	size_t n = argc > 4 ? (size_t)atol(argv[4]) : 2000, i, k;
	struct stls_profile_set *ps = NULL;
	const struct stls_profile *p;
	struct stls_settings set;
	struct stls_addr a = { 0 };
	size_t h0, o0, h1, o1;
	SSL_CTX *cctx;
	int v = strcmp(ver, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;

	if (argc < 3 || n < 1 || n > MAX_N) {
		fprintf(stderr, "usage: hs_mem CERT KEY [1.2|1.3] [N] "
				"[CACHE 0|1]\n");
		return 2;
	}
	/* HS_MEM_NOTRACK=1: plain malloc, for the true heap figure. */
	keep_ssl = getenv("HS_MEM_KEEP_SSL") != NULL;
	tracking = !getenv("HS_MEM_NOTRACK") &&
		   CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free);
	if (stls_settings_init(&set) != 0) {
		return 1;
	}
	free(set.certificate);
	free(set.private_key);
	set.certificate = strdup(argv[1]);
	set.private_key = strdup(argv[2]);
	set.session_cache = argc > 5 && atoi(argv[5]) == 1;
	/* Prepared for the hand-off: the record costs below compare both
	 * paths in one run; HS_MEM_KEEP_SSL makes the idle connections keep
	 * their SSL (keep_ssl), which holds the same memory as an
	 * unprepared context's. */
	set.record_handoff = 1;
	cctx = SSL_CTX_new(TLS_client_method());
	if (!cctx || stls_profile_set_build(&set, NULL, NULL, &ps) != 0) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_min_proto_version(cctx, v);
	SSL_CTX_set_max_proto_version(cctx, v);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	p = stls_profile_set_default(ps, STLS_ROLE_SERVER);
	/* Warm-up: one-time allocations (method stores, caches). */
	stls_conn_free(one(p, cctx, &set));
	h0 = mallinfo2().uordblks;
	o0 = census(false);
	for (i = 0; i < n; i++) {
		bare[i] = stls_profile_ssl_new(p, &a);
	}
	h1 = mallinfo2().uordblks;
	o1 = census(false);
	report("bare_ssl_new", n, h1 - h0, o1 - o0);
	for (i = 0; i < n; i++) {
		SSL_free(bare[i]);
	}
	h0 = mallinfo2().uordblks;
	o0 = census(false);
	for (i = 0; i < n; i++) {
		if (!(conns[i] = one(p, cctx, &set))) {
			fprintf(stderr, "hs_mem: handshake %zu failed\n", i);
			return 1;
		}
	}
	h1 = mallinfo2().uordblks;
	o1 = census(false);
	report(keep_ssl ? "idle_established_ssl_kept" : "idle_established",
	       n, h1 - h0, o1 - o0);
	if (tracking) {
		size_t base_sites;

		/* Sites of the idle connections: census now minus before. */
		census(true);
		qsort(sites, n_sites, sizeof(sites[0]), by_bytes);
		base_sites = n_sites < 25 ? n_sites : 25;
		for (k = 0; k < base_sites; k++) {
			if (sites[k].count < n) {
				continue; /* not one per connection */
			}
			printf("site %s:%d bytes_per_conn=%.0f "
			       "blocks_per_conn=%.2f\n",
			       sites[k].file ? sites[k].file : "?",
			       sites[k].line, (double)sites[k].bytes / n,
			       (double)sites[k].count / n);
		}
	}
	for (i = 0; i < n; i++) {
		stls_conn_free(conns[i]);
	}
	/* Both versions hand off (TLS 1.2: the profile's AEAD suites). */
	record_cost(p, cctx, &set, true);
	record_cost(p, cctx, &set, false);
	evp_cost();
	SSL_CTX_free(cctx);
	stls_profile_set_unref(ps);
	stls_settings_fini(&set);
	return 0;
}
