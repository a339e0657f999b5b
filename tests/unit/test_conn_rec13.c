/*
 * Unit tests for lib/tls/conn_rec13.c: the record hand-off of TLS 1.3
 * server connections, against a plain OpenSSL client (an SSL over memory
 * BIOs, so the peer is code we did not write). Data both ways in the three
 * suites, whole / one byte / random splits, large writes, client KeyUpdate
 * with and without update_requested, close_notify both ways, and the
 * failures: garbage, forged, oversized and wrongly typed records, unknown
 * post-handshake messages, alerts. Records "from the client" that OpenSSL
 * would never send are forged with the client's own traffic secret (taken
 * from the client context's keylog callback) and rec13.c.
 */
#include "tls_pair.h"

#include "stls/profile.h"
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
};

/* The client's secrets, from its keylog callback (one test at a time). */
static unsigned char cl_wr[48], cl_rd[48];
static unsigned char cl_len;

static void get_hex(const char *line, const char *label, unsigned char *out)
{
	const char *p;
	size_t i;

	if (strncmp(line, label, strlen(label)) != 0) {
		return;
	}
	p = line + strlen(label) + 1 + 64 + 1;
	cl_len = (unsigned char)(strlen(p) / 2);
	for (i = 0; i < cl_len; i++) {
		unsigned v;

		CHECK(sscanf(p + 2 * i, "%2x", &v) == 1);
		out[i] = (unsigned char)v;
	}
}

static void client_keylog(const SSL *ssl, const char *line)
{
	(void)ssl;
	get_hex(line, "CLIENT_TRAFFIC_SECRET_0", cl_wr);
	get_hex(line, "SERVER_TRAFFIC_SECRET_0", cl_rd);
}

static void oc_init(struct oc *o, const char *suites)
{
	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->set.send_close_notify = 1;
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			  TLS1_3_VERSION, TLS1_3_VERSION);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, TLS1_3_VERSION,
			  TLS1_3_VERSION);
	SSL_CTX_set_keylog_callback(o->cctx, client_keylog);
	if (suites) {
		CHECK(SSL_CTX_set_ciphersuites(o->sctx, suites));
		CHECK(SSL_CTX_set_ciphersuites(o->cctx, suites));
	}
}

static void oc_start(struct oc *o, bool keep_ssl)
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
}

static void oc_fini(struct oc *o)
{
	stls_conn_free(o->s);
	SSL_free(o->cl);
	SSL_CTX_free(o->sctx);
	SSL_CTX_free(o->cctx);
}

static size_t chunk(struct oc *o, size_t left)
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
static void srv_feed(struct oc *o, const void *d, size_t n)
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
static size_t oc_move(struct oc *o)
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

static void cl_read(struct oc *o)
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

static void oc_pump(struct oc *o)
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

static void cl_send(struct oc *o, const void *d, size_t n)
{
	size_t w = 0;

	CHECK(SSL_write_ex(o->cl, d, n, &w) == 1);
	CHECK_EQ(w, n);
	oc_pump(o);
}

static void srv_send(struct oc *o, const void *d, size_t n)
{
	CHECK_EQ(stls_conn_push(o->s, d, n), (long long)n);
	oc_pump(o);
}

static void oc_established(struct oc *o, bool handed_off)
{
	oc_pump(o);
	CHECK(SSL_is_init_finished(o->cl));
	CHECK_EQ(stls_conn_get_state(o->s), STLS_CONN_ESTABLISHED);
	CHECK_EQ(stls_conn_is_handed_off(o->s), handed_off);
	CHECK_EQ(stls_conn_get0_ssl(o->s) == NULL, handed_off);
}

static void both_ways(struct oc *o, const char *tag)
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

static void data_case(const char *suite, enum split sp, unsigned seed)
{
	struct oc o;

	oc_init(&o, suite);
	o.split = sp;
	o.seed = seed;
	oc_start(&o, false);
	oc_established(&o, true);
	CHECK_STR_EQ(stls_conn_get_version(o.s), "TLSv1.3");
	both_ways(&o, "one");
	both_ways(&o, "two");
	/* Idle: no input, no output, no EVP context, no plaintext buffer. */
	CHECK_EQ(stls_conn_get_pending_in(o.s), 0);
	CHECK_EQ(stls_conn_get_pending_out(o.s), 0);
	CHECK(o.s->rec->rd.ctx == NULL && o.s->rec->wr.ctx == NULL);
	CHECK_NULL(o.s->rec->pt);
	oc_fini(&o);
}

static const char *const suites[] = {
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
};

TEST(data_both_ways_whole)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(suites); i++) {
		data_case(suites[i], SPLIT_WHOLE, 1);
	}
}

TEST(data_both_ways_one_byte)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(suites); i++) {
		data_case(suites[i], SPLIT_ONE, 1);
	}
}

TEST(data_both_ways_random_splits)
{
	unsigned seed;

	for (seed = 1; seed < 30; seed++) {
		data_case(suites[seed % 3], SPLIT_RANDOM, seed);
	}
}

/* 20 KB and 100 KB each way, also with a small plaintext buffer. */
TEST(large_writes_both_ways)
{
	static unsigned char big[100000];
	static const size_t sizes[] = { 20000, sizeof(big) };
	size_t i, j;

	for (i = 0; i < sizeof(big); i++) {
		big[i] = (unsigned char)(i * 13 + i / 509);
	}
	for (j = 0; j < 4; j++) {
		size_t n = sizes[j & 1];
		struct oc o;

		oc_init(&o, NULL);
		o.split = SPLIT_RANDOM;
		o.cap = j < 2 ? sizeof(o.rx) : 100;
		oc_start(&o, false);
		oc_established(&o, true);
		srv_send(&o, big, n);
		CHECK_EQ(o.crxlen, n);
		CHECK(memcmp(o.crx, big, n) == 0);
		cl_send(&o, big, n);
		CHECK_EQ(o.rxlen, n);
		CHECK(memcmp(o.rx, big, n) == 0);
		CHECK_NULL(o.s->rec->pt);
		oc_fini(&o);
	}
}

/* The client updates its keys, with and without asking us to. */
TEST(client_key_update_both_kinds)
{
	int i, kind;
	char tag[16];
	struct oc o;

	for (kind = 0; kind < 2; kind++) {
		oc_init(&o, suites[kind]);
		oc_start(&o, false);
		oc_established(&o, true);
		both_ways(&o, "before");
		for (i = 0; i < 4; i++) {
			uint64_t wseq = o.s->rec->wr.seq;

			CHECK(SSL_key_update(o.cl,
					     kind ? SSL_KEY_UPDATE_REQUESTED
						  : SSL_KEY_UPDATE_NOT_REQUESTED));
			snprintf(tag, sizeof(tag), "after%d", i);
			both_ways(&o, tag);
			/* Requested: we answered and restarted our sequence
			 * (KeyUpdate, then one data record). */
			if (kind) {
				CHECK_EQ(o.s->rec->wr.seq, 1);
			} else {
				CHECK_EQ(o.s->rec->wr.seq, wseq + 1);
			}
			CHECK_EQ(o.s->rec->rd.seq, 1);
		}
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
		oc_fini(&o);
	}
}

/* close_notify from the client; ours goes back when enabled. */
TEST(close_notify_both_ways)
{
	char b[8];
	struct oc o;
	size_t n;

	oc_init(&o, NULL);
	oc_start(&o, false);
	oc_established(&o, true);
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
TEST(server_close_notify_reaches_client)
{
	char b[8];
	struct oc o;
	size_t n;

	oc_init(&o, NULL);
	oc_start(&o, false);
	oc_established(&o, true);
	CHECK_EQ(stls_conn_close(o.s), STLS_IO_DONE);
	CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_CLOSED);
	oc_move(&o);
	CHECK_EQ(SSL_read_ex(o.cl, b, sizeof(b), &n), 0);
	CHECK_EQ(SSL_get_error(o.cl, 0), SSL_ERROR_ZERO_RETURN);
	oc_fini(&o);
}
