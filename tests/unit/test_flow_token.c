/* Flow tokens: round trip, fixed alphabet and length, forgery refused. */
#include <errno.h>

#include "flow_token.h"
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
