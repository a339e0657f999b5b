/* The SIP character-class table against the RFC 3261 ABNF sets. */
#include <string.h>

#include "stls/common.h"
#include "stls/sip/slice.h"
#include "test.h"

#define ALNUM                                                  \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789"
#define UNRESERVED ALNUM "-_.!~*'()"

static const struct {
	unsigned bit;
	const char *set;
} classes[] = {
	{ STLS_SIP_C_TOKEN, ALNUM "-.!%*_+`'~" },
	{ STLS_SIP_C_UNRES, UNRESERVED },
	{ STLS_SIP_C_USER, UNRESERVED "&=+$,;?/" },
	{ STLS_SIP_C_PASS, UNRESERVED "&=+$," },
	{ STLS_SIP_C_PARAM, UNRESERVED "[]/:&+$=" },
	{ STLS_SIP_C_HNV, UNRESERVED "[]/?:+$=&" },
	{ STLS_SIP_C_HOST, ALNUM "-." },
	{ STLS_SIP_C_DIGIT, "0123456789" },
};

/* Every byte value, every class: in the table exactly when in the set. */
TEST(chars_table_matches_abnf)
{
	size_t k;
	unsigned c;

	for (k = 0; k < STLS_ARRAY_SIZE(classes); k++) {
		for (c = 0; c < 256; c++) {
			bool want = c != 0 && strchr(classes[k].set, (int)c);

			CHECK_EQ(stls_sip_char_in((char)c, classes[k].bit),
				 want);
		}
	}
}

TEST(chars_token_and_digit_helpers)
{
	CHECK(stls_sip_is_token('a'));
	CHECK(stls_sip_is_token('~'));
	CHECK(!stls_sip_is_token(' '));
	CHECK(!stls_sip_is_token(':'));
	CHECK(!stls_sip_is_token('\0'));
	CHECK(!stls_sip_is_token((char)0xe9));
	CHECK(stls_sip_is_digit('7'));
	CHECK(!stls_sip_is_digit('a'));
}

/* The 8-bytes-at-a-time test against a byte loop: every byte value at
 * every position, among fillers above and below the limit. */
TEST(chars_word_has_below_exact)
{
	static const unsigned limits[] = { 1, 0x0e, 0x20, 0x80 };
	static const uint8_t fillers[] = { 0xff, 'a', 0x80, 0x7f };
	size_t l, f, pos;
	unsigned b;

	for (l = 0; l < STLS_ARRAY_SIZE(limits); l++) {
		for (f = 0; f < STLS_ARRAY_SIZE(fillers); f++) {
			for (pos = 0; pos < 8; pos++) {
				for (b = 0; b < 256; b++) {
					uint8_t w[8];
					uint64_t x;

					memset(w, fillers[f], sizeof(w));
					w[pos] = (uint8_t)b;
					memcpy(&x, w, sizeof(x));
					CHECK_EQ(stls_sip_word_has_below(
							 x, limits[l]),
						 b < limits[l] ||
						 fillers[f] < limits[l]);
				}
			}
		}
	}
}

TEST(chars_span_not_below)
{
	char buf[40];
	size_t len, pos;

	for (len = 0; len <= sizeof(buf); len++) {
		memset(buf, 'x', sizeof(buf));
		CHECK_EQ(stls_sip_span_not_below(stls_slice_make(buf, len),
						 0x0e), len);
		for (pos = 0; pos < len; pos++) {
			memset(buf, 'x', sizeof(buf));
			buf[pos] = '\r';
			buf[len - 1 - (len - 1 - pos) / 2] = '\n';
			CHECK_EQ(stls_sip_span_not_below(
					 stls_slice_make(buf, len), 0x0e), pos);
			CHECK_EQ(stls_sip_span_not_below(
					 stls_slice_make(buf, len), 0x0a),
				 len);
		}
	}
}
