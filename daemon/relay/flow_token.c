/*
 * Flow tokens: encode, sign, verify. See flow_token.h for the format.
 *
 * Design: one EVP_MAC_CTX per signer, initialised once with the key; each
 * token re-initialises it with a NULL key, which OpenSSL 3 defines as
 * "reuse the key already set", so no key schedule is redone per message.
 * Verified tokens are cached per signer (flow_token.h): a response to a
 * connection's earlier request costs a 32-byte compare, not an HMAC; so
 * does any token of a flow whose owner keeps the token it was issued.
 */
#include "relay/flow_token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define PAYLOAD_LEN 10
#define MAC_LEN 10
#define RAW_LEN (PAYLOAD_LEN + MAC_LEN)

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

struct cache_slot {
	char tok[STLS_FLOW_TOKEN_LEN];
	struct stls_flow flow;
	bool used;
};

struct stls_flow_signer {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	struct stls_flow_cache_stats stats;
	stls_flow_issued_fn *issued;
	void *issued_arg;
	struct cache_slot cache[STLS_FLOW_CACHE_SLOTS];
};

int stls_flow_key_generate(uint8_t key[STLS_FLOW_KEY_LEN])
{
	return RAND_bytes(key, STLS_FLOW_KEY_LEN) == 1 ? 0 : -EIO;
}

int stls_flow_signer_new(const uint8_t key[STLS_FLOW_KEY_LEN],
			 struct stls_flow_signer **out)
{
	struct stls_flow_signer *s = calloc(1, sizeof(*s));
	OSSL_PARAM params[2];
	int err = -EIO;

	if (!s) {
		return -ENOMEM;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!s->mac) {
		goto out;
	}
	s->ctx = EVP_MAC_CTX_new(s->mac);
	if (!s->ctx || !EVP_MAC_init(s->ctx, key, STLS_FLOW_KEY_LEN, params)) {
		goto out;
	}
	*out = s;
	s = NULL;
	err = 0;
out:
	stls_flow_signer_free(s);
	return err;
}

void stls_flow_signer_set_issued(struct stls_flow_signer *s,
				 stls_flow_issued_fn *fn, void *arg)
{
	s->issued = fn;
	s->issued_arg = arg;
}

void stls_flow_signer_free(struct stls_flow_signer *s)
{
	if (!s) {
		return;
	}
	/* EVP_MAC_CTX_free() cleanses the HMAC key schedule it holds. */
	EVP_MAC_CTX_free(s->ctx);
	EVP_MAC_free(s->mac);
	free(s);
}

static int compute_mac(struct stls_flow_signer *s, const uint8_t *payload,
		       uint8_t mac[MAC_LEN])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t n = 0;

	if (!EVP_MAC_init(s->ctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(s->ctx, payload, PAYLOAD_LEN) ||
	    !EVP_MAC_final(s->ctx, full, &n, sizeof(full)) || n < MAC_LEN) {
		return -EIO;
	}
	memcpy(mac, full, MAC_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}

static void put_be(uint8_t *p, uint32_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint32_t get_be(const uint8_t *p, int n)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

static void encode_b32(const uint8_t raw[RAW_LEN], char *out)
{
	unsigned acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < RAW_LEN; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[o] = '\0';
}

static int decode_b32(const char *tok, uint8_t raw[RAW_LEN])
{
	unsigned acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < STLS_FLOW_TOKEN_LEN; i++) {
		char c = tok[i];
		unsigned v;

		if (c >= 'a' && c <= 'z') {
			v = (unsigned)(c - 'a');
		} else if (c >= '2' && c <= '7') {
			v = (unsigned)(c - '2') + 26;
		} else {
			return -EBADMSG;
		}
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			raw[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return 0;
}

int stls_flow_token_build(struct stls_flow_signer *s,
			  const struct stls_flow *flow,
			  char out[STLS_FLOW_TOKEN_LEN + 1])
{
	uint8_t raw[RAW_LEN];

	put_be(raw, flow->worker, 2);
	put_be(raw + 2, flow->conn_id, 4);
	put_be(raw + 6, flow->gen, 4);
	if (compute_mac(s, raw, raw + PAYLOAD_LEN)) {
		return -EIO;
	}
	encode_b32(raw, out);
	return 0;
}

/* Slot of a token: a hash of its last 8 characters (MAC bits for a valid
 * token). Any bytes are fine: a token that is not cached only misses. */
static struct cache_slot *slot_of(struct stls_flow_signer *s, const char *tok)
{
	uint64_t x;

	memcpy(&x, tok + STLS_FLOW_TOKEN_LEN - sizeof(x), sizeof(x));
	x *= 0x9e3779b97f4a7c15ULL;
	return &s->cache[(x >> 56) % STLS_FLOW_CACHE_SLOTS];
}

static void fields(const uint8_t raw[RAW_LEN], struct stls_flow *flow)
{
	flow->worker = (uint16_t)get_be(raw, 2);
	flow->conn_id = get_be(raw + 2, 4);
	flow->gen = get_be(raw + 6, 4);
}

/* The full check of a decoded token: its MAC recomputed. */
static int verify(struct stls_flow_signer *s, const uint8_t raw[RAW_LEN])
{
	uint8_t mac[MAC_LEN];

	if (compute_mac(s, raw, mac)) {
		return -EIO;
	}
	if (CRYPTO_memcmp(mac, raw + PAYLOAD_LEN, MAC_LEN) != 0) {
		return -EBADMSG;
	}
	return 0;
}

/* True when the owner holds exactly this token for the flow it names. */
static bool owner_issued(struct stls_flow_signer *s, const char *tok,
			 const struct stls_flow *flow)
{
	const char *mine = s->issued ? s->issued(s->issued_arg, flow) : NULL;

	return mine && CRYPTO_memcmp(mine, tok, STLS_FLOW_TOKEN_LEN) == 0;
}

int stls_flow_token_parse(struct stls_flow_signer *s, const char *tok,
			  size_t len, struct stls_flow *flow)
{
	uint8_t raw[RAW_LEN];
	struct cache_slot *slot;
	struct stls_flow f;
	int err;

	if (len != STLS_FLOW_TOKEN_LEN) {
		return -EBADMSG;
	}
	slot = slot_of(s, tok);
	if (slot->used &&
	    CRYPTO_memcmp(slot->tok, tok, STLS_FLOW_TOKEN_LEN) == 0) {
		s->stats.hits++;
		*flow = slot->flow;
		return 0;
	}
	if (decode_b32(tok, raw)) {
		s->stats.misses++;
		return -EBADMSG;
	}
	fields(raw, &f);
	if (owner_issued(s, tok, &f)) {
		s->stats.issued++;
		*flow = f;
		return 0;
	}
	s->stats.misses++;
	err = verify(s, raw);
	if (err) {
		return err;
	}
	*flow = f;
	memcpy(slot->tok, tok, STLS_FLOW_TOKEN_LEN);
	slot->flow = *flow;
	slot->used = true;
	return 0;
}

void stls_flow_signer_stats(const struct stls_flow_signer *s,
			    struct stls_flow_cache_stats *out)
{
	*out = s->stats;
}
