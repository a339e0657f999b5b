/*
 * The record hand-off decision (docs/engine.md, "Record hand-off after TLS
 * 1.3 handshakes"): collect what a TLS 1.3 or TLS 1.2 server handshake
 * leaves behind, check that handing the record layer over is safe, then
 * free the SSL. conn_rec13.c serves the connection afterwards.
 *
 * Secrets: OpenSSL passes CLIENT_TRAFFIC_SECRET_0 and
 * SERVER_TRAFFIC_SECRET_0 to the SSL_CTX's keylog callback
 * (stls_conn_ctx_apply() installs ours); we keep them in a staging block
 * (struct stls_h13) of the connection found through the SSL's ex-data.
 *
 * Sequence numbers: the client's first application record is read by us
 * (OpenSSL without read_ahead stops right after the client Finished), so
 * the read sequence starts at 0. The server's write key is in use from its
 * own Finished on; OpenSSL then writes only NewSessionTicket records with
 * it. From the moment the server secret is logged, the BIO counts whole
 * records written and a message callback counts the handshake messages
 * written; the hand-off happens only when every record was one ticket.
 * Anything else, or any doubt, keeps the SSL (the normal path).
 *
 * TLS 1.2 (AEAD suites of rec12.c): keys come from the session's master
 * secret and the hello randoms at the end of the handshake. The message
 * callback sees every record header read and written (SSL3_RT_HEADER); the
 * records of each direction after its change_cipher_spec are counted,
 * which gives both sequence numbers. The hand-off needs exactly one (the
 * Finished) each way, and keeps the SSL when renegotiation is allowed.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "stls/log.h"
#include "stls/profile.h"

/* What the handshake leaves for the hand-off. */
struct stls_h13 {
	unsigned char rd[STLS_REC13_MAX_SECRET]; /* client traffic secret */
	unsigned char wr[STLS_REC13_MAX_SECRET]; /* server traffic secret */
	unsigned char rd_len, wr_len;
	bool bad;      /* a keylog line we could not read */
	bool counting; /* the server secret is in use */
	struct stls_rec13_count cnt;
	unsigned tickets; /* NewSessionTicket messages written since */
	unsigned others;  /* any other handshake message or alert since */
	/* TLS 1.2: records read and written after each change_cipher_spec */
	bool rd_ccs, wr_ccs;
	uint32_t rd_recs, wr_recs;
};

/*
 * "LABEL <64 hex: client random> <hex secret>": the secret into out (up to
 * STLS_REC13_MAX_SECRET bytes). Returns 1 when the label matched and the
 * line was read, 0 when the label differs, -1 for a malformed line.
 */
static int parse_line(const char *line, const char *label,
		      unsigned char *out, unsigned char *out_len)
{
	size_t ll = strlen(label), i, n;
	const char *p;

	if (strncmp(line, label, ll) != 0 || line[ll] != ' ') {
		return 0;
	}
	p = line + ll + 1;
	for (i = 0; i < 64; i++) {
		if (OPENSSL_hexchar2int((unsigned char)p[i]) < 0) {
			return -1;
		}
	}
	if (p[64] != ' ') {
		return -1;
	}
	p += 65;
	n = strnlen(p, 2 * STLS_REC13_MAX_SECRET + 1);
	if (n == 0 || n % 2 || n > 2 * STLS_REC13_MAX_SECRET) {
		return -1;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)p[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)p[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(out, STLS_REC13_MAX_SECRET);
			return -1;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*out_len = (unsigned char)(n / 2);
	return 1;
}

/* Drop the staging block (wiped) and stop counting. Thread: owner. */
void stls__conn_h13_free(struct stls_conn *c)
{
	c->io.count = NULL;
	if (c->h13) {
		OPENSSL_clear_free(c->h13, sizeof(*c->h13));
		c->h13 = NULL;
	}
}

/*
 * A key-log line of a prepared context (conn_ctx.c): stash the two
 * application traffic secrets of a server connection that may hand off.
 * Lines of other connections are ignored.
 */
void stls__conn_keylog(const SSL *ssl, const char *line)
{
	struct stls_conn *c = stls__conn_of(ssl);
	struct stls_h13 *h;
	int r;

	if (!c || c->role != STLS_ROLE_SERVER || c->keep_ssl || c->ssl != ssl) {
		return;
	}
	if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) != 0 &&
	    strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) != 0) {
		return;
	}
	if (!c->h13 && !(c->h13 = OPENSSL_zalloc(sizeof(*c->h13)))) {
		return; /* no staging: the SSL is kept */
	}
	h = c->h13;
	r = parse_line(line, "CLIENT_TRAFFIC_SECRET_0", h->rd, &h->rd_len);
	if (r == 0) {
		r = parse_line(line, "SERVER_TRAFFIC_SECRET_0", h->wr,
			       &h->wr_len);
		if (r == 1) {
			/* From here on, OpenSSL writes with this key. */
			memset(&h->cnt, 0, sizeof(h->cnt));
			h->counting = true;
			h->tickets = 0;
			h->others = 0;
			c->io.count = &h->cnt;
		}
	}
	if (r < 0) {
		h->bad = true;
	}
}

/* A record header read or written (TLS 1.2 sequence numbers). */
static void count_header(struct stls_conn *c, int write_p,
			 const unsigned char *p, size_t len)
{
	struct stls_h13 *h;

	if (len < 5 || (!c->h13 && p[0] != SSL3_RT_CHANGE_CIPHER_SPEC)) {
		return;
	}
	if (!c->h13 && !(c->h13 = OPENSSL_zalloc(sizeof(*c->h13)))) {
		return; /* nothing counted: no hand-off */
	}
	h = c->h13;
	if (p[0] == SSL3_RT_CHANGE_CIPHER_SPEC) {
		*(write_p ? &h->wr_ccs : &h->rd_ccs) = true;
		*(write_p ? &h->wr_recs : &h->rd_recs) = 0;
	} else if (write_p ? h->wr_ccs : h->rd_ccs) {
		(*(write_p ? &h->wr_recs : &h->rd_recs))++;
	}
}

/* Per-SSL message callback: what OpenSSL writes with the new key. */
static void msg_cb(int write_p, int version, int content_type,
		   const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct stls_conn *c = stls__conn_of(ssl);
	const unsigned char *p = buf;

	(void)version;
	(void)arg;
	if (c && content_type == SSL3_RT_HEADER) {
		count_header(c, write_p, p, len);
		return;
	}
	if (!write_p || !c || !c->h13 || !c->h13->counting) {
		return;
	}
	if (content_type == SSL3_RT_HANDSHAKE && len >= 1 &&
	    p[0] == SSL3_MT_NEWSESSION_TICKET) {
		c->h13->tickets++;
	} else if (content_type == SSL3_RT_HANDSHAKE ||
		   content_type == SSL3_RT_ALERT) {
		c->h13->others++;
	}
}

void stls__conn_rec_setup(struct stls_conn *c)
{
	if (c->role == STLS_ROLE_SERVER && !c->keep_ssl) {
		SSL_set_msg_callback(c->ssl, msg_cb);
	}
}

/*
 * Why the SSL stays. Expected: the version, the suite, the configuration
 * (read_ahead, renegotiation, an unprepared context, a library context
 * without the algorithm). A fallback: a check the hand-off relies on
 * failed although the connection should have handed off, which an
 * OpenSSL upgrade could cause (or memory ran out): counted and logged.
 */
struct keep {
	const char *why; /* NULL: hand off */
	bool fallback;
};

static struct keep keep_expected(const char *why)
{
	return (struct keep){ why, false };
}

static struct keep keep_fallback(const char *why)
{
	return (struct keep){ why, true };
}

/* The checks every version shares, after the version's own. */
static struct keep keep_common(const struct stls_conn *c)
{
	if (SSL_get_read_ahead(c->ssl)) {
		return keep_expected("OpenSSL reads ahead (ssl_read_ahead)");
	}
	if (SSL_has_pending(c->ssl)) {
		return keep_fallback("OpenSSL holds unread input");
	}
	if (c->io.out_failed || SSL_get_shutdown(c->ssl) ||
	    !SSL_is_init_finished(c->ssl)) {
		return keep_fallback("connection not in a clean state");
	}
	return keep_expected(NULL);
}

/* Whether the context could hand off at all. */
static struct keep keep_ctx(const struct stls_conn *c)
{
	const SSL_CTX *ctx = SSL_get_SSL_CTX(c->ssl);

	if (stls__ctx_algs(ctx)) {
		return keep_expected(NULL);
	}
	if (stls__ctx_was_prepared(ctx)) {
		return keep_fallback("our key-log callback was replaced");
	}
	return keep_expected("context not prepared (stls_conn_ctx_apply)");
}

/* The TLS 1.3 checks (*suite set). */
static struct keep keep_reason(const struct stls_conn *c, uint16_t *suite)
{
	const struct stls_h13 *h = c->h13;
	const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
	struct keep k = keep_ctx(c);
	size_t hl;

	*suite = ci ? (uint16_t)SSL_CIPHER_get_protocol_id(ci) : 0;
	hl = stls__rec13_hash_len(*suite);
	if (k.why) {
		return k;
	}
	if (hl == 0) {
		return keep_expected("cipher suite not handled");
	}
	if (!h || h->bad || !h->counting || h->rd_len == 0) {
		return keep_fallback("traffic secrets not available "
				     "(key-log lines)");
	}
	if (h->rd_len != hl || h->wr_len != hl) {
		return keep_fallback("traffic secrets of the wrong length");
	}
	/* 0-RTT: the engine never calls SSL_read_early_data(), so OpenSSL
	 * rejects early data; should it ever be accepted, the client's
	 * read sequence would not start at 0. */
	if (SSL_get_early_data_status(c->ssl) == SSL_EARLY_DATA_ACCEPTED) {
		return keep_fallback("early data accepted");
	}
	if (h->cnt.have || h->cnt.left || h->others ||
	    h->cnt.records != h->tickets) {
		return keep_fallback("records after the Finished are not all "
				     "tickets");
	}
	return keep_common(c);
}

/* keep_reason() for TLS 1.2. */
static struct keep keep_reason12(const struct stls_conn *c, uint16_t *suite)
{
	const struct stls_h13 *h = c->h13;
	const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
	struct keep k = keep_ctx(c);

	*suite = ci ? (uint16_t)SSL_CIPHER_get_protocol_id(ci) : 0;
	if (k.why) {
		return k;
	}
	if (!stls__rec12_supported(*suite)) {
		return keep_expected("cipher suite not handled");
	}
	if (c->set && __atomic_load_n(&c->set->renegotiation,
				      __ATOMIC_RELAXED)) {
		return keep_expected("renegotiation allowed");
	}
	if (!h || !h->rd_ccs || !h->wr_ccs || h->rd_recs != 1 ||
	    h->wr_recs != 1) {
		return keep_fallback("records after change_cipher_spec are "
				     "not one Finished each way");
	}
	if (SSL_renegotiate_pending(c->ssl)) {
		return keep_fallback("renegotiation pending");
	}
	return keep_common(c);
}

/*
 * TLS 1.2 keys into a new r: master secret and randoms of the session,
 * both sequence numbers as counted. Returns r or NULL (*k set).
 */
static struct stls_rec13 *init12(struct stls_conn *c, uint16_t suite,
				 struct keep *k)
{
	unsigned char ms[SSL_MAX_MASTER_KEY_LENGTH], cr[32], sr[32];
	const struct stls_rec_algs *a = stls__ctx_algs(SSL_get_SSL_CTX(c->ssl));
	SSL_SESSION *s = SSL_get_session(c->ssl);
	struct stls_rec13 *r = OPENSSL_zalloc(sizeof(*r));
	size_t ml = s ? SSL_SESSION_get_master_key(s, ms, sizeof(ms)) : 0;
	int err = -EIO;

	if (ml && SSL_get_client_random(c->ssl, cr, sizeof(cr)) ==
			  sizeof(cr) &&
	    SSL_get_server_random(c->ssl, sr, sizeof(sr)) == sizeof(sr)) {
		err = r ? stls__rec12_init(r, suite, a, ms, ml, cr, sr)
			: -ENOMEM;
	}
	OPENSSL_cleanse(ms, sizeof(ms));
	if (err) {
		*k = !r		     ? keep_fallback("out of memory")
		     : err == -ENOENT ? keep_expected("cipher or digest not "
						      "available in the "
						      "context's library "
						      "context")
				      : keep_fallback("cannot derive the "
						      "record keys");
		OPENSSL_free(r);
		return NULL;
	}
	r->rd.seq = c->h13->rd_recs;
	r->wr.seq = c->h13->wr_recs;
	return r;
}

/* The negotiated max_fragment_length (RFC 6066 section 4), or 2^14. */
static size_t mfl_bytes(const struct stls_conn *c)
{
	SSL_SESSION *s = SSL_get_session(c->ssl);
	uint8_t mfl = s ? SSL_SESSION_get_max_fragment_length(s) : 0;

	if (mfl >= TLSEXT_max_fragment_length_512 &&
	    mfl <= TLSEXT_max_fragment_length_4096) {
		return (size_t)256 << mfl;
	}
	return STLS_REC13_MAX_PLAIN;
}

/*
 * Content bytes per record: we write at most the setting and the
 * negotiated max_fragment_length, and read at most the latter (both ways,
 * as OpenSSL enforces it).
 */
static void set_frag_limits(const struct stls_conn *c, struct stls_rec13 *r)
{
	int set = c->set ? c->set->ssl_max_send_fragment : -1;
	size_t mfl = mfl_bytes(c);

	r->max_frag = STLS_REC13_MAX_PLAIN;
	if (set >= 512 && set <= (int)STLS_REC13_MAX_PLAIN) {
		r->max_frag = (size_t)set;
	}
	if (mfl < r->max_frag) {
		r->max_frag = mfl;
	}
	r->rd_max = (uint16_t)mfl;
}

/* The TLS 1.3 checks and keys: *out set, or why not. */
static struct keep hand13(struct stls_conn *c, uint16_t *suite,
			  struct stls_rec13 **out)
{
	struct stls_rec13 *r;
	struct keep k = keep_reason(c, suite);
	int err;

	if (k.why) {
		return k;
	}
	if (!(r = OPENSSL_zalloc(sizeof(*r)))) {
		return keep_fallback("out of memory");
	}
	err = stls__rec13_init(r, *suite,
			       stls__ctx_algs(SSL_get_SSL_CTX(c->ssl)),
			       c->h13->rd, c->h13->wr, c->h13->rd_len);
	if (err) {
		OPENSSL_free(r);
		return err == -ENOENT ? keep_expected("cipher or digest not "
						      "available in the "
						      "context's library "
						      "context")
				      : keep_fallback("cannot derive the "
						      "traffic keys");
	}
	r->wr.seq = c->h13->cnt.records;
	*out = r;
	return keep_expected(NULL);
}

/*
 * The SSL stays. A fallback is counted and logged as a warning (the first
 * one, then at every power of two, so that a changed OpenSSL cannot flood
 * the log); the rest at debug level.
 */
static void keep_ssl(struct stls_conn *c, struct keep k)
{
	uint64_t n;

	stls__conn_h13_free(c);
	if (!k.fallback) {
		STLS_DBG("tls: conn %p: keeping the SSL: %s", (void *)c,
			 k.why);
		return;
	}
	n = stls__conn_count(STLS_CNT_FALLBACKS);
	if ((n & (n - 1)) == 0) {
		STLS_WARN("tls: record hand-off fell back to keeping the SSL: "
			  "%s (%llu so far; docs/security.md)",
			  k.why, (unsigned long long)n);
	} else {
		STLS_DBG("tls: conn %p: record hand-off fell back to keeping "
			 "the SSL: %s", (void *)c, k.why);
	}
}

void stls__conn_handoff(struct stls_conn *c)
{
	const struct stls_profile *p = stls_profile_of_ssl(c->ssl);
	struct stls_rec13 *r = NULL;
	struct keep k;
	uint16_t suite;

	if (c->role != STLS_ROLE_SERVER || c->keep_ssl) {
		stls__conn_h13_free(c);
		return;
	}
	SSL_set_msg_callback(c->ssl, NULL);
	if (SSL_version(c->ssl) == TLS1_2_VERSION) {
		k = keep_reason12(c, &suite);
		if (!k.why) {
			r = init12(c, suite, &k);
		}
	} else if (SSL_version(c->ssl) == TLS1_3_VERSION) {
		k = hand13(c, &suite, &r);
	} else {
		k = keep_expected("not TLS 1.3 or 1.2");
	}
	if (k.why) {
		keep_ssl(c, k);
		return;
	}
	set_frag_limits(c, r);
	c->rec = r;
	if (stls__conn_sess_keep(c) != 0) {
		c->rec = NULL;
		stls__rec13_fini(r);
		OPENSSL_free(r);
		keep_ssl(c, keep_fallback("out of memory"));
		return;
	}
	if (p) {
		/* Our reference replaces the one the SSL drops; released in
		 * stls__conn_rec_free(). */
		c->pset = stls_profile_set_ref(stls_profile_set_of(p));
		c->profile = p;
	}
	stls__conn_h13_free(c);
	/* A clean end for the session cache (see stls_conn_free()). */
	SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c->ssl); /* and our BIO; c->io stays */
	c->ssl = NULL;
	STLS_DBG("tls: conn %p: record layer handed off (suite 0x%04x, "
		 "read seq %llu, write seq %llu)",
		 (void *)c, suite, (unsigned long long)r->rd.seq,
		 (unsigned long long)r->wr.seq);
}
