/* Flow tokens: round trip, fixed alphabet and length, forgery refused. */
#include <errno.h>

#include "relay/flow_token.h"
#include "test.h"

static const uint8_t key1[STLS_FLOW_KEY_LEN] = { 1, 2, 3 };
static const uint8_t key2[STLS_FLOW_KEY_LEN] = { 9, 9, 9 };

TEST(flow_round_trip)
{
	struct stls_flow_signer *s = NULL;
	struct stls_flow in = { 3, 0xdeadbeef, 77 }, out;
	char tok[STLS_FLOW_TOKEN_LEN + 1];
	size_t i;

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &in, tok));
	CHECK_EQ(strlen(tok), STLS_FLOW_TOKEN_LEN);
	for (i = 0; i < STLS_FLOW_TOKEN_LEN; i++) {
		CHECK((tok[i] >= 'a' && tok[i] <= 'z') ||
		      (tok[i] >= '2' && tok[i] <= '7'));
	}
	CHECK_OK(stls_flow_token_parse(s, tok, strlen(tok), &out));
	CHECK_EQ(out.worker, 3);
	CHECK_EQ(out.conn_id, 0xdeadbeef);
	CHECK_EQ(out.gen, 77);
	stls_flow_signer_free(s);
}

TEST(flow_every_bit_flip_refused)
{
	struct stls_flow_signer *s = NULL;
	struct stls_flow in = { 0, 1, 2 }, out;
	char tok[STLS_FLOW_TOKEN_LEN + 1], bad[STLS_FLOW_TOKEN_LEN + 1];
	size_t i;

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &in, tok));
	for (i = 0; i < STLS_FLOW_TOKEN_LEN; i++) {
		memcpy(bad, tok, sizeof(bad));
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		CHECK_EQ(stls_flow_token_parse(s, bad, STLS_FLOW_TOKEN_LEN,
					       &out), -EBADMSG);
	}
	CHECK_EQ(stls_flow_token_parse(s, tok, STLS_FLOW_TOKEN_LEN - 1, &out),
		 -EBADMSG);
	memcpy(bad, tok, sizeof(bad));
	bad[5] = 'A';
	CHECK_EQ(stls_flow_token_parse(s, bad, STLS_FLOW_TOKEN_LEN, &out),
		 -EBADMSG);
	stls_flow_signer_free(s);
}

TEST(flow_other_key_refused)
{
	struct stls_flow_signer *a = NULL, *b = NULL;
	struct stls_flow in = { 1, 2, 3 }, out;
	char tok[STLS_FLOW_TOKEN_LEN + 1];

	CHECK_OK(stls_flow_signer_new(key1, &a));
	CHECK_OK(stls_flow_signer_new(key2, &b));
	CHECK_OK(stls_flow_token_build(a, &in, tok));
	CHECK_EQ(stls_flow_token_parse(b, tok, STLS_FLOW_TOKEN_LEN, &out),
		 -EBADMSG);
	stls_flow_signer_free(a);
	stls_flow_signer_free(b);
	stls_flow_signer_free(NULL);
}

TEST(flow_generated_keys_differ)
{
	uint8_t k1[STLS_FLOW_KEY_LEN], k2[STLS_FLOW_KEY_LEN];

	CHECK_OK(stls_flow_key_generate(k1));
	CHECK_OK(stls_flow_key_generate(k2));
	CHECK(memcmp(k1, k2, sizeof(k1)) != 0);
}

TEST(flow_distinct_flows_distinct_tokens)
{
	struct stls_flow_signer *s = NULL;
	struct stls_flow a = { 0, 5, 1 }, b = { 0, 5, 2 };
	char t1[STLS_FLOW_TOKEN_LEN + 1], t2[STLS_FLOW_TOKEN_LEN + 1];

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &a, t1));
	CHECK_OK(stls_flow_token_build(s, &b, t2));
	CHECK(strcmp(t1, t2) != 0);
	stls_flow_signer_free(s);
}

static struct stls_flow_cache_stats stats(const struct stls_flow_signer *s)
{
	struct stls_flow_cache_stats st;

	stls_flow_signer_stats(s, &st);
	return st;
}

#define hits(s) (stats(s).hits)
#define misses(s) (stats(s).misses)
#define issued(s) (stats(s).issued)

/* The second verification of a token comes from the cache. */
TEST(flow_cache_valid_token_hits)
{
	struct stls_flow_signer *s = NULL;
	struct stls_flow in = { 7, 1234, 5 }, out;
	char tok[STLS_FLOW_TOKEN_LEN + 1];
	int i;

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &in, tok));
	CHECK_EQ(hits(s), 0);
	CHECK_OK(stls_flow_token_parse(s, tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(hits(s), 0);
	CHECK_EQ(misses(s), 1);
	for (i = 0; i < 3; i++) {
		memset(&out, 0, sizeof(out));
		CHECK_OK(stls_flow_token_parse(s, tok, STLS_FLOW_TOKEN_LEN,
					       &out));
		CHECK_EQ(out.worker, 7);
		CHECK_EQ(out.conn_id, 1234);
		CHECK_EQ(out.gen, 5);
	}
	CHECK_EQ(hits(s), 3);
	CHECK_EQ(misses(s), 1);
	stls_flow_signer_free(s);
}

/* A token one character away from a cached one never hits (whether or
 * not it falls in the same slot), is refused, and evicts nothing. */
TEST(flow_cache_forged_never_hits)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct stls_flow_signer *s = NULL;
	struct stls_flow in = { 1, 99, 3 }, out;
	char tok[STLS_FLOW_TOKEN_LEN + 1], bad[STLS_FLOW_TOKEN_LEN + 1];
	size_t i, k;

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &in, tok));
	CHECK_OK(stls_flow_token_parse(s, tok, STLS_FLOW_TOKEN_LEN, &out));
	for (i = 0; i < STLS_FLOW_TOKEN_LEN; i++) {
		for (k = 0; k < 32; k++) {
			if (alphabet[k] == tok[i]) {
				continue;
			}
			memcpy(bad, tok, sizeof(bad));
			bad[i] = alphabet[k];
			CHECK_EQ(stls_flow_token_parse(s, bad,
						       STLS_FLOW_TOKEN_LEN,
						       &out), -EBADMSG);
			/* Twice: a refused token was not cached either. */
			CHECK_EQ(stls_flow_token_parse(s, bad,
						       STLS_FLOW_TOKEN_LEN,
						       &out), -EBADMSG);
		}
	}
	CHECK_EQ(hits(s), 0);
	CHECK_EQ(misses(s), 1 + 2 * STLS_FLOW_TOKEN_LEN * 31);
	/* The valid one is still cached. */
	CHECK_OK(stls_flow_token_parse(s, tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(hits(s), 1);
	CHECK_EQ(out.conn_id, 99);
	/* A prefix of a cached token is refused before the cache. */
	CHECK_EQ(stls_flow_token_parse(s, tok, STLS_FLOW_TOKEN_LEN - 1, &out),
		 -EBADMSG);
	stls_flow_signer_free(s);
}

/* Direct-mapped: a valid token that takes a cached token's slot evicts
 * it; the evicted one is verified in full again, and still passes. */
TEST(flow_cache_eviction)
{
	struct stls_flow_signer *s = NULL;
	struct stls_flow a = { 0, 1, 1 }, b = { 0, 2, 1 }, out;
	char ta[STLS_FLOW_TOKEN_LEN + 1], tb[STLS_FLOW_TOKEN_LEN + 1];
	uint64_t m;
	uint32_t i;
	bool evicted = false;

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &a, ta));
	CHECK_OK(stls_flow_token_parse(s, ta, STLS_FLOW_TOKEN_LEN, &out));
	/* Bounded search for a token that lands in ta's slot. */
	for (i = 2; i < 64 * STLS_FLOW_CACHE_SLOTS && !evicted; i++) {
		b.conn_id = i;
		CHECK_OK(stls_flow_token_build(s, &b, tb));
		CHECK_OK(stls_flow_token_parse(s, tb, STLS_FLOW_TOKEN_LEN,
					       &out));
		m = misses(s);
		CHECK_OK(stls_flow_token_parse(s, ta, STLS_FLOW_TOKEN_LEN,
					       &out));
		evicted = misses(s) == m + 1;
	}
	CHECK(evicted);
	CHECK_EQ(out.conn_id, 1);
	/* ta is back in its slot now: tb was evicted in turn. */
	m = misses(s);
	CHECK_OK(stls_flow_token_parse(s, tb, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(misses(s), m + 1);
	CHECK_EQ(out.conn_id, b.conn_id);
	stls_flow_signer_free(s);
}

/* The owner's copy of one issued token (what the relay keeps with each
 * connection). */
struct owner {
	struct stls_flow f;
	char tok[STLS_FLOW_TOKEN_LEN + 1];
	unsigned asked;
};

static const char *owner_token(void *arg, const struct stls_flow *f)
{
	struct owner *o = arg;

	o->asked++;
	if (f->worker != o->f.worker || f->conn_id != o->f.conn_id ||
	    f->gen != o->f.gen)
		return NULL;
	return o->tok;
}

/* A token the owner holds is accepted by a compare with its copy, no
 * HMAC; every one-character change of it, and a token of a flow the
 * owner does not hold, take the full check (refused / accepted). */
TEST(flow_issued_token_accepted_without_mac)
{
	struct stls_flow_signer *s = NULL;
	struct owner o = { .f = { 1, 42, 7 } };
	struct stls_flow other = { 1, 43, 7 }, out;
	char tok2[STLS_FLOW_TOKEN_LEN + 1], bad[STLS_FLOW_TOKEN_LEN + 1];
	size_t i;

	CHECK_OK(stls_flow_signer_new(key1, &s));
	CHECK_OK(stls_flow_token_build(s, &o.f, o.tok));
	CHECK_OK(stls_flow_token_build(s, &other, tok2));
	stls_flow_signer_set_issued(s, owner_token, &o);
	CHECK_OK(stls_flow_token_parse(s, o.tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(issued(s), 1);
	CHECK_EQ(misses(s), 0);
	CHECK_EQ(out.conn_id, 42);
	CHECK_EQ(out.gen, 7);
	for (i = 0; i < STLS_FLOW_TOKEN_LEN; i++) {
		memcpy(bad, o.tok, sizeof(bad));
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		CHECK_EQ(stls_flow_token_parse(s, bad, STLS_FLOW_TOKEN_LEN,
					       &out), -EBADMSG);
	}
	CHECK_EQ(issued(s), 1);
	CHECK_EQ(misses(s), STLS_FLOW_TOKEN_LEN);
	/* Not held by the owner: the full check, then the cache. */
	CHECK_OK(stls_flow_token_parse(s, tok2, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(out.conn_id, 43);
	CHECK_EQ(misses(s), STLS_FLOW_TOKEN_LEN + 1);
	CHECK_OK(stls_flow_token_parse(s, tok2, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(hits(s), 1);
	/* The owner let go of it (the connection closed): full check. */
	o.f.conn_id = 99;
	CHECK_OK(stls_flow_token_parse(s, o.tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(misses(s), STLS_FLOW_TOKEN_LEN + 2);
	CHECK_EQ(issued(s), 1);
	stls_flow_signer_free(s);
}

/* The cache belongs to a signer: another key refuses a token the first
 * signer has cached, and a new signer starts empty. */
TEST(flow_cache_per_signer_and_key)
{
	struct stls_flow_signer *a = NULL, *b = NULL;
	struct stls_flow in = { 2, 3, 4 }, out;
	char tok[STLS_FLOW_TOKEN_LEN + 1];

	CHECK_OK(stls_flow_signer_new(key1, &a));
	CHECK_OK(stls_flow_token_build(a, &in, tok));
	CHECK_OK(stls_flow_token_parse(a, tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_OK(stls_flow_token_parse(a, tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(hits(a), 1);
	CHECK_OK(stls_flow_signer_new(key2, &b));
	CHECK_EQ(stls_flow_token_parse(b, tok, STLS_FLOW_TOKEN_LEN, &out),
		 -EBADMSG);
	CHECK_EQ(hits(b), 0);
	/* Same key, new signer (a restart with the key kept, say): empty
	 * cache, full check, accepted. */
	stls_flow_signer_free(a);
	a = NULL;
	CHECK_OK(stls_flow_signer_new(key1, &a));
	CHECK_EQ(hits(a), 0);
	CHECK_OK(stls_flow_token_parse(a, tok, STLS_FLOW_TOKEN_LEN, &out));
	CHECK_EQ(hits(a), 0);
	CHECK_EQ(misses(a), 1);
	stls_flow_signer_free(a);
	stls_flow_signer_free(b);
}
