/*
 * The TLS connection engine (see stls/conn.h and docs/engine.md).
 *
 * Design: one SSL object over one custom BIO (conn_bio.c) that reads
 * ciphertext from memory and writes it to a block queue. Every public call
 * runs the same short sequence: check memory (low_mem_threshold2), advance
 * the handshake with SSL_do_handshake(), flush the clear-text queue, then
 * SSL_read() until OpenSSL wants input (or holds nothing more to read:
 * no ciphertext left in the BIO or in its buffers) or the caller's buffer
 * is full. Plaintext written before the handshake completes, or while
 * anything is still queued, goes to the clear-text queue (wq.c) so that
 * order is kept.
 *
 * State changes go through set_state(), checked against `allowed`. Every
 * OpenSSL call is preceded by an empty error queue (stls__ossl_err_clear():
 * a look, and a clear only when something is there: ERR_clear_error()
 * itself walks all sixteen slots, some 500 instructions, at every record);
 * ssl_fail() is the one place that reads the error queue and turns it into
 * a close reason and detail.
 *
 * Record hand-off: once a TLS 1.3 or TLS 1.2 (AEAD suite) server handshake
 * is done, handshake_done() may free the SSL (conn_handoff.c); from then on
 * c->ssl is NULL and the read loop, writes and close go to conn_rec13.c
 * instead of OpenSSL.
 *
 * Renegotiation (seed 10.30): an info callback marks a handshake start seen
 * after the first handshake completed, for TLS <= 1.2 only (TLS 1.3
 * KeyUpdate and NewSessionTicket never start a handshake). With
 * renegotiation = 0 the connection then fails with reason RENEGOTIATION.
 */
#include "stls/conn.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "stls/log.h"
#include "stls/hsm.h"
#include "stls/profile.h"
#include "tls/ossl_err.h"
#include "tls/tls_int.h"


static uint64_t reneg_refused; /* atomic */
static int conn_idx = -1;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

/* Runtime-changeable settings are read atomically at each use. */
#define SETTING(c, field, def)                                         \
	((c)->set ? __atomic_load_n(&(c)->set->field, __ATOMIC_RELAXED) \
		  : (def))

static void set_state(struct stls_conn *c, enum stls_conn_state to)
{
	assert(stls_conn_state_allowed(c->state, to));
	/* Handshake traces: at the level of tls.debug (tls_debug). */
	stls_log(SETTING(c, tls_debug, STLS_L_DBG), "tls: conn %p: %s -> %s",
		 (void *)c, stls_conn_state_names[c->state],
		 stls_conn_state_names[to]);
	c->state = to;
}

static bool is_handshaking(const struct stls_conn *c)
{
	return c->state == STLS_CONN_ACCEPTING ||
	       c->state == STLS_CONN_CONNECTING;
}

static bool is_dead(const struct stls_conn *c)
{
	return c->state == STLS_CONN_FAILED || c->state == STLS_CONN_CLOSED;
}

/*
 * Level of a failure message: blame decides (our memory: error; the peer:
 * info), and tls_log may make peer failures more visible, never less.
 */
static int fail_level(const struct stls_conn *c, enum stls_close_reason r)
{
	int lvl = SETTING(c, tls_log, STLS_L_INFO);

	if (r == STLS_CLOSE_NO_MEMORY)
		return STLS_L_ERR;
	return lvl < STLS_L_INFO ? lvl : STLS_L_INFO;
}

static enum stls_io fail(struct stls_conn *c, enum stls_close_reason r,
			 const char *detail)
{
	if (c->state != STLS_CONN_FAILED) {
		set_state(c, STLS_CONN_FAILED);
		/* As OpenSSL does with an SSL (RFC 5246 section 7.2.2). */
		stls__conn_sess_forget(c);
		c->reason = r;
		snprintf(c->detail, sizeof(c->detail), "%s", detail);
		/* Blame: a peer-caused failure is not our error. */
		stls_log(fail_level(c, r), "tls: connection failed (%s): %s",
			 stls_close_reason_names[r], c->detail);
	}
	return STLS_IO_FAILED;
}

/* fail() for conn_rec13.c. Thread: owner. */
enum stls_io stls__conn_fail(struct stls_conn *c, enum stls_close_reason r,
			     const char *detail)
{
	return fail(c, r, detail);
}

/* The peer's close_notify: CLOSING with reason PEER. Thread: owner. */
enum stls_io stls__conn_peer_closed(struct stls_conn *c)
{
	set_state(c, STLS_CONN_CLOSING);
	c->reason = STLS_CLOSE_PEER;
	snprintf(c->detail, sizeof(c->detail), "peer sent close_notify");
	return STLS_IO_CLOSED;
}

/* Drain the OpenSSL error queue into "a; b; c". */
static void err_text(char *buf, size_t len)
{
	unsigned long e;
	size_t pos = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[200];
		int k;

		if (pos + 3 >= len) {
			continue; /* keep draining the queue */
		}
		ERR_error_string_n(e, one, sizeof(one));
		k = snprintf(buf + pos, len - pos, "%s%s", pos ? "; " : "",
			     one);
		if (k > 0) {
			pos += (size_t)k;
		}
	}
}

/*
 * Did the handshake fail while we signed with a key held in an HSM? The
 * state machine stops at the message it was writing: the server's
 * CertificateVerify (TLS 1.3) or ServerKeyExchange (TLS 1.2), the client's
 * CertificateVerify. Only our own signature is made in those states.
 */
static bool hsm_sign_failed(const struct stls_conn *c)
{
	switch (SSL_get_state(c->ssl)) {
	case TLS_ST_SW_CERT_VRFY:
	case TLS_ST_SW_KEY_EXCH:
	case TLS_ST_CW_CERT_VRFY:
		return stls_hsm_key_is_hsm(SSL_get_privatekey(c->ssl));
	default:
		return false;
	}
}

/* A token that went away fails only the handshakes that need it. */
static enum stls_io key_fail(struct stls_conn *c, const char *why)
{
	const struct stls_profile *p = stls_profile_of_ssl(c->ssl);
	char buf[sizeof(c->detail)];

	snprintf(buf, sizeof(buf), "HSM key failed to sign: %s", why);
	stls_hsm_key_failed(p ? stls_profile_name(p) : "TLS", why);
	return fail(c, STLS_CLOSE_KEY, buf);
}

/* OpenSSL ended the connection at one of its record limits: count it as
 * the hand-off counts its own (conn_stats.c). */
static void count_limit(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL) {
		return;
	}
	if (ERR_GET_REASON(e) == SSL_R_TOO_MANY_WARN_ALERTS) {
		stls__conn_count(STLS_CNT_WARN_ALERTS);
	} else if (ERR_GET_REASON(e) == SSL_R_RECORD_TOO_SMALL) {
		stls__conn_count(STLS_CNT_EMPTY_RECORDS);
	}
}

/* The one place that turns an SSL failure into a close reason. */
static enum stls_io ssl_fail(struct stls_conn *c, int ssl_err,
			     enum stls_close_reason r)
{
	char buf[sizeof(c->detail)];
	long vr = SSL_get_verify_result(c->ssl);

	count_limit(ERR_peek_error());
	err_text(buf, sizeof(buf));
	if (c->io.out_failed) {
		return fail(c, STLS_CLOSE_NO_MEMORY, "out of memory");
	}
	if (r == STLS_CLOSE_HANDSHAKE && hsm_sign_failed(c)) {
		return key_fail(c, buf);
	}
	if (r == STLS_CLOSE_HANDSHAKE && vr != X509_V_OK &&
	    strstr(buf, "certificate verify failed")) {
		snprintf(buf, sizeof(buf), "peer certificate: %s (%ld)",
			 X509_verify_cert_error_string(vr), vr);
		return fail(c, STLS_CLOSE_VERIFY, buf);
	}
	if (!buf[0]) {
		snprintf(buf, sizeof(buf), "SSL error %d", ssl_err);
	}
	return fail(c, r, buf);
}

/* The connection of an SSL made by stls_conn_new(), or NULL. */
struct stls_conn *stls__conn_of(const SSL *ssl)
{
	return conn_idx < 0 ? NULL : SSL_get_ex_data(ssl, conn_idx);
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	struct stls_conn *c = stls__conn_of(ssl);

	(void)ret;
	if (!c || !(where & SSL_CB_HANDSHAKE_START)) {
		return;
	}
	/* Only TLS <= 1.2 has renegotiation; TLS 1.3 post-handshake
	 * messages never start a handshake in OpenSSL 3, and the version
	 * check makes sure they are never mistaken for one. */
	if ((c->flags & STLS_CONN_F_HANDSHAKE_DONE) &&
	    SSL_version(ssl) <= TLS1_2_VERSION) {
		c->flags |= STLS_CONN_F_RENEGOTIATION;
	}
}

/* After an SSL call: refuse a renegotiation that just started. */
static bool reneg_refuse(struct stls_conn *c)
{
	/* The seed refuses renegotiation initiated by the client, so only
	 * the server side refuses; a client just records flag 4. */
	if (!(c->flags & STLS_CONN_F_RENEGOTIATION) ||
	    c->role != STLS_ROLE_SERVER || SETTING(c, renegotiation, 0)) {
		return false;
	}
	ERR_clear_error();
	(void)stls__conn_reneg_refused(c);
	return true;
}

/*
 * Count a refused client renegotiation and fail the connection with reason
 * RENEGOTIATION (also for conn_rec13.c: a handshake record after a TLS 1.2
 * hand-off). Returns STLS_IO_FAILED. Thread: owner.
 */
enum stls_io stls__conn_reneg_refused(struct stls_conn *c)
{
	c->flags |= STLS_CONN_F_RENEGOTIATION;
	__atomic_add_fetch(&reneg_refused, 1, __ATOMIC_RELAXED);
	return fail(c, STLS_CLOSE_RENEGOTIATION,
		    "TLS renegotiation refused (renegotiation = 0)");
}

static bool low_mem2(struct stls_conn *c)
{
	if (!stls_lowmem_is_low(SETTING(c, low_mem_threshold2, 0), 2)) {
		return false;
	}
	fail(c, STLS_CLOSE_LOW_MEMORY, "available memory below "
				       "low_mem_threshold2");
	return true;
}

static void idx_init(void)
{
	conn_idx = SSL_get_ex_new_index(0, "stls_conn", NULL, NULL, NULL);
}

static int conn_setup(struct stls_conn *c, const struct stls_conn_opts *o)
{
	BIO *bio;

	if ((o->sni && !(c->sni = strdup(o->sni))) ||
	    (o->verify_name && !(c->verify_name = strdup(o->verify_name)))) {
		return -ENOMEM;
	}
	pthread_once(&idx_once, idx_init);
	if (conn_idx < 0 || !SSL_set_ex_data(c->ssl, conn_idx, c)) {
		return -ENOMEM;
	}
	bio = stls__io_bio_new(&c->io);
	if (!bio) {
		return -ENOMEM;
	}
	/* The SSL owns the BIO (one reference for both directions). */
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_info_callback(c->ssl, info_cb);
	stls__conn_rec_setup(c);
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
				     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (o->role == STLS_ROLE_CLIENT) {
		if (c->sni && !SSL_set_tlsext_host_name(c->ssl, c->sni)) {
			return -EINVAL;
		}
		SSL_set_connect_state(c->ssl);
		set_state(c, STLS_CONN_CONNECTING);
	} else {
		/* OpenSSL 3 refuses client renegotiation by itself; let it
		 * through so that the setting, read at each use, decides
		 * (info_cb + reneg_refuse()). */
		SSL_set_options(c->ssl, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
		SSL_set_accept_state(c->ssl);
		set_state(c, STLS_CONN_ACCEPTING);
	}
	return 0;
}

int stls_conn_new(const struct stls_conn_opts *opts, struct stls_conn **out,
		  enum stls_close_reason *out_reason)
{
	struct stls_conn *c = NULL;
	enum stls_close_reason r = STLS_CLOSE_NO_MEMORY;
	int err;

	*out = NULL;
	if (!opts || !opts->ssl) {
		err = -EINVAL;
		r = STLS_CLOSE_NONE;
		goto out;
	}
	if (opts->settings &&
	    stls_lowmem_is_low(__atomic_load_n(
				       &opts->settings->low_mem_threshold1,
				       __ATOMIC_RELAXED),
			       1)) {
		STLS_WARN("tls: refusing new connection: available memory "
			  "below low_mem_threshold1");
		err = -ENOMEM;
		r = STLS_CLOSE_LOW_MEMORY;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto out;
	}
	c->ssl = opts->ssl;
	c->ctx0 = SSL_get_SSL_CTX(opts->ssl);
	c->set = opts->settings;
	c->user = opts->user;
	c->role = opts->role;
	c->wildcard = opts->verify_wildcard;
	c->keep_ssl = opts->keep_ssl;
	err = conn_setup(c, opts);
	if (err) {
		r = err == -EINVAL ? STLS_CLOSE_NONE : STLS_CLOSE_NO_MEMORY;
		goto out;
	}
	*out = c;
	c = NULL;
	r = STLS_CLOSE_NONE;
out:
	if (c) {
		stls_conn_free(c); /* frees opts->ssl too */
	} else if (err) {
		SSL_free(opts ? opts->ssl : NULL);
	}
	if (out_reason) {
		*out_reason = r;
	}
	return err;
}

void stls_conn_free(struct stls_conn *c)
{
	if (!c) {
		return;
	}
	if (c->ssl && c->state != STLS_CONN_FAILED &&
	    (c->flags & STLS_CONN_F_HANDSHAKE_DONE)) {
		/* A clean end, with or without close_notify (the seed's
		 * default sends none): without this, SSL_free() would treat
		 * the session as bad and drop it from the cache, and neither
		 * tickets nor the session cache could resume it. */
		SSL_set_shutdown(c->ssl,
				 SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	}
	SSL_free(c->ssl); /* also frees the BIO */
	c->ssl = NULL;
	stls__conn_rec_free(c);
	stls__io_fini(&c->io);
	stls__ctq_fini(&c->ctq);
	stls_facts_free(c->facts);
	free(c->sni);
	free(c->verify_name);
	free(c);
}

/* Handshake end: facts, RFC 5922 check, then ESTABLISHED. */
static enum stls_io handshake_done(struct stls_conn *c)
{
	char buf[sizeof(c->detail)];
	const char *sni = c->sni;
	int err;

	if (c->role == STLS_ROLE_SERVER) {
		sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
		if (sni && !c->sni && !(c->sni = strdup(sni))) {
			return fail(c, STLS_CLOSE_NO_MEMORY, "out of memory");
		}
		sni = c->sni;
	}
	err = stls__facts_build(c->ssl, sni, &c->facts);
	if (err) {
		return fail(c, STLS_CLOSE_NO_MEMORY, "cannot record facts");
	}
	if (c->verify_name) {
		X509 *peer = SSL_get0_peer_certificate(c->ssl);

		if (!peer) {
			snprintf(buf, sizeof(buf),
				 "expected SIP domain %s, peer sent no "
				 "certificate",
				 c->verify_name);
			return fail(c, STLS_CLOSE_IDENTITY, buf);
		}
		if (stls__identity_check(peer, c->verify_name, c->wildcard,
					 buf, sizeof(buf)) != 0) {
			return fail(c, STLS_CLOSE_IDENTITY, buf);
		}
	}
	c->flags |= STLS_CONN_F_HANDSHAKE_DONE;
	set_state(c, STLS_CONN_ESTABLISHED);
	/* New connections are the seed's "informational" messages: at the
	 * level of the runtime variable tls.log (tls_log). */
	stls_log(SETTING(c, tls_log, STLS_L_DBG),
		 "tls: %s established: %s %s%s",
		 c->role == STLS_ROLE_SERVER ? "accepted" : "connected",
		 SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
		 SSL_session_reused(c->ssl) ? " (resumed)" : "");
	stls__conn_handoff(c);
	return STLS_IO_DONE;
}

static enum stls_io handshake(struct stls_conn *c)
{
	int rc, e;

	stls__ossl_err_clear();
	rc = SSL_do_handshake(c->ssl);
	if (rc == 1) {
		return handshake_done(c);
	}
	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ && !c->io.out_failed) {
		return STLS_IO_WANT_INPUT;
	}
	return ssl_fail(c, e, STLS_CLOSE_HANDSHAKE);
}

static void ct_flag_update(struct stls_conn *c)
{
	if (c->ctq.total) {
		c->flags |= STLS_CONN_F_WRITE_WANTS_READ;
	} else {
		c->flags &= ~STLS_CONN_F_WRITE_WANTS_READ;
	}
}

/*
 * A close decided by the engine itself (conn_rec13.c: a key reached its
 * usage limit): CLOSED with reason r and detail, as after
 * stls_conn_close(); queued clear text is dropped. Returns STLS_IO_CLOSED.
 * Thread: owner.
 */
enum stls_io stls__conn_closed(struct stls_conn *c, enum stls_close_reason r,
			       const char *detail)
{
	set_state(c, STLS_CONN_CLOSED);
	c->reason = r;
	snprintf(c->detail, sizeof(c->detail), "%s", detail);
	stls_log(STLS_L_INFO, "tls: connection closed (%s): %s",
		 stls_close_reason_names[r], c->detail);
	stls__ctq_fini(&c->ctq);
	ct_flag_update(c);
	return STLS_IO_CLOSED;
}

/* Encrypt queued clear text, in order, until done or TLS wants input. */
static enum stls_io flush_ctq(struct stls_conn *c)
{
	enum stls_io r = STLS_IO_DONE;

	while (c->ctq.total && c->state == STLS_CONN_ESTABLISHED) {
		size_t n, w = 0;
		const void *p = stls__wq_peek(&c->ctq, &n);
		int rc, e;

		if (!c->ssl) {
			if (stls__conn_rec_write(c, p, n) != 0) {
				r = STLS_IO_FAILED;
				break;
			}
			stls__ctq_consume(&c->ctq, n);
			continue;
		}
		stls__ossl_err_clear();
		rc = SSL_write_ex(c->ssl, p, n, &w);
		if (reneg_refuse(c)) {
			r = STLS_IO_FAILED;
			break;
		}
		if (rc == 1) {
			stls__ctq_consume(&c->ctq, w);
			continue;
		}
		e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_WANT_READ && !c->io.out_failed) {
			r = STLS_IO_WANT_INPUT;
			break;
		}
		r = ssl_fail(c, e, STLS_CLOSE_PROTOCOL);
		break;
	}
	ct_flag_update(c);
	return r;
}

/* SSL_read into out until it is full or OpenSSL wants input. */
static enum stls_io read_loop(struct stls_conn *c, unsigned char *out,
			      size_t cap, size_t *out_len)
{
	if (!c->ssl) {
		return stls__conn_rec_read(c, out, cap, out_len);
	}
	while (*out_len < cap) {
		size_t got = 0;
		int rc, e;

		stls__ossl_err_clear();
		rc = SSL_read_ex(c->ssl, out + *out_len, cap - *out_len, &got);
		if (reneg_refuse(c)) {
			return STLS_IO_FAILED;
		}
		if (rc == 1) {
			*out_len += got;
			/* No ciphertext left in the BIO, nothing buffered in
			 * OpenSSL (read-ahead included), no renegotiation
			 * waiting for a read to send its ClientHello: another
			 * call could only end with WANT_READ. Saves a call
			 * per record. */
			if (stls__io_pending_in(&c->io) == 0 &&
			    !SSL_has_pending(c->ssl) &&
			    !SSL_renegotiate_pending(c->ssl) &&
			    !c->io.out_failed) {
				return STLS_IO_WANT_INPUT;
			}
			continue;
		}
		e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_WANT_READ && !c->io.out_failed) {
			return STLS_IO_WANT_INPUT;
		}
		if (e == SSL_ERROR_ZERO_RETURN) {
			return stls__conn_peer_closed(c);
		}
		return ssl_fail(c, e, STLS_CLOSE_PROTOCOL);
	}
	return STLS_IO_DONE;
}

static enum stls_io step(struct stls_conn *c, void *out, size_t cap,
			 size_t *out_len)
{
	enum stls_io r;

	if (c->state == STLS_CONN_FAILED) {
		return STLS_IO_FAILED;
	}
	if (c->state == STLS_CONN_CLOSED || c->state == STLS_CONN_CLOSING) {
		return STLS_IO_CLOSED;
	}
	if (low_mem2(c)) {
		return STLS_IO_FAILED;
	}
	if (is_handshaking(c)) {
		r = handshake(c);
		if (r != STLS_IO_DONE) {
			return r;
		}
	}
	r = flush_ctq(c);
	if (r == STLS_IO_FAILED) {
		return r;
	}
	if (cap == 0) {
		return STLS_IO_WANT_INPUT;
	}
	r = read_loop(c, out, cap, out_len);
	if (r != STLS_IO_FAILED && c->state == STLS_CONN_ESTABLISHED &&
	    c->ctq.total && flush_ctq(c) == STLS_IO_FAILED) {
		return STLS_IO_FAILED;
	}
	return r;
}

enum stls_io stls_conn_feed_drain(struct stls_conn *c, const void *in,
				  size_t in_len, void *out, size_t cap,
				  size_t *out_len)
{
	enum stls_io r;

	*out_len = 0;
	stls__io_borrow(&c->io, in, in_len);
	r = step(c, out, cap, out_len);
	stls__conn_rec_idle(c);
	if (is_dead(c)) {
		/* Closed or failed: nothing will read what is left. */
		stls__io_borrow(&c->io, NULL, 0);
	}
	if (stls__io_settle(&c->io) != 0 && !is_dead(c)) {
		r = fail(c, STLS_CLOSE_NO_MEMORY,
			 "cannot keep unprocessed ciphertext");
	}
	return r;
}

enum stls_io stls_conn_drain(struct stls_conn *c, void *out, size_t cap,
			     size_t *out_len)
{
	return stls_conn_feed_drain(c, NULL, 0, out, cap, out_len);
}

int stls_conn_feed(struct stls_conn *c, const void *data, size_t len)
{
	if (is_dead(c)) {
		return -EPIPE;
	}
	return stls__io_stash(&c->io, data, len);
}

void stls_conn_feed_eof(struct stls_conn *c)
{
	if (is_handshaking(c)) {
		fail(c, STLS_CLOSE_HANDSHAKE,
		     "transport closed during the handshake");
	} else if (c->state == STLS_CONN_ESTABLISHED) {
		set_state(c, STLS_CONN_CLOSED);
		c->reason = STLS_CLOSE_EOF;
		snprintf(c->detail, sizeof(c->detail),
			 "transport closed without close_notify");
	}
}

static ssize_t queue_ct(struct stls_conn *c, const void *data, size_t len)
{
	int err;

	err = stls__ctq_push(&c->ctq, data, len,
			     (size_t)SETTING(c, con_ct_wq_max, 65536),
			     (size_t)SETTING(c, ct_wq_max, 10485760),
			     (size_t)SETTING(c, ct_wq_blk_size, 4096));
	if (err == -ENOBUFS) {
		STLS_DBG("tls: clear-text queue full (%zu + %zu bytes)",
			 c->ctq.total, len);
	}
	ct_flag_update(c);
	return err ? err : (ssize_t)len;
}

static ssize_t push(struct stls_conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t off = 0;
	ssize_t q;

	if (is_dead(c) || c->state == STLS_CONN_CLOSING) {
		return -EPIPE;
	}
	if (low_mem2(c)) {
		return -ENOMEM;
	}
	if (is_handshaking(c) && handshake(c) == STLS_IO_FAILED) {
		return -EPIPE;
	}
	if (c->ctq.total && flush_ctq(c) == STLS_IO_FAILED) {
		return -EPIPE;
	}
	if (is_handshaking(c) || c->ctq.total) {
		return queue_ct(c, data, len);
	}
	if (!c->ssl) {
		q = stls__conn_rec_write(c, data, len);
		return q < 0 ? q : (ssize_t)len;
	}
	while (off < len) {
		size_t w = 0;
		int rc, e;

		stls__ossl_err_clear();
		rc = SSL_write_ex(c->ssl, p + off, len - off, &w);
		if (reneg_refuse(c)) {
			return -EPIPE;
		}
		if (rc == 1) {
			off += w;
			continue;
		}
		e = SSL_get_error(c->ssl, rc);
		if (e != SSL_ERROR_WANT_READ || c->io.out_failed) {
			ssl_fail(c, e, STLS_CLOSE_PROTOCOL);
			return c->reason == STLS_CLOSE_NO_MEMORY ? -ENOMEM
								 : -EPIPE;
		}
		q = queue_ct(c, p + off, len - off);
		if (q < 0) {
			return off ? (ssize_t)off : q;
		}
		break;
	}
	return (ssize_t)len;
}

ssize_t stls_conn_push(struct stls_conn *c, const void *data, size_t len)
{
	ssize_t r = push(c, data, len);

	stls__conn_rec_idle(c);
	return r;
}

enum stls_io stls_conn_close(struct stls_conn *c)
{
	if (c->state == STLS_CONN_FAILED) {
		return STLS_IO_FAILED;
	}
	if (c->state == STLS_CONN_CLOSED) {
		return STLS_IO_DONE;
	}
	if ((c->state == STLS_CONN_ESTABLISHED ||
	     c->state == STLS_CONN_CLOSING) &&
	    SETTING(c, send_close_notify, 1) &&
	    !stls_lowmem_is_low(SETTING(c, low_mem_threshold2, 0), 2)) {
		/* One-way shutdown: queue our close_notify, never wait. */
		if (c->ssl) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
			ERR_clear_error();
		} else {
			stls__conn_rec_close_notify(c);
			stls__conn_rec_idle(c);
		}
	}
	if (c->reason == STLS_CLOSE_NONE) {
		c->reason = STLS_CLOSE_LOCAL;
		snprintf(c->detail, sizeof(c->detail), "closed locally");
	}
	set_state(c, STLS_CONN_CLOSED);
	/* Queued clear text can never be sent now. */
	stls__ctq_fini(&c->ctq);
	ct_flag_update(c);
	return STLS_IO_DONE;
}

uint64_t stls_conn_get_reneg_refused(void)
{
	return __atomic_load_n(&reneg_refused, __ATOMIC_RELAXED);
}
