/*
 * Internal interfaces of the TLS engine (lib/tls): the chunked write queue,
 * the ciphertext I/O buffers behind the custom BIO, the RFC 5922 name check,
 * facts construction and the low-memory probe. Not installed; tests include
 * it as "tls/tls_int.h".
 */
#ifndef STLS_TLS_INT_H
#define STLS_TLS_INT_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "stls/common.h"
#include "stls/conn.h"
#include "stls/facts.h"

#define STLS_HIDDEN __attribute__((visibility("hidden")))

/*
 * A write queue: a list of blocks with a head offset and a byte total.
 * Appends fill the tail block first; bytes never move once written, so a
 * pointer from peek() stays valid until those bytes are consumed. Blocks
 * are freed as soon as they are consumed, so an empty queue holds no memory.
 */
struct stls_wq_blk {
	struct stls_wq_blk *next;
	size_t cap;  /* bytes of data[] */
	size_t rpos; /* first unconsumed byte */
	size_t wpos; /* first free byte */
	unsigned char data[];
};

struct stls_wq {
	struct stls_wq_blk *head;
	struct stls_wq_blk *tail;
	size_t total; /* unconsumed bytes */
};

/*
 * Room for need contiguous bytes at the tail (a new block of
 * max(need, blk_size) is linked when the tail has less), to be filled in
 * place and made visible with stls__wq_commit(). Returns NULL on
 * allocation failure.
 */
STLS_HIDDEN unsigned char *stls__wq_wspan(struct stls_wq *q, size_t need,
					  size_t blk_size);
/* Append the first n bytes written at stls__wq_wspan(). */
STLS_HIDDEN void stls__wq_commit(struct stls_wq *q, size_t n);
/* Append a copy of data; new blocks get max(blk_size, what is left).
 * Returns 0 or -ENOMEM (nothing appended then). */
STLS_MUST_USE STLS_HIDDEN int stls__wq_push(struct stls_wq *q,
					    const void *data, size_t len,
					    size_t blk_size);
/* First contiguous unconsumed span, or NULL with *len = 0. */
STLS_HIDDEN const void *stls__wq_peek(const struct stls_wq *q, size_t *len);
/* Drop n bytes from the front (n <= total). */
STLS_HIDDEN void stls__wq_consume(struct stls_wq *q, size_t n);
/* Free every block; the queue is empty and reusable afterwards. */
STLS_HIDDEN void stls__wq_fini(struct stls_wq *q);

/*
 * The clear-text queue: a wq with the per-connection (con_max) and
 * process-wide (glob_max) limits, accounted in one atomic counter.
 * Returns 0, or -ENOBUFS (over a limit) / -ENOMEM with nothing appended.
 */
STLS_MUST_USE STLS_HIDDEN int stls__ctq_push(struct stls_wq *q,
					     const void *data, size_t len,
					     size_t con_max, size_t glob_max,
					     size_t blk_size);
STLS_HIDDEN void stls__ctq_consume(struct stls_wq *q, size_t n);
STLS_HIDDEN void stls__ctq_fini(struct stls_wq *q);
STLS_HIDDEN size_t stls__ctq_total(void);

struct stls_rec13_count;

/*
 * Ciphertext I/O of one connection. The custom BIO reads first from the
 * stash (enc_rd_buf: bytes fed earlier and not yet processed), then from a
 * borrowed span (bytes the caller passes in place); it writes into `out`.
 */
struct stls_cio {
	unsigned char *rd; /* enc_rd_buf, NULL when empty */
	size_t rd_cap;
	size_t rd_off;
	size_t rd_len; /* bytes in rd[rd_off..rd_off + rd_len) */
	const unsigned char *span; /* borrowed input, only during a call */
	size_t span_len;
	struct stls_wq out; /* ciphertext to send */
	bool out_failed;    /* an append to out failed (ENOMEM) */
	/* While set, every byte written to out is also counted here. */
	struct stls_rec13_count *count;
};

#define STLS_IO_RD_MAX (256u * 1024u)
#define STLS_IO_OUT_BLK 4096u

STLS_MUST_USE STLS_HIDDEN int stls__io_stash(struct stls_cio *io,
					     const void *data, size_t len);
STLS_HIDDEN void stls__io_borrow(struct stls_cio *io, const void *data,
				 size_t len);
/* End of a call: copy what is left of the borrowed span into the stash. */
STLS_MUST_USE STLS_HIDDEN int stls__io_settle(struct stls_cio *io);
STLS_HIDDEN size_t stls__io_pending_in(const struct stls_cio *io);
/* Copy up to n unprocessed bytes from the front (nothing consumed). */
STLS_HIDDEN size_t stls__io_copy(const struct stls_cio *io, void *dst,
				 size_t n);
/*
 * Make the first n unprocessed bytes (n <= stls__io_pending_in())
 * contiguous and point *p at them; bytes may move from the borrowed span
 * into the stash. Valid until the next io call. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE STLS_HIDDEN int stls__io_front(struct stls_cio *io, size_t n,
					     const unsigned char **p);
/* Drop n processed bytes from the front. */
STLS_HIDDEN void stls__io_skip(struct stls_cio *io, size_t n);
/* A new BIO over io (io must outlive it). NULL on allocation failure. */
STLS_HIDDEN BIO *stls__io_bio_new(struct stls_cio *io);
STLS_HIDDEN void stls__io_fini(struct stls_cio *io);

/*
 * RFC 5922 section 7.2 / RFC 6125 identity check of cert against SIP
 * domain `domain`. Returns 0 on a match, -EACCES when nothing matches
 * (detail says what the certificate had), -EINVAL for bad arguments.
 */
STLS_MUST_USE STLS_HIDDEN int stls__identity_check(X509 *cert,
						   const char *domain,
						   bool wildcard, char *detail,
						   size_t dlen);

/* What a fact name resolves to (facts_names.c -> facts.c). */
enum stls_fkind {
	F_VERSION, F_DESC, F_CIPHER, F_BITS, F_SNI, F_RESUMED,
	F_DN, F_COMP, F_SAN, F_SAN_COUNT, F_SERIAL, F_XVER, F_PEM, F_URLPEM,
	F_CHAIN, F_VERIFIED, F_REVOKED, F_EXPIRED, F_SELFSIGNED,
	F_NOTBEFORE, F_NOTAFTER,
};

enum { W_CONN, W_PEER, W_MY };

struct stls_fq {
	enum stls_fkind kind;
	int who;
	int issuer; /* F_DN, F_COMP: 1 = issuer name */
	int arg;    /* NID, GEN_* type */
	int index;
};

/*
 * Resolve a pseudo-variable or select name (with an optional "[N]" suffix
 * that overrides index) into q. Returns 0 or -EINVAL (unknown name).
 */
STLS_MUST_USE STLS_HIDDEN int stls__facts_resolve(const char *name,
						  int index,
						  struct stls_fq *q);

/* Build the facts of ssl after a successful handshake. */
STLS_MUST_USE STLS_HIDDEN int stls__facts_build(SSL *ssl, const char *sni,
						struct stls_facts **out);

/*
 * TLS 1.3 record protection (rec13.c, RFC 8446 section 5) for the suites
 * 0x1301, 0x1302 and 0x1303, used after the record hand-off.
 */
#define STLS_REC13_MAX_PLAIN 16384u
#define STLS_REC13_TAG 16u
/* Header, inner content type and tag around the content of one record. */
#define STLS_REC13_OVERHEAD (5u + 1u + STLS_REC13_TAG)
/* The most around a record's content: TLS 1.2 AES-GCM's explicit nonce. */
#define STLS_REC_MAX_OVERHEAD (5u + 8u + STLS_REC13_TAG)
#define STLS_REC13_MAX_SECRET 48u
/*
 * Records we write under one key before updating it (RFC 8446 section
 * 5.5: AES-GCM is good for 2^24.5 full-size records; one bound for every
 * suite keeps a single path). The engine sends a KeyUpdate first.
 */
#define STLS_REC13_REKEY_AFTER (UINT64_C(1) << 24)
/*
 * Records one TLS 1.2 AES-GCM key may protect: 2^24.5, rounded down (RFC
 * 8446 section 5.5, RFC 9325 section 4.4). TLS 1.2 cannot rekey, so the
 * engine closes the connection at this bound.
 */
#define STLS_REC12_GCM_MAX_RECORDS UINT64_C(23726566)

struct stls_rec13_dir {
	unsigned char secret[STLS_REC13_MAX_SECRET];
	unsigned char key[32];
	unsigned char iv[12];
	bool dead; /* a key update failed: refuse every record */
	uint64_t seq;
	EVP_CIPHER_CTX *ctx; /* NULL while idle */
};

struct stls_rec13 {
	struct stls_rec13_dir rd, wr;
	EVP_CIPHER *cipher; /* references, from struct stls_rec_algs */
	EVP_MD *md;
	unsigned char *pt; /* decrypted, not yet delivered (engine) */
	size_t pt_cap, pt_off, pt_len;
	size_t max_frag;     /* content bytes per record we write */
	uint16_t rd_max;     /* content bytes per record we read */
	unsigned char suite; /* index into rec13.c's (rec12.c's) table */
	bool v12;            /* TLS 1.2 records (rec12.c) */
	unsigned char hs[4]; /* an unfinished handshake message (rec13_hs.c) */
	unsigned char hs_len;
	unsigned char warn_run;  /* ignored warning alerts in a row */
	unsigned char empty_run; /* empty records in a row */
	struct stls_rec_sess *sess; /* conn_sess.c, or NULL */
};

/* A record counter over a written byte stream. */
struct stls_rec13_count {
	uint32_t records;
	size_t left; /* body bytes of the current record still to come */
	unsigned char hdr[5];
	unsigned char have;
};

/*
 * The AEAD ciphers and digests of both record layers (rec_algs.c), fetched
 * with one library context and property query; entries are references or
 * NULL (not available there).
 */
enum stls_rec_cipher {
	STLS_REC_AES128_GCM,
	STLS_REC_AES256_GCM,
	STLS_REC_CHACHA20_POLY1305,
	STLS_REC__CIPHERS
};
enum stls_rec_md { STLS_REC_SHA256, STLS_REC_SHA384, STLS_REC__MDS };
struct stls_rec_algs {
	EVP_CIPHER *cipher[STLS_REC__CIPHERS];
	EVP_MD *md[STLS_REC__MDS];
};
STLS_MUST_USE STLS_HIDDEN int stls__rec_algs_fetch(struct stls_rec_algs *a,
						   OSSL_LIB_CTX *libctx,
						   const char *propq);
STLS_HIDDEN void stls__rec_algs_free(struct stls_rec_algs *a);
/* OpenSSL's default context, no query: fetched once, kept. Any thread. */
STLS_HIDDEN const struct stls_rec_algs *stls__rec_algs_default(void);
/* rec13.c: references on a's cipher c and digest m into r (0/-ENOENT). */
STLS_MUST_USE STLS_HIDDEN int
stls__rec_algs_take(struct stls_rec13 *r, const struct stls_rec_algs *a,
		    enum stls_rec_cipher c, enum stls_rec_md m);

STLS_HIDDEN size_t stls__rec13_hash_len(uint16_t suite);
STLS_MUST_USE STLS_HIDDEN int stls__rec13_init(struct stls_rec13 *r,
					       uint16_t suite,
					       const struct stls_rec_algs *algs,
					       const unsigned char *rd_secret,
					       const unsigned char *wr_secret,
					       size_t len);
STLS_MUST_USE STLS_HIDDEN int stls__rec13_update(struct stls_rec13 *r,
						 bool write);
STLS_MUST_USE STLS_HIDDEN ssize_t stls__rec13_seal(struct stls_rec13 *r,
						   unsigned char type,
						   const void *data, size_t n,
						   unsigned char *out);
STLS_MUST_USE STLS_HIDDEN int
stls__rec13_check_header(const unsigned char *h, size_t *body_len);
STLS_MUST_USE STLS_HIDDEN int stls__rec13_open(struct stls_rec13 *r,
					       const unsigned char *rec,
					       size_t len, unsigned char *pt,
					       size_t *pt_len,
					       unsigned char *type);
STLS_HIDDEN EVP_CIPHER_CTX *stls__rec_dir_ctx(struct stls_rec13_dir *d,
					     const EVP_CIPHER *c, bool enc,
					     const unsigned char *nonce,
					     bool xor_seq);
STLS_MUST_USE STLS_HIDDEN int
stls__rec_hmac(const EVP_MD *md, const unsigned char *key, size_t klen,
	       const unsigned char *msg, size_t mlen, unsigned char *out);
STLS_MUST_USE STLS_HIDDEN int
stls__rec_aead_open(EVP_CIPHER_CTX *x, const unsigned char *aad, size_t alen,
		    const unsigned char *ct, size_t clen, unsigned char *pt);
STLS_HIDDEN void stls__rec13_idle(struct stls_rec13 *r);
STLS_HIDDEN void stls__rec13_fini(struct stls_rec13 *r);
STLS_HIDDEN void stls__rec13_count(struct stls_rec13_count *k,
				   const void *data, size_t n);

/*
 * Post-handshake messages of a TLS 1.3 client (rec13_hs.c): reassembly of
 * a KeyUpdate across records. stls__rec13_hs_feed() takes the content of
 * one handshake record and returns 1 (a whole KeyUpdate ended with the
 * record: e->request), 0 (unfinished, bytes kept) or -EPROTO (e->alert,
 * e->what).
 */
struct stls_rec13_hs {
	unsigned char request; /* request_update of the KeyUpdate */
	unsigned char alert;   /* the alert to send on -EPROTO */
	char what[48];
};
STLS_MUST_USE STLS_HIDDEN int stls__rec13_hs_feed(struct stls_rec13 *r,
						  const unsigned char *p,
						  size_t n,
						  struct stls_rec13_hs *e);
STLS_HIDDEN bool stls__rec13_hs_pending(const struct stls_rec13 *r);

/*
 * An alert record from the peer after the hand-off (rec_alert.c): close,
 * ignore (the caller limits these in a row), fail (the peer's error
 * alert: nothing sent back) or refuse (send v->alert, v->what says why).
 */
enum stls_alert_act {
	STLS_ALERT_CLOSE,
	STLS_ALERT_IGNORE,
	STLS_ALERT_FAIL,
	STLS_ALERT_REFUSE,
};
struct stls_alert_verdict {
	unsigned char alert;
	const char *what;
};
STLS_HIDDEN enum stls_alert_act
stls__rec_alert(bool v12, const unsigned char *p, size_t n,
		struct stls_alert_verdict *v);

/*
 * TLS 1.2 AEAD record protection (rec12.c, RFC 5246 6.2.3.3, RFC 5288,
 * RFC 7905) in the same struct stls_rec13 (v12 set): rec13.c's seal and
 * open switch to the functions below; no KeyUpdate.
 */
STLS_HIDDEN bool stls__rec12_supported(uint16_t suite);
STLS_HIDDEN bool stls__rec12_key_used_up(const struct stls_rec13 *r,
					 bool write);
STLS_MUST_USE STLS_HIDDEN int
stls__rec12_init(struct stls_rec13 *r, uint16_t suite,
		 const struct stls_rec_algs *algs,
		 const unsigned char *ms, size_t ms_len,
		 const unsigned char *client_random,
		 const unsigned char *server_random);
STLS_MUST_USE STLS_HIDDEN ssize_t stls__rec12_seal(struct stls_rec13 *r,
						   unsigned char type,
						   const void *data, size_t n,
						   unsigned char *out);
STLS_MUST_USE STLS_HIDDEN int
stls__rec12_check_header(const unsigned char *h, size_t *body_len);
STLS_MUST_USE STLS_HIDDEN int stls__rec12_open(struct stls_rec13 *r,
					       const unsigned char *rec,
					       size_t len, unsigned char *pt,
					       size_t *pt_len,
					       unsigned char *type);

struct stls_h13;
struct stls_rec_sess;
struct stls_profile;
struct stls_profile_set;

/* One connection (lib/tls/conn.c; getters in conn_get.c). */
struct stls_conn {
	SSL *ssl; /* NULL after the record hand-off */
	struct stls_rec13 *rec;  /* after the hand-off, else NULL */
	struct stls_h13 *h13;    /* hand-off staging during a handshake */
	/* After the hand-off: the profile the SSL used, kept alive by a
	 * reference on its set (the SSL's reference went with it). */
	const struct stls_profile *profile;
	struct stls_profile_set *pset;
	/* The context the SSL was made with: its session cache holds the
	 * connection's session, even after an SNI switch. Borrowed. */
	SSL_CTX *ctx0;
	const struct stls_settings *set;
	void *user;
	char *sni;
	char *verify_name;
	struct stls_facts *facts;
	struct stls_cio io;
	struct stls_wq ctq;
	enum stls_conn_state state;
	enum stls_close_reason reason;
	enum stls_role role;
	unsigned flags;
	bool wildcard;
	bool keep_ssl;
	char detail[160];
};

/* The process-wide counters of struct stls_conn_counters (conn_stats.c). */
enum stls_conn_counter {
	STLS_CNT_WARN_ALERTS,
	STLS_CNT_EMPTY_RECORDS,
	STLS_CNT_KEY_LIMIT,
	STLS_CNT_FALLBACKS,
	STLS_CNT__COUNT
};
STLS_HIDDEN uint64_t stls__conn_count(enum stls_conn_counter k);
STLS_HIDDEN uint64_t stls__conn_counted(enum stls_conn_counter k);

/* conn.c, for conn_rec13.c: the failure, close and lookup paths. */
STLS_HIDDEN enum stls_io stls__conn_fail(struct stls_conn *c,
					 enum stls_close_reason r,
					 const char *detail);
/* A close the engine decides (CLOSED, reason r). Returns STLS_IO_CLOSED. */
STLS_HIDDEN enum stls_io stls__conn_closed(struct stls_conn *c,
					   enum stls_close_reason r,
					   const char *detail);
/* close_notify received: CLOSING, reason PEER. Returns STLS_IO_CLOSED. */
STLS_HIDDEN enum stls_io stls__conn_peer_closed(struct stls_conn *c);
/* A refused client renegotiation: counted, reason RENEGOTIATION. */
STLS_HIDDEN enum stls_io stls__conn_reneg_refused(struct stls_conn *c);
/* The connection an SSL belongs to, or NULL. */
STLS_HIDDEN struct stls_conn *stls__conn_of(const SSL *ssl);

/*
 * The record hand-off (conn_handoff.c, conn_rec13.c; docs/engine.md).
 * setup installs the per-SSL message callback on a server connection that
 * may hand off; handoff is called once the handshake is done
 * (ESTABLISHED) and either frees the SSL (c->ssl = NULL, c->rec set) or
 * keeps it, logging why. The others serve connections without an SSL:
 * read is the SSL_read loop, write encrypts len bytes into the output
 * queue (0, or -ENOMEM / -EPIPE after failing the connection; a KeyUpdate
 * goes first once the write key has protected STLS_REC13_REKEY_AFTER
 * records), close_notify queues our alert, idle releases the EVP contexts
 * at the end of an engine call, free releases it all.
 */
STLS_HIDDEN void stls__conn_rec_setup(struct stls_conn *c);
STLS_HIDDEN void stls__conn_handoff(struct stls_conn *c);
STLS_MUST_USE STLS_HIDDEN enum stls_io
stls__conn_rec_read(struct stls_conn *c, unsigned char *out, size_t cap,
		    size_t *out_len);
STLS_MUST_USE STLS_HIDDEN int stls__conn_rec_write(struct stls_conn *c,
						   const void *data,
						   size_t len);
STLS_HIDDEN void stls__conn_rec_close_notify(struct stls_conn *c);
STLS_MUST_USE STLS_HIDDEN int stls__conn_rec_key_update(struct stls_conn *c,
							bool request);
STLS_HIDDEN void stls__conn_rec_idle(struct stls_conn *c);
STLS_HIDDEN void stls__conn_rec_free(struct stls_conn *c);
STLS_HIDDEN void stls__conn_h13_free(struct stls_conn *c);
/* A key-log line of a prepared context (conn_ctx.c -> conn_handoff.c). */
STLS_HIDDEN void stls__conn_keylog(const SSL *ssl, const char *line);

/*
 * Prepared contexts (conn_ctx.c): the algorithms of a context that still
 * holds our key-log callback (else NULL), and whether it was prepared at
 * all.
 */
STLS_HIDDEN const struct stls_rec_algs *stls__ctx_algs(const SSL_CTX *ctx);
STLS_HIDDEN bool stls__ctx_was_prepared(const SSL_CTX *ctx);

/*
 * The session of a handed-off connection (conn_sess.c): keep (at the
 * hand-off: 0 or -ENOMEM), forget (a fatal failure: removed from the
 * server's session cache, RFC 5246 section 7.2.2), free (a clean end).
 */
STLS_MUST_USE STLS_HIDDEN int stls__conn_sess_keep(struct stls_conn *c);
STLS_HIDDEN void stls__conn_sess_forget(struct stls_conn *c);
STLS_HIDDEN void stls__conn_sess_free(struct stls_rec13 *r);

/*
 * The low-memory probe's cgroup figure (lowmem.c), for a tree under
 * <root> ("" for the system): the least room (limit less working set)
 * over the memory cgroup and its ancestors. False when none is limited,
 * or there is no memory cgroup.
 */
STLS_HIDDEN bool stls__lowmem_cgroup_room(const char *root, uint64_t *room);

#endif
