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
#include "lib/tls/oc_pair.h"

#include "alloc_fail.h"

#include "stls/profile.h"
#include "stls/settings.h"
#include "tls/tls_int.h"

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

/* Allocation failure injection needs OpenSSL's allocator from the start. */
__attribute__((constructor)) static void install_alloc_fail(void)
{
	(void)af_install();
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
		oc_ready(&o, suites[kind]);
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

TEST(close_notify_both_ways) { close_notify_case(NULL); }

TEST(server_close_notify_reaches_client) { server_close_case(NULL); }

/* A forger speaking as the client, in step with the real client. */
static void forger(struct oc *o, struct stls_rec13 *f)
{
	uint16_t id = (uint16_t)SSL_CIPHER_get_protocol_id(
		SSL_get_current_cipher(o->cl));

	CHECK(cl_len == 32 || cl_len == 48);
	CHECK_OK(stls__rec13_init(f, id, NULL, cl_rd, cl_wr, cl_len));
}

struct bad {
	unsigned char type; /* inner content type */
	const char *content;
	size_t len;
	const char *detail; /* expected in the close detail */
};

static const struct bad bads[] = {
	{ 22, "\x04\x00\x00\x01\x00", 5, "unexpected_message" },
	{ 22, "\x0d\x00\x00\x01\x00", 5, "unexpected_message" },
	{ 22, "\x18\x00\x00\x01\x02", 5, "illegal_parameter" },
	{ 22, "\x18\x00\x00\x02\x00\x00", 6, "decode_error" },
	{ 22, "\x18\x00\x00\x01\x00\x18\x00\x00\x01\x00", 10,
	  "unexpected_message" },
	{ 22, "\x18\x00\x00\x05\x00", 5, "decode_error" },
	{ 21, "\x02\x28", 2, "peer sent alert" },
	{ 21, "\x01\x00\x00", 3, "decode_error" },
	{ 20, "\x01", 1, "unexpected_message" },
	{ 22, "", 0, "unexpected_message" },
	/* RFC 8446 section 5.1: no zero-length alert records. */
	{ 21, "", 0, "unexpected_message: empty alert record" },
	{ 21, "\x02", 1, "decode_error" },
};

/* Messages and alerts OpenSSL would never send us: each fails. */
TEST(forged_post_handshake_content_fails)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bads); i++) {
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, suites[i % 3]);
		forger(&o, &f);
		forge(&o, &f, bads[i].type, bads[i].content, bads[i].len);
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PROTOCOL);
		CHECK_STR_HAS(stls_conn_get_detail(o.s), bads[i].detail);
		CHECK_EQ(stls_conn_push(o.s, "x", 1), -EPIPE);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/* Padding, empty records and user_canceled are all fine. */
TEST(forged_legal_records_accepted)
{
	static const unsigned char padded[] = { 'o', 'k', 23, 0, 0, 0 };
	struct stls_rec13 f;
	struct oc o;

	oc_ready(&o, NULL);
	forger(&o, &f);
	forge(&o, &f, 0, padded, sizeof(padded));
	forge(&o, &f, 23, "", 0);
	forge(&o, &f, 21, "\x01\x5a", 2);
	forge(&o, &f, 23, "!", 1);
	CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
	CHECK_EQ(o.rxlen, 3);
	CHECK(memcmp(o.rx, "ok!", 3) == 0);
	CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
	stls__rec13_fini(&f);
	oc_fini(&o);
}

/* KeyUpdate(update_requested): our answer is a KeyUpdate under the old
 * key, and data after it uses the new one. */
TEST(forged_key_update_answered)
{
	unsigned char out[256], pt[256], t = 0;
	struct stls_rec13 f;
	const void *p;
	size_t n, got = 0;
	struct oc o;

	oc_ready(&o, "TLS_AES_256_GCM_SHA384");
	forger(&o, &f);
	/* Skip the tickets the client read: same sequence as ours. */
	f.rd.seq = o.s->rec->wr.seq;
	forge(&o, &f, 22, "\x18\x00\x00\x01\x01", 5);
	CHECK_OK(stls__rec13_update(&f, true));
	CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
	p = stls_conn_peek(o.s, &n);
	CHECK(p && n <= sizeof(out));
	memcpy(out, p, n);
	stls_conn_consume(o.s, n);
	CHECK_OK(stls__rec13_open(&f, out, n, pt, &got, &t));
	CHECK_EQ(t, 22);
	CHECK_EQ(got, 5);
	CHECK(memcmp(pt, "\x18\x00\x00\x01\x00", 5) == 0);
	CHECK_OK(stls__rec13_update(&f, false));
	CHECK_EQ(stls_conn_push(o.s, "new", 3), 3);
	p = stls_conn_peek(o.s, &n);
	CHECK(p && n <= sizeof(out));
	memcpy(out, p, n);
	stls_conn_consume(o.s, n);
	CHECK_OK(stls__rec13_open(&f, out, n, pt, &got, &t));
	CHECK(t == 23 && got == 3 && memcmp(pt, "new", 3) == 0);
	forge(&o, &f, 23, "fine", 4);
	CHECK_EQ(o.rxlen, 4);
	stls__rec13_fini(&f);
	oc_fini(&o);
}

TEST(garbage_forged_oversized_and_mistyped_records_fail)
{
	garbage_case(32);
	raw_case("\x17\x03\x03\x41\x01", 5, "record_overflow");
	raw_case("\x15\x03\x03\x00\x02\x02\x28", 7, "unexpected_message");
	raw_case("\x16\x03\x03\x00\x04\x18\x00\x00\x01", 9,
		 "unexpected_message");
	/* Compatibility change_cipher_spec: only during the handshake. */
	raw_case("\x14\x03\x03\x00\x01\x01", 6, "unexpected_message");
}

/* A real client record with one bit flipped fails authentication. */
TEST(tampered_client_record_fails)
{
	static unsigned char buf[256];
	struct oc o;
	int n;

	oc_ready(&o, NULL);
	n = client_record(&o, "INVITE", buf);
	buf[n - 3] ^= 0x40;
	srv_feed(&o, buf, (size_t)n);
	CHECK_EQ(o.last, STLS_IO_FAILED);
	CHECK_STR_HAS(stls_conn_get_detail(o.s), "bad_record_mac");
	oc_fini(&o);
}

/* Half a record and then EOF: closed without close_notify. */
TEST(truncated_record_then_eof) { truncated_case(); }

/* When the hand-off is not safe or not wanted, the SSL stays. */
TEST(ssl_kept_when_asked_or_unsafe)
{
	struct oc o;
	int i;

	for (i = 0; i < 3; i++) {
		oc_init(&o, i == 1 ? "TLS_AES_128_CCM_SHA256" : NULL);
		if (i == 2) {
			/* OpenSSL may have read past the client Finished. */
			SSL_CTX_set_read_ahead(o.sctx, 1);
		}
		oc_start(&o, i == 0);
		oc_established(&o, false);
		both_ways(&o, "kept");
		oc_fini(&o);
	}
}

/* The write sequence follows the tickets sent: 0, 1 (default 2), 3. */
TEST(write_sequence_follows_tickets)
{
	static const int tickets[] = { 0, 1, 3 };
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(tickets); i++) {
		struct oc o;

		oc_init(&o, NULL);
		CHECK(SSL_CTX_set_num_tickets(o.sctx, (size_t)tickets[i]));
		oc_start(&o, false);
		oc_established(&o, true);
		CHECK_EQ(o.s->rec->wr.seq, tickets[i]);
		both_ways(&o, "seq");
		oc_fini(&o);
	}
}

/* A resumed (PSK) handshake hands off too, and its ticket works. */
TEST(resumed_session_handed_off)
{
	SSL_SESSION *sess;
	struct oc o;

	oc_init(&o, NULL);
	SSL_CTX_set_session_cache_mode(o.sctx, SSL_SESS_CACHE_SERVER);
	CHECK(SSL_CTX_set_session_id_context(o.sctx, (const void *)"t", 1));
	oc_start(&o, false);
	oc_established(&o, true);
	both_ways(&o, "first");
	sess = SSL_get1_session(o.cl);
	CHECK(sess && SSL_SESSION_is_resumable(sess));
	stls_conn_free(o.s);
	/* A clean end, or OpenSSL marks the session not resumable. */
	SSL_set_shutdown(o.cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(o.cl);
	o.rxlen = o.crxlen = 0;
	oc_start(&o, false);
	CHECK(SSL_set_session(o.cl, sess));
	SSL_SESSION_free(sess);
	oc_established(&o, true);
	CHECK(SSL_session_reused(o.cl));
	CHECK(stls_facts_is_resumed(stls_conn_get_facts(o.s)));
	both_ways(&o, "second");
	oc_fini(&o);
}

/* Profile SSLs: the profile stays known (and alive) after the hand-off. */
TEST(profile_kept_after_hand_off)
{
	const struct stls_profile *p;
	struct stls_profile_set *ps = NULL;
	struct stls_conn_opts so = { 0 };
	struct stls_addr a = { 0 };
	struct stls_settings set;
	struct oc o;

	oc_init(&o, NULL);
	CHECK_OK(stls_settings_init(&set));
	free(set.certificate);
	free(set.private_key);
	set.certificate = strdup(test_cert_path("server.pem"));
	set.private_key = strdup(test_cert_path("server.key"));
	set.record_handoff = 1;
	CHECK_OK(stls_profile_set_build(&set, NULL, NULL, &ps));
	p = stls_profile_set_default(ps, STLS_ROLE_SERVER);
	so.role = STLS_ROLE_SERVER;
	so.ssl = stls_profile_ssl_new(p, &a);
	so.settings = &set;
	CHECK_OK(stls_conn_new(&so, &o.s, NULL));
	CHECK(stls_conn_get0_profile(o.s) == p);
	/* The connection alone keeps the set alive from here on. */
	stls_profile_set_unref(ps);
	o.cl = SSL_new(o.cctx);
	o.c2s = BIO_new(BIO_s_mem());
	o.s2c = BIO_new(BIO_s_mem());
	SSL_set_bio(o.cl, o.s2c, o.c2s);
	SSL_set_connect_state(o.cl);
	oc_established(&o, true);
	CHECK(stls_conn_get0_profile(o.s) == p);
	CHECK_STR_EQ(stls_profile_name(stls_conn_get0_profile(o.s)),
		     "TLSs<default>");
	both_ways(&o, "profile");
	oc_fini(&o);
	stls_settings_fini(&set);
}

/* Open the next record the server queued, with the forger's read side. */
static void open_next(struct oc *o, struct stls_rec13 *f, unsigned char *pt,
		      size_t *got, unsigned char *type)
{
	static unsigned char rec[STLS_REC13_MAX_PLAIN + 256 + 5];
	size_t n = 0, body;

	/* The queue's blocks need not end at record boundaries. */
	while (n < 5) {
		size_t k;
		const unsigned char *p = stls_conn_peek(o->s, &k);

		CHECK(p != NULL);
		k = k < 5 - n ? k : 5 - n;
		memcpy(rec + n, p, k);
		stls_conn_consume(o->s, k);
		n += k;
	}
	CHECK_OK(stls__rec13_check_header(rec, &body));
	while (n < 5 + body) {
		size_t k;
		const unsigned char *p = stls_conn_peek(o->s, &k);

		CHECK(p != NULL);
		k = k < 5 + body - n ? k : 5 + body - n;
		memcpy(rec + n, p, k);
		stls_conn_consume(o->s, k);
		n += k;
	}
	CHECK_OK(stls__rec13_open(f, rec, n, pt, got, type));
}

/*
 * AEAD limits (RFC 8446 section 5.5): before our write sequence reaches
 * STLS_REC13_REKEY_AFTER records, a KeyUpdate (update_not_requested) under
 * the old key goes first and the data follows under the new one.
 */
TEST(write_key_updated_before_the_aead_limit)
{
	static unsigned char pt[STLS_REC13_MAX_PLAIN + 256];
	unsigned char t = 0;
	struct stls_rec13 f;
	size_t got = 0;
	struct oc o;

	oc_ready(&o, "TLS_AES_128_GCM_SHA256");
	forger(&o, &f);
	o.s->rec->wr.seq = STLS_REC13_REKEY_AFTER - 1;
	f.rd.seq = STLS_REC13_REKEY_AFTER - 1;
	CHECK_EQ(stls_conn_push(o.s, "last", 4), 4);
	open_next(&o, &f, pt, &got, &t);
	CHECK(t == 23 && got == 4 && memcmp(pt, "last", 4) == 0);
	CHECK_EQ(o.s->rec->wr.seq, STLS_REC13_REKEY_AFTER);
	CHECK_EQ(stls_conn_push(o.s, "next", 4), 4);
	open_next(&o, &f, pt, &got, &t);
	CHECK_EQ(t, 22);
	CHECK_EQ(got, 5);
	CHECK(memcmp(pt, "\x18\x00\x00\x01\x00", 5) == 0);
	CHECK_OK(stls__rec13_update(&f, false));
	open_next(&o, &f, pt, &got, &t);
	CHECK(t == 23 && got == 4 && memcmp(pt, "next", 4) == 0);
	CHECK_EQ(o.s->rec->wr.seq, 1);
	CHECK_EQ(stls_conn_get_pending_out(o.s), 0);
	/* Our close_notify at the limit takes the same path. */
	o.s->rec->wr.seq = STLS_REC13_REKEY_AFTER;
	f.rd.seq = STLS_REC13_REKEY_AFTER;
	CHECK_EQ(stls_conn_close(o.s), STLS_IO_DONE);
	open_next(&o, &f, pt, &got, &t);
	CHECK_EQ(t, 22);
	CHECK_OK(stls__rec13_update(&f, false));
	open_next(&o, &f, pt, &got, &t);
	CHECK(t == 21 && got == 2 && pt[1] == 0);
	stls__rec13_fini(&f);
	oc_fini(&o);
}

/* A padded record with no content, bigger than the caller's buffer:
 * no plaintext buffer stays behind (idle connections hold none). */
TEST(padded_empty_record_keeps_no_buffer)
{
	static unsigned char padded[300];
	struct stls_rec13 f;
	struct oc o;

	oc_init(&o, NULL);
	o.cap = 100;
	oc_start(&o, false);
	oc_established(&o, true);
	forger(&o, &f);
	padded[0] = 23; /* content type, then zeros */
	forge(&o, &f, 0, padded, sizeof(padded));
	CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
	CHECK_EQ(o.rxlen, 0);
	CHECK_NULL(o.s->rec->pt);
	forge(&o, &f, 23, "after", 5);
	CHECK_EQ(o.rxlen, 5);
	CHECK_NULL(o.s->rec->pt);
	stls__rec13_fini(&f);
	oc_fini(&o);
}

static int client_hellos;

static void count_client_hellos(int write_p, int version, int content_type,
				const void *buf, size_t len, SSL *ssl,
				void *arg)
{
	const unsigned char *p = buf;

	(void)version;
	(void)ssl;
	(void)arg;
	if (write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
	    p[0] == SSL3_MT_CLIENT_HELLO) {
		client_hellos++;
	}
}

/*
 * HelloRetryRequest: the client's key share (X25519) is not one the
 * server takes (P-256 only), so the server asks again; the extra flight
 * and the compatibility change_cipher_spec records must not upset the
 * write sequence, with 0 or 2 tickets.
 */
TEST(hello_retry_request_handed_off)
{
	static const int tickets[] = { 0, 2 };
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(tickets); i++) {
		struct oc o;

		oc_init(&o, suites[i]);
		CHECK(SSL_CTX_set1_groups_list(o.sctx, "P-256"));
		CHECK(SSL_CTX_set1_groups_list(o.cctx, "X25519:P-256"));
		CHECK(SSL_CTX_set_num_tickets(o.sctx, (size_t)tickets[i]));
		SSL_CTX_set_msg_callback(o.cctx, count_client_hellos);
		client_hellos = 0;
		oc_start(&o, false);
		oc_established(&o, true);
		CHECK_EQ(client_hellos, 2);
		CHECK_EQ(o.s->rec->wr.seq, tickets[i]);
		CHECK_EQ(o.s->rec->rd.seq, 0);
		both_ways(&o, "hrr");
		CHECK(SSL_key_update(o.cl, SSL_KEY_UPDATE_REQUESTED));
		both_ways(&o, "hrr-ku");
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
		oc_fini(&o);
	}
}

/*
 * 0-RTT is never accepted: even with tickets that allow early data
 * (max_early_data on the server context), the engine never reads early
 * data, so OpenSSL rejects it, the client's early records are skipped
 * during the handshake and the hand-off still reads the first
 * application record at sequence 0.
 */
TEST(early_data_rejected_then_handed_off)
{
	SSL_SESSION *sess;
	size_t w = 0;
	struct oc o;

	oc_init(&o, NULL);
	SSL_CTX_set_session_cache_mode(o.sctx, SSL_SESS_CACHE_SERVER);
	CHECK(SSL_CTX_set_session_id_context(o.sctx, (const void *)"e", 1));
	CHECK(SSL_CTX_set_max_early_data(o.sctx, 16384));
	oc_start(&o, false);
	oc_established(&o, true);
	both_ways(&o, "first");
	sess = SSL_get1_session(o.cl);
	CHECK(sess && SSL_SESSION_get_max_early_data(sess) == 16384);
	stls_conn_free(o.s);
	SSL_set_shutdown(o.cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(o.cl);
	o.rxlen = o.crxlen = 0;
	oc_start(&o, false);
	CHECK(SSL_set_session(o.cl, sess));
	SSL_SESSION_free(sess);
	CHECK(SSL_write_early_data(o.cl, "EARLY", 5, &w) == 1);
	oc_established(&o, true);
	CHECK(SSL_session_reused(o.cl));
	CHECK_EQ(SSL_get_early_data_status(o.cl), SSL_EARLY_DATA_REJECTED);
	CHECK_EQ(o.rxlen, 0);
	CHECK_EQ(o.s->rec->rd.seq, 0);
	both_ways(&o, "second");
	oc_fini(&o);
}

/*
 * Open every record the server queued, in order, with the forger's read
 * side, following the server's KeyUpdates. Returns the number of records;
 * *alerts counts the alerts among them.
 */
static int open_all(struct oc *o, struct stls_rec13 *f, int *alerts)
{
	static unsigned char pt[STLS_REC13_MAX_PLAIN + 256];
	unsigned char t = 0;
	size_t got = 0;
	int n = 0;

	*alerts = 0;
	while (stls_conn_get_pending_out(o->s) > 0) {
		open_next(o, f, pt, &got, &t);
		n++;
		if (t == 21) {
			(*alerts)++;
		}
		if (t == 22 && got == 5 && pt[0] == 24) {
			CHECK_OK(stls__rec13_update(f, false));
		}
	}
	return n;
}

/*
 * A KeyUpdate(update_requested) from the peer, then data both ways, with
 * each allocation of that path failing in turn. Whatever fails, every
 * record the server wrote opens under the keys the peer expects (a reused
 * nonce would not: before the fix, a failed write-key update left the old
 * key with sequence 0 and sealed the internal_error alert under it), and
 * no alert follows a KeyUpdate whose new key could not be made.
 */
TEST(key_update_allocation_failures_never_reuse_a_nonce)
{
	static unsigned char rec[64];
	unsigned long n = 0, i;
	int alerts;

	CHECK(af_installed);
	for (i = 0; i <= n; i++) {
		struct stls_rec13 f;
		struct oc o;
		ssize_t k;

		oc_ready(&o, "TLS_AES_256_GCM_SHA384");
		forger(&o, &f);
		f.rd.seq = o.s->rec->wr.seq;
		k = stls__rec13_seal(&f, 22, "\x18\x00\x00\x01\x01", 5, rec);
		CHECK(k > 0);
		CHECK_OK(stls__rec13_update(&f, true));
		/* Only the server's work is armed, not the forger's. */
		af_arm(i);
		srv_feed(&o, rec, (size_t)k);
		if (stls_conn_get_state(o.s) == STLS_CONN_ESTABLISHED) {
			(void)!stls_conn_push(o.s, "after", 5);
		}
		if (i == 0) {
			n = af_seen();
		}
		af_disarm();
		CHECK(i == 0 || af_failed());
		(void)open_all(&o, &f, &alerts);
		if (stls_conn_get_state(o.s) == STLS_CONN_FAILED) {
			CHECK_EQ(stls_conn_push(o.s, "x", 1), -EPIPE);
			if (strstr(stls_conn_get_detail(o.s),
				   "next write key")) {
				CHECK_EQ(alerts, 0);
			}
		} else {
			CHECK_EQ(stls_conn_get_state(o.s),
				 STLS_CONN_ESTABLISHED);
			CHECK_EQ(alerts, 0);
			forge(&o, &f, 23, "still", 5);
			CHECK_EQ(stls_conn_push(o.s, "here", 4), 4);
			CHECK_EQ(open_all(&o, &f, &alerts), 1);
			CHECK_EQ(stls_conn_get_state(o.s),
				 STLS_CONN_ESTABLISHED);
		}
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
	CHECK(n > 5);
}

/*
 * RFC 8446 section 5.1: a handshake message may span records. A KeyUpdate
 * cut at every point (and byte by byte) is read, answered when requested,
 * and the next record is read under the new key. Before the fix every cut
 * failed with "fragmented handshake message".
 */
TEST(split_key_update_accepted)
{
	static const size_t cuts[][5] = {
		{ 1, 4 }, { 2, 3 }, { 3, 2 }, { 4, 1 }, { 1, 1, 1, 1, 1 },
	};
	size_t i, j;

	for (i = 0; i < 2 * STLS_ARRAY_SIZE(cuts); i++) {
		unsigned char ku[5] = { 24, 0, 0, 1, (unsigned char)(i & 1) };
		const size_t *cut = cuts[i / 2];
		unsigned char pt[256], t = 0;
		size_t off = 0, got = 0;
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, suites[i % 3]);
		forger(&o, &f);
		f.rd.seq = o.s->rec->wr.seq;
		for (j = 0; j < 5 && cut[j]; j++) {
			forge(&o, &f, 22, ku + off, cut[j]);
			off += cut[j];
			CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
		}
		CHECK_OK(stls__rec13_update(&f, true));
		if (i & 1) {
			/* Our answer came under the old key. */
			open_next(&o, &f, pt, &got, &t);
			CHECK(t == 22 && got == 5 && pt[0] == 24 && pt[4] == 0);
			CHECK_OK(stls__rec13_update(&f, false));
		}
		CHECK_EQ(stls_conn_get_pending_out(o.s), 0);
		forge(&o, &f, 23, "new key", 7);
		CHECK_EQ(o.rxlen, 7);
		CHECK_EQ(stls_conn_push(o.s, "back", 4), 4);
		open_next(&o, &f, pt, &got, &t);
		CHECK(t == 23 && got == 4 && memcmp(pt, "back", 4) == 0);
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/*
 * A handshake message must not be interleaved with other records, and a
 * KeyUpdate must end its record; a KeyUpdate whose last fragment already
 * uses the new key fails authentication.
 */
TEST(split_key_update_misuse_refused)
{
	static const struct {
		unsigned char type;
		const char *content;
		size_t len;
		const char *detail;
	} seconds[] = {
		{ 23, "data", 4, "unexpected_message" },
		{ 23, "", 0, "unexpected_message" },
		{ 21, "\x01\x5a", 2, "unexpected_message" },
		{ 21, "\x01\x00", 2, "unexpected_message" },
		{ 22, "\x00\x01\x00\x17", 4,
		  "KeyUpdate not at the record end" },
		{ 22, "\x00\x02\x00", 3, "decode_error" },
		{ 22, "\x00\x01\x02", 3, "illegal_parameter" },
	};
	size_t i;

	for (i = 0; i <= STLS_ARRAY_SIZE(seconds); i++) {
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, suites[i % 3]);
		forger(&o, &f);
		forge(&o, &f, 22, "\x18\x00", 2);
		CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
		if (i < STLS_ARRAY_SIZE(seconds)) {
			forge(&o, &f, seconds[i].type, seconds[i].content,
			      seconds[i].len);
		} else {
			/* The last fragment under the next key. */
			CHECK_OK(stls__rec13_update(&f, true));
			forge(&o, &f, 22, "\x00\x01\x00", 3);
		}
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PROTOCOL);
		CHECK_STR_HAS(stls_conn_get_detail(o.s),
			      i < STLS_ARRAY_SIZE(seconds) ? seconds[i].detail
							   : "bad_record_mac");
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/* A connection on either layer (keep_ssl: OpenSSL's), with a forger. */
static void either(struct oc *o, struct stls_rec13 *f, bool keep_ssl)
{
	oc_init(o, NULL);
	oc_start(o, keep_ssl);
	oc_established(o, !keep_ssl);
	forger(o, f);
}

/*
 * OpenSSL's limits, on both layers: the 5th ignored warning alert in a
 * row (user_canceled) and the 33rd empty record in a row end the
 * connection with unexpected_message, and the close is counted; a
 * non-empty data record in between starts the count again. Before the
 * fix the hand-off took any number of either.
 */
TEST(warning_alerts_in_a_row_limited)
{
	int keep, i;

	for (keep = 0; keep < 2; keep++) {
		struct stls_conn_counters before, after;
		struct stls_rec13 f;
		struct oc o;

		either(&o, &f, keep);
		stls_conn_get_counters(&before);
		for (i = 0; i < 4; i++) {
			forge(&o, &f, 21, "\x01\x5a", 2);
		}
		forge(&o, &f, 23, "a", 1);
		for (i = 0; i < 4; i++) {
			forge(&o, &f, 21, "\x01\x5a", 2);
		}
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
		CHECK_EQ(o.rxlen, 1);
		forge(&o, &f, 21, "\x01\x5a", 2);
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PROTOCOL);
		stls_conn_get_counters(&after);
		CHECK_EQ(after.warning_alert_closes,
			 before.warning_alert_closes + 1);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

TEST(empty_records_in_a_row_limited)
{
	static const unsigned char pad[3] = { 23, 0, 0 };
	int keep, i;

	for (keep = 0; keep < 2; keep++) {
		struct stls_conn_counters before, after;
		struct stls_rec13 f;
		struct oc o;

		either(&o, &f, keep);
		stls_conn_get_counters(&before);
		for (i = 0; i < 32; i++) {
			forge(&o, &f, i & 1 ? 0 : 23, pad, i & 1 ? 3 : 0);
		}
		forge(&o, &f, 23, "a", 1);
		for (i = 0; i < 32; i++) {
			forge(&o, &f, 23, "", 0);
		}
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
		CHECK_EQ(o.rxlen, 1);
		forge(&o, &f, 23, "", 0);
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PROTOCOL);
		stls_conn_get_counters(&after);
		CHECK_EQ(after.empty_record_closes,
			 before.empty_record_closes + 1);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/*
 * A negotiated max_fragment_length (RFC 6066 section 4) binds the client
 * too: content over it is record_overflow, on both layers (OpenSSL
 * checks it; before the fix the hand-off only applied it to its own
 * writes).
 */
TEST(max_fragment_length_enforced_on_input)
{
	static unsigned char big[513];
	int keep, over;

	memset(big, 'm', sizeof(big));
	for (keep = 0; keep < 2; keep++) {
		for (over = 0; over < 2; over++) {
			struct stls_rec13 f;
			struct oc o;

			oc_init(&o, NULL);
			CHECK(SSL_CTX_set_tlsext_max_fragment_length(
				o.cctx, TLSEXT_max_fragment_length_512));
			oc_start(&o, keep);
			oc_established(&o, !keep);
			forger(&o, &f);
			forge(&o, &f, 23, big, 512 + (size_t)over);
			if (over) {
				CHECK_EQ(o.last, STLS_IO_FAILED);
				CHECK_EQ(oc_client_alert(&o), 2 << 8 | 22);
			} else {
				CHECK_EQ(o.rxlen, 512);
				CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
			}
			stls__rec13_fini(&f);
			oc_fini(&o);
		}
	}
}
