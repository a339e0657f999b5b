/*
 * Zero-copy text slices for the SIP message library (lib/sip).
 *
 * A struct stls_slice borrows bytes from a buffer it does not own (the
 * connection's input buffer, a datagram): it stays valid as long as that
 * buffer is not consumed or moved. Slices are never NUL-terminated. The
 * helpers here are small inline functions shared by the framer, the parser
 * and the relay; they never read outside [p, p + len).
 */
#ifndef STLS_SIP_SLICE_H
#define STLS_SIP_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#ifndef STLS_SLICE_DEFINED
#define STLS_SLICE_DEFINED
struct stls_slice {
	const char *p; /* first byte (NULL for an empty, absent slice) */
	size_t len;    /* byte count */
};
#endif

static inline struct stls_slice stls_slice_make(const char *p, size_t len)
{
	struct stls_slice s = { p, len };

	return s;
}

static inline struct stls_slice stls_slice_cstr(const char *s)
{
	return stls_slice_make(s, s ? strlen(s) : 0);
}

/* Byte-exact equality. */
static inline bool stls_slice_eq(struct stls_slice a, struct stls_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII case-insensitive equality. */
static inline bool stls_slice_eq_ci(struct stls_slice a, struct stls_slice b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.p, b.p, a.len) == 0);
}

static inline bool stls_slice_eq_cstr_ci(struct stls_slice a, const char *b)
{
	return stls_slice_eq_ci(a, stls_slice_cstr(b));
}

/* True when <s> starts with <prefix>, ASCII case-insensitively. */
static inline bool stls_slice_has_prefix_ci(struct stls_slice s,
					    const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && strncasecmp(s.p, prefix, n) == 0;
}

/* SIP linear white space bytes (SP, HT, and CR/LF of a folded line). */
static inline bool stls_sip_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Removes leading and trailing LWS. */
static inline struct stls_slice stls_slice_trim(struct stls_slice s)
{
	while (s.len && stls_sip_is_lws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && stls_sip_is_lws(s.p[s.len - 1])) {
		s.len--;
	}
	return s;
}

/*
 * Character classes (RFC 3261 section 25.1), one bit each in
 * stls__sip_chars[] (sip_chars.c). UNRES is unreserved; USER, PASS, PARAM
 * and HNV are unreserved plus the extra bytes of user, password,
 * uri-parameter and URI header values; HOST is a host name byte.
 */
#define STLS_SIP_C_TOKEN 0x01u /* alphanum and -.!%*_+`'~ */
#define STLS_SIP_C_UNRES 0x02u /* alphanum and -_.!~*'() */
#define STLS_SIP_C_USER 0x04u  /* unreserved and &=+$,;?/ */
#define STLS_SIP_C_PASS 0x08u  /* unreserved and &=+$, */
#define STLS_SIP_C_PARAM 0x10u /* unreserved and []/:&+$= */
#define STLS_SIP_C_HNV 0x20u   /* unreserved and []/?:+$=& */
#define STLS_SIP_C_HOST 0x40u  /* alphanum and -. */
#define STLS_SIP_C_DIGIT 0x80u /* 0-9 */

extern const uint8_t stls__sip_chars[256];

/* True when byte <c> is in one of the classes of <mask>. */
static inline bool stls_sip_char_in(char c, unsigned mask)
{
	return (stls__sip_chars[(unsigned char)c] & mask) != 0;
}

/* RFC 3261 token characters: alphanum and -.!%*_+`'~ */
static inline bool stls_sip_is_token(char c)
{
	return stls_sip_char_in(c, STLS_SIP_C_TOKEN);
}

static inline bool stls_sip_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * True when one of the 8 bytes of <x> is below <n> (1 to 128): the
 * borrow of x - n in a byte reaches its top bit only when that byte is
 * below n and its top bit was clear, and a borrow out of a byte happens
 * only once some lower byte is below n, so the answer is exact. Lets the
 * byte checks look at 8 bytes per step.
 */
static inline bool stls_sip_word_has_below(uint64_t x, unsigned n)
{
	return ((x - 0x0101010101010101ULL * n) & ~x &
		0x8080808080808080ULL) != 0;
}

/* Number of leading bytes of <s> at or above <n> (1 to 128), 8 at a
 * time; s.len when there is none below. */
static inline size_t stls_sip_span_not_below(struct stls_slice s, unsigned n)
{
	size_t i = 0;
	uint64_t x;

	for (; i + 8 <= s.len; i += 8) {
		memcpy(&x, s.p + i, 8);
		if (stls_sip_word_has_below(x, n)) {
			break;
		}
	}
	while (i < s.len && (unsigned char)s.p[i] >= n) {
		i++;
	}
	return i;
}

#endif
