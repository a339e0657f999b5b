/*
 * Internal interfaces of the TLS engine (lib/tls): the chunked write queue,
 * the ciphertext I/O buffers behind the custom BIO, the RFC 5922 name check,
 * facts construction and the low-memory probe. Not installed; tests include
 * it as "tls/tls_int.h".
 */
#ifndef STLS_TLS_INT_H
#define STLS_TLS_INT_H

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

/* One connection (lib/tls/conn.c; getters in conn_get.c). */
struct stls_conn {
	SSL *ssl;
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
	char detail[160];
};

#endif
