/*
 * The record hand-off: once a TLS 1.3 server handshake is done, the engine
 * frees the SSL (about 13.5 KB in OpenSSL 3.0) and protects records itself
 * with rec13.c, keeping a few hundred bytes (docs/engine.md, "Record
 * hand-off after TLS 1.3 handshakes").
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
 * After the hand-off (RFC 8446): application data both ways; KeyUpdate
 * from the peer updates the read key and, when requested, we answer with
 * our own KeyUpdate and update the write key; close_notify is a clean
 * close; user_canceled is ignored as OpenSSL does; any other alert, any
 * other post-handshake message, a bad record or an oversized one fails the
 * connection with reason PROTOCOL, after our fatal alert.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "stls/log.h"
#include "stls/profile.h"

/* Alert descriptions (RFC 8446 section 6). */
enum {
	AL_CLOSE_NOTIFY = 0,
	AL_UNEXPECTED_MESSAGE = 10,
	AL_BAD_RECORD_MAC = 20,
	AL_RECORD_OVERFLOW = 22,
	AL_ILLEGAL_PARAMETER = 47,
	AL_DECODE_ERROR = 50,
	AL_INTERNAL_ERROR = 80,
	AL_USER_CANCELED = 90,
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
	case AL_ILLEGAL_PARAMETER:
		return "illegal_parameter";
	case AL_DECODE_ERROR:
		return "decode_error";
	default:
		return "internal_error";
	}
}

enum { CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
enum { HS_KEY_UPDATE = 24 };

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
};

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if (ch >= 'a' && ch <= 'f') {
		return ch - 'a' + 10;
	}
	if (ch >= 'A' && ch <= 'F') {
		return ch - 'A' + 10;
	}
	return -1;
}

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
		if (hexval(p[i]) < 0) {
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
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(out, STLS_REC13_MAX_SECRET);
			return -1;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*out_len = (unsigned char)(n / 2);
	return 1;
}

static void h13_free(struct stls_conn *c)
{
	c->io.count = NULL;
	if (c->h13) {
		OPENSSL_clear_free(c->h13, sizeof(*c->h13));
		c->h13 = NULL;
	}
}

/* SSL_CTX keylog callback: stash the two application traffic secrets. */
static void keylog_cb(const SSL *ssl, const char *line)
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

/* Per-SSL message callback: what OpenSSL writes with the new key. */
static void msg_cb(int write_p, int version, int content_type,
		   const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct stls_conn *c = stls__conn_of(ssl);
	const unsigned char *p = buf;

	(void)version;
	(void)arg;
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

/*
 * Install the record hand-off's keylog callback on a server SSL_CTX.
 * Refuses with -EBUSY when another keylog callback is set (it is left in
 * place; connections on that context keep their SSL). Thread: before the
 * context is shared.
 */
int stls_conn_ctx_apply(SSL_CTX *ctx)
{
	SSL_CTX_keylog_cb_func cb = SSL_CTX_get_keylog_callback(ctx);

	if (cb && cb != keylog_cb) {
		return -EBUSY;
	}
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

void stls__conn_rec_setup(struct stls_conn *c)
{
	if (c->role == STLS_ROLE_SERVER && !c->keep_ssl) {
		SSL_set_msg_callback(c->ssl, msg_cb);
	}
}

/* Why the SSL must stay, or NULL when the hand-off is safe. */
static const char *keep_reason(const struct stls_conn *c, uint16_t *suite)
{
	const struct stls_h13 *h = c->h13;
	const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
	size_t hl;

	*suite = ci ? (uint16_t)SSL_CIPHER_get_protocol_id(ci) : 0;
	hl = stls__rec13_hash_len(*suite);
	if (SSL_version(c->ssl) != TLS1_3_VERSION) {
		return "not TLS 1.3";
	}
	if (!h || h->bad || !h->counting || h->rd_len == 0) {
		return "traffic secrets not available (keylog callback)";
	}
	if (hl == 0 || h->rd_len != hl || h->wr_len != hl) {
		return "cipher suite not handled";
	}
	if (SSL_get_read_ahead(c->ssl) || SSL_has_pending(c->ssl)) {
		return "OpenSSL holds unread input (read_ahead)";
	}
	if (h->cnt.have || h->cnt.left || h->others ||
	    h->cnt.records != h->tickets) {
		return "records after the Finished are not all tickets";
	}
	if (c->io.out_failed || SSL_get_shutdown(c->ssl) ||
	    !SSL_is_init_finished(c->ssl)) {
		return "connection not in a clean state";
	}
	return NULL;
}

/* Content bytes per record we write: setting, peer's max_fragment_length. */
static size_t max_frag(const struct stls_conn *c)
{
	SSL_SESSION *s = SSL_get_session(c->ssl);
	int set = c->set ? c->set->ssl_max_send_fragment : -1;
	size_t m = STLS_REC13_MAX_PLAIN;
	uint8_t mfl = s ? SSL_SESSION_get_max_fragment_length(s) : 0;

	if (set >= 512 && set <= (int)STLS_REC13_MAX_PLAIN) {
		m = (size_t)set;
	}
	if (mfl >= TLSEXT_max_fragment_length_512 &&
	    mfl <= TLSEXT_max_fragment_length_4096 &&
	    ((size_t)256 << mfl) < m) {
		m = (size_t)256 << mfl;
	}
	return m;
}

void stls__conn_handoff(struct stls_conn *c)
{
	const struct stls_profile *p = stls_profile_of_ssl(c->ssl);
	struct stls_rec13 *r = NULL;
	const char *why;
	uint16_t suite;

	if (c->role != STLS_ROLE_SERVER || c->keep_ssl) {
		h13_free(c);
		return;
	}
	SSL_set_msg_callback(c->ssl, NULL);
	why = keep_reason(c, &suite);
	if (!why && !(r = OPENSSL_zalloc(sizeof(*r)))) {
		why = "out of memory";
	}
	if (!why && stls__rec13_init(r, suite, c->h13->rd, c->h13->wr,
				     c->h13->rd_len) != 0) {
		why = "cannot derive the traffic keys";
	}
	if (why) {
		STLS_DBG("tls: conn %p: keeping the SSL: %s", (void *)c, why);
		OPENSSL_free(r);
		h13_free(c);
		return;
	}
	r->wr.seq = c->h13->cnt.records;
	r->max_frag = max_frag(c);
	if (p) {
		/* Our reference replaces the one the SSL drops; released in
		 * stls__conn_rec_free(). */
		c->pset = stls_profile_set_ref(stls_profile_set_of(p));
		c->profile = p;
	}
	h13_free(c);
	/* A clean end for the session cache (see stls_conn_free()). */
	SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c->ssl); /* and our BIO; c->io stays */
	c->ssl = NULL;
	c->rec = r;
	STLS_DBG("tls: conn %p: record layer handed off (suite 0x%04x, "
		 "write seq %llu)",
		 (void *)c, suite, (unsigned long long)r->wr.seq);
}

/* Encrypt one record into the output queue. Returns 0 or -ENOMEM. */
static int put_record(struct stls_conn *c, unsigned char type,
		      const void *data, size_t n)
{
	unsigned char *w = stls__wq_wspan(&c->io.out, n + STLS_REC13_OVERHEAD,
					  STLS_IO_OUT_BLK);
	ssize_t k;

	if (!w) {
		return -ENOMEM;
	}
	k = stls__rec13_seal(c->rec, type, data, n, w);
	if (k < 0) {
		return -ENOMEM;
	}
	stls__wq_commit(&c->io.out, (size_t)k);
	return 0;
}

int stls__conn_rec_write(struct stls_conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t n = len < c->rec->max_frag ? len : c->rec->max_frag;

		if (put_record(c, CT_APPDATA, p, n) != 0) {
			stls__conn_fail(c, STLS_CLOSE_NO_MEMORY,
					"cannot encrypt: out of memory");
			return -ENOMEM;
		}
		p += n;
		len -= n;
	}
	return 0;
}

void stls__conn_rec_close_notify(struct stls_conn *c)
{
	static const unsigned char a[2] = { 1, AL_CLOSE_NOTIFY };

	(void)put_record(c, CT_ALERT, a, sizeof(a)); /* best effort */
}

/* Send a fatal alert (best effort) and fail with reason PROTOCOL. */
static enum stls_io proto_fail(struct stls_conn *c, unsigned char alert,
			       const char *what)
{
	unsigned char a[2] = { 2, alert };
	char buf[sizeof(c->detail)];

	(void)put_record(c, CT_ALERT, a, sizeof(a));
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
				  "not a TLS 1.3 protected record");
	default:
		return proto_fail(c, AL_INTERNAL_ERROR,
				  "record decryption failed");
	}
}

static enum stls_io on_alert(struct stls_conn *c, const unsigned char *p,
			     size_t n)
{
	char buf[sizeof(c->detail)];

	if (n != 2) {
		return proto_fail(c, AL_DECODE_ERROR, "malformed alert");
	}
	if (p[1] == AL_CLOSE_NOTIFY) {
		return stls__conn_peer_closed(c);
	}
	if (p[1] == AL_USER_CANCELED) {
		return STLS_IO_DONE; /* a close_notify should follow */
	}
	snprintf(buf, sizeof(buf), "peer sent alert %s (%u)",
		 SSL_alert_desc_string_long(p[1]), p[1]);
	return stls__conn_fail(c, STLS_CLOSE_PROTOCOL, buf);
}

/* KeyUpdate (RFC 8446 section 4.6.3): new read key, maybe answer. */
static enum stls_io key_update(struct stls_conn *c, unsigned char req)
{
	static const unsigned char ku[5] = { HS_KEY_UPDATE, 0, 0, 1, 0 };

	if (req > 1) {
		return proto_fail(c, AL_ILLEGAL_PARAMETER,
				  "bad KeyUpdate request_update");
	}
	if (stls__rec13_update(c->rec, false) != 0) {
		return proto_fail(c, AL_INTERNAL_ERROR, "key update failed");
	}
	if (req == 1) {
		if (put_record(c, CT_HANDSHAKE, ku, sizeof(ku)) != 0) {
			return stls__conn_fail(c, STLS_CLOSE_NO_MEMORY,
					       "out of memory");
		}
		if (stls__rec13_update(c->rec, true) != 0) {
			return proto_fail(c, AL_INTERNAL_ERROR,
					  "key update failed");
		}
	}
	return STLS_IO_DONE;
}

/* Handshake messages in one record: only whole KeyUpdates are allowed. */
static enum stls_io on_handshake(struct stls_conn *c, const unsigned char *p,
				 size_t n)
{
	char buf[64];
	size_t off = 0;

	if (n == 0) {
		return proto_fail(c, AL_UNEXPECTED_MESSAGE,
				  "empty handshake record");
	}
	while (off < n) {
		size_t ml;
		enum stls_io r;

		if (n - off < 4) {
			return proto_fail(c, AL_UNEXPECTED_MESSAGE,
					  "fragmented handshake message");
		}
		ml = (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 |
		     p[off + 3];
		if (ml > n - off - 4) {
			return proto_fail(c, AL_UNEXPECTED_MESSAGE,
					  "fragmented handshake message");
		}
		if (p[off] != HS_KEY_UPDATE) {
			snprintf(buf, sizeof(buf),
				 "post-handshake message type %u", p[off]);
			return proto_fail(c, AL_UNEXPECTED_MESSAGE, buf);
		}
		if (ml != 1) {
			return proto_fail(c, AL_DECODE_ERROR,
					  "malformed KeyUpdate");
		}
		if (off + 5 != n) {
			/* A key change must end its record (section 5.1). */
			return proto_fail(c, AL_UNEXPECTED_MESSAGE,
					  "KeyUpdate not at the record end");
		}
		r = key_update(c, p[off + 4]);
		if (r != STLS_IO_DONE) {
			return r;
		}
		off += 5;
	}
	return STLS_IO_DONE;
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
	err = stls__rec13_check_header(hdr, &body);
	if (err) {
		return rec_error(c, err);
	}
	if (stls__io_pending_in(&c->io) < 5 + body) {
		return STLS_IO_WANT_INPUT;
	}
	need = body > STLS_REC13_TAG ? body - STLS_REC13_TAG : 0;
	if (room < need && !(dst = pt_buf(r, need))) {
		return stls__conn_fail(c, STLS_CLOSE_NO_MEMORY, "out of memory");
	}
	if (stls__io_front(&c->io, 5 + body, &rec) != 0) {
		return stls__conn_fail(c, STLS_CLOSE_NO_MEMORY, "out of memory");
	}
	err = stls__rec13_open(r, rec, 5 + body, dst, &n, &type);
	stls__io_skip(&c->io, 5 + body);
	if (err) {
		return rec_error(c, err);
	}
	if (type == CT_APPDATA) {
		if (dst == out) {
			*got = n;
		} else {
			r->pt_off = 0;
			r->pt_len = n;
		}
		return STLS_IO_DONE;
	}
	if (type == CT_ALERT) {
		res = on_alert(c, dst, n);
	} else if (type == CT_HANDSHAKE) {
		res = on_handshake(c, dst, n);
	} else {
		res = proto_fail(c, AL_UNEXPECTED_MESSAGE,
				 "unexpected inner content type");
	}
	if (dst != out) {
		pt_release(r);
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
		stls__rec13_fini(c->rec);
		OPENSSL_free(c->rec);
		c->rec = NULL;
	}
	h13_free(c);
	stls_profile_set_unref(c->pset);
	c->pset = NULL;
	c->profile = NULL;
}
