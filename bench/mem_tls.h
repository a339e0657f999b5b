/*
 * Helpers of the benchmarks that run a TLS server over memory in one
 * thread (hs_engine, hs_mem, rec_engine, tenants): set up a server's
 * settings and engine, move bytes between OpenSSL memory BIOs, feed a
 * connection engine what a client wrote and hand its answer back. They
 * link libsiptls; a timed or callgrind-counted caller counts their work
 * as its own.
 */
#ifndef STLS_BENCH_MEM_TLS_H
#define STLS_BENCH_MEM_TLS_H

#include <stddef.h>

#include <openssl/bio.h>

#include "stls/conn.h"
#include "stls/profile.h"
#include "stls/settings.h"

/* Moves every pending byte from one memory BIO to another. */
void bench_bio_move(BIO *from, BIO *to);

/*
 * Feeds everything in <c2s> to <c>, decrypting into out[0..cap) (each
 * call overwrites it); *got (may be NULL) receives the plaintext bytes
 * of all calls together. Returns 0, or -EPROTO when the engine failed.
 */
int bench_conn_feed(struct stls_conn *c, BIO *c2s, unsigned char *out,
		    size_t cap, size_t *got);

/* Writes everything <c> has queued to send into <s2c>, consumed. */
void bench_conn_flush(struct stls_conn *c, BIO *s2c);

/* A server engine over a new SSL of <prof>, with <set>: 0 or -errno. */
int bench_conn_server(const struct stls_profile *prof,
		      const struct stls_settings *set, struct stls_conn **out);

/*
 * *s: the defaults (stls_settings_init()) with <cert> and <key>, and no
 * verification of the peer (the benches' clients show no certificate).
 * Returns 0 or -errno; the caller finishes *s (stls_settings_fini())
 * either way once this returned anything but the init's failure.
 */
int bench_settings_server(struct stls_settings *s, const char *cert,
			  const char *key);

#endif
