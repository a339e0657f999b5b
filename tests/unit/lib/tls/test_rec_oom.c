/*
 * Allocation failures at every allocation of the record hand-off and of
 * the KeyUpdate path, on both layers (the hand-off and the kept SSL),
 * TLS 1.3 and TLS 1.2: each allocation the server makes fails in turn
 * (tests/harness/alloc_fail.h, through OpenSSL's allocator, which the
 * engine allocates with too), the client's work is never failed. Whatever
 * fails, the connection either goes on and works both ways afterwards, or
 * fails with a reason; the client never reads a record it cannot
 * authenticate (a reused nonce or a wrong key would show as
 * bad_record_mac there); nothing leaks (LeakSanitizer at the end of each
 * case); a hand-off that could not complete keeps the SSL and is counted
 * as a fallback.
 */
#include "lib/tls/oc_pair.h"

#include "alloc_fail.h"
#include "lib/tls/rec_forge.h"

__attribute__((constructor)) static void install_alloc_fail(void)
{
	(void)af_install();
}

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

/* TLS 1.3 for NULL, TLS 1.2 for a TLS 1.2 cipher name. */
static void oc_init(struct oc *o, const char *cipher)
{
	int v = cipher ? TLS1_2_VERSION : TLS1_3_VERSION;

	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->set.send_close_notify = 1;
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key", v, v);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, v, v);
	SSL_CTX_set_keylog_callback(o->cctx, client_keylog);
	if (cipher) {
		CHECK(SSL_CTX_set_cipher_list(o->cctx, cipher));
	}
}

/* The client reads; false when it met a record it could not open. */
static bool client_reads(struct oc *o)
{
	unsigned long e;

	af_pause();
	ERR_clear_error();
	cl_read(o);
	e = ERR_peek_last_error();
	af_resume();
	return ERR_GET_REASON(e) != SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC;
}

/*
 * oc_pump with only the server's calls armed: the client and the memory
 * BIOs between them allocate unarmed. False when the client met a record
 * it could not open.
 */
static bool pump_armed(struct oc *o)
{
	static unsigned char buf[65536];
	bool ok = true;
	int i, r;

	for (i = 0; i < 100; i++) {
		size_t moved = 0, n;
		const void *p;

		ok = client_reads(o) && ok;
		af_pause();
		r = BIO_read(o->c2s, buf, sizeof(buf));
		af_resume();
		if (r > 0) {
			srv_feed(o, buf, (size_t)r);
			moved += (size_t)r;
		}
		af_pause();
		while ((p = stls_conn_peek(o->s, &n)) != NULL) {
			CHECK_EQ(BIO_write(o->s2c, p, (int)n), (int)n);
			stls_conn_consume(o->s, n);
			moved += n;
		}
		af_resume();
		if (!moved) {
			return client_reads(o) && ok;
		}
	}
	CHECK(!"pump_armed did not settle");
	return false;
}

/* After a run: a live server talks both ways; a failed one says why. */
static void check_outcome(struct oc *o, bool keep, uint64_t fb0)
{
	struct stls_conn_counters k;
	enum stls_conn_state st = stls_conn_get_state(o->s);

	if (st == STLS_CONN_FAILED) {
		CHECK_NE(stls_conn_get_reason(o->s), STLS_CLOSE_NONE);
		CHECK(stls_conn_get_detail(o->s)[0] != '\0');
		return;
	}
	CHECK(st == STLS_CONN_ESTABLISHED || st == STLS_CONN_ACCEPTING);
	if (st == STLS_CONN_ACCEPTING) {
		return; /* the client gave up: nothing more to say */
	}
	stls_conn_get_counters(&k);
	if (!keep) {
		/* Kept after all: only as a counted fallback. */
		CHECK_EQ(k.handoff_fallbacks - fb0,
			 !stls_conn_is_handed_off(o->s));
	}
	both_ways(o, "after");
}

/*
 * The server's whole side, from its first input to data both ways after
 * the handshake, with allocation i failing (0: none). Returns how many
 * allocations were made; *hit says whether allocation i was reached (the
 * count varies a little from run to run: random values, timing).
 */
static unsigned long handshake_run(const char *cipher, bool keep,
				   unsigned long i, bool *hit)
{
	struct stls_conn_counters k;
	bool ok, hs_ok = false;
	unsigned long n;
	size_t w;
	struct oc o;

	oc_init(&o, cipher);
	oc_start(&o, keep);
	stls_conn_get_counters(&k);
	af_arm(i);
	ok = pump_armed(&o);
	if (SSL_is_init_finished(o.cl) &&
	    stls_conn_get_state(o.s) == STLS_CONN_ESTABLISHED) {
		hs_ok = ok;
		af_pause();
		CHECK(SSL_write_ex(o.cl, "hello", 5, &w) == 1);
		af_resume();
		ok = pump_armed(&o) && ok;
		if (stls_conn_get_state(o.s) == STLS_CONN_ESTABLISHED) {
			(void)!stls_conn_push(o.s, "world", 5);
			ok = pump_armed(&o) && ok;
		}
	}
	n = af_seen();
	*hit = af_failed();
	af_disarm();
	/*
	 * Once both ends finished the handshake, every record the hand-off
	 * writes must open at the client. Before that the flight is
	 * OpenSSL's on both layers, and so is everything with a kept SSL:
	 * a server that fails in the middle of a flight (or of its
	 * tickets) may leave the client with a record it cannot open; it
	 * failed anyway.
	 */
	if (!ok) {
		fprintf(stderr, "  allocation %lu (%s, %s): the client could "
			"not open a record; %s\n", i, hs_ok ? "after the "
			"handshake" : "handshake", keep ? "kept SSL" :
			"hand-off", stls_conn_get_detail(o.s));
	}
	CHECK(ok || ((!hs_ok || keep) &&
		     stls_conn_get_state(o.s) == STLS_CONN_FAILED));
	check_outcome(&o, keep, k.handoff_fallbacks);
	oc_fini(&o);
	return n;
}

static void handshake_case(const char *cipher, bool keep)
{
	unsigned long n, i, hits = 0;
	bool hit;

	CHECK(af_installed);
	/* The first run also makes the process's one-time allocations. */
	(void)handshake_run(cipher, keep, 0, &hit);
	n = handshake_run(cipher, keep, 0, &hit);
	CHECK(n > 10);
	for (i = 1; i <= n; i++) {
		(void)handshake_run(cipher, keep, i, &hit);
		hits += hit;
	}
	/* Nearly every allocation was reached and failed. */
	CHECK(hits * 10 >= n * 9);
}

#define C12 "ECDHE-ECDSA-AES128-GCM-SHA256"

TEST(hand_off_path_tls13_hand_off) { handshake_case(NULL, false); }
TEST(hand_off_path_tls13_kept_ssl) { handshake_case(NULL, true); }
TEST(hand_off_path_tls12_hand_off) { handshake_case(C12, false); }
TEST(hand_off_path_tls12_kept_ssl) { handshake_case(C12, true); }

/*
 * The KeyUpdate path (TLS 1.3): the client's KeyUpdate(update_requested)
 * forged in one record, or split over two, then data both ways, with
 * allocation i failing (sticky: it and every later one). Returns the
 * number of allocations made.
 */
static unsigned long key_update_run(bool keep, bool split, bool sticky,
				    unsigned long i)
{
	static unsigned char rec[FORGE_MAX];
	static const unsigned char ku[6] = { 24, 0, 0, 1, 1, 22 };
	unsigned char data[2] = { 'd', 23 };
	struct stls_rec13 f;
	unsigned long n;
	uint16_t id;
	size_t k1, k2 = 0;
	struct oc o;
	bool ok;

	oc_init(&o, NULL);
	oc_start(&o, keep);
	oc_established(&o, !keep);
	id = (uint16_t)SSL_CIPHER_get_protocol_id(
		SSL_get_current_cipher(o.cl));
	CHECK_OK(stls__rec13_init(&f, id, NULL, cl_rd, cl_wr, cl_len));
	if (split) {
		unsigned char a[3] = { 24, 0, 22 }, b[4] = { 0, 1, 1, 22 };

		k1 = forge13(&f, a, sizeof(a), 0x0303, rec);
		k2 = forge13(&f, b, sizeof(b), 0x0303, rec + k1);
	} else {
		k1 = forge13(&f, ku, sizeof(ku), 0x0303, rec);
	}
	CHECK_OK(stls__rec13_update(&f, true));
	k2 += forge13(&f, data, sizeof(data), 0x0303, rec + k1 + k2);
	if (sticky) {
		af_arm_sticky(i);
	} else {
		af_arm(i);
	}
	srv_feed(&o, rec, k1 + k2);
	if (stls_conn_get_state(o.s) == STLS_CONN_ESTABLISHED) {
		(void)!stls_conn_push(o.s, "answer", 6);
	}
	ok = pump_armed(&o);
	n = af_seen();
	af_disarm();
	CHECK(i == 0 || af_failed());
	/*
	 * Whatever the hand-off wrote, the client could open. OpenSSL's
	 * own layer, when an allocation fails after it numbered its
	 * KeyUpdate answer (its sequence number taken, the record never
	 * written), sends its internal_error alert under the old key at
	 * the next, never used number: the peer cannot read it, but no
	 * nonce is reused (checked by hand with the forger: the alert opens
	 * under the old key at sequence 3, after two tickets at 0 and 1).
	 */
	if (!ok) {
		fprintf(stderr, "  allocation %lu of the %s%s KeyUpdate path "
			"(%s): the client could not open a record; %s\n", i,
			sticky ? "sticky, " : "", split ? "split" : "whole",
			keep ? "kept SSL" : "hand-off",
			stls_conn_get_detail(o.s));
	}
	CHECK(ok || (keep && stls_conn_get_state(o.s) == STLS_CONN_FAILED));
	if (stls_conn_get_state(o.s) == STLS_CONN_ESTABLISHED) {
		size_t rx0 = o.rxlen, crx0 = o.crxlen;
		unsigned char ping[5] = { 'p', 'i', 'n', 'g', 23 };

		CHECK_EQ(o.rxlen, 1);
		k1 = forge13(&f, ping, sizeof(ping), 0x0303, rec);
		srv_feed(&o, rec, k1);
		CHECK_EQ(o.rxlen, rx0 + 4);
		CHECK_EQ(stls_conn_push(o.s, "pong", 4), 4);
		oc_move(&o);
		cl_read(&o);
		CHECK(o.crxlen >= crx0 + 4);
		CHECK(memcmp(o.crx + o.crxlen - 4, "pong", 4) == 0);
	} else {
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_FAILED);
		CHECK_EQ(stls_conn_push(o.s, "x", 1), -EPIPE);
	}
	stls__rec13_fini(&f);
	oc_fini(&o);
	return n;
}

static void key_update_case(bool keep)
{
	int mode;

	(void)key_update_run(keep, false, false, 0); /* one-time allocations */
	for (mode = 0; mode < 4; mode++) {
		bool split = mode & 1, sticky = mode & 2;
		unsigned long n = key_update_run(keep, split, sticky, 0), i;

		CHECK(n > 3);
		for (i = 1; i <= n; i++) {
			(void)key_update_run(keep, split, sticky, i);
		}
	}
}

TEST(key_update_path_hand_off) { key_update_case(false); }
TEST(key_update_path_kept_ssl) { key_update_case(true); }
