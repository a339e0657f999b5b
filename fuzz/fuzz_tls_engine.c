/*
 * Fuzz target: the TLS engine (lib/tls/conn.c) fed arbitrary ciphertext,
 * with SSL objects made by the real profile set (so the SNI switch, the
 * renegotiation refusal and the profile options take part).
 *
 * The first input byte picks the mode, the rest is the peer's bytes:
 *   0 server  a server engine fed the input as the client's stream
 *             (ClientHello and whatever follows);
 *   1 client  a client engine that sent its ClientHello (discarded), fed
 *             the input as the server's flight;
 *   2 split   byte 1 picks the role (even server, odd client) and byte 2
 *             seeds the segment sizes; the rest is fed in up to eight
 *             segments through both feed paths (feed()+drain() and
 *             feed_drain()), plaintext is pushed between segments, and
 *             the stream ends with EOF and a close.
 * Seeds (fuzz/corpus/tls_engine/) are real flights recorded from
 * in-memory handshakes by scripts/gen-tls-seeds.py. TLS 1.3 server
 * flights past the ServerHello are encrypted under keys the fuzzer cannot
 * reproduce, so the reachable depth there is the ServerHello; TLS 1.2
 * flights are clear up to the Finished message (Certificate and
 * ServerKeyExchange are parsed).
 *
 * Set-up (once): an EC P-256 key and a self-signed certificate made in
 * memory, written to a temporary directory for the profile build, then
 * removed. The profile set lives until the process exits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "stls/addr.h"
#include "stls/conf.h"
#include "stls/conn.h"
#include "stls/log.h"
#include "stls/profile.h"
#include "stls/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stls_settings set;
static struct stls_profile_set *pset;
static struct stls_addr local;
static uint8_t out[16384];

/* Log lines are formatted (that code runs too) and then dropped. */
static void quiet(int level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
}

static X509 *self_signed(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n;

	if (!x) {
		return NULL;
	}
	n = X509_get_subject_name(x);
	if (!ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 3650) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					(const unsigned char *)"fuzz.test", -1,
					-1, 0) ||
	    !X509_set_issuer_name(x, n) || !X509_set_pubkey(x, k) ||
	    !X509_sign(x, k, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Writes key.pem and cert.pem into dir. Returns 0 or -1. */
static int write_pki(const char *dir)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = k ? self_signed(k) : NULL;
	char path[512];
	FILE *f;
	int ok = 0;

	if (!x) {
		goto out;
	}
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	f = fopen(path, "w");
	if (f) {
		ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	f = ok ? fopen(path, "w") : NULL;
	ok = f && PEM_write_X509(f, x);
	if (f) {
		fclose(f);
	}
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

/* The profile set: defaults from the settings plus [server:any] with a
 * server_name, so that an SNI in the input can switch profiles. */
static void setup(void)
{
	static struct stls_profile_conf any;
	char dir[] = "/tmp/stls-fuzz-XXXXXX", cert[600], key[600];

	stls_log_set_sink(quiet, NULL);
	stls_log_set_level(3);
	if (!mkdtemp(dir) || write_pki(dir) != 0 ||
	    stls_settings_init(&set) != 0) {
		abort();
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	set.certificate = strdup(cert);
	set.private_key = strdup(key);
	set.low_mem_threshold1 = 0;
	set.low_mem_threshold2 = 0;
	any.role = STLS_ROLE_SERVER;
	any.kind = STLS_PROF_ANY;
	any.method = STLS_METHOD_TLSV1_2_PLUS;
	any.verify_depth = 9;
	any.certificate = cert;
	any.private_key = key;
	any.server_name = "sni.fuzz.test";
	if (!set.certificate || !set.private_key ||
	    stls_profile_set_build(&set, &any, NULL, &pset) != 0 ||
	    stls_addr_parse("127.0.0.1:5061", true, &local) != 0) {
		abort();
	}
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

static struct stls_conn *engine(enum stls_role role)
{
	const struct stls_profile *p = stls_profile_set_default(pset, role);
	struct stls_conn_opts o = { 0 };
	struct stls_conn *c = NULL;

	o.role = role;
	o.ssl = stls_profile_ssl_new(p, &local);
	o.settings = &set;
	if (role == STLS_ROLE_CLIENT) {
		o.sni = "sip.fuzz.test";
	}
	if (!o.ssl || stls_conn_new(&o, &c, NULL) != 0) {
		return NULL;
	}
	return c;
}

/* Throws away the ciphertext the engine wants to send. */
static void flush(struct stls_conn *c)
{
	size_t n;

	while (stls_conn_peek(c, &n) && n) {
		stls_conn_consume(c, n);
	}
}

/* Drains until the engine wants input or ends; false when it ended. */
static bool drain_all(struct stls_conn *c)
{
	enum stls_io st;
	size_t n;
	int rounds = 0;

	do {
		st = stls_conn_drain(c, out, sizeof(out), &n);
		flush(c);
	} while (st == STLS_IO_DONE && ++rounds < 64);
	return st != STLS_IO_CLOSED && st != STLS_IO_FAILED;
}

static void one_shot(enum stls_role role, const uint8_t *p, size_t n)
{
	struct stls_conn *c = engine(role);
	size_t got;

	if (!c) {
		return;
	}
	if (drain_all(c)) {
		(void)!stls_conn_feed_drain(c, p, n, out, sizeof(out), &got);
		flush(c);
		drain_all(c);
	}
	(void)stls_conn_close(c);
	flush(c);
	stls_conn_free(c);
}

static void split(const uint8_t *p, size_t n)
{
	enum stls_role role = p[0] & 1 ? STLS_ROLE_CLIENT : STLS_ROLE_SERVER;
	struct stls_conn *c = engine(role);
	unsigned seed = p[1], seg;
	size_t off = 2, len, got;

	if (!c) {
		return;
	}
	drain_all(c);
	for (seg = 0; seg < 8 && off < n; seg++) {
		seed = seed * 1103515245u + 12345u;
		len = seg == 7 ? n - off : (seed >> 8) % (n - off) + 1;
		if (seg & 1) {
			(void)!stls_conn_feed_drain(c, p + off, len, out,
						    sizeof(out), &got);
			flush(c);
		} else if (stls_conn_feed(c, p + off, len) != 0) {
			break;
		}
		off += len;
		if (!drain_all(c)) {
			break;
		}
		(void)!stls_conn_push(c, "OPTIONS sip:x SIP/2.0\r\n\r\n", 25);
	}
	stls_conn_feed_eof(c);
	drain_all(c);
	(void)stls_conn_close(c);
	flush(c);
	stls_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pset) {
		setup();
	}
	if (size < 1) {
		return 0;
	}
	switch (data[0] % 3) {
	case 0:
		one_shot(STLS_ROLE_SERVER, data + 1, size - 1);
		break;
	case 1:
		one_shot(STLS_ROLE_CLIENT, data + 1, size - 1);
		break;
	default:
		if (size >= 3) {
			split(data + 1, size - 1);
		}
		break;
	}
	return 0;
}
