/*
 * Unit tests for lib/tls/rec12.c and the TLS 1.2 record hand-off
 * (conn_handoff.c, conn_rec13.c): a server engine that handed its record
 * layer off talks to a plain OpenSSL TLS 1.2 client (an SSL over memory
 * BIOs), so every record we write is checked by OpenSSL and every record
 * we read was written by it. Data both ways in the three suite families
 * (ECDSA and RSA), whole / one byte / random splits, writes over 16 KB,
 * close_notify both ways, resumption by session id and by ticket, client
 * data pipelined behind its Finished (False Start, resumption), the
 * refusals (renegotiation, change_cipher_spec, alerts, tampered, oversized
 * and truncated records, sequence number exhaustion) and the cases that
 * keep the SSL. Records OpenSSL would never send are forged with the
 * client's keys (master secret and randoms of its session) and rec12.c.
 */
#include "lib/tls/oc_pair.h"
#include "lib/tls/rec_forge.h"

static const char *const ciphers[] = {
	"ECDHE-ECDSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305",
	"ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-CHACHA20-POLY1305",
};

/* A TLS 1.2 pair; cipher NULL: the first of ciphers[]. RSA suites get the
 * RSA certificate. */
static void oc_init(struct oc *o, const char *cipher)
{
	bool rsa;

	if (!cipher) {
		cipher = ciphers[0];
	}
	rsa = strstr(cipher, "-RSA-") != NULL;
	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->set.send_close_notify = 1;
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER,
			  rsa ? "server-rsa.pem" : "server.pem",
			  rsa ? "server-rsa.key" : "server.key",
			  TLS1_2_VERSION, TLS1_2_VERSION);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, TLS1_2_VERSION,
			  TLS1_2_VERSION);
	CHECK(SSL_CTX_set_cipher_list(o->sctx, cipher));
	CHECK(SSL_CTX_set_cipher_list(o->cctx, cipher));
}

static void data_case(const char *cipher, enum split sp, unsigned seed)
{
	struct oc o;

	oc_init(&o, cipher);
	o.split = sp;
	o.seed = seed;
	oc_start(&o, false);
	oc_established(&o, true);
	CHECK(o.s->rec->v12);
	/* The Finished was record 0 each way. */
	CHECK_EQ(o.s->rec->rd.seq, 1);
	CHECK_EQ(o.s->rec->wr.seq, 1);
	both_ways(&o, "one");
	both_ways(&o, "two");
	CHECK_EQ(o.s->rec->rd.seq, 3);
	CHECK_EQ(o.s->rec->wr.seq, 3);
	oc_fini(&o);
}

static void all_suites(enum split sp)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(ciphers); i++) {
		data_case(ciphers[i], sp, (unsigned)i + 7);
	}
}

TEST(data_both_ways_whole) { all_suites(SPLIT_WHOLE); }
TEST(data_both_ways_one_byte) { all_suites(SPLIT_ONE); }
TEST(data_both_ways_random_splits) { all_suites(SPLIT_RANDOM); }

/* More than one record each way; the client reads what we wrote. */
TEST(large_writes_both_ways)
{
	static unsigned char big[70000];
	size_t i, k;

	for (i = 0; i < sizeof(big); i++) {
		big[i] = (unsigned char)(i * 131 + (i >> 9));
	}
	for (k = 0; k < 3; k++) {
		struct oc o;

		oc_init(&o, ciphers[k]);
		o.split = k == 1 ? SPLIT_RANDOM : SPLIT_WHOLE;
		o.cap = k == 2 ? 1000 : sizeof(o.rx);
		oc_start(&o, false);
		oc_established(&o, true);
		cl_send(&o, big, sizeof(big));
		CHECK_EQ(o.rxlen, sizeof(big));
		CHECK(memcmp(o.rx, big, sizeof(big)) == 0);
		srv_send(&o, big, sizeof(big));
		CHECK_EQ(o.crxlen, sizeof(big));
		CHECK(memcmp(o.crx, big, sizeof(big)) == 0);
		/* 70000 bytes: five records of at most 2^14 each. */
		CHECK_EQ(o.s->rec->wr.seq, 1 + 5);
		oc_fini(&o);
	}
}

TEST(close_notify_both_ways) { close_notify_case(ciphers[2]); }

TEST(server_close_notify_reaches_client) { server_close_case(ciphers[1]); }

TEST(truncated_record_then_eof) { truncated_case(); }

/* The OpenSSL client renegotiates: refused and counted as with an SSL. */
TEST(client_renegotiation_refused)
{
	uint64_t before = stls_conn_get_reneg_refused();
	size_t w;
	struct oc o;

	oc_ready(&o, NULL);
	both_ways(&o, "before");
	CHECK(SSL_renegotiate(o.cl));
	(void)SSL_write_ex(o.cl, "after", 5, &w);
	oc_pump(&o);
	CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_FAILED);
	CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_RENEGOTIATION);
	CHECK_STR_EQ(stls_conn_get_detail(o.s),
		     "TLS renegotiation refused (renegotiation = 0)");
	CHECK(stls_conn_get_flags(o.s) & STLS_CONN_F_RENEGOTIATION);
	CHECK_EQ(stls_conn_get_reneg_refused(), before + 1);
	oc_fini(&o);
}

/* A forger speaking as the client, from the client's session keys. */
static void forger(struct oc *o, struct stls_rec13 *f)
{
	unsigned char ms[48], cr[32], sr[32];
	struct stls_rec13_dir t;
	uint16_t id = (uint16_t)SSL_CIPHER_get_protocol_id(
		SSL_get_current_cipher(o->cl));

	CHECK_EQ(SSL_SESSION_get_master_key(SSL_get_session(o->cl), ms, 48),
		 48);
	CHECK_EQ(SSL_get_client_random(o->cl, cr, 32), 32);
	CHECK_EQ(SSL_get_server_random(o->cl, sr, 32), 32);
	CHECK_OK(stls__rec12_init(f, id, NULL, ms, 48, cr, sr));
	t = f->rd; /* the server's view, swapped */
	f->rd = f->wr;
	f->wr = t;
	f->wr.seq = 1; /* after the client's Finished */
	f->rd.seq = 1;
}

struct bad {
	unsigned char type;
	const char *content;
	size_t len;
	enum stls_close_reason reason;
	const char *detail;
};

static const struct bad bads[] = {
	{ 20, "\x01", 1, STLS_CLOSE_PROTOCOL, "unexpected_message" },
	{ 21, "\x02\x28", 2, STLS_CLOSE_PROTOCOL, "peer sent alert" },
	/* Warnings are ignored (RFC 5246 7.2), a fatal alert of any kind
	 * ends the connection (test_rec_negative.c has every alert). */
	{ 21, "\x02\x5a", 2, STLS_CLOSE_PROTOCOL, "peer sent alert" },
	{ 21, "\x02\x00", 2, STLS_CLOSE_PROTOCOL, "peer sent alert" },
	{ 21, "\x01\x64", 2, STLS_CLOSE_PROTOCOL, "handshake_failure" },
	{ 21, "\x03\x00", 2, STLS_CLOSE_PROTOCOL, "illegal_parameter" },
	{ 21, "\x01\x00\x00", 3, STLS_CLOSE_PROTOCOL,
	  "unexpected_message" },
	/* RFC 5246 section 6.2.1: no zero-length alert fragments. */
	{ 21, "", 0, STLS_CLOSE_PROTOCOL,
	  "unexpected_message: empty alert record" },
	{ 22, "\x01\x00\x00\x00", 4, STLS_CLOSE_RENEGOTIATION,
	  "renegotiation refused" },
	{ 24, "\x01", 1, STLS_CLOSE_PROTOCOL, "unexpected_message" },
};

/* Records OpenSSL would not send now: each fails the connection. */
TEST(forged_records_fail)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bads); i++) {
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, ciphers[i % STLS_ARRAY_SIZE(ciphers)]);
		forger(&o, &f);
		forge(&o, &f, bads[i].type, bads[i].content, bads[i].len);
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_EQ(stls_conn_get_reason(o.s), bads[i].reason);
		CHECK_STR_HAS(stls_conn_get_detail(o.s), bads[i].detail);
		CHECK_EQ(stls_conn_push(o.s, "x", 1), -EPIPE);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/* The forger is right: its application data, empty records included,
 * and a user_canceled warning are read; our answer reaches the client. */
TEST(forged_legal_records_accepted)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, ciphers[i]);
		forger(&o, &f);
		forge(&o, &f, 23, "", 0);
		forge(&o, &f, 23, "OPTIONS", 7);
		forge(&o, &f, 21, "\x01\x5a", 2);
		CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
		CHECK_EQ(o.rxlen, 7);
		CHECK(memcmp(o.rx, "OPTIONS", 7) == 0);
		CHECK_EQ(o.s->rec->rd.seq, 4);
		srv_send(&o, "SIP/2.0 200", 11);
		CHECK_EQ(o.crxlen, 11);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

TEST(garbage_oversized_and_mistyped_records_fail)
{
	garbage_case(40);
	raw_case("\x17\x03\x03\x48\x01", 5, "record_overflow");
	/* Any type is decrypted first: these do not authenticate. */
	raw_case("\x14\x03\x03\x00\x01\x01", 6, "bad_record_mac");
	raw_case("\x18\x03\x03\x00\x01\x01", 6, "bad_record_mac");
	raw_case("\x17\x03\x01\x00\x01\x01", 6, "protocol_version");
}

/*
 * An authentic record of more than 2^14 plaintext bytes (sealed by
 * rec_forge.h, which has no limit): record_overflow; the same length of
 * garbage: bad_record_mac (authentication comes first).
 */
TEST(oversized_plaintext_fails)
{
	static unsigned char big[STLS_REC13_MAX_PLAIN + 1];
	static unsigned char rec[FORGE_MAX];
	size_t i, k;

	for (i = 0; i < 3; i++) {
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, ciphers[i]);
		forger(&o, &f);
		k = forge12(&f, 23, big, sizeof(big), 0x0303, rec);
		if (i == 2) {
			rec[k - 1] ^= 1;
		}
		srv_feed(&o, rec, k);
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_STR_HAS(stls_conn_get_detail(o.s),
			      i == 2 ? "bad_record_mac" : "record_overflow");
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

TEST(tampered_client_record_fails)
{
	static unsigned char buf[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		struct oc o;
		int n;

		oc_ready(&o, ciphers[i]);
		n = client_record(&o, "INVITE", buf);
		/* GCM: the explicit nonce; then the ciphertext and tag. */
		buf[i == 0 ? 7 : n - 3] ^= 0x40;
		srv_feed(&o, buf, (size_t)n);
		CHECK_EQ(o.last, STLS_IO_FAILED);
		CHECK_STR_HAS(stls_conn_get_detail(o.s), "bad_record_mac");
		oc_fini(&o);
	}
}

/* Our write sequence number never wraps: the connection fails first
 * (ChaCha20-Poly1305: AES-GCM keys stop far earlier, see below). */
TEST(write_sequence_exhausted_fails)
{
	struct oc o;

	oc_ready(&o, ciphers[2]);
	o.s->rec->wr.seq = UINT64_MAX - 1;
	CHECK_EQ(stls_conn_push(o.s, "a", 1), 1);
	CHECK_EQ(o.s->rec->wr.seq, UINT64_MAX);
	CHECK_EQ(stls_conn_push(o.s, "b", 1), -EPIPE);
	CHECK_EQ(stls_conn_get_reason(o.s), STLS_CLOSE_PROTOCOL);
	CHECK_STR_HAS(stls_conn_get_detail(o.s), "exhausted");
	oc_fini(&o);
}

/*
 * The SSL stays when asked (tls_record_handoff = no), for a suite
 * rec12.c does not know, when renegotiation is allowed, when OpenSSL
 * may have read ahead, and on a context not prepared for the hand-off.
 */
TEST(ssl_kept_when_asked_or_unsafe)
{
	struct oc o;
	int i;

	for (i = 0; i < 5; i++) {
		oc_init(&o, i == 1 ? "ECDHE-ECDSA-AES128-SHA256" : NULL);
		if (i == 2) {
			o.set.renegotiation = 1;
		}
		if (i == 3) {
			SSL_CTX_set_read_ahead(o.sctx, 1);
		}
		if (i == 4) {
			/* A context stls_conn_ctx_apply() did not prepare. */
			SSL_CTX_set_keylog_callback(o.sctx, NULL);
		}
		oc_start(&o, i == 0);
		oc_established(&o, false);
		both_ways(&o, "kept");
		oc_fini(&o);
	}
}

/*
 * False Start: the client's first application record (sealed with its
 * keys, sequence number 1) arrives in the same read as its Finished,
 * before our Finished went out; it is read once, numbered right.
 */
TEST(false_start_record_with_finished)
{
	static unsigned char buf[8192];
	size_t i;

	for (i = 0; i < 3; i++) {
		struct stls_rec13 f;
		struct oc o;
		ssize_t k;
		int n;

		oc_init(&o, ciphers[i]);
		oc_start(&o, false);
		(void)SSL_do_handshake(o.cl);  /* ClientHello */
		oc_move(&o);                   /* our first flight */
		(void)SSL_do_handshake(o.cl);  /* ..., CCS, Finished */
		CHECK(!SSL_is_init_finished(o.cl));
		n = BIO_read(o.c2s, buf, 4096);
		CHECK(n > 0);
		forger(&o, &f);
		k = stls__rec13_seal(&f, 23, "INVITE", 6, buf + n);
		CHECK(k > 0);
		srv_feed(&o, buf, (size_t)n + (size_t)k);
		CHECK_EQ(o.rxlen, 6);
		CHECK(memcmp(o.rx, "INVITE", 6) == 0);
		oc_established(&o, true);
		CHECK_EQ(o.s->rec->rd.seq, 2);
		CHECK_EQ(o.s->rec->wr.seq, 1);
		/* The real client reused sequence number 1: the forger
		 * speaks for it from here on. */
		forge(&o, &f, 23, "BYE", 3);
		CHECK_EQ(o.rxlen, 9);
		CHECK_EQ(o.last, STLS_IO_WANT_INPUT);
		srv_send(&o, "SIP/2.0 200", 11);
		CHECK_EQ(o.crxlen, 11);
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/* Resumption by session id (tickets off) and by ticket: handed off.
 * pipelined: the client's first record comes with its Finished. */
static void resume_case(bool ticket, bool pipelined)
{
	SSL_SESSION *sess;
	struct oc o;

	oc_init(&o, ciphers[ticket ? 2 : 1]);
	SSL_CTX_set_session_cache_mode(o.sctx, SSL_SESS_CACHE_SERVER);
	CHECK(SSL_CTX_set_session_id_context(o.sctx, (const void *)"t", 1));
	if (!ticket) {
		SSL_CTX_set_options(o.sctx, SSL_OP_NO_TICKET);
	}
	oc_start(&o, false);
	oc_established(&o, true);
	both_ways(&o, "first");
	sess = SSL_get1_session(o.cl);
	CHECK(sess && SSL_SESSION_is_resumable(sess));
	CHECK_EQ(SSL_SESSION_has_ticket(sess), ticket);
	stls_conn_free(o.s);
	SSL_set_shutdown(o.cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(o.cl);
	o.rxlen = o.crxlen = 0;
	oc_start(&o, false);
	CHECK(SSL_set_session(o.cl, sess));
	SSL_SESSION_free(sess);
	if (pipelined) {
		size_t w;

		(void)SSL_do_handshake(o.cl); /* ClientHello */
		oc_move(&o); /* ServerHello, CCS, Finished */
		CHECK_EQ(SSL_do_handshake(o.cl), 1); /* CCS, Finished */
		CHECK(SSL_write_ex(o.cl, "INVITE", 6, &w) == 1);
		oc_move(&o); /* all three records in one feed */
		CHECK_EQ(o.rxlen, 6);
		o.rxlen = 0;
	}
	oc_established(&o, true);
	CHECK(SSL_session_reused(o.cl));
	CHECK(stls_facts_is_resumed(stls_conn_get_facts(o.s)));
	CHECK_EQ(o.s->rec->rd.seq, pipelined ? 2 : 1);
	CHECK_EQ(o.s->rec->wr.seq, 1);
	both_ways(&o, "second");
	oc_fini(&o);
}

TEST(resumed_by_session_id_handed_off) { resume_case(false, false); }
TEST(resumed_by_ticket_handed_off) { resume_case(true, false); }
TEST(resumed_client_data_with_finished) { resume_case(true, true); }

/* Key derivation refuses what it does not know. */
TEST(init_refuses_unknown_suite_and_bad_length)
{
	unsigned char ms[48] = { 0 }, cr[32] = { 0 }, sr[32] = { 0 };
	struct stls_rec13 r;

	CHECK_EQ(stls__rec12_init(&r, 0x009C, NULL, ms, 48, cr, sr), -EINVAL);
	CHECK_EQ(stls__rec12_init(&r, 0x1301, NULL, ms, 48, cr, sr), -EINVAL);
	CHECK_EQ(stls__rec12_init(&r, 0xC02B, NULL, ms, 47, cr, sr), -EINVAL);
	CHECK(!stls__rec12_supported(0xC013));
	CHECK(stls__rec12_supported(0xCCA8));
	CHECK_OK(stls__rec12_init(&r, 0xC02B, NULL, ms, 48, cr, sr));
	CHECK(r.v12);
	stls__rec13_fini(&r);
}

/*
 * OpenSSL's limits on both layers: the 5th ignored warning alert in a
 * row, the 33rd empty record in a row end the connection and are
 * counted; a data record in between starts again.
 */
TEST(warning_alerts_and_empty_records_in_a_row_limited)
{
	int keep, kind, i;

	for (kind = 0; kind < 2; kind++) {
		for (keep = 0; keep < 2; keep++) {
			int limit = kind ? 32 : 4;
			struct stls_conn_counters before, after;
			struct stls_rec13 f;
			struct oc o;

			oc_init(&o, ciphers[keep + 2 * kind]);
			oc_start(&o, keep);
			oc_established(&o, !keep);
			forger(&o, &f);
			stls_conn_get_counters(&before);
			for (i = 0; i < 2 * limit + 1; i++) {
				if (i == limit) {
					forge(&o, &f, 23, "a", 1);
				} else if (kind) {
					forge(&o, &f, 23, "", 0);
				} else {
					forge(&o, &f, 21, "\x01\x5a", 2);
				}
			}
			CHECK_EQ(stls_conn_get_state(o.s),
				 STLS_CONN_ESTABLISHED);
			CHECK_EQ(o.rxlen, 1);
			if (kind) {
				forge(&o, &f, 23, "", 0);
			} else {
				forge(&o, &f, 21, "\x01\x5a", 2);
			}
			CHECK_EQ(o.last, STLS_IO_FAILED);
			stls_conn_get_counters(&after);
			CHECK_EQ(after.warning_alert_closes,
				 before.warning_alert_closes + !kind);
			CHECK_EQ(after.empty_record_closes,
				 before.empty_record_closes + kind);
			stls__rec13_fini(&f);
			oc_fini(&o);
		}
	}
}

/* Open the next record the server queued with the forger's read side. */
static void open12(struct oc *o, struct stls_rec13 *f, unsigned char *pt,
		   size_t *got, unsigned char *type)
{
	static unsigned char rec[STLS_REC13_MAX_PLAIN + 2048 + 5];
	size_t n = 0, body;

	while (stls_conn_get_pending_out(o->s) > 0) {
		size_t k;
		const unsigned char *p = stls_conn_peek(o->s, &k);

		CHECK(p != NULL && n + k <= sizeof(rec));
		memcpy(rec + n, p, k);
		stls_conn_consume(o->s, k);
		n += k;
	}
	CHECK(n >= 5);
	CHECK_OK(stls__rec12_check_header(rec, &body));
	CHECK_EQ(n, 5 + body); /* one record */
	CHECK_OK(stls__rec13_open(f, rec, n, pt, got, type));
}

/*
 * RFC 8446 section 5.5 / RFC 9325 section 4.4: an AES-GCM key protects at
 * most 2^24.5 full-size records. TLS 1.2 cannot rekey, so once our key
 * is one record short of the bound the last record is our close_notify
 * and the connection ends; a peer record past its key's bound is not
 * read. Both closes are counted. ChaCha20-Poly1305 has no such bound.
 * (Simulated: the sequence numbers are set near the bound.)
 */
TEST(gcm_key_usage_limit_closes)
{
	unsigned char pt[64], t = 0;
	size_t got = 0, i;

	for (i = 0; i < 3; i++) {
		struct stls_conn_counters before, after;
		struct stls_rec13 f;
		struct oc o;

		oc_ready(&o, ciphers[i]);
		forger(&o, &f);
		stls_conn_get_counters(&before);
		o.s->rec->wr.seq = f.rd.seq = STLS_REC12_GCM_MAX_RECORDS - 2;
		o.s->rec->rd.seq = f.wr.seq = STLS_REC12_GCM_MAX_RECORDS - 1;
		CHECK_EQ(stls_conn_push(o.s, "a", 1), 1);
		open12(&o, &f, pt, &got, &t);
		CHECK(t == 23 && got == 1);
		forge(&o, &f, 23, "b", 1);
		CHECK_EQ(o.rxlen, 1);
		if (i == 2) {
			/* ChaCha20: records go on. */
			CHECK_EQ(stls_conn_push(o.s, "c", 1), 1);
			forge(&o, &f, 23, "d", 1);
			CHECK_EQ(o.rxlen, 2);
			CHECK_EQ(stls_conn_get_state(o.s),
				 STLS_CONN_ESTABLISHED);
		} else if (i == 0) {
			/* Our key is used up: close_notify, then nothing. */
			CHECK_EQ(stls_conn_push(o.s, "c", 1), -EPIPE);
			open12(&o, &f, pt, &got, &t);
			CHECK(t == 21 && got == 2 && pt[0] == 1 && pt[1] == 0);
			CHECK_EQ(stls_conn_get_pending_out(o.s), 0);
		} else {
			/* The peer's key is used up: its record is not read. */
			forge(&o, &f, 23, "d", 1);
			CHECK_EQ(o.rxlen, 1);
			CHECK_EQ(o.last, STLS_IO_CLOSED);
			open12(&o, &f, pt, &got, &t);
			CHECK(t == 21 && got == 2 && pt[1] == 0);
		}
		if (i < 2) {
			CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_CLOSED);
			CHECK_EQ(stls_conn_get_reason(o.s),
				 STLS_CLOSE_PROTOCOL);
			CHECK_STR_HAS(stls_conn_get_detail(o.s),
				      "key usage limit");
			CHECK_EQ(stls_conn_push(o.s, "e", 1), -EPIPE);
		}
		stls_conn_get_counters(&after);
		CHECK_EQ(after.key_limit_closes,
			 before.key_limit_closes + (i < 2));
		stls__rec13_fini(&f);
		oc_fini(&o);
	}
}

/*
 * RFC 5246 section 7.2.2: the session of a connection that ended in a
 * fatal alert must not be resumed. With an SSL, OpenSSL drops it from the
 * server's session cache; after the hand-off the engine must do the same
 * (before the fix it stayed resumable). On both layers: a fatal alert
 * from us (a bad record) or from the peer ends the first connection,
 * and the client's next handshake with that session is a full one; a
 * clean close keeps it resumable.
 */
TEST(failed_connection_session_not_resumable)
{
	int keep, how;

	for (keep = 0; keep < 2; keep++) {
		for (how = 0; how < 3; how++) {
			SSL_SESSION *sess;
			struct stls_rec13 f;
			struct oc o;

			oc_init(&o, ciphers[how]);
			SSL_CTX_set_session_cache_mode(o.sctx,
						       SSL_SESS_CACHE_SERVER);
			CHECK(SSL_CTX_set_session_id_context(
				o.sctx, (const void *)"s", 1));
			SSL_CTX_set_options(o.sctx, SSL_OP_NO_TICKET);
			oc_start(&o, keep);
			oc_established(&o, !keep);
			sess = SSL_get1_session(o.cl);
			CHECK(sess && SSL_SESSION_is_resumable(sess));
			forger(&o, &f);
			if (how == 0) {
				forge(&o, &f, 23, "ok", 2);
				CHECK_EQ(stls_conn_close(o.s), STLS_IO_DONE);
			} else if (how == 1) {
				forge(&o, &f, 20, "\x01", 1);
			} else {
				forge(&o, &f, 21, "\x02\x28", 2);
			}
			CHECK_EQ(stls_conn_get_state(o.s),
				 how ? STLS_CONN_FAILED : STLS_CONN_CLOSED);
			stls__rec13_fini(&f);
			stls_conn_free(o.s);
			SSL_set_shutdown(o.cl, SSL_SENT_SHUTDOWN |
						       SSL_RECEIVED_SHUTDOWN);
			SSL_free(o.cl);
			oc_start(&o, keep);
			CHECK(SSL_set_session(o.cl, sess));
			SSL_SESSION_free(sess);
			oc_established(&o, !keep);
			CHECK_EQ(SSL_session_reused(o.cl), how == 0);
			oc_fini(&o);
		}
	}
}

/* A negotiated max_fragment_length binds the client's records too, on
 * both layers (RFC 6066 section 4: record_overflow). */
TEST(max_fragment_length_enforced_on_input)
{
	static unsigned char big[1025];
	int keep, over;

	memset(big, 'm', sizeof(big));
	for (keep = 0; keep < 2; keep++) {
		for (over = 0; over < 2; over++) {
			struct stls_rec13 f;
			struct oc o;

			oc_init(&o, ciphers[keep + over]);
			CHECK(SSL_CTX_set_tlsext_max_fragment_length(
				o.cctx, TLSEXT_max_fragment_length_1024));
			oc_start(&o, keep);
			oc_established(&o, !keep);
			forger(&o, &f);
			forge(&o, &f, 23, big, 1024 + (size_t)over);
			if (over) {
				CHECK_EQ(o.last, STLS_IO_FAILED);
				CHECK_EQ(oc_client_alert(&o), 2 << 8 | 22);
			} else {
				CHECK_EQ(o.rxlen, 1024);
			}
			stls__rec13_fini(&f);
			oc_fini(&o);
		}
	}
}
