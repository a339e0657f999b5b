/*
 * The negative suite of the record layer after the handshake, run
 * against both layers with the same expectations: the record hand-off
 * (conn_rec13.c, rec13.c, rec13_hs.c, rec12.c) and OpenSSL's own record
 * layer (the engine with keep_ssl). Every alert type and level, empty and
 * padded records of every content type, records at and over every length
 * limit, split and interleaved handshake messages, KeyUpdate in every
 * position, change_cipher_spec and plaintext after the keys, truncation
 * without close_notify, the limits on warnings and empty records, and
 * (hand-off only: OpenSSL's counters cannot be set) sequence number
 * limits, simulated. Allocation failures are in test_rec_oom.c.
 *
 * Where OpenSSL 3.0 answers differently from the RFC, the hand-off's
 * expectation is the RFC's and the kept SSL's is OpenSSL's, and the case
 * says why (its note). Where the RFC leaves the answer open, both follow
 * OpenSSL. STLS_NEG_TABLE=1 prints every case with both answers.
 */
#include "lib/tls/neg_suite.h"

#define REC(t, s) { .k = O_REC, .type = t, .d = s, .len = sizeof(s) - 1 }
#define PAD(t, s, p) \
	{ .k = O_REC, .type = t, .d = s, .len = sizeof(s) - 1, .pad = p }
#define TRUNC(t, s, c)                                                 \
	{ .k = O_REC, .type = t, .d = s, .len = sizeof(s) - 1, .cut = c, \
	  .trunc = true }
#define REP(t, s, r) \
	{ .k = O_REC, .type = t, .d = s, .len = sizeof(s) - 1, .rep = (r) - 1 }
#define BIG(t, n) { .k = O_REC, .type = t, .len = n }
#define BIGPAD(t, n, p) { .k = O_REC, .type = t, .len = n, .pad = p }
#define INNER(s) { .k = O_REC, .d = s, .len = sizeof(s) - 1, .noty = true }
#define VER(t, s, v) \
	{ .k = O_REC, .type = t, .d = s, .len = sizeof(s) - 1, .hver = v }
#define RAW(s) { .k = O_RAW, .d = s, .len = sizeof(s) - 1 }
#define HDR(t, n) { .k = O_HDR, .type = t, .len = n }
#define KU { .k = O_KU }
#define END_OF_INPUT { .k = O_EOF }
#define PUSH(n) { .k = O_PUSH, .len = n }
#define SEQ_RD(v) { .k = O_SEQ_RD, .seq = v }
#define SEQ_WR(v) { .k = O_SEQ_WR, .seq = v }

/* Notes shared by several cases. */
#define ALERT_LEN                                                        \
	"RFC 8446 5.1, 6.2: one alert per record, decode_error for a "    \
	"message of the wrong length; OpenSSL answers unexpected_message"
#define SHORT12                                                          \
	"RFC 5246 6.2.3.3: a record that does not decrypt is "            \
	"bad_record_mac; OpenSSL answers one too short for nonce and tag " \
	"with internal_error"
#define RENEG_NOTE                                                       \
	"client renegotiation refused either way (reason renegotiation); " \
	"the hand-off answers no_renegotiation (RFC 5246 7.2.2), the kept " \
	"SSL lets OpenSSL start the renegotiation (so that the setting "  \
	"decides) and OpenSSL answers the message first"
#define RENEG_WARN \
	{ A_FAILED, STLS_CLOSE_RENEGOTIATION, 1 << 8 | 100, -1 }

#define KU0 "\x18\x00\x00\x01\x00"
#define KU1 "\x18\x00\x00\x01\x01"
#define MAXP 16384

/* TLS 1.3: content types, padding, outer types, versions, lengths. */
static const struct ncase records13[] = {
	{ "application data", 13, 0, false, { REC(23, "hello") },
	  SAME(ALIVE(5)) },
	{ "empty application data", 13, 0, false, { REC(23, "") },
	  SAME(ALIVE(0)) },
	{ "padded application data", 13, 0, false, { PAD(23, "hi", 100) },
	  SAME(ALIVE(2)) },
	{ "padded empty application data", 13, 0, false,
	  { PAD(23, "", 7) }, SAME(ALIVE(0)) },
	{ "inner plaintext of zeros only", 13, 0, false,
	  { INNER("\0\0\0\0") }, SAME(FAILS(UNEXPECTED)) },
	{ "inner plaintext of one zero", 13, 0, false, { INNER("\0") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "empty inner plaintext (tag only)", 13, 0, false, { INNER("") },
	  .ho = FAILS(UNEXPECTED), .ssl = FAILS(BAD_MAC),
	  "RFC 8446 5.4: a cleartext without a non-zero octet is "
	  "unexpected_message; OpenSSL refuses a record shorter than "
	  "tag + 1 before decrypting it" },
	{ "inner change_cipher_spec", 13, 0, false, { REC(20, "\x01") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "empty inner change_cipher_spec", 13, 0, false, { REC(20, "") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "padded inner change_cipher_spec", 13, 0, false,
	  { PAD(20, "\x01", 5) }, SAME(FAILS(UNEXPECTED)) },
	{ "inner type 24 (heartbeat)", 13, 0, false, { REC(24, "\x01") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "inner type 255", 13, 0, false, { REC(255, "x") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "empty alert", 13, 0, false, { REC(21, "") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "padded empty alert", 13, 0, false, { PAD(21, "", 3) },
	  SAME(FAILS(UNEXPECTED)) },
	{ "padded close_notify", 13, 0, false, { PAD(21, "\x01\x00", 9) },
	  SAME(CLOSING) },
	{ "alert of 1 byte", 13, 0, false, { REC(21, "\x02") },
	  .ho = FAILS(DECODE), .ssl = FAILS(UNEXPECTED), ALERT_LEN },
	{ "alert of 3 bytes", 13, 0, false, { REC(21, "\x01\x00\x00") },
	  .ho = FAILS(DECODE), .ssl = FAILS(UNEXPECTED), ALERT_LEN },
	{ "two alerts in one record", 13, 0, false,
	  { REC(21, "\x01\x5a\x01\x5a") }, .ho = FAILS(DECODE),
	  .ssl = FAILS(UNEXPECTED), ALERT_LEN },
	{ "empty handshake record", 13, 0, false, { REC(22, "") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "padded empty handshake record", 13, 0, false, { PAD(22, "", 4) },
	  SAME(FAILS(UNEXPECTED)) },
	{ "plaintext change_cipher_spec", 13, 0, false,
	  { RAW("\x14\x03\x03\x00\x01\x01") }, SAME(FAILS(UNEXPECTED)) },
	{ "plaintext alert", 13, 0, false,
	  { RAW("\x15\x03\x03\x00\x02\x01\x00") }, SAME(FAILS(UNEXPECTED)) },
	{ "plaintext handshake", 13, 0, false,
	  { RAW("\x16\x03\x03\x00\x05" KU0) }, SAME(FAILS(UNEXPECTED)) },
	{ "plaintext application data", 13, 0, false,
	  { RAW("\x17\x03\x03\x00\x05hello") }, SAME(FAILS(BAD_MAC)) },
	{ "outer type 24", 13, 0, false, { RAW("\x18\x03\x03\x00\x01\x01") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "outer type 255", 13, 0, false, { HDR(255, 40) },
	  SAME(FAILS(UNEXPECTED)) },
	{ "garbage application data record", 13, 0, false, { HDR(23, 40) },
	  SAME(FAILS(BAD_MAC)) },
	{ "record of length 0", 13, 0, false, { HDR(23, 0) },
	  SAME(FAILS(BAD_MAC)) },
	{ "record shorter than the tag", 13, 0, false, { HDR(23, 15) },
	  SAME(FAILS(BAD_MAC)) },
	{ "legacy_record_version 0x0301", 13, 0, false,
	  { VER(23, "v", 0x0301) }, .ho = ALIVE(1), .ssl = FAILS(DECODE),
	  "RFC 8446 5.1: legacy_record_version MUST be ignored; OpenSSL "
	  "requires 0x0303" },
	{ "legacy_record_version 0x0304", 13, 0, false,
	  { VER(23, "v", 0x0304) }, .ho = ALIVE(1), .ssl = FAILS(DECODE),
	  "RFC 8446 5.1: legacy_record_version MUST be ignored; OpenSSL "
	  "requires 0x0303" },
	{ "content of 2^14 bytes", 13, 0, false, { BIG(23, MAXP) },
	  SAME(ALIVE(MAXP)) },
	{ "content of 2^14 + 1 bytes", 13, 0, false, { BIG(23, MAXP + 1) },
	  SAME(FAILS(OVERFLOW)) },
	{ "content of 2^14 bytes + 1 byte of padding", 13, 0, false,
	  { BIGPAD(23, MAXP, 1) }, .ho = FAILS(OVERFLOW), .ssl = ALIVE(MAXP),
	  "RFC 8446 5.4: TLSInnerPlaintext, padding included, is at most "
	  "2^14 + 1 bytes; OpenSSL checks the content only" },
	{ "100 bytes padded to 2^14 + 1", 13, 0, false,
	  { BIGPAD(23, 100, MAXP - 100) }, SAME(ALIVE(100)) },
	{ "ciphertext of 2^14 + 256 bytes (garbage)", 13, 0, false,
	  { HDR(23, MAXP + 256) }, SAME(FAILS(BAD_MAC)) },
	{ "ciphertext of 2^14 + 257 bytes", 13, 0, false,
	  { HDR(23, MAXP + 257) }, SAME(FAILS(OVERFLOW)) },
	{ "max_fragment_length 512: 512 bytes", 13, 1, false,
	  { BIG(23, 512) }, SAME(ALIVE(512)) },
	{ "max_fragment_length 512: 513 bytes", 13, 1, false,
	  { BIG(23, 513) }, SAME(FAILS(OVERFLOW)) },
	{ "half a record, then EOF", 13, 0, false,
	  { TRUNC(23, "truncated", 7), END_OF_INPUT }, SAME(EOFED) },
	{ "EOF after a whole record", 13, 0, false,
	  { REC(23, "abc"), END_OF_INPUT }, SAME(EOFED) },
	{ "a header only, then EOF", 13, 0, false,
	  { RAW("\x17\x03\x03\x00\x20"), END_OF_INPUT }, SAME(EOFED) },
	{ "4 user_canceled in a row", 13, 0, false,
	  { REP(21, "\x01\x5a", 4) }, SAME(ALIVE(0)) },
	{ "5 user_canceled in a row", 13, 0, false,
	  { REP(21, "\x01\x5a", 5) }, SAME(FAILS(UNEXPECTED)) },
	{ "4 user_canceled, data, 4 user_canceled", 13, 0, false,
	  { REP(21, "\x01\x5a", 4), REC(23, "d"), REP(21, "\x01\x5a", 4) },
	  SAME(ALIVE(1)) },
	{ "user_canceled, then close_notify", 13, 0, false,
	  { REC(21, "\x01\x5a"), REC(21, "\x01\x00") }, SAME(CLOSING) },
	{ "32 empty records in a row", 13, 0, false, { REP(23, "", 32) },
	  SAME(ALIVE(0)) },
	{ "33 empty records in a row", 13, 0, false, { REP(23, "", 33) },
	  SAME(FAILS(UNEXPECTED)) },
	{ "32 empty, data, 32 empty", 13, 0, false,
	  { REP(23, "", 32), REC(23, "d"), REP(23, "", 32) },
	  SAME(ALIVE(1)) },
};

/* TLS 1.3 handshake messages after the handshake: KeyUpdate anywhere. */
static const struct ncase handshake13[] = {
	{ "KeyUpdate", 13, 0, false, { REC(22, KU0), KU }, SAME(ALIVE(0)) },
	{ "KeyUpdate(update_requested)", 13, 0, false, { REC(22, KU1), KU },
	  SAME(ALIVE(0)) },
	{ "KeyUpdate after data, data after it", 13, 0, false,
	  { REC(23, "a"), REC(22, KU1), KU, REC(23, "b") }, SAME(ALIVE(2)) },
	{ "three KeyUpdates in a row", 13, 0, false,
	  { REC(22, KU1), KU, REC(22, KU0), KU, REC(22, KU1), KU },
	  SAME(ALIVE(0)) },
	{ "padded KeyUpdate", 13, 0, false, { PAD(22, KU1, 50), KU },
	  SAME(ALIVE(0)) },
	{ "KeyUpdate then close_notify", 13, 0, false,
	  { REC(22, KU0), KU, REC(21, "\x01\x00") }, SAME(CLOSING) },
	{ "KeyUpdate split 1 + 4", 13, 0, false,
	  { REC(22, "\x18"), REC(22, "\x00\x00\x01\x01"), KU },
	  SAME(ALIVE(0)) },
	{ "KeyUpdate split 4 + 1", 13, 0, false,
	  { REC(22, "\x18\x00\x00\x01"), REC(22, "\x00"), KU },
	  SAME(ALIVE(0)) },
	{ "KeyUpdate split 1 + 1 + 1 + 1 + 1", 13, 0, false,
	  { REC(22, "\x18"), REC(22, "\x00"), REC(22, "\x00"),
	    REC(22, "\x01"), REC(22, "\x01"), KU },
	  SAME(ALIVE(0)) },
	{ "split KeyUpdate, application data between", 13, 0, false,
	  { REC(22, "\x18\x00"), REC(23, "x"), REC(22, "\x00\x01\x00") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "split KeyUpdate, empty data record between", 13, 0, false,
	  { REC(22, "\x18\x00"), REC(23, ""), REC(22, "\x00\x01\x00") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "split KeyUpdate, user_canceled between", 13, 0, false,
	  { REC(22, "\x18\x00"), REC(21, "\x01\x5a") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "split KeyUpdate, close_notify between", 13, 0, false,
	  { REC(22, "\x18\x00"), REC(21, "\x01\x00") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "split KeyUpdate, last part under the new key", 13, 0, false,
	  { REC(22, "\x18\x00"), KU, REC(22, "\x00\x01\x00") },
	  SAME(FAILS(BAD_MAC)) },
	{ "split KeyUpdate, then EOF", 13, 0, false,
	  { REC(22, "\x18\x00"), END_OF_INPUT }, SAME(EOFED) },
	{ "KeyUpdate with data after it in its record", 13, 0, false,
	  { REC(22, KU0 "\x18") }, SAME(FAILS(UNEXPECTED)) },
	{ "two KeyUpdates in one record", 13, 0, false, { REC(22, KU0 KU0) },
	  SAME(FAILS(UNEXPECTED)) },
	{ "KeyUpdate request_update 2", 13, 0, false,
	  { REC(22, "\x18\x00\x00\x01\x02") }, SAME(FAILS(ILLEGAL)) },
	{ "KeyUpdate of length 0", 13, 0, false,
	  { REC(22, "\x18\x00\x00\x00") }, SAME(FAILS(DECODE)) },
	{ "KeyUpdate of length 2^24 - 1 (its header)", 13, 0, false,
	  { REC(22, "\x18\xff\xff\xff") }, .ho = FAILS(DECODE),
	  .ssl = FAILS(ILLEGAL),
	  "RFC 8446 6.2: decode_error for a message of the wrong length; "
	  "OpenSSL: illegal_parameter (excessive message size)" },
	{ "KeyUpdate of length 2", 13, 0, false,
	  { REC(22, "\x18\x00\x00\x02\x00\x00") }, .ho = FAILS(DECODE),
	  .ssl = FAILS(ILLEGAL),
	  "RFC 8446 6.2: decode_error for a message of the wrong length; "
	  "OpenSSL: illegal_parameter (excessive message size)" },
	{ "NewSessionTicket from the client", 13, 0, false,
	  { REC(22, "\x04\x00\x00\x01\x00") }, SAME(FAILS(UNEXPECTED)) },
	{ "ClientHello after the handshake", 13, 0, false,
	  { REC(22, "\x01\x00\x00\x01\x00") }, SAME(FAILS(UNEXPECTED)) },
	{ "CertificateRequest from the client", 13, 0, false,
	  { REC(22, "\x0d\x00\x00\x01\x00") }, SAME(FAILS(UNEXPECTED)) },
	{ "Finished after the handshake", 13, 0, false,
	  { REC(22, "\x14\x00\x00\x01\x00") }, SAME(FAILS(UNEXPECTED)) },
	{ "unknown handshake type 200", 13, 0, false,
	  { REC(22, "\xc8\x00\x00\x01\x00") }, SAME(FAILS(UNEXPECTED)) },
	{ "NewSessionTicket split 2 + 3", 13, 0, false,
	  { REC(22, "\x04\x00"), REC(22, "\x00\x01\x00") },
	  SAME(FAILS(UNEXPECTED)) },
};

/* TLS 1.2 (an AEAD suite): content types, versions, lengths. */
static const struct ncase records12[] = {
	{ "application data", 12, 0, false, { REC(23, "hello") },
	  SAME(ALIVE(5)) },
	{ "empty application data", 12, 0, false, { REC(23, "") },
	  SAME(ALIVE(0)) },
	{ "change_cipher_spec after the handshake", 12, 0, false,
	  { REC(20, "\x01") }, SAME(FAILS(UNEXPECTED)) },
	{ "empty change_cipher_spec", 12, 0, false, { REC(20, "") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "plaintext change_cipher_spec", 12, 0, false,
	  { RAW("\x14\x03\x03\x00\x01\x01") }, .ho = FAILS(BAD_MAC),
	  .ssl = FAILS(INTERNAL), SHORT12 },
	{ "content type 24", 12, 0, false, { REC(24, "\x01") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "empty record of content type 24", 12, 0, false, { REC(24, "") },
	  SAME(FAILS(UNEXPECTED)) },
	/* Every record is decrypted first (RFC 5246 6.2.3). */
	{ "content type 255, not authentic", 12, 0, false, { HDR(255, 40) },
	  SAME(FAILS(BAD_MAC)) },
	{ "empty alert", 12, 0, false, { REC(21, "") },
	  SAME(FAILS(UNEXPECTED)) },
	/* RFC 5246 6.2.1 would allow alerts to be fragmented and coalesced;
	 * neither layer supports it (OpenSSL's answer). */
	{ "alert of 1 byte", 12, 0, false, { REC(21, "\x02") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "alert of 3 bytes", 12, 0, false, { REC(21, "\x01\x00\x00") },
	  SAME(FAILS(UNEXPECTED)) },
	{ "plaintext application data", 12, 0, false,
	  { RAW("\x17\x03\x03\x00\x05hello") }, .ho = FAILS(BAD_MAC),
	  .ssl = FAILS(INTERNAL), SHORT12 },
	{ "garbage application data record", 12, 0, false,
	  { HDR(23, 40) }, SAME(FAILS(BAD_MAC)) },
	{ "record of length 0", 12, 0, false, { HDR(23, 0) },
	  .ho = FAILS(BAD_MAC), .ssl = FAILS(INTERNAL), SHORT12 },
	/* The RFC names no alert; OpenSSL's. */
	{ "record version 0x0301", 12, 0, false, { VER(23, "v", 0x0301) },
	  SAME(FAILS(PROTO_VERSION)) },
	{ "record version 0x0304", 12, 0, false, { VER(23, "v", 0x0304) },
	  SAME(FAILS(PROTO_VERSION)) },
	{ "plaintext of 2^14 bytes", 12, 0, false, { BIG(23, MAXP) },
	  SAME(ALIVE(MAXP)) },
	{ "plaintext of 2^14 + 1 bytes", 12, 0, false, { BIG(23, MAXP + 1) },
	  SAME(FAILS(OVERFLOW)) },
	{ "ciphertext of 2^14 + 24 bytes (garbage)", 12, 0, false,
	  { HDR(23, MAXP + 24) }, SAME(FAILS(BAD_MAC)) },
	{ "ciphertext of 2^14 + 25 bytes (garbage)", 12, 0, false,
	  { HDR(23, MAXP + 25) }, SAME(FAILS(BAD_MAC)) },
	{ "ciphertext of 2^14 + 320 bytes (garbage)", 12, 0, false,
	  { HDR(23, MAXP + 320) }, SAME(FAILS(BAD_MAC)) },
	{ "ciphertext of 2^14 + 321 bytes (garbage)", 12, 0, false,
	  { HDR(23, MAXP + 321) }, .ho = FAILS(BAD_MAC),
	  .ssl = FAILS(OVERFLOW),
	  "RFC 5246 6.2.3: 2^14 + 2048 is the ciphertext bound, a record "
	  "that does not decrypt is bad_record_mac; OpenSSL refuses "
	  "ciphertext over 2^14 + 320 before decrypting" },
	{ "ciphertext of 2^14 + 2048 bytes (garbage)", 12, 0, false,
	  { HDR(23, MAXP + 2048) }, .ho = FAILS(BAD_MAC),
	  .ssl = FAILS(OVERFLOW),
	  "RFC 5246 6.2.3: 2^14 + 2048 is the ciphertext bound, a record "
	  "that does not decrypt is bad_record_mac; OpenSSL refuses "
	  "ciphertext over 2^14 + 320 before decrypting" },
	{ "ciphertext of 2^14 + 2049 bytes", 12, 0, false,
	  { HDR(23, MAXP + 2049) }, SAME(FAILS(OVERFLOW)) },
	{ "max_fragment_length 1024: 1024 bytes", 12, 2, false,
	  { BIG(23, 1024) }, SAME(ALIVE(1024)) },
	{ "max_fragment_length 1024: 1025 bytes", 12, 2, false,
	  { BIG(23, 1025) }, SAME(FAILS(OVERFLOW)) },
	{ "half a record, then EOF", 12, 0, false,
	  { TRUNC(23, "truncated", 9), END_OF_INPUT }, SAME(EOFED) },
	{ "4 warnings in a row", 12, 0, false,
	  { REP(21, "\x01\x5a", 2), REP(21, "\x01\x70", 2) },
	  SAME(ALIVE(0)) },
	{ "5 warnings in a row", 12, 0, false,
	  { REP(21, "\x01\x5a", 2), REP(21, "\x01\x70", 3) },
	  SAME(FAILS(UNEXPECTED)) },
	{ "32 empty records in a row", 12, 0, false, { REP(23, "", 32) },
	  SAME(ALIVE(0)) },
	{ "33 empty records in a row", 12, 0, false, { REP(23, "", 33) },
	  SAME(FAILS(UNEXPECTED)) },
};

/* TLS 1.2 handshake records after the handshake: renegotiation. */
static const struct ncase handshake12[] = {
	{ "handshake record (renegotiation)", 12, 0, false,
	  { REC(22, "\x01\x00\x00\x00") }, .ho = RENEG_WARN,
	  .ssl = { A_FAILED, STLS_CLOSE_RENEGOTIATION, 2 << 8 | DECODE, -1 },
	  RENEG_NOTE },
	{ "KeyUpdate in TLS 1.2", 12, 0, false, { REC(22, KU1) },
	  .ho = RENEG_WARN,
	  .ssl = { A_FAILED, STLS_CLOSE_RENEGOTIATION, 2 << 8 | UNEXPECTED,
		   -1 },
	  RENEG_NOTE },
	/* Carries nothing: counted as an empty record, as OpenSSL skips it
	 * (the RFC forbids sending one and names no answer). */
	{ "empty handshake record", 12, 0, false, { REC(22, "") },
	  SAME(ALIVE(0)) },
};

/*
 * Sequence numbers and key limits, simulated (set on both ends): the
 * kept SSL's counters cannot be set, so only the hand-off runs these.
 */
static const struct ncase limits[] = {
	{ "write key used 2^24 times: KeyUpdate first", 13, 0, true,
	  { SEQ_WR(1 << 24), PUSH(10) }, .ho = ALIVE(0), .ssl = NA },
	{ "read sequence number 2^64 - 1", 13, 0, true,
	  { SEQ_RD(UINT64_MAX), REC(23, "x") }, .ho = FAILS(INTERNAL),
	  .ssl = NA },
	{ "AES-GCM write key at its bound", 12, 0, true,
	  { SEQ_WR(STLS_REC12_GCM_MAX_RECORDS - 1), PUSH(10) },
	  .ho = { A_CLOSED, STLS_CLOSE_PROTOCOL, 1 << 8 | 0, -1 },
	  .ssl = NA },
	{ "AES-GCM read key past its bound", 12, 0, true,
	  { SEQ_RD(STLS_REC12_GCM_MAX_RECORDS), REC(23, "x") },
	  .ho = { A_CLOSED, STLS_CLOSE_PROTOCOL, 1 << 8 | 0, 0 }, .ssl = NA },
};

TEST(records_tls13) { ns_run_all(records13, STLS_ARRAY_SIZE(records13)); }
TEST(handshake_messages_tls13)
{
	ns_run_all(handshake13, STLS_ARRAY_SIZE(handshake13));
}
TEST(records_tls12) { ns_run_all(records12, STLS_ARRAY_SIZE(records12)); }
TEST(handshake_records_tls12)
{
	ns_run_all(handshake12, STLS_ARRAY_SIZE(handshake12));
}
TEST(sequence_limits_simulated)
{
	ns_run_all(limits, STLS_ARRAY_SIZE(limits));
}

/* Every alert description of RFC 8446 / RFC 5246, and two unknown. */
static const unsigned char descs[] = {
	0, 10, 20, 21, 22, 30, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
	51, 60, 70, 71, 80, 86, 90, 100, 109, 110, 111, 112, 113, 114, 115,
	116, 120, 1, 255,
};

/*
 * What each layer must do with one alert record (level, description):
 * TLS 1.3 (RFC 8446 section 6): the level is ignored; close_notify
 * closes, user_canceled is ignored, anything else (unknown ones too) is
 * an error alert: the connection fails and we send nothing. TLS 1.2 (RFC
 * 5246 section 7.2): a fatal alert ends the connection, close_notify and
 * user_canceled included; a warning close_notify closes; other warnings
 * are ignored (the connection can continue, 7.2), except no_renegotiation,
 * which a server that never asked to renegotiate answers with
 * handshake_failure as OpenSSL does; a level that is neither is
 * illegal_parameter (OpenSSL's answer; the RFC names none).
 */
static struct ans alert_answer(unsigned ver, unsigned level, unsigned d)
{
	static const struct ans closing = CLOSING, alive = ALIVE(0),
				quiet = QUIET, hs = FAILS(HS_FAILURE),
				ill = FAILS(ILLEGAL);

	if (ver == 13) {
		return d == 0 ? closing : d == 90 ? alive : quiet;
	}
	if (level == 2) {
		return quiet;
	}
	if (level != 1) {
		return ill;
	}
	return d == 0 ? closing : d == 100 ? hs : alive;
}

static void alerts(unsigned ver)
{
	static const unsigned char levels[] = { 1, 2, 0, 3 };
	static struct ncase cs[STLS_ARRAY_SIZE(descs) * 4];
	static char names[STLS_ARRAY_SIZE(cs)][64];
	static char bytes[STLS_ARRAY_SIZE(cs)][2];
	size_t i, j, n = 0;

	for (i = 0; i < STLS_ARRAY_SIZE(levels); i++) {
		for (j = 0; j < STLS_ARRAY_SIZE(descs); j++) {
			struct ncase *c = &cs[n];

			/* Unknown levels: a few descriptions are enough. */
			if (i >= 2 && descs[j] != 0 && descs[j] != 90 &&
			    descs[j] != 40) {
				continue;
			}
			bytes[n][0] = (char)levels[i];
			bytes[n][1] = (char)descs[j];
			snprintf(names[n], sizeof(names[n]),
				 "alert level %u, %s (%u)", levels[i],
				 SSL_alert_desc_string_long(descs[j]),
				 descs[j]);
			memset(c, 0, sizeof(*c));
			c->name = names[n];
			c->ver = (unsigned char)ver;
			c->ops[0].k = O_REC;
			c->ops[0].type = 21;
			c->ops[0].d = bytes[n];
			c->ops[0].len = 2;
			c->ho = c->ssl = alert_answer(ver, levels[i], descs[j]);
			n++;
		}
	}
	ns_run_all(cs, n);
}

TEST(alerts_tls13) { alerts(13); }
TEST(alerts_tls12) { alerts(12); }
