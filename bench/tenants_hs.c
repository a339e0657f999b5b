/*
 * Handshakes against a set of many tenants (see tenants.h): a plain
 * OpenSSL client names a tenant in its SNI, and the server side goes the
 * daemon's way: the profile its address picks (the default here),
 * stls_profile_ssl_new(), the connection engine, and the SNI switch to
 * the tenant's profile in the ClientHello callback. Client and server
 * run in one thread over memory; only the server's calls are timed, and
 * they are the functions named srv_* (for callgrind --toggle-collect).
 */
#include "bench.h"
#include "tenants.h"
#include "lib/tls/tenants_gen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem_tls.h"
#include "stls/conn.h"

#define NOINLINE __attribute__((noinline))

static unsigned char plain[16384];

static NOINLINE struct stls_conn *srv_new(struct stls_profile_set *set,
					  const struct stls_addr *local)
{
	const struct stls_profile *p =
		stls_profile_set_match_server(set, local, NULL);
	struct stls_conn_opts o = { .role = STLS_ROLE_SERVER };
	struct stls_conn *c = NULL;

	o.ssl = stls_profile_ssl_new(p, local);
	if (!o.ssl || stls_conn_new(&o, &c, NULL) != 0) {
		return NULL;
	}
	return c;
}

/* Feeds the client's bytes to the server and sends its answer back. */
static NOINLINE int srv_step(struct stls_conn *c, BIO *c2s, BIO *s2c)
{
	if (bench_conn_feed(c, c2s, plain, sizeof(plain), NULL) != 0) {
		return -EPROTO;
	}
	bench_conn_flush(c, s2c);
	return 0;
}

static NOINLINE void srv_free(struct stls_conn *c)
{
	stls_conn_close(c);
	stls_conn_free(c);
}

/* Whether the server ended on the profile of the name the client sent. */
static bool right_profile(const struct stls_conn *c, const char *want)
{
	const struct stls_profile *p = stls_conn_get0_profile(c);
	const char *sn = p ? stls_profile_conf_of(p)->server_name : NULL;

	return want ? sn && strcmp(sn, want) == 0 : !sn;
}

/* One handshake; adds the server's CPU to *cpu. */
static int one(struct stls_profile_set *set, SSL_CTX *cctx, const char *sni,
	       const char *want, double *cpu)
{
	struct stls_addr local = { .family = AF_INET, .port = 5061 };
	SSL *cl = SSL_new(cctx);
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	struct stls_conn *srv;
	bool cdone = false, sdone = false;
	double t0;
	int i, err = 0;

	if (!cl || !c2s || !s2c ||
	    (sni && !SSL_set_tlsext_host_name(cl, sni))) {
		SSL_free(cl);
		BIO_free(c2s);
		BIO_free(s2c);
		return -ENOMEM;
	}
	BIO_up_ref(c2s);
	BIO_up_ref(s2c);
	SSL_set_bio(cl, s2c, c2s); /* the SSL holds one reference each */
	SSL_set_connect_state(cl);
	t0 = bench_thread_cpu();
	srv = srv_new(set, &local);
	*cpu += bench_thread_cpu() - t0;
	for (i = 0; i < 20 && srv && !err && !(cdone && sdone); i++) {
		if (!cdone) {
			cdone = SSL_do_handshake(cl) == 1;
		}
		t0 = bench_thread_cpu();
		err = srv_step(srv, c2s, s2c);
		*cpu += bench_thread_cpu() - t0;
		sdone = stls_conn_get_state(srv) == STLS_CONN_ESTABLISHED;
	}
	if (!srv || !cdone || !sdone || !right_profile(srv, want)) {
		err = -EPROTO;
	}
	if (srv) {
		t0 = bench_thread_cpu();
		srv_free(srv);
		*cpu += bench_thread_cpu() - t0;
	}
	SSL_set_shutdown(cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(cl);
	BIO_free(c2s);
	BIO_free(s2c);
	return err;
}

double tenants_hs_run(struct stls_profile_set *set, const struct tenants_dir *d,
		      int count, bool sni, bool random_tenant, unsigned *seed)
{
	struct tenants_spec spec = { d->path, d->n, "tenants.example",
				     d->every_wildcard, 0 };
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	char name[300], want[300];
	double cpu = 0;
	int i, k;

	if (!cctx) {
		return -1;
	}
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	for (i = 0; i < count; i++) {
		k = random_tenant ? (int)(rand_r(seed) % (unsigned)d->n) : 0;
		tenants_sni(&spec, k, name, sizeof(name));
		tenants_name(&spec, k, want, sizeof(want));
		if (one(set, cctx, sni ? name : NULL, sni ? want : NULL,
			&cpu) != 0) {
			fprintf(stderr, "tenants: handshake %d (%s) failed\n",
				i, sni ? name : "no SNI");
			ERR_print_errors_fp(stderr);
			SSL_CTX_free(cctx);
			return -1;
		}
	}
	SSL_CTX_free(cctx);
	return cpu / count * 1e6;
}
