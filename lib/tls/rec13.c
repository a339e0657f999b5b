/*
 * TLS 1.3 record protection (RFC 8446 section 5) for the three AEAD suites
 * OpenSSL enables by default: TLS_AES_128_GCM_SHA256 (0x1301),
 * TLS_AES_256_GCM_SHA384 (0x1302) and TLS_CHACHA20_POLY1305_SHA256
 * (0x1303). The engine hands an established server connection over to it
 * and frees the SSL (docs/engine.md, "Record hand-off after TLS 1.3
 * handshakes"); this file knows nothing about the engine.
 *
 * A record is the 5-byte header (type 23, 0x0303, length) followed by the
 * AEAD output of TLSInnerPlaintext = content || content type || zeros,
 * with the header as additional data and nonce = iv XOR the 64-bit
 * sequence number (section 5.3). Keys and IVs come from the traffic secret
 * through HKDF-Expand-Label (section 7.1, 7.3); a KeyUpdate replaces the
 * secret with HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)
 * (section 7.2). We write no padding and accept any on read.
 *
 * EVP contexts: one per direction, made at the first record and released
 * by stls__rec13_idle(), which the engine calls at the end of every call,
 * so an idle connection holds none (costs measured in docs/engine.md).
 * Algorithms (ciphers, digests) come fetched with the handshake's library
 * context and property query (rec_algs.c; the record state holds a
 * reference on its cipher and digest); HMAC is computed on the fetched
 * digest. Secrets, keys and IVs are wiped
 * with OPENSSL_cleanse() and never logged.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct suite {
	uint16_t id;
	unsigned char key_len;
	unsigned char hash_len;
	enum stls_rec_cipher cipher;
	enum stls_rec_md md;
};

static const struct suite suites[] = {
	{ 0x1301, 16, 32, STLS_REC_AES128_GCM, STLS_REC_SHA256 },
	{ 0x1302, 32, 48, STLS_REC_AES256_GCM, STLS_REC_SHA384 },
	{ 0x1303, 32, 32, STLS_REC_CHACHA20_POLY1305, STLS_REC_SHA256 },
};

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

/* Hash length of a supported suite, or 0. Any thread. */
size_t stls__rec13_hash_len(uint16_t suite)
{
	int i = suite_index(suite);

	return i < 0 ? 0 : suites[i].hash_len;
}

/*
 * HKDF-Expand-Label(secret, label, "", out_len) with the suite's hash
 * (RFC 8446 section 7.1). Every length used here fits one HKDF-Expand
 * block (out_len <= Hash.length): T(1) = HMAC(secret, info || 0x01).
 * Returns 0 or -EIO.
 */
static int expand_label(const struct suite *s, const EVP_MD *md,
			const unsigned char *secret, const char *label,
			unsigned char *out, size_t out_len)
{
	unsigned char info[2 + 1 + 255 + 1 + 1], t[EVP_MAX_MD_SIZE];
	size_t ll = strlen("tls13 ") + strlen(label), n = 0;
	int err;

	if (!md || out_len > s->hash_len) {
		return -EIO;
	}
	info[n++] = (unsigned char)(out_len >> 8);
	info[n++] = (unsigned char)out_len;
	info[n++] = (unsigned char)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ll - 6);
	n += ll;
	info[n++] = 0; /* empty context */
	info[n++] = 1; /* HKDF-Expand counter of T(1) */
	err = stls__rec_hmac(md, secret, s->hash_len, info, n, t);
	if (!err) {
		memcpy(out, t, out_len);
	}
	OPENSSL_cleanse(t, sizeof(t));
	return err;
}

/*
 * The key and IV of a traffic secret into key[s->key_len] and iv[12].
 * Nothing else changes. Returns 0 or -EIO.
 */
static int derive_keys(const struct suite *s, const EVP_MD *md,
		       const unsigned char *secret, unsigned char *key,
		       unsigned char *iv)
{
	if (expand_label(s, md, secret, "key", key, s->key_len) != 0 ||
	    expand_label(s, md, secret, "iv", iv, 12) != 0) {
		return -EIO;
	}
	return 0;
}

/*
 * Put the direction out of use for good: keys wiped, context released,
 * `dead` set so that every later seal or open refuses (a failed key
 * change must never fall back to a key and sequence number in use).
 */
static void dir_poison(struct stls_rec13_dir *d)
{
	EVP_CIPHER_CTX_free(d->ctx);
	d->ctx = NULL;
	OPENSSL_cleanse(d, sizeof(*d));
	d->dead = true;
}

/*
 * Install secret (s->hash_len bytes) in d: its key and IV are derived into
 * temporaries first and the direction changes only once all succeeded
 * (secret, key, IV, sequence 0, no context). On failure d is poisoned.
 */
static int dir_install(const struct suite *s, const EVP_MD *md,
		       struct stls_rec13_dir *d, const unsigned char *secret)
{
	unsigned char key[sizeof(d->key)], iv[sizeof(d->iv)];
	int err = derive_keys(s, md, secret, key, iv);

	if (err) {
		dir_poison(d);
	} else {
		EVP_CIPHER_CTX_free(d->ctx);
		d->ctx = NULL;
		memmove(d->secret, secret, s->hash_len);
		memcpy(d->key, key, sizeof(key));
		memcpy(d->iv, iv, sizeof(iv));
		d->seq = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	return err;
}

/*
 * Set up r for suite (0x1301..0x1303) from the two application traffic
 * secrets (len bytes each = the suite's hash length), with the cipher and
 * digest of algs (borrowed; NULL: the default set): keys and IVs are
 * derived, sequence numbers start at 0. Refuses with -EINVAL an unknown
 * suite or a wrong length, -ENOENT when algs lacks the suite's cipher or
 * digest, -EIO when OpenSSL cannot derive (r is wiped then). r is zeroed
 * first. Thread: the owner of r.
 */
int stls__rec13_init(struct stls_rec13 *r, uint16_t suite,
		     const struct stls_rec_algs *algs,
		     const unsigned char *rd_secret,
		     const unsigned char *wr_secret, size_t len)
{
	int i = suite_index(suite);

	memset(r, 0, sizeof(*r));
	if (i < 0 || len != suites[i].hash_len) {
		return -EINVAL;
	}
	if (stls__rec_algs_take(r, algs, suites[i].cipher, suites[i].md)) {
		return -ENOENT;
	}
	r->suite = (unsigned char)i;
	r->max_frag = STLS_REC13_MAX_PLAIN;
	r->rd_max = STLS_REC13_MAX_PLAIN;
	if (dir_install(&suites[i], r->md, &r->rd, rd_secret) != 0 ||
	    dir_install(&suites[i], r->md, &r->wr, wr_secret) != 0) {
		stls__rec13_fini(r);
		return -EIO;
	}
	return 0;
}

/*
 * KeyUpdate (RFC 8446 section 4.6.3, 7.2): the next secret of one
 * direction, new key and IV, sequence number back to 0, all or nothing.
 * Returns 0, or -EIO when a derivation fails (usually out of memory): the
 * direction is poisoned then (every later seal or open of it is refused
 * with -EKEYREVOKED), so it can never reuse a nonce under its old key.
 * Thread: the owner of r.
 */
int stls__rec13_update(struct stls_rec13 *r, bool write)
{
	const struct suite *s = &suites[r->suite];
	struct stls_rec13_dir *d = write ? &r->wr : &r->rd;
	unsigned char next[STLS_REC13_MAX_SECRET];
	int err;

	if (d->dead) {
		return -EIO;
	}
	err = expand_label(s, r->md, d->secret, "traffic upd", next,
			   s->hash_len);
	if (err) {
		dir_poison(d);
	} else {
		err = dir_install(s, r->md, d, next);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return err;
}

/* The direction's context, keyed, with the nonce for its next record. */
static EVP_CIPHER_CTX *dir_ctx(const struct stls_rec13 *r,
			       struct stls_rec13_dir *d, bool enc)
{
	return stls__rec_dir_ctx(d, r->cipher, enc, NULL, true);
}

/*
 * Protect one record: content type `type` (21 alert, 22 handshake, 23
 * application data) with n <= STLS_REC13_MAX_PLAIN content bytes, written
 * as a whole record (header included) to out, which must have room for
 * n + STLS_REC13_OVERHEAD bytes. The write sequence number advances.
 * Returns the record length, -EINVAL for n too large, -EKEYREVOKED when
 * the direction was poisoned by a failed key update, -EOVERFLOW when the
 * sequence number is exhausted (section 5.3: never wrap; update the key
 * first), -EIO when OpenSSL fails (usually out of memory; nothing was
 * written and the sequence number did not advance). Thread: the owner of
 * r.
 */
ssize_t stls__rec13_seal(struct stls_rec13 *r, unsigned char type,
			 const void *data, size_t n, unsigned char *out)
{
	size_t body = n + 1 + STLS_REC13_TAG;
	EVP_CIPHER_CTX *x;
	int l1 = 0, l2 = 0, l3 = 0, l4 = 0;

	if (r->v12) {
		return stls__rec12_seal(r, type, data, n, out);
	}
	if (n > STLS_REC13_MAX_PLAIN) {
		return -EINVAL;
	}
	if (r->wr.dead) {
		return -EKEYREVOKED;
	}
	if (r->wr.seq == UINT64_MAX) {
		return -EOVERFLOW;
	}
	x = dir_ctx(r, &r->wr, true);
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	if (!x || EVP_EncryptUpdate(x, NULL, &l1, out, 5) != 1 ||
	    (n && EVP_EncryptUpdate(x, out + 5, &l2, data, (int)n) != 1) ||
	    EVP_EncryptUpdate(x, out + 5 + l2, &l3, &type, 1) != 1 ||
	    EVP_EncryptFinal_ex(x, out + 5 + l2 + l3, &l4) != 1 ||
	    (size_t)(l2 + l3 + l4) != n + 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, STLS_REC13_TAG,
				out + 5 + n + 1) != 1) {
		return -EIO;
	}
	r->wr.seq++;
	return (ssize_t)(5 + body);
}

/*
 * Check a record header (5 bytes): *body_len is set to its length field.
 * Returns 0, -EPROTO when the outer type is not application_data (23;
 * unexpected_message), -EMSGSIZE when the length passes 2^14 + 256
 * (record_overflow). legacy_record_version is ignored (section 5.1).
 * TLS 1.2: stls__rec12_check_header().
 */
int stls__rec13_check_header(const unsigned char *h, size_t *body_len)
{
	*body_len = ((size_t)h[3] << 8) | h[4];
	if (h[0] != 23) {
		return -EPROTO;
	}
	if (*body_len > STLS_REC13_MAX_PLAIN + 256) {
		return -EMSGSIZE;
	}
	return 0;
}

/*
 * Unprotect one whole record rec[0..len) (header included, already
 * checked): the content goes to pt (room for len - 5 - STLS_REC13_TAG
 * bytes), its length to *pt_len and the inner content type to *type;
 * padding is removed. The read sequence number advances on success.
 * Returns 0, -EBADMSG when authentication fails or the record is too
 * short (bad_record_mac), -EPROTO when the plaintext has no content type
 * (unexpected_message), -EMSGSIZE when TLSInnerPlaintext (content, type
 * and padding) passes 2^14 + 1 bytes (section 5.4; record_overflow),
 * -EOVERFLOW when the read sequence number is exhausted (section 5.3),
 * -EKEYREVOKED after a failed key update, -EIO when OpenSSL fails.
 * pt may overlap nothing. TLS 1.2 (r->v12):
 * stls__rec12_open(), the content type is the header's.
 */
int stls__rec13_open(struct stls_rec13 *r, const unsigned char *rec,
		     size_t len, unsigned char *pt, size_t *pt_len,
		     unsigned char *type)
{
	size_t clen, n;
	EVP_CIPHER_CTX *x;

	if (r->v12) {
		return stls__rec12_open(r, rec, len, pt, pt_len, type);
	}
	*pt_len = 0;
	if (r->rd.dead) {
		return -EKEYREVOKED;
	}
	/* A tag and nothing else may authenticate: then its cleartext has
	 * no content type (below, unexpected_message; section 5.4). */
	if (len < 5 + STLS_REC13_TAG) {
		return -EBADMSG;
	}
	if (r->rd.seq == UINT64_MAX) {
		return -EOVERFLOW;
	}
	clen = len - 5 - STLS_REC13_TAG;
	x = dir_ctx(r, &r->rd, false);
	if (!x) {
		return -EIO;
	}
	if (stls__rec_aead_open(x, rec, 5, rec + 5, clen, pt) != 0) {
		return -EBADMSG;
	}
	r->rd.seq++;
	if (clen > STLS_REC13_MAX_PLAIN + 1) {
		OPENSSL_cleanse(pt, clen);
		return -EMSGSIZE;
	}
	n = clen;
	while (n > 0 && pt[n - 1] == 0) {
		n--;
	}
	if (n == 0) {
		return -EPROTO;
	}
	*type = pt[n - 1];
	*pt_len = n - 1;
	return 0;
}

/*
 * Count whole records in a byte stream written in arbitrary pieces (used
 * to learn how many records OpenSSL wrote under the server's application
 * key before the hand-off).
 */
void stls__rec13_count(struct stls_rec13_count *k, const void *data,
		       size_t n)
{
	const unsigned char *p = data;

	while (n > 0) {
		if (k->left > 0) {
			size_t t = n < k->left ? n : k->left;

			k->left -= t;
			p += t;
			n -= t;
			if (k->left == 0) {
				k->records++;
			}
			continue;
		}
		k->hdr[k->have++] = *p++;
		n--;
		if (k->have == 5) {
			k->have = 0;
			k->left = ((size_t)k->hdr[3] << 8) | k->hdr[4];
			if (k->left == 0) {
				k->records++;
			}
		}
	}
}
