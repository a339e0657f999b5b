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
 *             the stream ends with EOF and a close;
 *   3 handed  a real TLS 1.3 or TLS 1.2 (AEAD suite) handshake with an
 *             OpenSSL client first, so that the server engine hands its
 *             record layer off (conn_rec13.c); the rest speaks as that
 *             client through a forger holding the client's keys (see
 *             handed_off() below for the operations). With a first byte
 *             of 67, 71, ..., 127 (mode 3 with bit 6 set, bit 7 clear)
 *             allocations fail too: after the suite byte, two bytes give
 *             the number of the server allocation that fails and a
 *             flags byte says whether every later one fails as well
 *             (bit 0) and whether the handshake is armed too (bit 1);
 *             the failure goes through OpenSSL's allocator
 *             (tests/harness/alloc_fail.h), which the engine uses, and
 *             only the server's work is armed, never the client's or
 *             the forger's. The oracle stays: whatever fails, every
 *             record the server wrote opens under the client's keys.
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
#include "tls/tls_int.h"

#include "../tests/harness/alloc_fail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* OpenSSL's allocator must be ours before its first allocation. */
__attribute__((constructor)) static void install_alloc_fail(void)
{
	if (!af_install()) {
		abort();
	}
}

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
	set.send_close_notify = 1;
	set.record_handoff = 1; /* mode 3 needs prepared contexts */
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

/*
 * Mode 3. The client's traffic secrets come from its keylog callback
 * (one input at a time); the forger seals records as the client would
 * and opens what the server writes.
 */
static SSL_CTX *cctx, *cctx12;
static unsigned char cl_wr[STLS_REC13_MAX_SECRET], cl_rd[STLS_REC13_MAX_SECRET];
static size_t cl_len;

static void hexin(const char *p, unsigned char *outb)
{
	size_t i;

	cl_len = strlen(p) / 2;
	if (cl_len > STLS_REC13_MAX_SECRET) {
		abort();
	}
	for (i = 0; i < cl_len; i++) {
		unsigned v = 0;

		if (sscanf(p + 2 * i, "%2x", &v) != 1) {
			abort();
		}
		outb[i] = (unsigned char)v;
	}
}

static void cl_keylog(const SSL *ssl, const char *line)
{
	(void)ssl;
	if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) {
		hexin(line + 24 + 65, cl_wr);
	} else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0) {
		hexin(line + 24 + 65, cl_rd);
	}
}

/* Server output -> the client's BIO. */
static void to_client(struct stls_conn *s, BIO *s2c)
{
	const void *p;
	size_t n;

	while ((p = stls_conn_peek(s, &n)) != NULL && n) {
		if (BIO_write(s2c, p, (int)n) != (int)n) {
			abort();
		}
		stls_conn_consume(s, n);
	}
}

/* Handshake until both ends are done; false when it does not finish. */
static bool hs_pump(struct stls_conn *s, SSL *cl, BIO *c2s, BIO *s2c)
{
	static unsigned char buf[16384];
	size_t got;
	int i, r;

	for (i = 0; i < 8; i++) {
		af_pause();
		(void)SSL_do_handshake(cl);
		r = BIO_read(c2s, buf, sizeof(buf));
		af_resume();
		while (r > 0) {
			if (stls_conn_feed_drain(s, buf, (size_t)r, out,
						 sizeof(out), &got) ==
			    STLS_IO_FAILED) {
				return false;
			}
			af_pause();
			r = BIO_read(c2s, buf, sizeof(buf));
			af_resume();
		}
		af_pause();
		to_client(s, s2c);
		af_resume();
		if (SSL_is_init_finished(cl) &&
		    stls_conn_get_state(s) == STLS_CONN_ESTABLISHED) {
			return true;
		}
	}
	return false;
}

/*
 * Oracle: every record the server writes opens under the client's read
 * key (which follows the server's KeyUpdates), and no record is left
 * half-written at the end of a call.
 */
static void check_out(struct stls_conn *s, struct stls_rec13 *f)
{
	static unsigned char ob[1 << 17], pt[STLS_REC13_MAX_PLAIN + 256];
	size_t olen = 0, off = 0, n, body, got;
	unsigned char type;
	const void *p;

	while ((p = stls_conn_peek(s, &n)) != NULL && n) {
		if (olen + n > sizeof(ob)) {
			abort();
		}
		memcpy(ob + olen, p, n);
		olen += n;
		stls_conn_consume(s, n);
	}
	af_pause(); /* the forger's work is never failed */
	while (off < olen) {
		if (olen - off < 5 ||
		    (f->v12 ? stls__rec12_check_header(ob + off, &body)
			     : stls__rec13_check_header(ob + off, &body)) ||
		    olen - off - 5 < body ||
		    stls__rec13_open(f, ob + off, 5 + body, pt, &got,
				     &type) != 0) {
			abort();
		}
		if (!f->v12 && type == 22 && got == 5 && pt[0] == 24 &&
		    stls__rec13_update(f, false) != 0) {
			abort();
		}
		off += 5 + body;
	}
	af_resume();
}

static void drain_checked(struct stls_conn *s, struct stls_rec13 *f,
			  size_t cap, enum stls_io st)
{
	size_t got;
	int rounds = 0;

	check_out(s, f);
	while (st == STLS_IO_DONE && ++rounds < 64) {
		st = stls_conn_drain(s, out, cap, &got);
		check_out(s, f);
	}
}

/* One record from the forger, fed whole or cut in two. */
static void forge(struct stls_conn *s, struct stls_rec13 *f,
		  unsigned char type, const uint8_t *d, size_t len,
		  size_t cut)
{
	static unsigned char rec[STLS_REC13_MAX_PLAIN + STLS_REC_MAX_OVERHEAD];
	ssize_t k;
	size_t got;

	af_pause();
	k = stls__rec13_seal(f, type, d, len, rec);
	if (k >= 0 && !f->v12 && type == 22 && len == 5 &&
	    memcmp(d, "\x18\x00\x00\x01", 4) == 0 &&
	    stls__rec13_update(f, true) != 0) {
		abort();
	}
	af_resume();
	if (k < 0) {
		return;
	}
	cut = cut % ((size_t)k + 1);
	if (cut) {
		drain_checked(s, f, sizeof(out),
			      stls_conn_feed_drain(s, rec, cut, out,
						   sizeof(out), &got));
	}
	drain_checked(s, f, sizeof(out),
		      stls_conn_feed_drain(s, rec + cut, (size_t)k - cut, out,
					   sizeof(out), &got));
}

/* A client context for TLS 1.3 (keylog) or TLS 1.2 only, made once. */
static SSL_CTX *client_ctx(bool v12)
{
	SSL_CTX **x = v12 ? &cctx12 : &cctx;

	if (!*x) {
		*x = SSL_CTX_new(TLS_client_method());
		if (!*x ||
		    !SSL_CTX_set_min_proto_version(*x, v12 ? TLS1_2_VERSION
							   : TLS1_3_VERSION) ||
		    !SSL_CTX_set_max_proto_version(*x, v12 ? TLS1_2_VERSION
							   : TLS1_3_VERSION)) {
			abort();
		}
		SSL_CTX_set_keylog_callback(*x, cl_keylog);
	}
	return *x;
}

/* The forger: the client's keys of either version, in step with it. */
static int forger(struct stls_conn *s, SSL *cl, struct stls_rec13 *f)
{
	uint16_t id = (uint16_t)SSL_CIPHER_get_protocol_id(
		SSL_get_current_cipher(cl));
	unsigned char ms[48], cr[32], sr[32];
	struct stls_rec13_dir t;

	if (SSL_version(cl) != TLS1_2_VERSION) {
		if (stls__rec13_init(f, id, NULL, cl_rd, cl_wr, cl_len) != 0) {
			return -1;
		}
		/* The client read the tickets or not: the server's count. */
		f->rd.seq = s->rec->wr.seq;
		return 0;
	}
	if (SSL_SESSION_get_master_key(SSL_get_session(cl), ms, 48) != 48 ||
	    SSL_get_client_random(cl, cr, 32) != 32 ||
	    SSL_get_server_random(cl, sr, 32) != 32 ||
	    stls__rec12_init(f, id, NULL, ms, 48, cr, sr) != 0) {
		return -1;
	}
	t = f->rd; /* rec12.c derives the server's view: swap */
	f->rd = f->wr;
	f->wr = t;
	f->rd.seq = s->rec->wr.seq;
	f->wr.seq = s->rec->rd.seq;
	return 0;
}

/*
 * The operations after the handshake (byte 0 picks the suite: 0-2 TLS
 * 1.3, 3-5 TLS 1.2 AES128-GCM, AES256-GCM, ChaCha20-Poly1305):
 *   0 seal   [type][len hi][len lo] content, fed whole
 *   1 split  [type][len][cut] content, fed in two pieces
 *   2 raw    [len] bytes fed as they are
 *   3 push   [len] the server writes len bytes
 *   4 drain  [cap] the server drains with a small buffer
 *   5 close  the server closes (close_notify with send_close_notify)
 * Lengths are clamped to what is left of the input.
 */
static void run_ops(struct stls_conn *s, struct stls_rec13 *f,
		    const uint8_t *d, size_t n)
{
	static const char push_data[256] = "SIP/2.0 200 OK\r\n";
	unsigned ops = 0;
	size_t len, got;

	while (n >= 2 && ops++ < 64) {
		unsigned op = d[0] % 6;
		size_t hdr = op == 0 ? 4 : op == 1 ? 4 : 2;

		if (n < hdr) {
			return;
		}
		len = op == 0 ? ((size_t)d[2] << 8 | d[3]) %
					(STLS_REC13_MAX_PLAIN + 1)
			      : d[op == 1 ? 2 : 1];
		if (op <= 2 && len > n - hdr) {
			len = n - hdr;
		}
		switch (op) {
		case 0:
			forge(s, f, d[1], d + hdr, len, 0);
			break;
		case 1:
			forge(s, f, d[1], d + hdr, len, d[3]);
			break;
		case 2:
			drain_checked(s, f, sizeof(out),
				      stls_conn_feed_drain(s, d + hdr, len, out,
							   sizeof(out), &got));
			break;
		case 3:
			(void)!stls_conn_push(s, push_data, len);
			check_out(s, f);
			len = 0;
			break;
		case 4:
			drain_checked(s, f, len,
				      stls_conn_drain(s, out, len, &got));
			len = 0;
			break;
		default:
			(void)stls_conn_close(s);
			check_out(s, f);
			len = 0;
			break;
		}
		d += hdr + (op <= 2 ? len : 0);
		n -= hdr + (op <= 2 ? len : 0);
	}
}

/*
 * Allocation failures for mode 3 (oom set): d[0..3) of the rest are the
 * failing allocation's number and the flags. Returns the bytes used.
 */
static size_t arm_from(const uint8_t *d, size_t n, bool during_hs)
{
	unsigned long i;

	if (n < 3) {
		return n;
	}
	i = ((unsigned long)d[0] << 8 | d[1]) % 2048 + 1;
	if (((d[2] & 2) != 0) != during_hs) {
		return 3;
	}
	if (d[2] & 1) {
		af_arm_sticky(i);
	} else {
		af_arm(i);
	}
	return 3;
}

static void handed_off(const uint8_t *d, size_t n, bool oom)
{
	static const char *const names[6] = {
		"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
		"TLS_CHACHA20_POLY1305_SHA256",
		"ECDHE-ECDSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305",
	};
	unsigned k = d[0] % 6;
	struct stls_conn *s = engine(STLS_ROLE_SERVER);
	struct stls_rec13 f;
	BIO *c2s = BIO_new(BIO_s_mem()), *s2c = BIO_new(BIO_s_mem());
	SSL *cl = NULL;
	size_t used = 1;

	memset(&f, 0, sizeof(f));
	cl = SSL_new(client_ctx(k >= 3));
	if (!s || !cl || !c2s || !s2c ||
	    !(k < 3 ? SSL_set_ciphersuites(cl, names[k])
		    : SSL_set_cipher_list(cl, names[k]))) {
		BIO_free(c2s);
		BIO_free(s2c);
		goto out;
	}
	SSL_set_bio(cl, s2c, c2s);
	SSL_set_connect_state(cl);
	cl_len = 0;
	if (oom) {
		(void)arm_from(d + 1, n - 1, true);
	}
	if (!hs_pump(s, cl, c2s, s2c) || !stls_conn_is_handed_off(s)) {
		if (af_failed()) {
			goto out; /* a handshake cut short by a failure */
		}
		abort(); /* a default profile server must hand off */
	}
	af_pause();
	if (forger(s, cl, &f) != 0) {
		goto out;
	}
	af_resume();
	if (oom) {
		used += arm_from(d + 1, n - 1, false);
	}
	run_ops(s, &f, d + used, n - used);
out:
	af_disarm();
	stls__rec13_fini(&f);
	SSL_free(cl);
	stls_conn_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pset) {
		setup();
	}
	if (size < 1) {
		return 0;
	}
	switch (data[0] % 4) {
	case 0:
		one_shot(STLS_ROLE_SERVER, data + 1, size - 1);
		break;
	case 1:
		one_shot(STLS_ROLE_CLIENT, data + 1, size - 1);
		break;
	case 2:
		if (size >= 3) {
			split(data + 1, size - 1);
		}
		break;
	default:
		if (size >= 2) {
			/* 67, 71, ..., 127: with allocation failures. */
			handed_off(data + 1, size - 1,
				   (data[0] & 0xc0) == 0x40);
		}
		break;
	}
	return 0;
}
