/*
 * TLS 1.2 record protection for the AEAD suites of the profile default
 * list, used after the record hand-off (docs/engine.md, "TLS 1.2"):
 * ECDHE-{ECDSA,RSA}-AES128-GCM-SHA256 (0xC02B, 0xC02F),
 * ECDHE-{ECDSA,RSA}-AES256-GCM-SHA384 (0xC02C, 0xC030) and
 * ECDHE-{ECDSA,RSA}-CHACHA20-POLY1305 (0xCCA9, 0xCCA8). rec13.c's seal
 * and open switch here when r->v12 is set; contexts, idle and fini are
 * shared.
 *
 * RFC 5246 section 6.2.3.3: a record is the 5-byte header (real content
 * type, 0x0303, length) followed by the AEAD output, with additional data
 * seq_num(8) || type || version || plaintext length. Nonces: AES-GCM
 * (RFC 5288) uses the 4-byte implicit salt || an 8-byte explicit nonce
 * sent at the start of the fragment (ours: the write sequence number, so
 * never reused); ChaCha20-Poly1305 (RFC 7905) uses the 12-byte IV XOR the
 * sequence number and sends none. Keys come from the key block,
 * PRF(master_secret, "key expansion", server_random || client_random),
 * with the suite's PRF hash (RFC 5246 section 6.3).
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct suite12 {
	uint16_t id;
	unsigned char key_len;
	unsigned char iv_len; /* 4: GCM salt; 12: ChaCha20 IV */
	enum stls_rec_cipher cipher;
	enum stls_rec_md prf;
};

static const struct suite12 suites[] = {
	{ 0xC02B, 16, 4, STLS_REC_AES128_GCM, STLS_REC_SHA256 },
	{ 0xC02F, 16, 4, STLS_REC_AES128_GCM, STLS_REC_SHA256 },
	{ 0xC02C, 32, 4, STLS_REC_AES256_GCM, STLS_REC_SHA384 },
	{ 0xC030, 32, 4, STLS_REC_AES256_GCM, STLS_REC_SHA384 },
	{ 0xCCA9, 32, 12, STLS_REC_CHACHA20_POLY1305, STLS_REC_SHA256 },
	{ 0xCCA8, 32, 12, STLS_REC_CHACHA20_POLY1305, STLS_REC_SHA256 },
};

#define EXPLICIT 8u /* GCM explicit nonce bytes */

static int suite_index(uint16_t id)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(suites); i++) {
		if (suites[i].id == id) {
			return (int)i;
		}
	}
	return -1;
}

/* True for a TLS 1.2 suite this file protects. Any thread. */
bool stls__rec12_supported(uint16_t suite)
{
	return suite_index(suite) >= 0;
}

/*
 * The key block (RFC 5246 section 6.3) into kb[len]: the PRF of section 5,
 * P_hash(master secret, "key expansion" || server_random ||
 * client_random), with HMAC on the suite's digest fetched once (the
 * EVP_KDF "TLS1-PRF" looks the digest up by name on every call). 0 or
 * -EIO.
 */
static int key_block(const EVP_MD *md, const unsigned char *ms,
		     size_t ms_len, const unsigned char *cr,
		     const unsigned char *sr, unsigned char *kb, size_t len)
{
	static const char label[] = "key expansion";
	unsigned char a[EVP_MAX_MD_SIZE + sizeof(label) - 1 + 64];
	unsigned char out[EVP_MAX_MD_SIZE];
	size_t sl = sizeof(label) - 1 + 64, hl = (size_t)EVP_MD_get_size(md);
	size_t done = 0, n;
	int err = 0;

	/* a = A(i) || seed; A(0) = seed. */
	memcpy(a + hl, label, sizeof(label) - 1);
	memcpy(a + hl + sizeof(label) - 1, sr, 32);
	memcpy(a + hl + sizeof(label) - 1 + 32, cr, 32);
	err = stls__rec_hmac(md, ms, ms_len, a + hl, sl, a); /* A(1) */
	while (!err && done < len) {
		err = stls__rec_hmac(md, ms, ms_len, a, hl + sl, out);
		n = len - done < hl ? len - done : hl;
		memcpy(kb + done, out, n);
		done += n;
		if (!err && done < len) {
			err = stls__rec_hmac(md, ms, ms_len, a, hl, a);
		}
	}
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(out, sizeof(out));
	return err ? -EIO : 0;
}

/*
 * Set up r for the TLS 1.2 suite `suite` (protocol id, see the table)
 * from the session's master secret (ms_len bytes, 48) and the two hello
 * randoms (32 bytes each), with the cipher and PRF digest of algs
 * (borrowed; NULL: the default set): keys and IVs of both directions for
 * a server (read = client_write, write = server_write), sequence numbers
 * 0 (the caller sets them). Refuses with -EINVAL an unknown suite or a
 * wrong length, -ENOENT when algs lacks the cipher or digest, -EIO when
 * OpenSSL cannot derive (r is wiped then). r is zeroed first. Thread: the
 * owner of r.
 */
int stls__rec12_init(struct stls_rec13 *r, uint16_t suite,
		     const struct stls_rec_algs *algs,
		     const unsigned char *ms, size_t ms_len,
		     const unsigned char *client_random,
		     const unsigned char *server_random)
{
	unsigned char kb[2 * 32 + 2 * 12];
	const struct suite12 *s;
	int i = suite_index(suite);
	size_t kl, il;

	memset(r, 0, sizeof(*r));
	if (i < 0 || ms_len != 48) {
		return -EINVAL;
	}
	s = &suites[i];
	if (stls__rec_algs_take(r, algs, s->cipher, s->prf) != 0) {
		return -ENOENT;
	}
	kl = s->key_len;
	il = s->iv_len;
	if (key_block(r->md, ms, ms_len, client_random, server_random, kb,
		      2 * kl + 2 * il) != 0) {
		OPENSSL_cleanse(kb, sizeof(kb));
		stls__rec13_fini(r);
		return -EIO;
	}
	memcpy(r->rd.key, kb, kl);
	memcpy(r->wr.key, kb + kl, kl);
	memcpy(r->rd.iv, kb + 2 * kl, il);
	memcpy(r->wr.iv, kb + 2 * kl + il, il);
	OPENSSL_cleanse(kb, sizeof(kb));
	r->v12 = true;
	r->suite = (unsigned char)i;
	r->max_frag = STLS_REC13_MAX_PLAIN;
	r->rd_max = STLS_REC13_MAX_PLAIN;
	return 0;
}

static bool is_gcm(const struct stls_rec13 *r)
{
	return suites[r->suite].iv_len == 4;
}

/*
 * True when the key of one direction may protect no more application
 * data: AES-GCM keys are good for STLS_REC12_GCM_MAX_RECORDS records and
 * TLS 1.2 has no KeyUpdate. For our write key one record is kept for the
 * close_notify. Always false for ChaCha20-Poly1305 and TLS 1.3. Any
 * thread that may read r.
 */
bool stls__rec12_key_used_up(const struct stls_rec13 *r, bool write)
{
	if (!r->v12 || !is_gcm(r)) {
		return false;
	}
	return write ? r->wr.seq >= STLS_REC12_GCM_MAX_RECORDS - 1
		     : r->rd.seq >= STLS_REC12_GCM_MAX_RECORDS;
}

static void put64(unsigned char *p, uint64_t v)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		p[i] = (unsigned char)(v >> (56 - 8 * i));
	}
}

/*
 * The direction's context, keyed, with the nonce of record d->seq: for
 * GCM salt || explicit (8 bytes), for ChaCha20 iv XOR seq.
 */
static EVP_CIPHER_CTX *dir_ctx(const struct stls_rec13 *r,
			       struct stls_rec13_dir *d, bool enc,
			       const unsigned char *explicit)
{
	const EVP_CIPHER *c = r->cipher;
	unsigned char nonce[12];
	EVP_CIPHER_CTX *x;

	if (!is_gcm(r)) {
		return stls__rec_dir_ctx(d, c, enc, NULL, true);
	}
	memcpy(nonce, d->iv, 4);
	memcpy(nonce + 4, explicit, EXPLICIT);
	x = stls__rec_dir_ctx(d, c, enc, nonce, false);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return x;
}

static void aad(unsigned char *a, uint64_t seq, unsigned char type,
		size_t n)
{
	put64(a, seq);
	a[8] = type;
	a[9] = 3;
	a[10] = 3;
	a[11] = (unsigned char)(n >> 8);
	a[12] = (unsigned char)n;
}

/* rec13.c's stls__rec13_seal() for a TLS 1.2 connection. */
ssize_t stls__rec12_seal(struct stls_rec13 *r, unsigned char type,
			 const void *data, size_t n, unsigned char *out)
{
	size_t ex = is_gcm(r) ? EXPLICIT : 0, body = ex + n + STLS_REC13_TAG;
	unsigned char ad[13];
	EVP_CIPHER_CTX *x;
	int l1 = 0, l2 = 0, l3 = 0;

	if (n > STLS_REC13_MAX_PLAIN) {
		return -EINVAL;
	}
	if (r->wr.seq == UINT64_MAX) {
		return -EOVERFLOW;
	}
	out[0] = type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	put64(out + 5, r->wr.seq); /* the explicit nonce (GCM only) */
	aad(ad, r->wr.seq, type, n);
	x = dir_ctx(r, &r->wr, true, out + 5);
	if (!x || EVP_EncryptUpdate(x, NULL, &l1, ad, sizeof(ad)) != 1 ||
	    (n && EVP_EncryptUpdate(x, out + 5 + ex, &l2, data, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(x, out + 5 + ex + l2, &l3) != 1 ||
	    (size_t)(l2 + l3) != n ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, STLS_REC13_TAG,
				out + 5 + ex + n) != 1) {
		return -EIO;
	}
	r->wr.seq++;
	return (ssize_t)(5 + body);
}

/*
 * The header check for TLS 1.2 (stls__rec13_check_header()'s twin): the
 * version must be 0x0303 (-EPROTONOSUPPORT: protocol_version, as OpenSSL
 * answers), the length at most 2^14 + 2048 (-EMSGSIZE, record_overflow).
 * Every content type is decrypted first, as every record after
 * change_cipher_spec is protected (RFC 5246 section 6.2.3): a plaintext
 * change_cipher_spec fails authentication, an authentic one is the
 * engine's unexpected_message.
 */
int stls__rec12_check_header(const unsigned char *h, size_t *body_len)
{
	*body_len = ((size_t)h[3] << 8) | h[4];
	if (h[1] != 3 || h[2] != 3) {
		return -EPROTONOSUPPORT;
	}
	if (*body_len > STLS_REC13_MAX_PLAIN + 2048) {
		return -EMSGSIZE;
	}
	return 0;
}

/*
 * rec13.c's stls__rec13_open() for TLS 1.2: *type is the header's type.
 * -EBADMSG for a failed authentication or a record too short for nonce
 * and tag, -EMSGSIZE for an authentic record of more than 2^14 plaintext
 * bytes (the sequence number advanced).
 */
int stls__rec12_open(struct stls_rec13 *r, const unsigned char *rec,
		     size_t len, unsigned char *pt, size_t *pt_len,
		     unsigned char *type)
{
	size_t ex = is_gcm(r) ? EXPLICIT : 0, clen;
	unsigned char ad[13];
	EVP_CIPHER_CTX *x;

	*pt_len = 0;
	if (len < 5 + ex + STLS_REC13_TAG) {
		return -EBADMSG;
	}
	if (r->rd.seq == UINT64_MAX) {
		return -EOVERFLOW;
	}
	clen = len - 5 - ex - STLS_REC13_TAG;
	aad(ad, r->rd.seq, rec[0], clen);
	x = dir_ctx(r, &r->rd, false, rec + 5);
	if (!x) {
		return -EIO;
	}
	/* Authentication first: only a record that decrypts can be too
	 * long (RFC 5246 section 6.2.3, record_overflow). */
	if (stls__rec_aead_open(x, ad, sizeof(ad), rec + 5 + ex, clen, pt) !=
	    0) {
		return -EBADMSG;
	}
	r->rd.seq++;
	if (clen > STLS_REC13_MAX_PLAIN) {
		OPENSSL_cleanse(pt, clen);
		return -EMSGSIZE;
	}
	*type = rec[0];
	*pt_len = clen;
	return 0;
}
