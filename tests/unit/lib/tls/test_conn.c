/*
 * Unit tests for lib/tls/conn.c: in-memory engine pairs (both sides are
 * engines) over TLS 1.2 and 1.3, ECDSA and RSA, fed whole, one byte at a
 * time and in seeded random splits; queues, limits, close_notify,
 * renegotiation, SNI switching, verify modes, identity, resumption, low
 * memory, and the heap cost of an idle connection.
 */
#include "lib/tls/tls_pair.h"

#include "alloc_fail.h"

#include <malloc.h>

#include "stls/log.h"

#if defined(__SANITIZE_ADDRESS__)
/* From sanitizer/allocator_interface.h (not shipped with gcc 12 here). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

static const char msg[] = "INVITE sip:bob@example.test SIP/2.0\r\n\r\n";

/* Allocation failure injection needs OpenSSL's allocator from the start. */
__attribute__((constructor)) static void install_alloc_fail(void)
{
	(void)af_install();
}

static void handshake_case(int ver, const char *cert, const char *key,
			   enum split sp, unsigned seed)
{
	struct pair p;

	pair_init(&p, cert, key, ver, ver);
	p.split = sp;
	p.seed = seed;
	pair_start(&p, "sip.example.test", "sip.example.test");
	pair_pump(&p);
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_ESTABLISHED);
	CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_ESTABLISHED);
	CHECK_STR_EQ(stls_conn_get_version(p.s.conn),
		     ver == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
	CHECK_STR_EQ(stls_conn_get_sni(p.s.conn), "sip.example.test");
	CHECK(stls_conn_get_flags(p.s.conn) & STLS_CONN_F_HANDSHAKE_DONE);
	/* Servers hand the record layer off (TLS 1.3, TLS 1.2 with an AEAD
	 * suite); clients never do. */
	CHECK(stls_conn_is_handed_off(p.s.conn));
	CHECK(stls_conn_get0_ssl(p.s.conn) == NULL);
	CHECK(!stls_conn_is_handed_off(p.c.conn));
	pair_send(&p, &p.c, msg, sizeof(msg) - 1);
	CHECK_EQ(p.s.rxlen, sizeof(msg) - 1);
	CHECK(memcmp(p.s.rx, msg, sizeof(msg) - 1) == 0);
	pair_send(&p, &p.s, "SIP/2.0 200 OK\r\n\r\n", 19);
	CHECK_EQ(p.c.rxlen, 19);
	/* Idle: nothing buffered on either side. */
	CHECK_EQ(stls_conn_get_pending_in(p.s.conn), 0);
	CHECK_EQ(stls_conn_get_pending_out(p.s.conn), 0);
	pair_fini(&p);
}

static void all_keys(int ver, enum split sp)
{
	unsigned seed;

	handshake_case(ver, "server.pem", "server.key", sp, 7);
	handshake_case(ver, "server-rsa.pem", "server-rsa.key", sp, 7);
	if (sp == SPLIT_RANDOM) {
		for (seed = 1; seed < 20; seed++) {
			handshake_case(ver, "server.pem", "server.key", sp,
				       seed);
		}
	}
}

TEST(pair_tls13_whole) { all_keys(TLS1_3_VERSION, SPLIT_WHOLE); }
TEST(pair_tls13_one_byte) { all_keys(TLS1_3_VERSION, SPLIT_ONE); }
TEST(pair_tls13_random) { all_keys(TLS1_3_VERSION, SPLIT_RANDOM); }
TEST(pair_tls12_whole) { all_keys(TLS1_2_VERSION, SPLIT_WHOLE); }
TEST(pair_tls12_one_byte) { all_keys(TLS1_2_VERSION, SPLIT_ONE); }
TEST(pair_tls12_random) { all_keys(TLS1_2_VERSION, SPLIT_RANDOM); }

/* 200 KB each way through random splits arrives intact and in order. */
TEST(pair_bulk_random_splits)
{
	static unsigned char big[200000];
	struct pair p;
	size_t i;

	for (i = 0; i < sizeof(big); i++) {
		big[i] = (unsigned char)(i * 7 + i / 251);
	}
	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_3_VERSION);
	p.split = SPLIT_RANDOM;
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	pair_send(&p, &p.c, big, sizeof(big));
	CHECK_EQ(p.s.rxlen, sizeof(big));
	CHECK(memcmp(p.s.rx, big, sizeof(big)) == 0);
	pair_fini(&p);
}

/* Writes before the handshake are queued, flushed in order afterwards. */
TEST(queue_before_handshake_in_order)
{
	struct pair p;

	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_3_VERSION);
	pair_start(&p, NULL, NULL);
	CHECK_EQ(stls_conn_push(p.c.conn, "first ", 6), 6);
	CHECK_EQ(stls_conn_push(p.c.conn, "second", 6), 6);
	CHECK_EQ(stls_conn_get_ct_wq(p.c.conn), 12);
	CHECK(stls_conn_get_flags(p.c.conn) & STLS_CONN_F_WRITE_WANTS_READ);
	CHECK_EQ(stls_conn_get_ct_wq_total(), 12);
	/* The server may queue too (it has not accepted yet). */
	CHECK_EQ(stls_conn_push(p.s.conn, "hello", 5), 5);
	pair_pump(&p);
	CHECK_EQ(stls_conn_get_ct_wq(p.c.conn), 0);
	CHECK_EQ(stls_conn_get_flags(p.c.conn) & STLS_CONN_F_WRITE_WANTS_READ,
		 0);
	CHECK_EQ(p.s.rxlen, 12);
	CHECK(memcmp(p.s.rx, "first second", 12) == 0);
	CHECK_EQ(p.c.rxlen, 5);
	CHECK_EQ(stls_conn_get_ct_wq_total(), 0);
	pair_fini(&p);
}

/* Over con_ct_wq_max: -ENOBUFS, and what was queued still arrives. */
TEST(queue_limit_per_connection)
{
	static char a[600], b[600];
	struct pair p;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_3_VERSION);
	p.set.con_ct_wq_max = 1000;
	p.set.ct_wq_blk_size = 256;
	pair_start(&p, NULL, NULL);
	CHECK_EQ(stls_conn_push(p.c.conn, a, sizeof(a)), sizeof(a));
	CHECK_EQ(stls_conn_push(p.c.conn, b, sizeof(b)), -ENOBUFS);
	CHECK_EQ(stls_conn_get_ct_wq(p.c.conn), sizeof(a));
	CHECK_EQ(stls_conn_push(p.c.conn, b, 400), 400);
	pair_pump(&p);
	CHECK_EQ(p.s.rxlen, 1000);
	CHECK(memcmp(p.s.rx, a, 600) == 0 && p.s.rx[600] == 'b');
	pair_fini(&p);
}

/* ct_wq_max bounds the sum over all connections. */
TEST(queue_limit_global)
{
	static char a[1000];
	struct pair p, q;

	memset(a, 'x', sizeof(a));
	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	pair_init(&q, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	p.set.ct_wq_max = 1500;
	q.set.ct_wq_max = 1500;
	pair_start(&p, NULL, NULL);
	pair_start(&q, NULL, NULL);
	CHECK_EQ(stls_conn_push(p.c.conn, a, sizeof(a)), sizeof(a));
	CHECK_EQ(stls_conn_push(q.c.conn, a, sizeof(a)), -ENOBUFS);
	CHECK_EQ(stls_conn_get_ct_wq_total(), 1000);
	CHECK_EQ(stls_conn_push(q.c.conn, a, 500), 500);
	CHECK_EQ(stls_conn_get_ct_wq_total(), 1500);
	pair_pump(&p);
	pair_pump(&q);
	CHECK_EQ(p.s.rxlen, 1000);
	CHECK_EQ(q.s.rxlen, 500);
	CHECK_EQ(stls_conn_get_ct_wq_total(), 0);
	CHECK_EQ(stls_conn_push(q.c.conn, a, sizeof(a)), sizeof(a));
	pair_fini(&p);
	pair_fini(&q);
}

static void close_case(int notify, int ver)
{
	struct pair p;
	size_t n;

	pair_init(&p, "server.pem", "server.key", ver, ver);
	p.set.send_close_notify = notify;
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK_EQ(stls_conn_close(p.c.conn), STLS_IO_DONE);
	CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_CLOSED);
	CHECK_EQ(stls_conn_get_reason(p.c.conn), STLS_CLOSE_LOCAL);
	n = stls_conn_get_pending_out(p.c.conn);
	if (!notify) {
		CHECK_EQ(n, 0);
		pair_fini(&p);
		return;
	}
	CHECK(n > 0);
	xfer(&p, &p.c, &p.s);
	CHECK_EQ(p.s.last, STLS_IO_CLOSED);
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_CLOSING);
	CHECK_EQ(stls_conn_get_reason(p.s.conn), STLS_CLOSE_PEER);
	CHECK_EQ(stls_conn_push(p.s.conn, "x", 1), -EPIPE);
	CHECK_EQ(stls_conn_close(p.s.conn), STLS_IO_DONE);
	CHECK(stls_conn_get_pending_out(p.s.conn) > 0);
	CHECK_EQ(stls_conn_get_reason(p.s.conn), STLS_CLOSE_PEER);
	pair_fini(&p);
}

TEST(close_notify_sent_when_enabled)
{
	close_case(1, TLS1_3_VERSION);
	close_case(1, TLS1_2_VERSION);
}

TEST(close_notify_not_sent_when_disabled)
{
	close_case(0, TLS1_3_VERSION);
	close_case(0, TLS1_2_VERSION);
}

TEST(eof_without_close_notify)
{
	struct pair p;

	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	pair_start(&p, NULL, NULL);
	stls_conn_feed_eof(p.s.conn);
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_FAILED);
	CHECK_EQ(stls_conn_get_reason(p.s.conn), STLS_CLOSE_HANDSHAKE);
	pair_pump(&p);
	stls_conn_feed_eof(p.c.conn);
	CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_FAILED);
	pair_fini(&p);
}

/* Garbage instead of a ClientHello fails with a readable detail. */
TEST(garbage_fails_handshake)
{
	struct pair p;
	size_t got = 0;
	static const char junk[] = "OPTIONS sip:x SIP/2.0\r\n\r\n";

	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_3_VERSION);
	pair_start(&p, NULL, NULL);
	CHECK_EQ(stls_conn_feed_drain(p.s.conn, junk, sizeof(junk), p.s.rx,
				      100, &got),
		 STLS_IO_FAILED);
	CHECK_EQ(stls_conn_get_reason(p.s.conn), STLS_CLOSE_HANDSHAKE);
	CHECK(strlen(stls_conn_get_detail(p.s.conn)) > 0);
	CHECK_EQ(stls_conn_feed(p.s.conn, "x", 1), -EPIPE);
	CHECK_EQ(stls_conn_push(p.s.conn, "x", 1), -EPIPE);
	CHECK_EQ(stls_conn_drain(p.s.conn, p.s.rx, 10, &got), STLS_IO_FAILED);
	pair_fini(&p);
}

static void reneg_case(int allow)
{
	struct pair p;
	uint64_t before = stls_conn_get_reneg_refused();

	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_2_VERSION);
	p.set.renegotiation = allow;
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK(SSL_renegotiate(stls_conn_get0_ssl(p.c.conn)));
	CHECK_EQ(stls_conn_push(p.c.conn, "after", 5), 5);
	pair_pump(&p);
	CHECK(stls_conn_get_flags(p.s.conn) & STLS_CONN_F_RENEGOTIATION);
	if (allow) {
		CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_ESTABLISHED);
		pair_send(&p, &p.c, "more", 4);
		CHECK_EQ(p.s.rxlen, 9);
		CHECK_EQ(stls_conn_get_reneg_refused(), before);
	} else {
		CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_FAILED);
		CHECK_EQ(stls_conn_get_reason(p.s.conn),
			 STLS_CLOSE_RENEGOTIATION);
		CHECK_EQ(stls_conn_get_reneg_refused(), before + 1);
	}
	pair_fini(&p);
}

TEST(renegotiation_refused) { reneg_case(0); }
TEST(renegotiation_allowed_when_enabled) { reneg_case(1); }

/* TLS 1.3 key updates and tickets are not renegotiation. */
TEST(tls13_key_update_and_tickets_are_not_renegotiation)
{
	struct pair p;

	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	p.keep_ssl = true; /* server-side key updates need the SSL */
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK(!stls_conn_is_handed_off(p.s.conn));
	pair_send(&p, &p.c, "a", 1);
	CHECK(SSL_key_update(stls_conn_get0_ssl(p.c.conn),
			     SSL_KEY_UPDATE_REQUESTED));
	pair_send(&p, &p.c, "b", 1);
	pair_send(&p, &p.s, "c", 1);
	CHECK(SSL_new_session_ticket(stls_conn_get0_ssl(p.s.conn)));
	pair_send(&p, &p.s, "d", 1);
	CHECK(SSL_key_update(stls_conn_get0_ssl(p.s.conn),
			     SSL_KEY_UPDATE_NOT_REQUESTED));
	pair_send(&p, &p.c, "e", 1);
	pair_send(&p, &p.s, "f", 1);
	CHECK_EQ(p.s.rxlen, 3);
	CHECK_EQ(p.c.rxlen, 3);
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_ESTABLISHED);
	CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_ESTABLISHED);
	CHECK_EQ(stls_conn_get_flags(p.s.conn) & STLS_CONN_F_RENEGOTIATION, 0);
	CHECK_EQ(stls_conn_get_flags(p.c.conn) & STLS_CONN_F_RENEGOTIATION, 0);
	pair_fini(&p);
}

static SSL_CTX *sni_ctx2;

static int switch_cb(SSL *ssl, int *al, void *arg)
{
	const char *n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)al;
	(void)arg;
	if (n && strcmp(n, "other.example.test") == 0) {
		SSL_set_SSL_CTX(ssl, sni_ctx2);
	}
	return SSL_TLSEXT_ERR_OK;
}

/* The facts show the certificate chosen by the SNI switch. */
TEST(sni_switch_reflected_in_facts)
{
	const struct stls_facts *f;
	struct pair p;
	char buf[256];

	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_3_VERSION);
	sni_ctx2 = ctx_new(STLS_ROLE_SERVER, "server2.pem", "server2.key",
			   TLS1_2_VERSION, TLS1_3_VERSION);
	SSL_CTX_set_tlsext_servername_callback(p.sctx, switch_cb);
	pair_start(&p, "other.example.test", "other.example.test");
	pair_pump(&p);
	CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_ESTABLISHED);
	CHECK_STR_EQ(stls_conn_get_sni(p.s.conn), "other.example.test");
	CHECK_STR_EQ(stls_conn_get_sni(p.c.conn), "other.example.test");
	f = stls_conn_get_facts(p.s.conn);
	CHECK(stls_facts_get(f, "tls_my_subject_cn", 0, buf, sizeof(buf)) > 0);
	CHECK_STR_EQ(buf, "other.example.test");
	CHECK(stls_facts_get(f, "tls_peer_server_name", 0, buf, 256) > 0);
	CHECK_STR_EQ(buf, "other.example.test");
	f = stls_conn_get_facts(p.c.conn);
	CHECK(stls_facts_get(f, "@tls.peer.host", 0, buf, 256) > 0);
	CHECK_STR_EQ(buf, "other.example.test");
	pair_fini(&p);
	SSL_CTX_free(sni_ctx2);
}

struct vcase {
	enum vmode mode;
	const char *cert; /* client certificate, NULL = none */
	bool crl;
	bool ok;          /* server accepts */
	int verified;     /* server's stls_conn_is_peer_verified */
	enum stls_close_reason reason;
	const char *flag; /* a peer status fact expected "1" */
};

static const struct vcase vcases[] = {
	{ VM_OFF, "client", false, true, 0, 0, NULL },
	{ VM_OFF, NULL, false, true, 0, 0, NULL },
	{ VM_ON, NULL, false, false, 0, STLS_CLOSE_HANDSHAKE, NULL },
	{ VM_ON, "client", false, true, 1, 0, "tls_peer_verified" },
	{ VM_ON, "client-untrusted", false, false, 0, STLS_CLOSE_VERIFY, 0 },
	{ VM_ON, "client-expired", false, false, 0, STLS_CLOSE_VERIFY, 0 },
	{ VM_ON, "client-revoked", true, false, 0, STLS_CLOSE_VERIFY, 0 },
	{ VM_ON, "client", true, true, 1, 0, NULL },
	{ VM_OPTIONAL, NULL, false, true, 0, 0, NULL },
	{ VM_OPTIONAL, "client", false, true, 1, 0, NULL },
	{ VM_OPTIONAL, "client-untrusted", false, false, 0, STLS_CLOSE_VERIFY,
	  0 },
	{ VM_OPTIONAL_NO_CA, NULL, false, true, 0, 0, NULL },
	{ VM_OPTIONAL_NO_CA, "client", false, true, 1, 0, NULL },
	{ VM_OPTIONAL_NO_CA, "client-untrusted", false, true, 0, 0, NULL },
	{ VM_OPTIONAL_NO_CA, "client-expired", false, true, 0, 0,
	  "tls_peer_expired" },
	{ VM_OPTIONAL_NO_CA, "client-revoked", true, true, 0, 0,
	  "tls_peer_revoked" },
	{ VM_OPTIONAL_NO_CA, "selfsigned", false, true, 0, 0,
	  "tls_peer_selfsigned" },
};

static void verify_case(const struct vcase *v, int ver)
{
	char cert[64], key[64], buf[32];
	struct pair p;

	pair_init(&p, "server.pem", "server.key", ver, ver);
	ctx_set_vmode(p.sctx, v->mode);
	if (v->crl) {
		ctx_add_crl(p.sctx, "crl.pem");
	}
	if (v->cert) {
		snprintf(cert, sizeof(cert), "%s.pem", v->cert);
		snprintf(key, sizeof(key), "%s.key", v->cert);
		CHECK(SSL_CTX_use_certificate_file(p.cctx, test_cert_path(cert),
						   SSL_FILETYPE_PEM));
		CHECK(SSL_CTX_use_PrivateKey_file(p.cctx, test_cert_path(key),
						  SSL_FILETYPE_PEM));
	}
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	/* TLS 1.3: a client learns of a refused certificate late. */
	if (stls_conn_get_state(p.c.conn) == STLS_CONN_ESTABLISHED) {
		CHECK_EQ(stls_conn_push(p.c.conn, "x", 1), 1);
		pair_pump(&p);
	}
	if (!v->ok) {
		CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_FAILED);
		CHECK_EQ(stls_conn_get_reason(p.s.conn), v->reason);
		CHECK_EQ(stls_conn_get_state(p.c.conn), STLS_CONN_FAILED);
		pair_fini(&p);
		return;
	}
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_ESTABLISHED);
	CHECK_EQ(p.s.rxlen, 1);
	CHECK_EQ(stls_conn_is_peer_verified(p.s.conn), v->verified);
	CHECK_EQ(stls_facts_has_peer_cert(stls_conn_get_facts(p.s.conn)),
		 v->cert && v->mode != VM_OFF);
	if (v->flag) {
		CHECK_EQ(stls_facts_get(stls_conn_get_facts(p.s.conn), v->flag,
					0, buf, sizeof(buf)),
			 1);
		CHECK_STR_EQ(buf, "1");
	}
	pair_fini(&p);
}

TEST(verify_modes_tls13)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(vcases); i++) {
		verify_case(&vcases[i], TLS1_3_VERSION);
	}
}

TEST(verify_modes_tls12)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(vcases); i++) {
		verify_case(&vcases[i], TLS1_2_VERSION);
	}
}

struct idcase {
	const char *cert;
	const char *domain;
	bool wildcard;
	bool ok;
};

static const struct idcase idcases[] = {
	{ "id-uri", "example.test", false, true },
	{ "id-uri", "EXAMPLE.test", false, true },
	{ "id-dns", "example.test", false, true },
	{ "id-cn", "example.test", false, true },
	{ "id-wild", "example.test", true, false },
	{ "id-wild", "sip.example.test", true, true },
	{ "id-wild", "sip.example.test", false, false },
	{ "id-useruri", "example.test", false, false },
	{ "id-ip", "example.test", false, false },
	{ "id-ip", "127.0.0.1", false, false },
	{ "server", "sip.example.test", false, true },
	{ "wrongname", "sip.example.test", false, false },
};

/* RFC 5922 identity of the server, checked by the client engine. */
TEST(identity_check_at_handshake_end)
{
	char cert[64], key[64];
	struct pair p;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(idcases); i++) {
		const struct idcase *d = &idcases[i];
		struct stls_conn_opts o = { 0 };

		snprintf(cert, sizeof(cert), "%s.pem", d->cert);
		snprintf(key, sizeof(key), "%s.key", d->cert);
		pair_init(&p, cert, key, TLS1_2_VERSION, TLS1_3_VERSION);
		p.s.conn = conn_make(&p, p.sctx, STLS_ROLE_SERVER, NULL, NULL);
		o.role = STLS_ROLE_CLIENT;
		o.ssl = SSL_new(p.cctx);
		o.verify_name = d->domain;
		o.verify_wildcard = d->wildcard;
		o.settings = &p.set;
		CHECK_OK(stls_conn_new(&o, &p.c.conn, NULL));
		pair_pump(&p);
		if (d->ok) {
			CHECK_EQ(stls_conn_get_state(p.c.conn),
				 STLS_CONN_ESTABLISHED);
		} else {
			CHECK_EQ(stls_conn_get_state(p.c.conn),
				 STLS_CONN_FAILED);
			CHECK_EQ(stls_conn_get_reason(p.c.conn),
				 STLS_CLOSE_IDENTITY);
			CHECK_STR_HAS(stls_conn_get_detail(p.c.conn),
				      d->domain);
		}
		pair_fini(&p);
	}
}

static struct stls_conn *client_with(struct pair *p, SSL_SESSION *sess)
{
	struct stls_conn_opts o = { 0 };
	struct stls_conn *c = NULL;

	o.role = STLS_ROLE_CLIENT;
	o.ssl = SSL_new(p->cctx);
	CHECK_NOT_NULL(o.ssl);
	if (sess) {
		CHECK(SSL_set_session(o.ssl, sess));
	}
	o.sni = "sip.example.test";
	o.settings = &p->set;
	CHECK_OK(stls_conn_new(&o, &c, NULL));
	return c;
}

static void resume_case(int ver, bool tickets)
{
	SSL_SESSION *sess;
	struct pair p;

	pair_init(&p, "server.pem", "server.key", ver, ver);
	SSL_CTX_set_session_cache_mode(p.sctx, SSL_SESS_CACHE_SERVER);
	CHECK(SSL_CTX_set_session_id_context(p.sctx, (const void *)"stls",
					     4));
	if (!tickets) {
		SSL_CTX_set_options(p.sctx, SSL_OP_NO_TICKET);
	}
	p.s.conn = conn_make(&p, p.sctx, STLS_ROLE_SERVER, NULL, NULL);
	p.c.conn = client_with(&p, NULL);
	pair_pump(&p);
	pair_send(&p, &p.s, "hi", 2); /* TLS 1.3 tickets arrive with data */
	CHECK_EQ(p.c.rxlen, 2);
	CHECK(!stls_facts_is_resumed(stls_conn_get_facts(p.s.conn)));
	sess = SSL_get1_session(stls_conn_get0_ssl(p.c.conn));
	CHECK_NOT_NULL(sess);
	CHECK(SSL_SESSION_is_resumable(sess));
	stls_conn_free(p.s.conn);
	stls_conn_free(p.c.conn);
	p.s.conn = conn_make(&p, p.sctx, STLS_ROLE_SERVER, NULL, NULL);
	p.c.conn = client_with(&p, sess);
	SSL_SESSION_free(sess);
	pair_pump(&p);
	CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_ESTABLISHED);
	CHECK(stls_facts_is_resumed(stls_conn_get_facts(p.s.conn)));
	CHECK(stls_facts_is_resumed(stls_conn_get_facts(p.c.conn)));
	{
		char buf[8];

		CHECK_EQ(stls_facts_get(stls_conn_get_facts(p.s.conn),
					"tls_resumed", 0, buf, sizeof(buf)),
			 1);
		CHECK_STR_EQ(buf, "1");
	}
	pair_fini(&p);
}

TEST(resumption_tickets_tls13) { resume_case(TLS1_3_VERSION, true); }
TEST(resumption_tickets_tls12) { resume_case(TLS1_2_VERSION, true); }
TEST(resumption_cache_tls13) { resume_case(TLS1_3_VERSION, false); }
TEST(resumption_cache_tls12) { resume_case(TLS1_2_VERSION, false); }

/* low_mem_threshold1 refuses new connections, threshold2 old ones. */
TEST(low_memory_thresholds)
{
	struct stls_conn_opts o = { 0 };
	enum stls_close_reason why;
	struct stls_conn *c = NULL;
	struct pair p;
	size_t got;

	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	stls_lowmem_set_budget(1);
	p.set.low_mem_threshold1 = 1024;
	o.ssl = SSL_new(p.sctx);
	o.settings = &p.set;
	CHECK_EQ(stls_conn_new(&o, &c, &why), -ENOMEM);
	CHECK_EQ(why, STLS_CLOSE_LOW_MEMORY);
	CHECK_NULL(c);
	p.set.low_mem_threshold1 = 0; /* disabled */
	o.ssl = SSL_new(p.sctx);
	CHECK_OK(stls_conn_new(&o, &c, &why));
	stls_conn_free(c);
	/* Existing connections keep working until threshold2 is set. */
	pair_send(&p, &p.c, "ok", 2);
	CHECK_EQ(p.s.rxlen, 2);
	p.set.low_mem_threshold2 = -1;
	CHECK_EQ(stls_conn_push(p.c.conn, "no", 2), -ENOMEM);
	CHECK_EQ(stls_conn_get_reason(p.c.conn), STLS_CLOSE_LOW_MEMORY);
	CHECK_EQ(stls_conn_drain(p.s.conn, p.s.rx, 10, &got), STLS_IO_FAILED);
	stls_lowmem_set_budget(0);
	pair_fini(&p);
}

/* A NULL SSL is refused; the SSL given is always taken. */
TEST(new_refuses_bad_options)
{
	struct stls_conn_opts o = { 0 };
	struct stls_conn *c = NULL;

	CHECK_EQ(stls_conn_new(&o, &c, NULL), -EINVAL);
	CHECK_NULL(c);
	stls_conn_free(NULL);
}

/* Bytes shown by peek() stay put while more ciphertext is produced. */
TEST(peek_is_stable_across_writes)
{
	struct pair p;
	const void *a, *b;
	unsigned char copy[64];
	size_t n, m;

	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK_EQ(stls_conn_push(p.c.conn, "one", 3), 3);
	a = stls_conn_peek(p.c.conn, &n);
	CHECK(n >= 20);
	memcpy(copy, a, sizeof(copy) < n ? sizeof(copy) : n);
	CHECK_EQ(stls_conn_push(p.c.conn, "two", 3), 3);
	b = stls_conn_peek(p.c.conn, &m);
	CHECK(a == b && m >= n);
	CHECK(memcmp(copy, b, sizeof(copy) < n ? sizeof(copy) : n) == 0);
	pair_pump(&p);
	CHECK_EQ(p.s.rxlen, 6);
	pair_fini(&p);
}

static size_t heap_now(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

/*
 * The heap cost of one idle established server connection (TLS 1.3,
 * ECDSA, no client certificate, tickets sent): N pairs are made, the
 * client sides freed, and the difference divided by N.
 */
TEST(idle_connection_heap_bytes)
{
	enum { N = 64 };
	static struct pair p[N];
	SSL_CTX *sctx, *cctx;
	size_t before, after, per;
	int i;

	sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
		       TLS1_3_VERSION, TLS1_3_VERSION);
	cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, TLS1_3_VERSION,
		       TLS1_3_VERSION);
	/* Warm up OpenSSL's lazily built tables with one pair. */
	settings_default(&p[0].set);
	p[0].s.conn = conn_make(&p[0], sctx, STLS_ROLE_SERVER, NULL, NULL);
	p[0].c.conn = conn_make(&p[0], cctx, STLS_ROLE_CLIENT, NULL, NULL);
	pair_pump(&p[0]);
	stls_conn_free(p[0].s.conn);
	stls_conn_free(p[0].c.conn);
	before = heap_now();
	for (i = 0; i < N; i++) {
		settings_default(&p[i].set);
		p[i].s.conn = conn_make(&p[i], sctx, STLS_ROLE_SERVER, NULL,
					NULL);
		p[i].c.conn = conn_make(&p[i], cctx, STLS_ROLE_CLIENT, NULL,
					NULL);
		pair_pump(&p[i]);
		pair_send(&p[i], &p[i].c, "ping", 4);
		pair_send(&p[i], &p[i].s, "pong", 4);
		CHECK_EQ(stls_conn_get_state(p[i].s.conn),
			 STLS_CONN_ESTABLISHED);
		stls_conn_free(p[i].c.conn);
		p[i].c.conn = NULL;
	}
	after = heap_now();
	per = (after - before) / N;
	printf("idle established server connection: %zu heap bytes\n", per);
	fflush(stdout);
	CHECK(per < 16384);
	for (i = 0; i < N; i++) {
		stls_conn_free(p[i].s.conn);
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/*
 * Bytes fed to a connection that is already closed are dropped, whatever
 * memory says: found by fuzz_tls_engine with allocation failures (the
 * leftover's copy failed and the closed connection was moved to failed,
 * which the state table forbids: an assertion).
 */
TEST(feed_after_close_needs_no_memory)
{
	static const char junk[100] = "junk";
	char out[64];
	size_t got;
	struct pair p;
	int ver;

	CHECK(af_installed);
	for (ver = TLS1_2_VERSION; ver <= TLS1_3_VERSION; ver++) {
		pair_init(&p, "server.pem", "server.key", ver, ver);
		pair_start(&p, NULL, NULL);
		pair_pump(&p);
		CHECK_EQ(stls_conn_close(p.s.conn), STLS_IO_DONE);
		af_arm_sticky(1);
		CHECK_EQ(stls_conn_feed_drain(p.s.conn, junk, sizeof(junk), out,
					      sizeof(out), &got),
			 STLS_IO_CLOSED);
		af_disarm();
		CHECK_EQ(stls_conn_get_state(p.s.conn), STLS_CONN_CLOSED);
		CHECK_EQ(stls_conn_get_reason(p.s.conn), STLS_CLOSE_LOCAL);
		CHECK_EQ(stls_conn_get_pending_in(p.s.conn), 0);
		pair_fini(&p);
	}
}

/* Everything <from> has queued, appended to all[*n..]. */
static void take_all(struct end *from, unsigned char *all, size_t cap,
		     size_t *n)
{
	const void *d;
	size_t k;

	while ((d = stls_conn_peek(from->conn, &k)) != NULL) {
		CHECK(*n + k <= cap);
		memcpy(all + *n, d, k);
		*n += k;
		stls_conn_consume(from->conn, k);
	}
}

/*
 * The read loop stops without a last SSL_read() once no ciphertext is
 * left (in its buffer, or in OpenSSL's: SSL_has_pending()): records
 * behind the first in the same feed, a cut record, and a close_notify
 * right behind data must still all be seen. One side sends to the other
 * (the server when <to_server>) in one feed; every reader: the client's
 * SSL, the server's when it keeps it, the hand-off's; with <read_ahead>
 * OpenSSL takes the whole feed into its own buffer at the first read
 * (both sides keep their SSL then: read-ahead stops the hand-off).
 */
static void one_feed_case(int ver, bool keep_ssl, bool to_server,
			  bool read_ahead)
{
	static const char *const recs[] = { "one", "two", "three" };
	unsigned char all[1024], out[256];
	struct pair p;
	struct end *from, *to;
	size_t n = 0, got, i;

	pair_init(&p, "server.pem", "server.key", ver, ver);
	p.keep_ssl = keep_ssl;
	p.set.send_close_notify = 1;
	if (read_ahead) {
		SSL_CTX_set_read_ahead(p.sctx, 1);
		SSL_CTX_set_read_ahead(p.cctx, 1);
	}
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	CHECK_EQ(stls_conn_is_handed_off(p.s.conn), !keep_ssl && !read_ahead);
	from = to_server ? &p.c : &p.s;
	to = to_server ? &p.s : &p.c;
	for (i = 0; i < 3; i++)
		CHECK_EQ(stls_conn_push(from->conn, recs[i], strlen(recs[i])),
			 (ssize_t)strlen(recs[i]));
	take_all(from, all, sizeof(all), &n);
	/* Two whole records and the third but its last 5 bytes. */
	CHECK_EQ(stls_conn_feed_drain(to->conn, all, n - 5, out, sizeof(out),
				      &got), STLS_IO_WANT_INPUT);
	CHECK_EQ(got, 6);
	CHECK(memcmp(out, "onetwo", 6) == 0);
	CHECK_EQ(stls_conn_feed_drain(to->conn, all + n - 5, 5, out,
				      sizeof(out), &got), STLS_IO_WANT_INPUT);
	CHECK_EQ(got, 5);
	CHECK(memcmp(out, "three", 5) == 0);
	CHECK_EQ(stls_conn_get_pending_in(to->conn), 0);
	/* Data and close_notify in one feed: both seen. */
	n = 0;
	CHECK_EQ(stls_conn_push(from->conn, "abc", 3), 3);
	CHECK_EQ(stls_conn_close(from->conn), STLS_IO_DONE);
	take_all(from, all, sizeof(all), &n);
	CHECK_EQ(stls_conn_feed_drain(to->conn, all, n, out, sizeof(out),
				      &got), STLS_IO_CLOSED);
	CHECK_EQ(got, 3);
	CHECK(memcmp(out, "abc", 3) == 0);
	CHECK_EQ(stls_conn_get_state(to->conn), STLS_CONN_CLOSING);
	CHECK_EQ(stls_conn_get_reason(to->conn), STLS_CLOSE_PEER);
	pair_fini(&p);
}

TEST(records_cut_and_close_notify_in_one_feed)
{
	int ver;

	for (ver = TLS1_2_VERSION; ver <= TLS1_3_VERSION; ver++) {
		one_feed_case(ver, false, false, false);
		one_feed_case(ver, true, false, false);
		one_feed_case(ver, true, true, false);
		one_feed_case(ver, false, true, false); /* the hand-off's */
		one_feed_case(ver, false, false, true);
		one_feed_case(ver, false, true, true);
	}
}
