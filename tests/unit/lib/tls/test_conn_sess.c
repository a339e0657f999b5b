/*
 * Unit tests for lib/tls/conn_sess.c: the session of a handed-off server
 * connection is removed from the server's session cache when the
 * connection fails (RFC 5246 section 7.2.2, as OpenSSL does with an
 * SSL), and stays resumable after a clean end. TLS 1.3 with stateful
 * tickets (SSL_OP_NO_TICKET: the session lives in the server cache), on
 * both layers; the TLS 1.2 cases are in test_rec12.c. Nothing is kept
 * when the context caches no sessions.
 */
#include "lib/tls/oc_pair.h"

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

static void oc_init(struct oc *o, const char *suite)
{
	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			  TLS1_3_VERSION, TLS1_3_VERSION);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, TLS1_3_VERSION,
			  TLS1_3_VERSION);
	SSL_CTX_set_keylog_callback(o->cctx, client_keylog);
	if (suite) {
		CHECK(SSL_CTX_set_ciphersuites(o->sctx, suite));
	}
}

static void cache_on(struct oc *o)
{
	SSL_CTX_set_session_cache_mode(o->sctx, SSL_SESS_CACHE_SERVER);
	CHECK(SSL_CTX_set_session_id_context(o->sctx, (const void *)"s", 1));
	SSL_CTX_set_options(o->sctx, SSL_OP_NO_TICKET);
}

/* how: 0 clean close, 1 our fatal alert (bad record), 2 the peer's. */
static void resume_after(int keep, int how)
{
	SSL_SESSION *sess;
	struct stls_rec13 f;
	struct oc o;
	uint16_t id;

	oc_init(&o, NULL);
	cache_on(&o);
	oc_start(&o, keep);
	oc_established(&o, !keep);
	both_ways(&o, "first"); /* the client reads its ticket */
	sess = SSL_get1_session(o.cl);
	CHECK(sess && SSL_SESSION_is_resumable(sess));
	id = (uint16_t)SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(o.cl));
	CHECK_OK(stls__rec13_init(&f, id, NULL, cl_rd, cl_wr, cl_len));
	f.wr.seq = 1; /* after the client's "first" */
	if (how == 1) {
		/* Fails authentication: our bad_record_mac. */
		srv_feed(&o, "\x17\x03\x03\x00\x11" "0123456789abcdefg", 22);
	} else if (how == 2) {
		forge(&o, &f, 21, "\x02\x28", 2);
	} else {
		CHECK_EQ(stls_conn_close(o.s), STLS_IO_DONE);
	}
	CHECK_EQ(stls_conn_get_state(o.s),
		 how ? STLS_CONN_FAILED : STLS_CONN_CLOSED);
	stls__rec13_fini(&f);
	stls_conn_free(o.s);
	SSL_set_shutdown(o.cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(o.cl);
	oc_start(&o, keep);
	CHECK(SSL_set_session(o.cl, sess));
	SSL_SESSION_free(sess);
	oc_established(&o, !keep);
	CHECK_EQ(SSL_session_reused(o.cl), how == 0);
	oc_fini(&o);
}

TEST(fatal_failure_removes_the_session_both_layers)
{
	int keep, how;

	for (keep = 0; keep < 2; keep++) {
		for (how = 0; how < 3; how++) {
			resume_after(keep, how);
		}
	}
}

/* Without a server session cache nothing is kept (no memory). */
TEST(nothing_kept_without_a_cache)
{
	struct oc o;

	oc_init(&o, NULL);
	SSL_CTX_set_session_cache_mode(o.sctx, SSL_SESS_CACHE_OFF);
	oc_start(&o, false);
	oc_established(&o, true);
	CHECK_NULL(o.s->rec->sess);
	oc_fini(&o);
	oc_init(&o, NULL);
	cache_on(&o);
	oc_start(&o, false);
	oc_established(&o, true);
	CHECK_NOT_NULL(o.s->rec->sess);
	oc_fini(&o);
}
