/*
 * The TLS connection engine: one TLS connection as a non-blocking state
 * machine over memory. It never touches a socket: the caller moves
 * ciphertext between the network and the engine, and plaintext between the
 * engine and the application. The daemon (libuv), the tests and any other
 * event loop drive it the same way (see docs/engine.md):
 *
 *   socket bytes --feed/drain--> plaintext out
 *   plaintext in --push--> ciphertext --peek/consume--> socket
 *
 * Every step says whether it is done, wants more input, saw a clean close
 * or failed; after a failure stls_conn_get_reason() and
 * stls_conn_get_detail() say why. After ANY call, the caller should send
 * the ciphertext that stls_conn_peek() shows (handshake messages, alerts,
 * close_notify and encrypted data all land there).
 *
 * Thread: a connection belongs to one thread (its worker). Only the global
 * counters (stls_conn_get_ct_wq_total(), stls_conn_get_reneg_refused())
 * may be read from any thread.
 */
#ifndef STLS_CONN_H
#define STLS_CONN_H

#include <openssl/ssl.h>

#include "stls/common.h"
#include "stls/facts.h"
#include "stls/settings.h"

struct stls_conn;
struct stls_profile;

/* Connection states; see the transition table in docs/engine.md. */
enum stls_conn_state {
	STLS_CONN_NONE,        /* created, not started (internal only) */
	STLS_CONN_ACCEPTING,   /* server handshake in progress */
	STLS_CONN_CONNECTING,  /* client handshake in progress */
	STLS_CONN_ESTABLISHED, /* handshake done, data flows */
	STLS_CONN_CLOSING,     /* peer sent close_notify; call close() */
	STLS_CONN_CLOSED,      /* closed by us (close()) */
	STLS_CONN_FAILED,      /* fatal error: see the close reason */
	STLS_CONN__COUNT
};

/* Why a connection ended (or STLS_CLOSE_NONE while it is alive). */
enum stls_close_reason {
	STLS_CLOSE_NONE,
	STLS_CLOSE_LOCAL,         /* stls_conn_close() */
	STLS_CLOSE_PEER,          /* close_notify received */
	STLS_CLOSE_EOF,           /* transport EOF without close_notify */
	STLS_CLOSE_HANDSHAKE,     /* handshake failed (protocol, alert) */
	STLS_CLOSE_VERIFY,        /* peer certificate failed verification */
	STLS_CLOSE_IDENTITY,      /* RFC 5922 name check failed */
	STLS_CLOSE_RENEGOTIATION, /* refused TLS <= 1.2 renegotiation */
	STLS_CLOSE_PROTOCOL,      /* TLS error after the handshake */
	STLS_CLOSE_LOW_MEMORY,    /* low_mem_threshold1/2 */
	STLS_CLOSE_NO_MEMORY,     /* an allocation failed */
	STLS_CLOSE_KEY,           /* our HSM key failed to sign (token gone) */
	STLS_CLOSE__COUNT
};

/* Flags as tls.list shows them. */
#define STLS_CONN_F_WRITE_WANTS_READ 1u /* clear text is queued */
#define STLS_CONN_F_HANDSHAKE_DONE 2u
#define STLS_CONN_F_RENEGOTIATION 4u /* renegotiation seen */

/* Names ("accepting", "established", ...), indexed by the enums. */
extern const char *const stls_conn_state_names[STLS_CONN__COUNT];
extern const char *const stls_close_reason_names[STLS_CLOSE__COUNT];

struct stls_conn_opts {
	enum stls_role role;
	/* Taken: the connection owns it from stls_conn_new() on, even when
	 * stls_conn_new() fails (it is freed then). */
	SSL *ssl;
	/* Client: SNI to send, or NULL. Copied. */
	const char *sni;
	/* Client: SIP domain the peer certificate must match (RFC 5922), or
	 * NULL for no name check. Copied. */
	const char *verify_name;
	/* Allow a "*." DNS SAN to match one label of verify_name. */
	bool verify_wildcard;
	/* Borrowed; must outlive the connection. The runtime-changeable
	 * integers are read atomically at each use. NULL = built-in defaults
	 * (close_notify sent, 64 KiB / 10 MiB / 4 KiB queues, no low-memory
	 * check, renegotiation refused). */
	const struct stls_settings *settings;
	void *user; /* returned by stls_conn_get_user() */
	/* Server: keep the SSL for the whole connection. By default a TLS
	 * 1.3 server connection, or a TLS 1.2 one with an AEAD suite, whose
	 * SSL_CTX went through stls_conn_ctx_apply() hands its record layer
	 * over to the engine and frees the SSL once the handshake is done
	 * (docs/engine.md);
	 * set this when the caller needs stls_conn_get0_ssl() later.
	 * Client connections always keep their SSL. */
	bool keep_ssl;
};

/*
 * Prepare a server SSL_CTX for the record hand-off: fetches the record
 * layers' ciphers and digests with libctx and propq (the library context
 * and property query the context was made with: SSL_CTX_new_ex(); both
 * NULL for OpenSSL's defaults) and installs the key-log callback that
 * gives the engine the TLS 1.3 traffic secrets (never logged); TLS 1.2
 * connections hand off only on a prepared context too. A key-log callback
 * already installed (an operator's, for debugging) is kept and still
 * called for every line. OpenSSL formats key-log lines for every
 * connection of a context with a callback: prepare only contexts whose
 * connections may hand off. Profile contexts are prepared by the profile
 * build when the settings ask for it (record_handoff). Applying twice
 * refetches. Returns 0, -ENOENT when libctx/propq yield no cipher or no
 * digest at all, -ENOMEM. Call before the context is shared between
 * threads.
 */
STLS_MUST_USE int stls_conn_ctx_apply_ex(SSL_CTX *ctx, OSSL_LIB_CTX *libctx,
					 const char *propq);
/* stls_conn_ctx_apply_ex(ctx, NULL, NULL). */
STLS_MUST_USE int stls_conn_ctx_apply(SSL_CTX *ctx);

/*
 * Attach (or, with NULL, remove) an operator's key-log callback to ctx:
 * on a prepared context it is called before the hand-off sees each line;
 * on any other context this is SSL_CTX_set_keylog_callback(). Replacing
 * the callback of a prepared context with SSL_CTX_set_keylog_callback()
 * instead stops its hand-offs (they fall back to keeping the SSL,
 * counted). Call before the context is shared between threads.
 */
void stls_conn_ctx_set_keylog(SSL_CTX *ctx, SSL_CTX_keylog_cb_func cb);

/*
 * Create a connection around opts->ssl (taken in all cases) and start its
 * handshake state (ACCEPTING or CONNECTING). The first drain() (or push())
 * sends the ClientHello for a client. Refuses with -ENOMEM when
 * low_mem_threshold1 says memory is low (*out_reason = LOW_MEMORY) or an
 * allocation fails (NO_MEMORY), -EINVAL for a NULL ssl or an SNI OpenSSL
 * refuses. out_reason may be NULL. On success *out owns the connection
 * (release with stls_conn_free()). Returns 0 or -errno.
 */
STLS_MUST_USE int stls_conn_new(const struct stls_conn_opts *opts,
				struct stls_conn **out,
				enum stls_close_reason *out_reason);

/* Free the connection, its SSL, queues and facts. NULL is a no-op. Does not
 * send anything: call stls_conn_close() first for a close_notify. */
void stls_conn_free(struct stls_conn *c);

/*
 * Hand ciphertext received from the network to the engine (copied into the
 * connection's read buffer, enc_rd_buf). Process it with stls_conn_drain().
 * Returns 0, -ENOBUFS when more than 256 KiB would be waiting unprocessed,
 * -ENOMEM, or -EPIPE when the connection is closed or failed.
 */
STLS_MUST_USE int stls_conn_feed(struct stls_conn *c, const void *data,
				 size_t len);

/*
 * Tell the engine the transport reached EOF. An established connection that
 * did not see close_notify fails with reason EOF; one in a handshake fails
 * with HANDSHAKE. No effect once closed or failed.
 */
void stls_conn_feed_eof(struct stls_conn *c);

/*
 * Drive the connection: continue the handshake, flush queued clear text, and
 * decrypt into out[0..cap). *out_len is always set and those bytes must be
 * delivered whatever the status:
 *   DONE        out is full; call again (more plaintext may be ready).
 *   WANT_INPUT  everything fed has been processed; feed more ciphertext.
 *   CLOSED      the peer sent close_notify (state CLOSING); call close().
 *   FAILED      fatal; see stls_conn_get_reason()/get_detail().
 * cap may be 0 (handshake only). Ciphertext to send may be pending after any
 * status (stls_conn_peek()).
 */
STLS_MUST_USE enum stls_io stls_conn_drain(struct stls_conn *c, void *out,
					   size_t cap, size_t *out_len);

/*
 * stls_conn_feed() + stls_conn_drain() without copying: `in` is read in
 * place and only what is left unprocessed when `out` fills up is copied into
 * enc_rd_buf. `in` is not used after the call returns. -ENOBUFS from the
 * implied feed shows as FAILED with reason NO_MEMORY.
 */
STLS_MUST_USE enum stls_io stls_conn_feed_drain(struct stls_conn *c,
						const void *in, size_t in_len,
						void *out, size_t cap,
						size_t *out_len);

/*
 * Send plaintext: encrypted at once when the handshake is done and nothing
 * is queued, else copied into the clear-text write queue (flushed in order
 * by later drain() calls). Returns len when all of data was taken,
 * -ENOBUFS when queueing it would pass con_ct_wq_max or the process-wide
 * ct_wq_max (nothing of this call is taken; what was queued before stays),
 * -EPIPE once closed or failed, -ENOMEM on low memory (threshold2, the
 * connection fails) or allocation failure. Only if TLS asks for input in the
 * middle of a large write can fewer than len bytes be taken (the count is
 * returned, the rest was over a queue limit).
 */
STLS_MUST_USE ssize_t stls_conn_push(struct stls_conn *c, const void *data,
				     size_t len);

/*
 * The ciphertext waiting to be sent: *len bytes at the returned pointer (one
 * contiguous piece; more may follow after consuming it). The bytes stay
 * valid and unchanged until consumed, even across further engine calls, so
 * they can be handed to an asynchronous socket write. Returns NULL and
 * *len = 0 when nothing is pending.
 */
const void *stls_conn_peek(const struct stls_conn *c, size_t *len);

/* Mark n bytes from stls_conn_peek() as sent. n must not exceed the
 * pending total. Memory is released as blocks empty. */
void stls_conn_consume(struct stls_conn *c, size_t n);

/* Total ciphertext bytes waiting to be sent. */
size_t stls_conn_get_pending_out(const struct stls_conn *c);

/*
 * Close: when the connection is ESTABLISHED or CLOSING and
 * send_close_notify is set at this moment (and memory is not low), a
 * close_notify alert is queued for stls_conn_peek(). The connection becomes
 * CLOSED (a failed one stays FAILED). Never waits for the peer. Returns
 * DONE, or FAILED if it had already failed.
 */
enum stls_io stls_conn_close(struct stls_conn *c);

/*
 * TLS 1.3: send a KeyUpdate now and switch to the next write key (RFC
 * 8446 section 4.6.3); with request_peer the peer is asked to update its
 * key too (it answers with its own KeyUpdate). On both layers: after the
 * record hand-off the engine does it, with an SSL OpenSSL does. The
 * KeyUpdate is queued for stls_conn_peek(). Returns 0, -ENOTCONN when the
 * connection is not established, -EOPNOTSUPP for TLS 1.2 (no KeyUpdate
 * there), -ENOMEM or -EPIPE when it failed (the connection failed too).
 */
STLS_MUST_USE int stls_conn_key_update(struct stls_conn *c,
				       bool request_peer);

/* Getters. All are O(1) and safe at any state. */
enum stls_conn_state stls_conn_get_state(const struct stls_conn *c);
unsigned stls_conn_get_flags(const struct stls_conn *c);
enum stls_close_reason stls_conn_get_reason(const struct stls_conn *c);
/* OpenSSL or engine detail for the close reason ("" when none). */
const char *stls_conn_get_detail(const struct stls_conn *c);
enum stls_role stls_conn_get_role(const struct stls_conn *c);
void *stls_conn_get_user(const struct stls_conn *c);
/* Bytes in this connection's clear-text write queue. */
size_t stls_conn_get_ct_wq(const struct stls_conn *c);
/* Ciphertext received but not yet processed (enc_rd_buf). */
size_t stls_conn_get_pending_in(const struct stls_conn *c);
/* SNI received (server) or sent (client); NULL when none. */
const char *stls_conn_get_sni(const struct stls_conn *c);
/* Cipher name and protocol version; NULL before the handshake is done. */
const char *stls_conn_get_cipher(const struct stls_conn *c);
const char *stls_conn_get_version(const struct stls_conn *c);
/* Facts computed at handshake end; NULL before. Borrowed. */
const struct stls_facts *stls_conn_get_facts(const struct stls_conn *c);
/* Peer presented a certificate and its recorded result is X509_V_OK. */
bool stls_conn_is_peer_verified(const struct stls_conn *c);
/* The SSL object (borrowed; still owned here), or NULL once the record
 * layer was handed off (see keep_ssl). */
SSL *stls_conn_get0_ssl(const struct stls_conn *c);
/* The profile the connection's SSL was made with (stls_profile_ssl_new(),
 * after any SNI switch), also after the hand-off; NULL for an SSL made
 * otherwise. Borrowed: valid while the connection lives. */
const struct stls_profile *stls_conn_get0_profile(const struct stls_conn *c);
/* True once the record layer was handed off (the SSL is freed). */
bool stls_conn_is_handed_off(const struct stls_conn *c);

/* Process-wide: bytes in all clear-text queues (tls.info
 * clear_text_write_queued_bytes). Any thread. */
size_t stls_conn_get_ct_wq_total(void);
/* Process-wide: connections closed for renegotiation. Any thread. */
uint64_t stls_conn_get_reneg_refused(void);

/*
 * Process-wide counts of the record layer (docs/engine.md): connections
 * ended because the peer sent too many ignored warning alerts (5) or
 * empty records (33) in a row, on either layer (OpenSSL's limits, which
 * the hand-off applies too); TLS 1.2 AES-GCM connections ended at the key
 * usage limit (hand-off only: OpenSSL 3.0 has none); and server
 * connections that should have handed their record layer off but kept
 * their SSL because a check failed (each also logs a warning; a rising
 * count after an OpenSSL upgrade means its behaviour changed).
 */
struct stls_conn_counters {
	uint64_t warning_alert_closes;
	uint64_t empty_record_closes;
	uint64_t key_limit_closes;
	uint64_t handoff_fallbacks;
};

/* Fill *out with the current counts. Any thread. */
void stls_conn_get_counters(struct stls_conn_counters *out);

/* True when the state machine allows from -> to (docs/engine.md). */
bool stls_conn_state_allowed(enum stls_conn_state from,
			     enum stls_conn_state to);

/*
 * Low memory (lib/tls/lowmem.c). Available memory is, in this order: the
 * budget set here minus the process's resident size; else, when the memory
 * cgroup (v1 or v2) or a parent is limited, the least room among them (the
 * limit, v2's memory.high if lower, less the working set: the usage less
 * the file cache the kernel can reclaim at once), and at most MemAvailable;
 * else MemAvailable from /proc/meminfo. Cached: refreshed at most every
 * 100 ms near a threshold, every second far above them. low_mem_threshold1
 * (KB) refuses new connections, low_mem_threshold2 (KB) refuses operations
 * on existing ones; 0 disables a threshold and -1 picks the default:
 * threshold1 = 512 KiB x max(4, usable CPUs: stls_cpus_usable()),
 * threshold2 = half of that.
 */

/* Set a memory budget in bytes (0 = none: use cgroup or meminfo). Drops the
 * cache. Any thread. */
void stls_lowmem_set_budget(uint64_t bytes);
/* Available memory in bytes (cached, any thread). */
uint64_t stls_lowmem_get_available(void);
/* Threshold in bytes for a setting value in KB (-1 default, 0 off). */
uint64_t stls_lowmem_threshold_bytes(int kb, int which);
/* True when a threshold is enabled and available memory is below it. */
bool stls_lowmem_is_low(int kb, int which);

#endif
