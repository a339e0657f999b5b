/*
 * UTF-8 checks and repair (see stls/utf8.h). The table of RFC 3629 section
 * 4 as code: the first byte gives the length and, for four lead bytes, a
 * narrower range for the second byte (no overlong forms after E0 and F0,
 * no surrogates after ED, nothing above U+10FFFF after F4).
 */
#include "stls/utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t stls_utf8_seq_len(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0) {
			lo = 0xA0; /* no overlong forms */
		} else if (c == 0xED) {
			hi = 0x9F; /* no UTF-16 surrogates */
		}
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0) {
			lo = 0x90; /* no overlong forms */
		} else if (c == 0xF4) {
			hi = 0x8F; /* nothing above U+10FFFF */
		}
	} else {
		return 0; /* continuation bytes, C0, C1, F5-FF */
	}
	if (avail < n || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return 0;
		}
	}
	return n;
}

bool stls_utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = stls_utf8_seq_len(s + i, len - i);
		if (!n) {
			return false;
		}
		i += n;
	}
	return true;
}

int stls_utf8_repair(const char *s, size_t len, char **out, size_t *out_len)
{
	static const char fffd[3] = { '\xEF', '\xBF', '\xBD' };
	size_t i = 0, o = 0, n;
	char *buf;

	*out = NULL;
	/* At worst every byte becomes three. */
	if (len > (SIZE_MAX - 1) / 3) {
		return -ENOMEM;
	}
	buf = malloc(3 * len + 1);
	if (!buf) {
		return -ENOMEM;
	}
	while (i < len) {
		n = stls_utf8_seq_len(s + i, len - i);
		if (n) {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(buf + o, fffd, sizeof(fffd));
			o += sizeof(fffd);
			i++;
		}
	}
	buf[o] = '\0';
	*out = buf;
	if (out_len) {
		*out_len = o;
	}
	return 0;
}
