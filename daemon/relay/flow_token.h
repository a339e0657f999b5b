/*
 * Flow tokens: opaque, unforgeable names of one TLS connection (RFC 5626
 * section 5.2 "flow token", RFC 3327 Path, RFC 3261 Record-Route).
 *
 * The relay writes a token into the Via, Record-Route and Path values it
 * adds, so that responses and later requests from the backend find their
 * way back to the exact connection, across workers, without any shared
 * table. A token encodes (worker index, connection id, generation) and a
 * truncated HMAC-SHA256 of those 10 bytes under a per-process random key.
 *
 * Format: 32 characters of lowercase RFC 4648 base32 ("a-z2-7"), which is
 * valid in a SIP token, a URI user part and a Via parameter:
 *   bytes 0-1 worker (big endian), 2-5 connection id, 6-9 generation,
 *   bytes 10-19 the first 80 bits of HMAC-SHA256(key, bytes 0-9).
 * Decoding checks length and alphabet, recomputes the MAC and compares in
 * constant time (CRYPTO_memcmp). A bad token is refused with -EBADMSG; the
 * caller counts it and drops the message (or answers 430 Flow Failed).
 *
 * Verification cache: each signer keeps a direct-mapped table of
 * STLS_FLOW_CACHE_SLOTS recently verified tokens (the 32 token bytes and
 * the decoded flow), indexed by a hash of the token's MAC characters. Only
 * a token that passed the full check (alphabet, length, HMAC) is stored,
 * replacing whatever held its slot. A token found in its slot is accepted
 * after a constant-time compare of all 32 bytes (CRYPTO_memcmp), without
 * the HMAC; any other token, including one that differs from a cached one
 * in a single character, takes the full check. A forged token therefore
 * never hits and never enters, and cannot evict a valid one. The cache
 * belongs to the signer: another signer (another key) has its own, and
 * freeing the signer drops it. A cached token stays valid as long as the
 * key does (the key never changes in a signer's life; a new process has a
 * new key and new signers).
 *
 * Issued tokens: the signer's owner may say where it keeps the tokens it
 * issued for its live flows (stls_flow_signer_set_issued(); the relay
 * keeps each connection's token with the connection). A token the cache
 * does not hold is then decoded, the owner is asked for the token of the
 * flow it names, and a constant-time compare of all 32 bytes with that
 * one accepts it without the HMAC: the stored token was made by this
 * signer for exactly those fields, so equality proves what the MAC
 * would. Any other token (no such flow, or any byte different) takes the
 * full check. In a busy hour with 5,000 phones per worker the 256-slot
 * cache missed most responses; the connections' own tokens always hold.
 *
 * Threads: the key is shared and immutable; each worker makes its own
 * struct stls_flow_signer (it holds an EVP_MAC_CTX, which is not thread
 * safe, and the cache: no locks).
 */
#ifndef STLS_FLOW_TOKEN_H
#define STLS_FLOW_TOKEN_H

#include "stls/common.h"

#define STLS_FLOW_TOKEN_LEN 32
#define STLS_FLOW_KEY_LEN 32
#define STLS_FLOW_CACHE_SLOTS 256 /* verification cache, per signer */

struct stls_flow {
	uint16_t worker;  /* worker thread index */
	uint32_t conn_id; /* connection id within the worker */
	uint32_t gen;     /* generation: tells a reused id apart */
};

struct stls_flow_signer;

/* Fills <key> with fresh random bytes. Returns 0 or -EIO. */
STLS_MUST_USE int stls_flow_key_generate(uint8_t key[STLS_FLOW_KEY_LEN]);

/*
 * Makes a signer for one thread. Copies <key>. Returns 0 with *out owned by
 * the caller (release with stls_flow_signer_free()), -ENOMEM, or -EIO
 * when OpenSSL cannot provide HMAC-SHA256.
 */
STLS_MUST_USE int stls_flow_signer_new(const uint8_t key[STLS_FLOW_KEY_LEN],
				       struct stls_flow_signer **out);

/* Frees a signer and wipes its key copy. NULL is a no-op. */
void stls_flow_signer_free(struct stls_flow_signer *s);

/*
 * Writes the token for <flow> into out (STLS_FLOW_TOKEN_LEN characters and
 * a NUL). Returns 0 or -EIO.
 */
STLS_MUST_USE int stls_flow_token_build(struct stls_flow_signer *s,
					const struct stls_flow *flow,
					char out[STLS_FLOW_TOKEN_LEN + 1]);

/*
 * Decodes and verifies <len> bytes at <tok> (the cache first, then the
 * owner's issued token, see above; a token that passes the full check is
 * cached). Returns 0 with *flow
 * set, -EBADMSG for a token of the wrong length or alphabet or with a bad
 * MAC, or -EIO.
 */
STLS_MUST_USE int stls_flow_token_parse(struct stls_flow_signer *s,
					const char *tok, size_t len,
					struct stls_flow *flow);

/*
 * The owner's issued tokens: returns the token (STLS_FLOW_TOKEN_LEN
 * characters) that this signer built for flow <f> if the owner still
 * holds it, else NULL. Called on the signer's thread, with fields decoded
 * from an unverified token (any values). <fn> NULL: none.
 */
typedef const char *stls_flow_issued_fn(void *arg, const struct stls_flow *f);
void stls_flow_signer_set_issued(struct stls_flow_signer *s,
				 stls_flow_issued_fn *fn, void *arg);

/* Verification cache counters of one signer. */
struct stls_flow_cache_stats {
	uint64_t hits;   /* accepted from the cache */
	uint64_t issued; /* accepted by the owner's copy (no HMAC) */
	uint64_t misses; /* full checks (passed or not) */
};

/* Copies the cache counters of <s> into *out. Thread: the signer's. */
void stls_flow_signer_stats(const struct stls_flow_signer *s,
			    struct stls_flow_cache_stats *out);

#endif
