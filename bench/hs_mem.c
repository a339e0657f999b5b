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
 * figure is exact and the OpenSSL figure is 0.)
 * Prints the heap bytes per connection (mallinfo2 in-use bytes, which
 * include glibc's 8-16 bytes of chunk overhead per block), the OpenSSL
 * part, and the OpenSSL sites holding the most bytes per connection.
 */
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

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

static void move(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		BIO_write(to, buf, n);
	}
}

/* One server connection through a full handshake; the client is freed. */
static struct stls_conn *one(const struct stls_profile *p, SSL_CTX *cctx,
			     const struct stls_settings *set)
{
	static unsigned char plain[16384];
	struct stls_conn_opts o = { 0 };
	struct stls_addr a = { 0 };
	struct stls_conn *c = NULL;
	SSL *cl = SSL_new(cctx);
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	char buf[16384];
	const void *q;
	size_t len, got;
	int i, n;

	o.role = STLS_ROLE_SERVER;
	o.ssl = stls_profile_ssl_new(p, &a);
	o.settings = set;
	if (!cl || !c2s || !s2c || stls_conn_new(&o, &c, NULL) != 0) {
		return NULL;
	}
	BIO_up_ref(c2s);
	BIO_up_ref(s2c);
	SSL_set_bio(cl, s2c, c2s);
	SSL_set_connect_state(cl);
	for (i = 0; i < 20; i++) {
		(void)SSL_do_handshake(cl);
		while ((n = BIO_read(c2s, buf, sizeof(buf))) > 0) {
			if (stls_conn_feed_drain(c, buf, (size_t)n, plain,
						 sizeof(plain), &got) ==
			    STLS_IO_FAILED) {
				break;
			}
		}
		while ((q = stls_conn_peek(c, &len)) != NULL) {
			BIO_write(s2c, q, (int)len);
			stls_conn_consume(c, len);
		}
		if (SSL_is_init_finished(cl) &&
		    stls_conn_get_state(c) == STLS_CONN_ESTABLISHED) {
			break;
		}
	}
	(void)SSL_read(cl, plain, 1); /* the tickets */
	move(c2s, s2c);
	SSL_free(cl);
	BIO_free(c2s);
	BIO_free(s2c);
	if (stls_conn_get_state(c) != STLS_CONN_ESTABLISHED) {
		stls_conn_free(c);
		return NULL;
	}
	return c;
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
	report("idle_established", n, h1 - h0, o1 - o0);
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
	SSL_CTX_free(cctx);
	stls_profile_set_unref(ps);
	stls_settings_fini(&set);
	return 0;
}
