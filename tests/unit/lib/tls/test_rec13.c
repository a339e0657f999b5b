/*
 * Unit tests for lib/tls/rec13.c: TLS 1.3 record protection checked
 * against the RFC 8448 section 3 trace (traffic secrets -> keys and IVs,
 * the client's and the server's first application data records), round
 * trips in all three suites, key updates, padding, and every refusal
 * (bad header, forged tag, short record, no content type). The engine
 * side (hand-off, KeyUpdate messages, alerts) is in test_conn_rec13.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "test.h"
#include "tls/tls_int.h"

/* Allocation failure injection needs OpenSSL's allocator from the start. */
__attribute__((constructor)) static void install_alloc_fail(void)
{
	(void)af_install();
}

/* RFC 8448 section 3 (simple 1-RTT handshake, TLS_AES_128_GCM_SHA256). */
static const char c_ap[] = "9e40646ce79a7f9dc05af8889bce6552"
			   "875afa0b06df0087f792ebb7c17504a5";
static const char s_ap[] = "a11af9f05531f856ad47116b45a95032"
			   "8204b4f44bfb6b3a4b4f1f3fcb631643";
static const char c_key[] = "17422dda596ed5d9acd890e3c63f5051";
static const char c_iv[] = "5b78923dee08579033e523d9";
static const char s_key[] = "9f02283b6c9c07efc26bb9f2ac92e356";
static const char s_iv[] = "cf782b88dd83549aadf1e984";
/* The server's first application record (seq 1: the ticket was 0). */
static const char s_rec[] = "17030300432e937e11ef4ac740e538ad36005fc4a46932fc"
			    "3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8"
			    "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d";
/* The client's first application record (seq 0). */
static const char c_rec[] = "1703030043a23f7054b62c94d0affafe8228ba55cbefacea"
			    "42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b"
			    "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";

static size_t unhex(const char *s, unsigned char *out)
{
	size_t n = strlen(s) / 2, i;

	for (i = 0; i < n; i++) {
		unsigned v;

		CHECK(sscanf(s + 2 * i, "%2x", &v) == 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

static void check_hex(const unsigned char *got, const char *want)
{
	unsigned char w[512];
	size_t n = unhex(want, w);

	CHECK(memcmp(got, w, n) == 0);
}

/* The server's view of the RFC 8448 connection. */
static void rfc_server(struct stls_rec13 *r)
{
	unsigned char rd[32], wr[32];

	CHECK_EQ(unhex(c_ap, rd), 32);
	CHECK_EQ(unhex(s_ap, wr), 32);
	CHECK_OK(stls__rec13_init(r, 0x1301, NULL, rd, wr, 32));
}

TEST(rfc8448_keys_and_ivs)
{
	struct stls_rec13 r;

	rfc_server(&r);
	check_hex(r.rd.key, c_key);
	check_hex(r.rd.iv, c_iv);
	check_hex(r.wr.key, s_key);
	check_hex(r.wr.iv, s_iv);
	CHECK_EQ(r.rd.seq, 0);
	CHECK_EQ(r.wr.seq, 0);
	stls__rec13_fini(&r);
}

TEST(rfc8448_server_record_sealed_bit_exact)
{
	unsigned char pt[50], out[50 + STLS_REC13_OVERHEAD], want[128];
	struct stls_rec13 r;
	size_t i, n;

	for (i = 0; i < sizeof(pt); i++) {
		pt[i] = (unsigned char)i;
	}
	rfc_server(&r);
	r.wr.seq = 1;
	n = unhex(s_rec, want);
	CHECK_EQ(stls__rec13_seal(&r, 23, pt, sizeof(pt), out), (long)n);
	CHECK(memcmp(out, want, n) == 0);
	CHECK_EQ(r.wr.seq, 2);
	stls__rec13_fini(&r);
}

TEST(rfc8448_client_record_opened)
{
	unsigned char rec[128], pt[128], type = 0;
	struct stls_rec13 r;
	size_t n, got = 0, i, body;

	rfc_server(&r);
	n = unhex(c_rec, rec);
	CHECK_OK(stls__rec13_check_header(rec, &body));
	CHECK_EQ(body + 5, n);
	CHECK_OK(stls__rec13_open(&r, rec, n, pt, &got, &type));
	CHECK_EQ(type, 23);
	CHECK_EQ(got, 50);
	for (i = 0; i < got; i++) {
		CHECK_EQ(pt[i], i);
	}
	CHECK_EQ(r.rd.seq, 1);
	/* The same record again is out of sequence: refused. */
	CHECK_EQ(stls__rec13_open(&r, rec, n, pt, &got, &type), -EBADMSG);
	stls__rec13_fini(&r);
}

/* Two ends of one connection: a's writes are b's reads. */
static void pair13(uint16_t suite, struct stls_rec13 *a, struct stls_rec13 *b)
{
	unsigned char s1[48], s2[48];
	size_t len = stls__rec13_hash_len(suite), i;

	CHECK(len == 32 || len == 48);
	for (i = 0; i < sizeof(s1); i++) {
		s1[i] = (unsigned char)(i * 3 + 1);
		s2[i] = (unsigned char)(i * 5 + 2);
	}
	CHECK_OK(stls__rec13_init(a, suite, NULL, s1, s2, len));
	CHECK_OK(stls__rec13_init(b, suite, NULL, s2, s1, len));
}

static void round_trip(struct stls_rec13 *a, struct stls_rec13 *b,
		       unsigned char type, size_t n)
{
	static unsigned char pt[STLS_REC13_MAX_PLAIN], back[STLS_REC13_MAX_PLAIN + 1];
	static unsigned char rec[STLS_REC13_MAX_PLAIN + STLS_REC13_OVERHEAD];
	unsigned char t = 0;
	size_t i, got = 0;
	ssize_t k;

	for (i = 0; i < n; i++) {
		pt[i] = (unsigned char)(i ^ n);
	}
	k = stls__rec13_seal(a, type, pt, n, rec);
	CHECK_EQ(k, (long)(n + STLS_REC13_OVERHEAD));
	CHECK_OK(stls__rec13_open(b, rec, (size_t)k, back, &got, &t));
	CHECK_EQ(t, type);
	CHECK_EQ(got, n);
	CHECK(memcmp(pt, back, n) == 0);
}

TEST(round_trip_all_suites_and_sizes)
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303 };
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 200, 4096,
					STLS_REC13_MAX_PLAIN };
	struct stls_rec13 a, b;
	size_t i, j;

	for (i = 0; i < STLS_ARRAY_SIZE(suites); i++) {
		pair13(suites[i], &a, &b);
		for (j = 0; j < STLS_ARRAY_SIZE(sizes); j++) {
			round_trip(&a, &b, 23, sizes[j]);
			round_trip(&b, &a, 22, sizes[j] ? sizes[j] : 1);
		}
		/* Idle between records: new contexts, same stream. */
		stls__rec13_idle(&a);
		stls__rec13_idle(&b);
		CHECK_NULL(a.wr.ctx);
		round_trip(&a, &b, 23, 200);
		CHECK_EQ(a.wr.seq, STLS_ARRAY_SIZE(sizes) + 1);
		stls__rec13_fini(&a);
		stls__rec13_fini(&b);
	}
}

TEST(key_update_keeps_both_ends_in_step)
{
	struct stls_rec13 a, b;
	unsigned char old[32];
	int i;

	pair13(0x1303, &a, &b);
	for (i = 0; i < 5; i++) {
		memcpy(old, a.wr.key, sizeof(old));
		round_trip(&a, &b, 23, 100);
		CHECK_OK(stls__rec13_update(&a, true));
		CHECK_OK(stls__rec13_update(&b, false));
		CHECK_EQ(a.wr.seq, 0);
		CHECK(memcmp(old, a.wr.key, sizeof(old)) != 0);
		round_trip(&a, &b, 23, 100);
		round_trip(&b, &a, 23, 100);
	}
	/* Only one end updated: the next record fails authentication. */
	{
		unsigned char rec[64], pt[64], t;
		size_t got;
		ssize_t k;

		CHECK_OK(stls__rec13_update(&a, true));
		k = stls__rec13_seal(&a, 23, "x", 1, rec);
		CHECK(k > 0);
		CHECK_EQ(stls__rec13_open(&b, rec, (size_t)k, pt, &got, &t),
			 -EBADMSG);
	}
	stls__rec13_fini(&a);
	stls__rec13_fini(&b);
}

/* Padding is accepted: the sender's content ends in type 23 + zeros. */
TEST(padding_accepted_and_missing_type_refused)
{
	static const unsigned char padded[] = { 'h', 'i', 23, 0, 0, 0, 0 };
	unsigned char rec[64], pt[64], t = 0;
	struct stls_rec13 a, b;
	size_t got = 0;
	ssize_t k;

	pair13(0x1301, &a, &b);
	/* Inner type 0 (none) appended to content that carries its own. */
	k = stls__rec13_seal(&a, 0, padded, sizeof(padded), rec);
	CHECK(k > 0);
	CHECK_OK(stls__rec13_open(&b, rec, (size_t)k, pt, &got, &t));
	CHECK_EQ(t, 23);
	CHECK_EQ(got, 2);
	CHECK(memcmp(pt, "hi", 2) == 0);
	/* All zeros: no content type at all. */
	k = stls__rec13_seal(&a, 0, padded + 3, 4, rec);
	CHECK_EQ(stls__rec13_open(&b, rec, (size_t)k, pt, &got, &t), -EPROTO);
	stls__rec13_fini(&a);
	stls__rec13_fini(&b);
}

TEST(bad_records_refused)
{
	unsigned char rec[64], pt[64], t;
	struct stls_rec13 a, b;
	size_t got, body;
	ssize_t k;

	pair13(0x1302, &a, &b);
	CHECK_EQ(stls__rec13_seal(&a, 23, rec, STLS_REC13_MAX_PLAIN + 1, rec),
		 -EINVAL);
	k = stls__rec13_seal(&a, 23, "abc", 3, rec);
	CHECK_EQ(k, 3 + STLS_REC13_OVERHEAD);
	rec[7] ^= 1; /* forged ciphertext */
	CHECK_EQ(stls__rec13_open(&b, rec, (size_t)k, pt, &got, &t), -EBADMSG);
	CHECK_EQ(stls__rec13_open(&b, rec, 5 + 16, pt, &got, &t), -EBADMSG);
	memcpy(rec, "\x16\x03\x03\x00\x20", 5);
	CHECK_EQ(stls__rec13_check_header(rec, &body), -EPROTO);
	memcpy(rec, "\x17\x03\x03\x41\x01", 5);
	CHECK_EQ(stls__rec13_check_header(rec, &body), -EMSGSIZE);
	memcpy(rec, "\x17\x03\x03\x41\x00", 5);
	CHECK_OK(stls__rec13_check_header(rec, &body));
	CHECK_EQ(body, STLS_REC13_MAX_PLAIN + 256);
	/* Unknown suite, wrong secret length. */
	stls__rec13_fini(&a);
	CHECK_EQ(stls__rec13_init(&a, 0x1304, NULL, pt, pt, 32), -EINVAL);
	CHECK_EQ(stls__rec13_init(&a, 0x1302, NULL, pt, pt, 32), -EINVAL);
	CHECK_EQ(stls__rec13_hash_len(0x1305), 0);
	stls__rec13_fini(&b);
}

TEST(record_counter_any_split)
{
	unsigned char stream[3 * 40];
	struct stls_rec13_count k;
	size_t i;

	for (i = 0; i < 3; i++) {
		unsigned char *r = stream + 40 * i;

		memset(r, 0xaa, 40);
		memcpy(r, "\x17\x03\x03\x00\x23", 5);
	}
	memset(&k, 0, sizeof(k));
	stls__rec13_count(&k, stream, sizeof(stream));
	CHECK_EQ(k.records, 3);
	memset(&k, 0, sizeof(k));
	for (i = 0; i < sizeof(stream) - 1; i++) {
		stls__rec13_count(&k, stream + i, 1);
	}
	CHECK_EQ(k.records, 2);
	CHECK(k.left == 1 && k.have == 0);
	stls__rec13_count(&k, stream + i, 1);
	CHECK_EQ(k.records, 3);
	CHECK(k.left == 0 && k.have == 0);
}

/* Sequence numbers never wrap (RFC 8446 section 5.3): the last one is
 * never used, both ways, and nothing changes when refused. */
TEST(sequence_wrap_refused)
{
	unsigned char rec[64], pt[64], t = 0;
	struct stls_rec13 a, b;
	size_t got = 0;
	ssize_t k;

	pair13(0x1303, &a, &b);
	a.wr.seq = UINT64_MAX - 1;
	b.rd.seq = UINT64_MAX - 1;
	k = stls__rec13_seal(&a, 23, "z", 1, rec);
	CHECK(k > 0);
	CHECK_OK(stls__rec13_open(&b, rec, (size_t)k, pt, &got, &t));
	CHECK_EQ(a.wr.seq, UINT64_MAX);
	CHECK_EQ(b.rd.seq, UINT64_MAX);
	CHECK_EQ(stls__rec13_seal(&a, 23, "z", 1, rec), -EOVERFLOW);
	CHECK_EQ(a.wr.seq, UINT64_MAX);
	/* Any record, even one that would authenticate, is refused. */
	CHECK_EQ(stls__rec13_open(&b, rec, (size_t)k, pt, &got, &t),
		 -EOVERFLOW);
	CHECK_EQ(b.rd.seq, UINT64_MAX);
	/* A key update starts a new sequence. */
	CHECK_OK(stls__rec13_update(&a, true));
	CHECK_OK(stls__rec13_update(&b, false));
	round_trip(&a, &b, 23, 5);
	stls__rec13_fini(&a);
	stls__rec13_fini(&b);
}

/*
 * Seal an arbitrary TLSInnerPlaintext (content, type and padding already
 * laid out by the caller) with AES-128-GCM under r's write key, which
 * stls__rec13_seal() cannot do for more than 2^14 + 1 bytes.
 */
static size_t seal_inner(struct stls_rec13 *r, const unsigned char *in,
			 size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	unsigned char nonce[12];
	size_t body = n + STLS_REC13_TAG, i;
	int l = 0;

	memcpy(nonce, r->wr.iv, sizeof(nonce));
	for (i = 0; i < 8; i++) {
		nonce[11 - i] ^= (unsigned char)(r->wr.seq >> (8 * i));
	}
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	CHECK(x != NULL);
	CHECK(EVP_EncryptInit_ex2(x, EVP_aes_128_gcm(), r->wr.key, nonce,
				  NULL) == 1);
	CHECK(EVP_EncryptUpdate(x, NULL, &l, out, 5) == 1);
	CHECK(EVP_EncryptUpdate(x, out + 5, &l, in, (int)n) == 1);
	CHECK(EVP_EncryptFinal_ex(x, out + 5 + l, &l) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, STLS_REC13_TAG,
				  out + 5 + n) == 1);
	EVP_CIPHER_CTX_free(x);
	r->wr.seq++;
	return 5 + body;
}

/* TLSInnerPlaintext is at most 2^14 + 1 bytes, padding included (RFC
 * 8446 section 5.4): one more is record_overflow even when the content
 * itself is no longer than 2^14. */
TEST(inner_plaintext_limit_counts_padding)
{
	static unsigned char in[STLS_REC13_MAX_PLAIN + 2];
	static unsigned char rec[sizeof(in) + 5 + STLS_REC13_TAG];
	static unsigned char pt[sizeof(in)];
	struct stls_rec13 a, b;
	unsigned char t = 0;
	size_t k, got = 0;

	pair13(0x1301, &a, &b);
	memset(in, 'a', STLS_REC13_MAX_PLAIN);
	in[STLS_REC13_MAX_PLAIN] = 23;
	in[STLS_REC13_MAX_PLAIN + 1] = 0;
	/* 2^14 content + type: the largest legal record. */
	k = seal_inner(&a, in, STLS_REC13_MAX_PLAIN + 1, rec);
	CHECK_OK(stls__rec13_open(&b, rec, k, pt, &got, &t));
	CHECK(t == 23 && got == STLS_REC13_MAX_PLAIN);
	/* The same with one byte of padding. */
	k = seal_inner(&a, in, STLS_REC13_MAX_PLAIN + 2, rec);
	CHECK_EQ(stls__rec13_open(&b, rec, k, pt, &got, &t), -EMSGSIZE);
	/* Less content, padded up to the limit: fine. */
	in[100] = 23;
	memset(in + 101, 0, STLS_REC13_MAX_PLAIN + 1 - 101);
	k = seal_inner(&a, in, STLS_REC13_MAX_PLAIN + 1, rec);
	CHECK_OK(stls__rec13_open(&b, rec, k, pt, &got, &t));
	CHECK(t == 23 && got == 100);
	stls__rec13_fini(&a);
	stls__rec13_fini(&b);
}

/*
 * A key update that fails (one failed allocation anywhere in the
 * derivation) must never leave the direction usable: before the fix the
 * write side kept its old key and IV with the sequence number reset to 0,
 * so the next record (the engine's internal_error alert) reused a nonce.
 * Each allocation of the update fails in turn; afterwards every seal and
 * open of that direction is refused, and the other direction still works.
 */
TEST(failed_key_update_poisons_the_direction)
{
	unsigned char rec[64], pt[64], t = 0;
	unsigned long n, i;
	int write;

	CHECK(af_installed);
	for (write = 1; write >= 0; write--) {
		struct stls_rec13 a, b;

		pair13(0x1302, &a, &b);
		af_arm(0);
		CHECK_OK(stls__rec13_update(write ? &a : &b, write));
		n = af_seen();
		af_disarm();
		CHECK(n > 0);
		stls__rec13_fini(&a);
		stls__rec13_fini(&b);
		for (i = 1; i <= n; i++) {
			size_t got = 0;
			ssize_t k;
			int err;

			pair13(0x1302, &a, &b);
			round_trip(&a, &b, 23, 10);
			af_arm(i);
			err = stls__rec13_update(write ? &a : &b, write);
			af_disarm();
			CHECK(af_failed());
			CHECK_NE(err, 0);
			if (write) {
				CHECK(stls__rec13_seal(&a, 21, "\x02\x50", 2,
						       rec) < 0);
				CHECK(stls__rec13_seal(&a, 23, "x", 1, rec) <
				      0);
			} else {
				k = stls__rec13_seal(&a, 23, "x", 1, rec);
				CHECK(k > 0);
				CHECK(stls__rec13_open(&b, rec, (size_t)k, pt,
						       &got, &t) < 0);
			}
			/* The other direction is untouched. */
			round_trip(&b, &a, 23, 10);
			stls__rec13_fini(&a);
			stls__rec13_fini(&b);
		}
	}
}
