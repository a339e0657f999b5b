/*
 * Session ticket keys (RFC 5077 for TLS 1.2, RFC 8446 section 4.6.1 for
 * TLS 1.3) held by the program instead of by each SSL_CTX.
 *
 * OpenSSL gives every SSL_CTX random ticket keys of its own, made when the
 * context is made and kept until it is freed: a reload (new contexts)
 * turns every ticket clients hold into a full handshake, keys never change
 * while a set runs, and two processes never understand each other's
 * tickets. A key ring (struct stls_tkeys) replaces them: one ring serves
 * every server profile context of every profile set it is given to
 * (stls_profile_set_use_tkeys()), so tickets survive reloads, and the
 * program decides which keys it holds: made here and rotated on a
 * schedule, or shared by a fleet of edges through a database
 * (docs/database.md, "Session tickets across a fleet").
 *
 * A ring holds up to STLS_TKEYS_MAX keys, each with a use: one ENCRYPT key
 * makes every new ticket (without one, no ticket is issued); ACCEPT keys
 * also open tickets (a key another process already encrypts with); RENEW
 * keys open tickets that are then replaced by a ticket under the ENCRYPT
 * key (the key before the current one). A ticket under any other key
 * gives a full handshake, never an error.
 *
 * Keys are copied in, never shown, never logged, and wiped from memory as
 * soon as the ring drops them (stls_tkeys_set() with other keys, the last
 * unref). AES-256-CBC and HMAC-SHA256, as OpenSSL's own tickets.
 *
 * Threads: a ring is reference-counted; any thread may set its keys while
 * handshakes on other threads read them (a reader-writer lock held for a
 * key copy, never across OpenSSL calls).
 */
#ifndef STLS_TKEYS_H
#define STLS_TKEYS_H

#include "stls/common.h"

struct stls_profile_set;

#define STLS_TKEY_NAME_LEN 16
#define STLS_TKEY_AES_LEN 32
#define STLS_TKEY_HMAC_LEN 32
/* A key as hex text (name, AES key, HMAC key), without the NUL. */
#define STLS_TKEY_HEX_LEN \
	(2 * (STLS_TKEY_NAME_LEN + STLS_TKEY_AES_LEN + STLS_TKEY_HMAC_LEN))
/* Keys one ring holds at most. */
#define STLS_TKEYS_MAX 4

struct stls_tkey {
	uint8_t name[STLS_TKEY_NAME_LEN]; /* sent in the clear in tickets */
	uint8_t aes[STLS_TKEY_AES_LEN];
	uint8_t hmac[STLS_TKEY_HMAC_LEN];
};

enum stls_tkey_use {
	STLS_TKEY_ENCRYPT, /* new tickets; also opens them */
	STLS_TKEY_ACCEPT,  /* opens tickets */
	STLS_TKEY_RENEW,   /* opens tickets, which are then replaced */
};

/* Fills *k with a new random key (RAND_priv_bytes). Returns 0 or -EIO. */
STLS_MUST_USE int stls_tkey_generate(struct stls_tkey *k);

/* Wipes *k (OPENSSL_cleanse). */
void stls_tkey_wipe(struct stls_tkey *k);

/*
 * *k as STLS_TKEY_HEX_LEN lower-case hex digits and a NUL into buf (at
 * least STLS_TKEY_HEX_LEN + 1 bytes), for storage, never for a log.
 * stls_tkey_from_hex() reads that form back: 0, or -EINVAL (*k wiped).
 */
void stls_tkey_to_hex(const struct stls_tkey *k, char *buf);
STLS_MUST_USE int stls_tkey_from_hex(const char *hex, struct stls_tkey *k);

struct stls_tkeys;

/* A new ring without keys (no ticket is issued until keys are set). One
 * reference. Returns 0 and *out, or -ENOMEM. */
STLS_MUST_USE int stls_tkeys_new(struct stls_tkeys **out);

/* Takes a reference. Returns tk. Any thread. */
struct stls_tkeys *stls_tkeys_ref(struct stls_tkeys *tk);

/* Drops a reference; the last wipes the keys and frees the ring. NULL is a
 * no-op. Any thread. */
void stls_tkeys_unref(struct stls_tkeys *tk);

/*
 * Replaces the ring's keys by copies of keys[0..n) with their uses
 * (n <= STLS_TKEYS_MAX; at most one ENCRYPT). The keys held before are
 * wiped. Handshakes in progress finish with the key they read. Returns 0,
 * or -EINVAL (nothing changed). Any thread.
 */
STLS_MUST_USE int stls_tkeys_set(struct stls_tkeys *tk,
				 const struct stls_tkey *keys,
				 const enum stls_tkey_use *use, size_t n);

/* Number of keys held now. Any thread. */
size_t stls_tkeys_count(struct stls_tkeys *tk);

/* What the ring did since it was made. Any thread. */
struct stls_tkeys_stats {
	uint64_t issued;  /* tickets encrypted */
	uint64_t opened;  /* tickets opened (resumptions offered) */
	uint64_t renewed; /* of those, under a RENEW key */
	uint64_t unknown; /* tickets under no key held: full handshakes */
	uint64_t updates; /* stls_tkeys_set() calls */
};
void stls_tkeys_stats(struct stls_tkeys *tk, struct stls_tkeys_stats *out);

/*
 * Makes every server profile context of <set> issue and open tickets with
 * <tk> (each context takes a reference, released when it is freed;
 * profiles that share a context count once). Call before the set is
 * published: contexts must not be in use. With session_tickets = 0 the
 * contexts issue no ticket at all, ring or not. Returns 0, or -ENOMEM
 * (contexts already done keep the ring: free the set). Control thread.
 */
STLS_MUST_USE int stls_profile_set_use_tkeys(struct stls_profile_set *set,
					     struct stls_tkeys *tk);

#endif
