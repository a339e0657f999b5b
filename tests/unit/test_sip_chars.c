/* The SIP character-class table against the RFC 3261 ABNF sets. */
#include <string.h>

#include "stls/common.h"
#include "sip_slice.h"
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
