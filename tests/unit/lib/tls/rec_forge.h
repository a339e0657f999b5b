/*
 * A record sealer for the tests, written apart from rec13.c and rec12.c:
 * it seals what those refuse to (content over 2^14, any header version,
 * any TLSInnerPlaintext) with EVP directly, from the keys of a forger's
 * struct stls_rec13 (its write direction and sequence number, which
 * advances). TLS 1.3: RFC 8446 section 5.2 (header as additional data,
 * nonce = IV XOR sequence). TLS 1.2: RFC 5246 section 6.2.3.3 with RFC
 * 5288 (GCM: 4-byte salt || 8-byte explicit nonce, here the sequence
 * number) or RFC 7905 (ChaCha20: IV XOR sequence). Header only.
 */
#ifndef STLS_TEST_REC_FORGE_H
#define STLS_TEST_REC_FORGE_H

#include <openssl/evp.h>

#include "test.h"
#include "tls/tls_int.h"

#define FORGE_MAX (STLS_REC13_MAX_PLAIN + 2048 + 64)

static __attribute__((unused)) void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		p[i] = (unsigned char)(v >> (56 - 8 * i));
	}
}

/* The 12-byte nonce of record f->wr.seq: IV XOR sequence number. */
static __attribute__((unused)) void forge_xor_nonce(
	const struct stls_rec13 *f, unsigned char *n)
{
	int i;

	memcpy(n, f->wr.iv, 12);
	for (i = 0; i < 8; i++) {
		n[11 - i] ^= (unsigned char)(f->wr.seq >> (8 * i));
	}
}

static __attribute__((unused)) void
forge_aead(const struct stls_rec13 *f, const unsigned char *nonce,
	   const unsigned char *aad, size_t alen, const unsigned char *pt,
	   size_t n, unsigned char *ct)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0;

	CHECK(x != NULL);
	CHECK(EVP_EncryptInit_ex2(x, f->cipher, f->wr.key, nonce, NULL) == 1);
	CHECK(EVP_EncryptUpdate(x, NULL, &l, aad, (int)alen) == 1);
	if (n) {
		CHECK(EVP_EncryptUpdate(x, ct, &l, pt, (int)n) == 1);
	}
	CHECK(EVP_EncryptFinal_ex(x, ct + n, &l) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, ct + n) == 1);
	EVP_CIPHER_CTX_free(x);
}

/*
 * TLS 1.3: seal TLSInnerPlaintext inner[0..n) (content, type and padding
 * as the caller laid them out) with header version hver into out;
 * returns the record length.
 */
static __attribute__((unused)) size_t
forge13(struct stls_rec13 *f, const unsigned char *inner, size_t n,
	unsigned hver, unsigned char *out)
{
	unsigned char nonce[12];
	size_t body = n + 16;

	CHECK(5 + body <= FORGE_MAX);
	out[0] = 23;
	out[1] = (unsigned char)(hver >> 8);
	out[2] = (unsigned char)hver;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	forge_xor_nonce(f, nonce);
	forge_aead(f, nonce, out, 5, inner, n, out + 5);
	f->wr.seq++;
	return 5 + body;
}

/* TLS 1.2: seal pt[0..n) as content type `type`, header version hver. */
static __attribute__((unused)) size_t
forge12(struct stls_rec13 *f, unsigned char type, const unsigned char *pt,
	size_t n, unsigned hver, unsigned char *out)
{
	bool gcm = EVP_CIPHER_get_mode(f->cipher) == EVP_CIPH_GCM_MODE;
	size_t ex = gcm ? 8 : 0, body = ex + n + 16;
	unsigned char nonce[12], aad[13];

	CHECK(5 + body <= FORGE_MAX);
	out[0] = type;
	out[1] = (unsigned char)(hver >> 8);
	out[2] = (unsigned char)hver;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	put_be64(aad, f->wr.seq);
	aad[8] = type;
	aad[9] = out[1];
	aad[10] = out[2];
	aad[11] = (unsigned char)(n >> 8);
	aad[12] = (unsigned char)n;
	if (gcm) {
		memcpy(nonce, f->wr.iv, 4);
		put_be64(nonce + 4, f->wr.seq);
		memcpy(out + 5, nonce + 4, 8);
	} else {
		forge_xor_nonce(f, nonce);
	}
	forge_aead(f, nonce, aad, sizeof(aad), pt, n, out + 5 + ex);
	f->wr.seq++;
	return 5 + body;
}

#endif
