/*
 * Tests of lib/tls/rec_prim.c, what both record layers share: HMAC on a
 * fetched digest (RFC 4231 vectors), the per-direction AEAD context with
 * its sequence-number nonce, AEAD opening (a flipped bit is refused and
 * the output wiped), and the release of a record state (secrets wiped,
 * references dropped).
 */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "tls/tls_int.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sprintf(out + 2 * i, "%02x", p[i]);
	}
}

TEST(hmac_matches_rfc4231_case_2)
{
	const struct stls_rec_algs *a = stls__rec_algs_default();
	const char *msg = "what do ya want for nothing?";
	unsigned char out[64];
	char h[129];

	CHECK_OK(stls__rec_hmac(a->md[STLS_REC_SHA256],
				(const unsigned char *)"Jefe", 4,
				(const unsigned char *)msg, strlen(msg), out));
	hex(out, 32, h);
	CHECK_STR_EQ(h, "5bdcc146bf60754e6a042426089575c7"
			"5a003f089d2739839dec58b964ec3843");
	CHECK_OK(stls__rec_hmac(a->md[STLS_REC_SHA384],
				(const unsigned char *)"Jefe", 4,
				(const unsigned char *)msg, strlen(msg), out));
	hex(out, 48, h);
	CHECK_STR_EQ(h, "af45d2e376484031617f78d2b58a6b1b"
			"9c7ef464f5a01b47e42ec3736322445e"
			"8e2240ca5e69e2c78b3239ecfab21649");
}

TEST(hmac_refuses_a_key_longer_than_a_block)
{
	const struct stls_rec_algs *a = stls__rec_algs_default();
	unsigned char key[200] = { 0 }, out[64];

	CHECK_EQ(stls__rec_hmac(a->md[STLS_REC_SHA256], key, sizeof(key),
				key, 1, out),
		 -EIO);
}

TEST(seal_with_dir_ctx_then_open_and_tamper)
{
	struct stls_rec13 r;
	const unsigned char aad[5] = { 23, 3, 3, 0, 21 };
	unsigned char ct[64], pt[64], tag[STLS_REC13_TAG];
	EVP_CIPHER_CTX *x;
	int l1 = 0, l2 = 0;

	memset(&r, 0, sizeof(r));
	CHECK_OK(stls__rec_algs_take(&r, NULL, STLS_REC_AES128_GCM,
				     STLS_REC_SHA256));
	memset(r.wr.key, 0x11, sizeof(r.wr.key));
	memset(r.wr.iv, 0x22, sizeof(r.wr.iv));
	r.rd = r.wr;
	r.wr.seq = r.rd.seq = 7;
	x = stls__rec_dir_ctx(&r.wr, r.cipher, true, NULL, true);
	CHECK(x != NULL);
	CHECK(EVP_EncryptUpdate(x, NULL, &l1, aad, 5) == 1);
	CHECK(EVP_EncryptUpdate(x, ct, &l2, (const unsigned char *)"hello", 5)
	      == 1);
	CHECK(EVP_EncryptFinal_ex(x, ct + l2, &l1) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, sizeof(tag),
				  ct + 5) == 1);
	x = stls__rec_dir_ctx(&r.rd, r.cipher, false, NULL, true);
	CHECK(x != NULL);
	CHECK_OK(stls__rec_aead_open(x, aad, 5, ct, 5, pt));
	CHECK(memcmp(pt, "hello", 5) == 0);
	/* Another sequence number is another nonce: refused, pt wiped. */
	r.rd.seq = 8;
	x = stls__rec_dir_ctx(&r.rd, r.cipher, false, NULL, true);
	CHECK_EQ(stls__rec_aead_open(x, aad, 5, ct, 5, pt), -EBADMSG);
	CHECK(memcmp(pt, "\0\0\0\0\0", 5) == 0);
	/* Idle releases the contexts; fini wipes the whole state. */
	stls__rec13_idle(&r);
	CHECK(r.rd.ctx == NULL && r.wr.ctx == NULL);
	stls__rec13_fini(&r);
	CHECK(r.cipher == NULL && r.wr.key[0] == 0 && r.rd.iv[0] == 0);
}
