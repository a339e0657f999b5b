/*
 * What both record layers (rec13.c, rec12.c) share and neither owns: the
 * HMAC on a fetched digest, the record state's algorithm references, the
 * per-direction AEAD context and its nonce, AEAD opening, and the
 * release of a record state. The lowest file of the record code: it
 * calls neither layer. Secrets are wiped with OPENSSL_cleanse() and never
 * logged.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/*
 * HMAC (RFC 2104) of <msg> under <key> (at most one block: a traffic or
 * master secret) into out[EVP_MD_get_size(md)], on a digest fetched once:
 * the EVP_MAC and EVP_KDF interfaces look the digest up by name on every
 * call, which cost about 100k instructions per hand-off. Returns 0 or
 * -EIO. Any thread.
 */
int stls__rec_hmac(const EVP_MD *md, const unsigned char *key, size_t klen,
		   const unsigned char *msg, size_t mlen, unsigned char *out)
{
	unsigned char pad[EVP_MAX_MD_SIZE * 2], inner[EVP_MAX_MD_SIZE];
	size_t i, block = (size_t)EVP_MD_get_block_size(md);
	EVP_MD_CTX *ctx;
	unsigned int il = 0;
	int ok;

	if (klen > block || block > sizeof(pad) || !(ctx = EVP_MD_CTX_new())) {
		return -EIO;
	}
	memset(pad, 0x36, block);
	for (i = 0; i < klen; i++) {
		pad[i] ^= key[i];
	}
	ok = EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, pad, block) &&
	     EVP_DigestUpdate(ctx, msg, mlen) &&
	     EVP_DigestFinal_ex(ctx, inner, &il);
	for (i = 0; i < block; i++) {
		pad[i] ^= 0x36 ^ 0x5c;
	}
	ok = ok && EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, pad, block) &&
	     EVP_DigestUpdate(ctx, inner, il) &&
	     EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	return ok ? 0 : -EIO;
}

/*
 * Take references on the cipher and digest of algs (NULL: the default
 * set) that suite s needs. Returns 0, or -ENOENT when algs lacks one.
 * Shared with rec12.c (suite index of either table: cipher and md).
 */
int stls__rec_algs_take(struct stls_rec13 *r, const struct stls_rec_algs *a,
			enum stls_rec_cipher c, enum stls_rec_md m)
{
	if (!a) {
		a = stls__rec_algs_default();
	}
	if (!a->cipher[c] || !a->md[m] || !EVP_CIPHER_up_ref(a->cipher[c])) {
		return -ENOENT;
	}
	if (!EVP_MD_up_ref(a->md[m])) {
		EVP_CIPHER_free(a->cipher[c]);
		return -ENOENT;
	}
	/* Released in stls__rec13_fini(). */
	r->cipher = a->cipher[c];
	r->md = a->md[m];
	return 0;
}

/*
 * The context of direction d, made and keyed with cipher c at its first
 * use, set for the 12-byte nonce; NULL when OpenSSL fails. With xor_seq
 * the nonce is d->iv XOR d->seq (64 bits, left-padded: RFC 8446 section
 * 5.3, RFC 7905), else `nonce` as given. Shared by rec13.c and rec12.c.
 * Thread: the owner of d.
 */
EVP_CIPHER_CTX *stls__rec_dir_ctx(struct stls_rec13_dir *d,
				  const EVP_CIPHER *c, bool enc,
				  const unsigned char *nonce, bool xor_seq)
{
	unsigned char n[sizeof(d->iv)];
	size_t i;
	int ok;

	if (!d->ctx) {
		d->ctx = EVP_CIPHER_CTX_new();
		if (!d->ctx ||
		    EVP_CipherInit_ex2(d->ctx, c, d->key, NULL, enc, NULL) !=
			    1) {
			EVP_CIPHER_CTX_free(d->ctx);
			d->ctx = NULL;
			return NULL;
		}
	}
	memcpy(n, xor_seq ? d->iv : nonce, sizeof(n));
	for (i = 0; xor_seq && i < 8; i++) {
		n[sizeof(n) - 1 - i] ^= (unsigned char)(d->seq >> (8 * i));
	}
	ok = EVP_CipherInit_ex2(d->ctx, NULL, NULL, n, enc, NULL);
	OPENSSL_cleanse(n, sizeof(n));
	return ok == 1 ? d->ctx : NULL;
}

/*
 * AEAD decryption on x (keyed, nonce set) of ct[clen] followed by its
 * STLS_REC13_TAG-byte tag, with additional data aad[alen], into pt
 * (clen bytes). Returns 0, or -EBADMSG when authentication fails (pt is
 * wiped then). Shared by rec13.c and rec12.c. Thread: the owner of x.
 */
int stls__rec_aead_open(EVP_CIPHER_CTX *x, const unsigned char *aad,
			size_t alen, const unsigned char *ct, size_t clen,
			unsigned char *pt)
{
	int l1 = 0, l2 = 0, l3 = 0;

	if (EVP_DecryptUpdate(x, NULL, &l1, aad, (int)alen) != 1 ||
	    EVP_DecryptUpdate(x, pt, &l2, ct, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, STLS_REC13_TAG,
				(void *)(ct + clen)) != 1 ||
	    EVP_DecryptFinal_ex(x, pt + l2, &l3) != 1 ||
	    (size_t)(l2 + l3) != clen) {
		OPENSSL_cleanse(pt, clen);
		return -EBADMSG;
	}
	return 0;
}

/* Release both EVP contexts (the next record makes new ones). */
void stls__rec13_idle(struct stls_rec13 *r)
{
	EVP_CIPHER_CTX_free(r->rd.ctx);
	r->rd.ctx = NULL;
	EVP_CIPHER_CTX_free(r->wr.ctx);
	r->wr.ctx = NULL;
}

/* Release the contexts, the plaintext buffer and the algorithms, wipe
 * every secret. */
void stls__rec13_fini(struct stls_rec13 *r)
{
	stls__rec13_idle(r);
	EVP_CIPHER_free(r->cipher);
	EVP_MD_free(r->md);
	if (r->pt) {
		OPENSSL_clear_free(r->pt, r->pt_cap);
	}
	OPENSSL_cleanse(r, sizeof(*r));
}
