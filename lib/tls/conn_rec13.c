/*
 * Records of a TLS 1.3 or TLS 1.2 server connection after the record
 * hand-off (conn_handoff.c decides; rec13.c and rec12.c protect): the
 * engine's read loop, writes, alerts and post-handshake messages without
 * an SSL (docs/engine.md, "Record hand-off after TLS 1.3 handshakes").
 *
 * RFC 8446: application data both ways; KeyUpdate from the peer updates
 * the read key and, when requested, we answer with our own KeyUpdate and
 * update the write key; close_notify is a clean close; user_canceled is
 * ignored as OpenSSL does (in TLS 1.2 only at warning level); any other
 * alert, any other post-handshake message, a bad record or an oversized
 * one fails the connection with reason PROTOCOL, after our fatal alert.
 *
 * TLS 1.2 (r->v12) differs in three places only: the record header carries
 * the real content type (change_cipher_spec is unexpected_message), a
 * handshake record is a client renegotiation, refused as the engine
 * refuses it with an SSL (after a no_renegotiation warning), and there is
 * no KeyUpdate: the write sequence number ends the connection at 2^64 - 1.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "stls/profile.h"

/* Alert descriptions (RFC 8446 section 6). */
enum {
	AL_CLOSE_NOTIFY = 0,
	AL_UNEXPECTED_MESSAGE = 10,
	AL_BAD_RECORD_MAC = 20,
	AL_RECORD_OVERFLOW = 22,
	AL_HANDSHAKE_FAILURE = 40,
	AL_ILLEGAL_PARAMETER = 47,
	AL_DECODE_ERROR = 50,
	AL_PROTOCOL_VERSION = 70,
	AL_INTERNAL_ERROR = 80,
	AL_USER_CANCELED = 90,
	AL_NO_RENEGOTIATION = 100,
};

/* RFC names of the alerts we send, for the close detail. */
static const char *alert_name(unsigned char a)
{
	switch (a) {
	case AL_UNEXPECTED_MESSAGE:
		return "unexpected_message";
	case AL_BAD_RECORD_MAC:
		return "bad_record_mac";
	case AL_RECORD_OVERFLOW:
		return "record_overflow";
	case AL_HANDSHAKE_FAILURE:
		return "handshake_failure";
	case AL_ILLEGAL_PARAMETER:
		return "illegal_parameter";
	case AL_PROTOCOL_VERSION:
		return "protocol_version";
	case AL_DECODE_ERROR:
		return "decode_error";
	default:
		return "internal_error";
	}
}

enum { CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };

/*
 * OpenSSL's limits on records that carry nothing (MAX_WARN_ALERT_COUNT,
 * MAX_EMPTY_RECORDS in its record layer), so that a peer cannot keep us
 * busy for free: the 5th ignored warning alert in a row and the 33rd
 * empty record in a row end the connection with unexpected_message. A
 * non-empty record of another type resets the warnings, any non-empty
 * record the empty ones.
 */
#define WARN_ALERTS_MAX 5
#define EMPTY_RECORDS_MAX 32
enum { HS_KEY_UPDATE = 24 };

/*
 * Encrypt one record into the output queue. Returns 0, -ENOMEM,
 * -EOVERFLOW when the write sequence number is exhausted (TLS 1.2), or
 * -EKEYREVOKED when the write key was lost in a failed key update.
 */
static int seal_one(struct stls_conn *c, unsigned char type,
		    const void *data, size_t n)
{
	unsigned char *w = stls__wq_wspan(
		&c->io.out, n + STLS_REC_MAX_OVERHEAD, STLS_IO_OUT_BLK);
	ssize_t k;

	if (!w) {
		return -ENOMEM;
	}
	k = stls__rec13_seal(c->rec, type, data, n, w);
	if (k == -EOVERFLOW || k == -EKEYREVOKED) {
		return (int)k;
	}
	if (k < 0) {
		return -ENOMEM;
	}
	stls__wq_commit(&c->io.out, (size_t)k);
	return 0;
}

/*
 * Our KeyUpdate (update_not_requested, or update_requested when we ask
 * the peer to update too) under the current write key, then the next
 * write key (section 4.6.3). Returns 0, -ENOMEM (nothing sent),
 * or -EIO when the next key cannot be derived: the KeyUpdate is on its
 * way and the write direction is poisoned, so nothing may follow it, not
 * even an alert (write_key_lost()).
 */
static int send_key_update(struct stls_conn *c, bool request)
{
	const unsigned char ku[5] = { HS_KEY_UPDATE, 0, 0, 1, request };
	int err = seal_one(c, CT_HANDSHAKE, ku, sizeof(ku));

	return err ? err : stls__rec13_update(c->rec, true);
}

/*
 * One record of any type; a KeyUpdate goes first when the write key has
 * protected STLS_REC13_REKEY_AFTER records (AEAD limits, section 5.5;
 * TLS 1.3 only). Returns 0, -ENOMEM, -EIO or -EOVERFLOW.
 */
static int put_record(struct stls_conn *c, unsigned char type,
		      const void *data, size_t n)
{
	if (!c->rec->v12 && c->rec->wr.seq >= STLS_REC13_REKEY_AFTER) {
		int err = send_key_update(c, false);

		if (err) {
			return err;
		}
	}
	return seal_one(c, type, data, n);
}

/*
 * The write key could not be updated after our KeyUpdate went out: the
 * old key must never protect another record (its sequence number would
 * restart) and the new one does not exist, so the connection fails
 * without an alert.
 */
static enum stls_io write_key_lost(struct stls_conn *c)
{
	return stls__conn_fail(c, STLS_CLOSE_PROTOCOL,
			       "cannot derive the next write key (no alert "
			       "sent)");
}

/*
 * A TLS 1.2 AES-GCM key reached its usage bound (rec12.c): our
 * close_notify (the last record our key may protect) and a clean close,
 * reason PROTOCOL; the session stays resumable (no fatal alert).
 */
static enum stls_io key_limit_close(struct stls_conn *c)
{
	stls__conn_rec_close_notify(c);
	stls__conn_count(STLS_CNT_KEY_LIMIT);
	return stls__conn_closed(c, STLS_CLOSE_PROTOCOL,
				 "TLS 1.2 AES-GCM key usage limit reached "
				 "(RFC 9325 section 4.4)");
}

int stls__conn_rec_write(struct stls_conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t n = len < c->rec->max_frag ? len : c->rec->max_frag;
		int err;

		if (stls__rec12_key_used_up(c->rec, true)) {
			(void)key_limit_close(c);
			return -EPIPE;
		}
		err = put_record(c, CT_APPDATA, p, n);

		if (err == -EIO || err == -EKEYREVOKED) {
			write_key_lost(c);
			return -EPIPE;
		}
		if (err == -EOVERFLOW) {
			stls__conn_fail(c, STLS_CLOSE_PROTOCOL,
					"write sequence number exhausted");
			return -EPIPE;
		}
		if (err) {
			stls__conn_fail(c, STLS_CLOSE_NO_MEMORY,
					"cannot encrypt: out of memory");
			return -ENOMEM;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * stls_conn_key_update() after the hand-off (TLS 1.3): our KeyUpdate,
 * then the next write key. Returns 0, or -ENOMEM / -EPIPE with the
 * connection failed (no alert after a lost write key).
 */
int stls__conn_rec_key_update(struct stls_conn *c, bool request)
{
	int err = send_key_update(c, request);

	if (err == -ENOMEM) {
		stls__conn_fail(c, STLS_CLOSE_NO_MEMORY,
				"cannot encrypt: out of memory");
		return -ENOMEM;
	}
	if (err) {
		write_key_lost(c);
		return -EPIPE;
	}
	return 0;
}

void stls__conn_rec_close_notify(struct stls_conn *c)
{
	static const unsigned char a[2] = { 1, AL_CLOSE_NOTIFY };

	(void)put_record(c, CT_ALERT, a, sizeof(a)); /* best effort */
}

/*
 * Send a fatal alert (best effort; never once the write key is lost) and
 * fail with reason PROTOCOL.
 */
static enum stls_io proto_fail(struct stls_conn *c, unsigned char alert,
			       const char *what)
{
	unsigned char a[2] = { 2, alert };
	char buf[sizeof(c->detail)];

	if (!c->rec->wr.dead) {
		(void)put_record(c, CT_ALERT, a, sizeof(a));
	}
	snprintf(buf, sizeof(buf), "%s: %s", alert_name(alert), what);
	return stls__conn_fail(c, STLS_CLOSE_PROTOCOL, buf);
}

static enum stls_io rec_error(struct stls_conn *c, int err)
{
	switch (err) {
	case -EBADMSG:
		return proto_fail(c, AL_BAD_RECORD_MAC,
				  "record failed authentication");
	case -EMSGSIZE:
		return proto_fail(c, AL_RECORD_OVERFLOW, "record too long");
	case -EPROTO:
		return proto_fail(c, AL_UNEXPECTED_MESSAGE,
				  c->rec->v12
					  ? "unexpected record type"
					  : "not a TLS 1.3 protected record");
	case -EPROTONOSUPPORT:
		return proto_fail(c, AL_PROTOCOL_VERSION,
				  "record version not TLS 1.2");
	case -EOVERFLOW:
		return proto_fail(c, AL_INTERNAL_ERROR,
				  "read sequence number exhausted");
	default:
		return proto_fail(c, AL_INTERNAL_ERROR,
				  "record decryption failed");
	}
}

/* An alert we ignore, within WARN_ALERTS_MAX in a row. */
static enum stls_io ignored_warning(struct stls_conn *c)
{
	if (++c->rec->warn_run < WARN_ALERTS_MAX) {
		return STLS_IO_DONE;
	}
	stls__conn_count(STLS_CNT_WARN_ALERTS);
	return proto_fail(c, AL_UNEXPECTED_MESSAGE,
			  "too many warning alerts in a row");
}

/* Count empty records in a row (any type, after decryption); false with
 * the connection failed at the limit. */
static bool empty_ok(struct stls_conn *c, unsigned char type, size_t n)
{
	struct stls_rec13 *r = c->rec;

	if (n > 0) {
		r->empty_run = 0;
		if (type != CT_ALERT) {
			r->warn_run = 0;
		}
		return true;
	}
	if (++r->empty_run <= EMPTY_RECORDS_MAX) {
		return true;
	}
	stls__conn_count(STLS_CNT_EMPTY_RECORDS);
	(void)proto_fail(c, AL_UNEXPECTED_MESSAGE,
			 "too many empty records in a row");
	return false;
}

static enum stls_io on_alert(struct stls_conn *c, const unsigned char *p,
			     size_t n)
{
	struct stls_alert_verdict v;
	char buf[sizeof(c->detail)];

	switch (stls__rec_alert(c->rec->v12, p, n, &v)) {
	case STLS_ALERT_CLOSE:
		return stls__conn_peer_closed(c);
	case STLS_ALERT_IGNORE:
		return ignored_warning(c);
	case STLS_ALERT_REFUSE:
		return proto_fail(c, v.alert, v.what);
	default:
		snprintf(buf, sizeof(buf), "peer sent alert %s (%u)",
			 SSL_alert_desc_string_long(p[1]), p[1]);
		return stls__conn_fail(c, STLS_CLOSE_PROTOCOL, buf);
	}
}

/* KeyUpdate (RFC 8446 section 4.6.3): new read key, maybe answer. */
static enum stls_io key_update(struct stls_conn *c, unsigned char req)
{
	int err;

	if (req > 1) {
		return proto_fail(c, AL_ILLEGAL_PARAMETER,
				  "bad KeyUpdate request_update");
	}
	if (stls__rec13_update(c->rec, false) != 0) {
		/* Only the read key is gone: our alert is still safe. */
		return proto_fail(c, AL_INTERNAL_ERROR, "key update failed");
	}
	/* Our answer, under the old key: the output queue keeps every
	 * record sealed before it in front of it. */
	err = req == 1 ? send_key_update(c, false) : 0;
	if (err == -ENOMEM) {
		return stls__conn_fail(c, STLS_CLOSE_NO_MEMORY,
				       "out of memory");
	}
	if (err) {
		return write_key_lost(c);
	}
	return STLS_IO_DONE;
}

/*
 * A TLS 1.3 handshake record: part or all of a KeyUpdate (rec13_hs.c
 * reassembles across records), nothing else.
 */
static enum stls_io on_handshake(struct stls_conn *c, const unsigned char *p,
				 size_t n)
{
	struct stls_rec13_hs e;
	int r;

	if (n == 0) {
		return proto_fail(c, AL_UNEXPECTED_MESSAGE,
				  "empty handshake record");
	}
	r = stls__rec13_hs_feed(c->rec, p, n, &e);
	if (r < 0) {
		return proto_fail(c, e.alert, e.what);
	}
	return r == 1 ? key_update(c, e.request) : STLS_IO_DONE;
}

/*
 * TLS 1.2: a handshake record from the client is a renegotiation (the
 * server sends no HelloRequest): a no_renegotiation warning (RFC 5246
 * section 7.2.2), then the engine's refusal.
 */
static enum stls_io reneg(struct stls_conn *c)
{
	static const unsigned char a[2] = { 1, AL_NO_RENEGOTIATION };

	(void)put_record(c, CT_ALERT, a, sizeof(a)); /* best effort */
	return stls__conn_reneg_refused(c);
}

/* The plaintext buffer for a record whose content may not fit `out`. */
static unsigned char *pt_buf(struct stls_rec13 *r, size_t need)
{
	if (r->pt_cap < need) {
		if (r->pt) {
			OPENSSL_clear_free(r->pt, r->pt_cap);
		}
		r->pt_cap = 0;
		r->pt = OPENSSL_malloc(need);
		if (!r->pt) {
			return NULL;
		}
		r->pt_cap = need;
	}
	return r->pt;
}

static void pt_release(struct stls_rec13 *r)
{
	if (r->pt) {
		OPENSSL_clear_free(r->pt, r->pt_cap);
	}
	r->pt = NULL;
	r->pt_cap = r->pt_off = r->pt_len = 0;
}

/* A record other than application data (or any record while a handshake
 * message is unfinished). */
static enum stls_io on_control(struct stls_conn *c, unsigned char type,
			       const unsigned char *p, size_t n)
{
	if (type != CT_HANDSHAKE && stls__rec13_hs_pending(c->rec)) {
		/* RFC 8446 section 5.1. */
		return proto_fail(c, AL_UNEXPECTED_MESSAGE,
				  "handshake message interleaved with other "
				  "records");
	}
	if (type == CT_ALERT) {
		return on_alert(c, p, n);
	}
	if (type == CT_HANDSHAKE && c->rec->v12) {
		/* An empty one carries nothing: counted as empty, as OpenSSL
		 * skips it. */
		return n == 0 ? STLS_IO_DONE : reneg(c);
	}
	if (type == CT_HANDSHAKE) {
		return on_handshake(c, p, n);
	}
	return proto_fail(c, AL_UNEXPECTED_MESSAGE, "unexpected content type");
}

/*
 * Act on the content p[0..n) of one decrypted record of type `type`:
 * in_out when p is the caller's buffer (*got set for application data),
 * else r->pt, whose application data waits there (pt_off, pt_len).
 */
static enum stls_io on_record(struct stls_conn *c, unsigned char type,
			      const unsigned char *p, bool in_out, size_t n,
			      size_t *got)
{
	struct stls_rec13 *r = c->rec;

	if (n > r->rd_max) {
		/* Over the negotiated max_fragment_length (RFC 6066). */
		return proto_fail(c, AL_RECORD_OVERFLOW,
				  "record over max_fragment_length");
	}
	if (!empty_ok(c, type, n)) {
		return STLS_IO_FAILED;
	}
	if (type != CT_APPDATA || stls__rec13_hs_pending(r)) {
		return on_control(c, type, p, n);
	}
	if (in_out) {
		*got = n;
	} else {
		r->pt_off = 0;
		r->pt_len = n;
	}
	return STLS_IO_DONE;
}

/* Read, decrypt and act on one record. DONE when one was processed. */
static enum stls_io one_record(struct stls_conn *c, unsigned char *out,
			       size_t room, size_t *got)
{
	struct stls_rec13 *r = c->rec;
	const unsigned char *rec;
	unsigned char hdr[5], type = 0, *dst = out;
	size_t body, need, n = 0;
	enum stls_io res;
	int err;

	if (stls__io_copy(&c->io, hdr, sizeof(hdr)) < sizeof(hdr)) {
		return STLS_IO_WANT_INPUT;
	}
	if (stls__rec12_key_used_up(r, false)) {
		return key_limit_close(c);
	}
	err = r->v12 ? stls__rec12_check_header(hdr, &body)
		     : stls__rec13_check_header(hdr, &body);
	if (err) {
		return rec_error(c, err);
	}
	if (stls__io_pending_in(&c->io) < 5 + body) {
		return STLS_IO_WANT_INPUT;
	}
	need = body > STLS_REC13_TAG ? body - STLS_REC13_TAG : 0;
	if ((room < need && !(dst = pt_buf(r, need))) ||
	    stls__io_front(&c->io, 5 + body, &rec) != 0) {
		return stls__conn_fail(c, STLS_CLOSE_NO_MEMORY,
				       "out of memory");
	}
	err = stls__rec13_open(r, rec, 5 + body, dst, &n, &type);
	stls__io_skip(&c->io, 5 + body);
	if (err) {
		return rec_error(c, err);
	}
	res = on_record(c, type, dst, dst == out, n, got);
	if (dst != out && r->pt_len == 0) {
		pt_release(r); /* nothing left to deliver: keep no buffer */
	}
	return res;
}

enum stls_io stls__conn_rec_read(struct stls_conn *c, unsigned char *out,
				 size_t cap, size_t *out_len)
{
	struct stls_rec13 *r = c->rec;

	while (*out_len < cap) {
		enum stls_io res;
		size_t got = 0;

		if (r->pt_len) {
			size_t k = cap - *out_len < r->pt_len ? cap - *out_len
							      : r->pt_len;

			memcpy(out + *out_len, r->pt + r->pt_off, k);
			*out_len += k;
			r->pt_off += k;
			r->pt_len -= k;
			if (r->pt_len == 0) {
				pt_release(r);
			}
			continue;
		}
		res = one_record(c, out + *out_len, cap - *out_len, &got);
		*out_len += got;
		if (res != STLS_IO_DONE) {
			return res;
		}
	}
	return STLS_IO_DONE;
}

void stls__conn_rec_idle(struct stls_conn *c)
{
	if (c->rec) {
		stls__rec13_idle(c->rec);
	}
}

void stls__conn_rec_free(struct stls_conn *c)
{
	if (c->rec) {
		stls__conn_sess_free(c->rec);
		stls__rec13_fini(c->rec);
		OPENSSL_free(c->rec);
		c->rec = NULL;
	}
	stls__conn_h13_free(c);
	stls_profile_set_unref(c->pset);
	c->pset = NULL;
	c->profile = NULL;
}
