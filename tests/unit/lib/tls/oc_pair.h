/*
 * The engine-server / OpenSSL-client harness of the record hand-off tests
 * (test_conn_rec13.c for TLS 1.3, test_rec12.c for TLS 1.2): a server
 * engine and a plain OpenSSL client over memory BIOs, data moved both ways
 * in whole, one-byte or random pieces, and the cases both versions share.
 * The including file defines oc_init() (versions, suites, certificates).
 */
#ifndef STLS_TEST_OC_PAIR_H
#define STLS_TEST_OC_PAIR_H

#include "lib/tls/tls_pair.h"

#include "stls/settings.h"
#include "tls/tls_int.h"

struct oc {
	SSL_CTX *sctx, *cctx;
	struct stls_settings set;
	struct stls_conn *s;
	SSL *cl;
	BIO *c2s, *s2c; /* client -> server, server -> client */
	enum split split;
	unsigned seed;
	enum stls_io last;
	size_t cap; /* plaintext buffer offered per drain */
	unsigned char rx[300000];
	size_t rxlen;
	unsigned char crx[300000];
	size_t crxlen;
	int cl_alert; /* last alert the client read: level << 8 | desc, or -1 */
};

/* Contexts and settings for one case; suite NULL: the file's default. */
static void oc_init(struct oc *o, const char *suite);

/* The client's info callback: remembers the alerts it reads. */
static UNUSED void cl_info(const SSL *ssl, int where, int ret)
{
	struct oc *o = SSL_get_app_data(ssl);

	/* SSL_CB_READ_ALERT shares its alert bit with WRITE_ALERT. */
	if (o && (where & SSL_CB_ALERT) && (where & SSL_CB_READ)) {
		o->cl_alert = ret;
	}
}

static UNUSED void oc_start(struct oc *o, bool keep_ssl)
{
	struct stls_conn_opts so = { 0 };

	so.role = STLS_ROLE_SERVER;
	so.ssl = SSL_new(o->sctx);
	so.settings = &o->set;
	so.keep_ssl = keep_ssl;
	CHECK_OK(stls_conn_new(&so, &o->s, NULL));
	o->cl = SSL_new(o->cctx);
	o->c2s = BIO_new(BIO_s_mem());
	o->s2c = BIO_new(BIO_s_mem());
	CHECK(o->cl && o->c2s && o->s2c);
	SSL_set_bio(o->cl, o->s2c, o->c2s);
	SSL_set_connect_state(o->cl);
	SSL_set_app_data(o->cl, o);
	SSL_set_info_callback(o->cl, cl_info);
	o->cl_alert = -1;
}

static UNUSED void oc_fini(struct oc *o)
{
	stls_conn_free(o->s);
	SSL_free(o->cl);
	SSL_CTX_free(o->sctx);
	SSL_CTX_free(o->cctx);
}

static UNUSED size_t chunk(struct oc *o, size_t left)
{
	size_t k;

	if (o->split == SPLIT_WHOLE) {
		return left;
	}
	if (o->split == SPLIT_ONE) {
		return 1;
	}
	k = 1 + (size_t)(rand_r(&o->seed) % 900);
	return k < left ? k : left;
}

/* Feed bytes to the server engine, collecting plaintext. */
static UNUSED void srv_feed(struct oc *o, const void *d, size_t n)
{
	size_t got = 0, room = sizeof(o->rx) - o->rxlen;
	unsigned guard = 0;

	o->last = stls_conn_feed_drain(o->s, d, n, o->rx + o->rxlen,
				       room < o->cap ? room : o->cap, &got);
	o->rxlen += got;
	while (o->last == STLS_IO_DONE && guard++ < 100000) {
		room = sizeof(o->rx) - o->rxlen;
		o->last = stls_conn_drain(o->s, o->rx + o->rxlen,
					  room < o->cap ? room : o->cap, &got);
		o->rxlen += got;
	}
}

/* Move everything both ways once; returns bytes moved. */
static UNUSED size_t oc_move(struct oc *o)
{
	static unsigned char buf[65536];
	size_t moved = 0, n, k;
	const void *p;
	int r;

	while ((r = BIO_read(o->c2s, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		while (off < (size_t)r) {
			k = chunk(o, (size_t)r - off);
			srv_feed(o, buf + off, k);
			off += k;
		}
		moved += (size_t)r;
	}
	while ((p = stls_conn_peek(o->s, &n)) != NULL) {
		CHECK_EQ(BIO_write(o->s2c, p, (int)n), (int)n);
		stls_conn_consume(o->s, n);
		moved += n;
	}
	return moved;
}

static UNUSED void cl_read(struct oc *o)
{
	size_t n = 0;

	if (!SSL_is_init_finished(o->cl)) {
		(void)SSL_do_handshake(o->cl);
		return;
	}
	while (o->crxlen < sizeof(o->crx) &&
	       SSL_read_ex(o->cl, o->crx + o->crxlen,
			   sizeof(o->crx) - o->crxlen, &n) == 1) {
		o->crxlen += n;
	}
}

static UNUSED void oc_pump(struct oc *o)
{
	int i;

	for (i = 0; i < 10000; i++) {
		cl_read(o);
		if (!oc_move(o)) {
			cl_read(o);
			if (!oc_move(o)) {
				return;
			}
		}
	}
	CHECK(!"oc_pump did not settle");
}

/*
 * Everything the server queued goes to the client, which reads it: the
 * alert it saw (level << 8 | description), or -1 for none.
 */
static UNUSED int oc_client_alert(struct oc *o)
{
	oc_move(o);
	cl_read(o);
	return o->cl_alert;
}

static UNUSED void cl_send(struct oc *o, const void *d, size_t n)
{
	size_t w = 0;

	CHECK(SSL_write_ex(o->cl, d, n, &w) == 1);
	CHECK_EQ(w, n);
	oc_pump(o);
}

static UNUSED void srv_send(struct oc *o, const void *d, size_t n)
{
	CHECK_EQ(stls_conn_push(o->s, d, n), (long long)n);
	oc_pump(o);
}

static UNUSED void oc_established(struct oc *o, bool handed_off)
{
	oc_pump(o);
	CHECK(SSL_is_init_finished(o->cl));
	CHECK_EQ(stls_conn_get_state(o->s), STLS_CONN_ESTABLISHED);
	CHECK_EQ(stls_conn_is_handed_off(o->s), handed_off);
	CHECK_EQ(stls_conn_get0_ssl(o->s) == NULL, handed_off);
}

/* oc_init + oc_start + a handshake that hands off. */
static UNUSED void oc_ready(struct oc *o, const char *suite)
{
	oc_init(o, suite);
	oc_start(o, false);
	oc_established(o, true);
}

static UNUSED void both_ways(struct oc *o, const char *tag)
{
	char a[64], b[64];
	size_t r0 = o->rxlen, c0 = o->crxlen;

	snprintf(a, sizeof(a), "REGISTER %s", tag);
	snprintf(b, sizeof(b), "SIP/2.0 200 %s", tag);
	cl_send(o, a, strlen(a));
	CHECK_EQ(o->rxlen - r0, strlen(a));
	CHECK(memcmp(o->rx + r0, a, strlen(a)) == 0);
	srv_send(o, b, strlen(b));
	CHECK_EQ(o->crxlen - c0, strlen(b));
	CHECK(memcmp(o->crx + c0, b, strlen(b)) == 0);
}

/* close_notify from the client; ours goes back when enabled. */
static UNUSED void close_notify_case(const char *suite)
{
	char b[8];
	struct oc o;
	size_t n;

	oc_ready(&o, suite);
	both_ways(&o, "x");
	CHECK(SSL_shutdown(o.cl) == 0);
	oc_move(&o);
	CHECK_EQ(o.last, STLS_IO_CLOSED);
	CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_CLOSING);
	CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PEER);
	CHECK_EQ(stls_conn_push(o.s, "x", 1), -EPIPE);
	CHECK_EQ(stls_conn_close(o.s), STLS_IO_DONE);
	CHECK(stls_conn_get_pending_out(o.s) > 0);
	oc_move(&o);
	CHECK_EQ(SSL_read_ex(o.cl, b, sizeof(b), &n), 0);
	CHECK_EQ(SSL_get_error(o.cl, 0), SSL_ERROR_ZERO_RETURN);
	CHECK_EQ(SSL_shutdown(o.cl), 1);
	oc_fini(&o);
}

/* Our close_notify first (send_close_notify = 1), then nothing. */
static UNUSED void server_close_case(const char *suite)
{
	char b[8];
	struct oc o;
	size_t n;

	oc_ready(&o, suite);
	CHECK_EQ(stls_conn_close(o.s), STLS_IO_DONE);
	CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_CLOSED);
	oc_move(&o);
	CHECK_EQ(SSL_read_ex(o.cl, b, sizeof(b), &n), 0);
	CHECK_EQ(SSL_get_error(o.cl, 0), SSL_ERROR_ZERO_RETURN);
	oc_fini(&o);
}

/* Bytes fed as they are fail the handed-off connection with `detail`. */
static UNUSED void raw_case(const void *rec, size_t n, const char *detail)
{
	struct oc o;

	oc_ready(&o, NULL);
	srv_feed(&o, rec, n);
	CHECK_EQ(o.last, STLS_IO_FAILED);
	CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PROTOCOL);
	CHECK_STR_HAS(stls_conn_get_detail(o.s), detail);
	/* Our fatal alert is waiting for the socket. */
	CHECK(stls_conn_get_pending_out(o.s) > 0);
	oc_fini(&o);
}

/* Application data records of random bytes (body bytes, <= 64) and
 * of too few bytes fail authentication. */
static UNUSED void garbage_case(size_t body)
{
	unsigned char rec[5 + 64];
	size_t i;

	memcpy(rec, "\x17\x03\x03\x00", 4);
	rec[4] = (unsigned char)body;
	for (i = 5; i < 5 + body; i++) {
		rec[i] = (unsigned char)(i * 37);
	}
	raw_case(rec, 5 + body, "bad_record_mac");
	raw_case("\x17\x03\x03\x00\x05hello", 10, "bad_record_mac");
}

/* The record a real client writes for <s>, into buf[256]; its length. */
static UNUSED int client_record(struct oc *o, const char *s, unsigned char *buf)
{
	size_t w;
	int n;

	CHECK(SSL_write_ex(o->cl, s, strlen(s), &w) == 1);
	n = BIO_read(o->c2s, buf, 256);
	CHECK(n > 10);
	return n;
}

/* Half a record waits; then EOF without close_notify. */
static UNUSED void truncated_case(void)
{
	static unsigned char buf[256];
	struct oc o;
	int n;

	oc_ready(&o, NULL);
	n = client_record(&o, "INVITE sip:x", buf);
	srv_feed(&o, buf, (size_t)n / 2);
	CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
	CHECK_EQ(o.rxlen, 0);
	CHECK_EQ(stls_conn_get_pending_in(o.s), (size_t)n / 2);
	srv_feed(&o, buf + n / 2, (size_t)n - (size_t)n / 2);
	CHECK_EQ(o.rxlen, 12);
	(void)client_record(&o, "BYE", buf);
	srv_feed(&o, buf, 4);
	stls_conn_feed_eof(o.s);
	CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_CLOSED);
	CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_EOF);
	oc_fini(&o);
}

/* One record sealed by a forger f (either version), fed to the server. */
static UNUSED void forge(struct oc *o, struct stls_rec13 *f,
			 unsigned char type, const void *d, size_t n)
{
	static unsigned char rec[STLS_REC13_MAX_PLAIN + STLS_REC_MAX_OVERHEAD];
	ssize_t k = stls__rec13_seal(f, type, d, n, rec);

	CHECK(k > 0);
	srv_feed(o, rec, (size_t)k);
}

#endif
