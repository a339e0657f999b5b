/*
 * PKCS#11 URIs (RFC 7512 sections 2.3 and 2.4): attribute lookup with
 * percent-decoding, and PIN redaction for printing (see stls/p11uri.h).
 *
 * The parser is deliberately small: it walks the attributes in order and
 * never allocates. Unknown attributes are allowed (RFC 7512 section 2.3:
 * vendor attributes start with "x-").
 */
#include "stls/p11uri.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

bool stls_p11uri_is(const char *s)
{
	return s && strncasecmp(s, "pkcs11:", 7) == 0;
}

/* Decodes v[0..n) into out; returns the length or -errno. */
static int decode(const char *v, size_t n, char *out, size_t len)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c == '%') {
			if (i + 2 >= n) {
				return -EINVAL;
			}
			hi = OPENSSL_hexchar2int((unsigned char)v[i + 1]);
			lo = OPENSSL_hexchar2int((unsigned char)v[i + 2]);
			if (hi < 0 || lo < 0) {
				return -EINVAL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= len) {
			return -ENOBUFS;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/* Finds <name> among the attributes in [p, end) separated by <sep>. */
static const char *find_attr(const char *p, const char *end, char sep,
			     const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *e = memchr(p, sep, (size_t)(end - p));

		if (!e) {
			e = end;
		}
		if ((size_t)(e - p) > nl && p[nl] == '=' &&
		    strncasecmp(p, name, nl) == 0) {
			*vlen = (size_t)(e - p) - nl - 1;
			return p + nl + 1;
		}
		p = e + 1;
	}
	return NULL;
}

int stls_p11uri_get(const char *uri, const char *name, char *out,
		    size_t len)
{
	const char *path, *q, *end, *v;
	size_t vlen = 0;

	if (!stls_p11uri_is(uri) || len == 0) {
		return -EINVAL;
	}
	path = uri + 7;
	end = path + strlen(path);
	q = strchr(path, '?');
	v = find_attr(path, q ? q : end, ';', name, &vlen);
	if (!v && q) {
		v = find_attr(q + 1, end, '&', name, &vlen);
	}
	if (!v) {
		return -ENOENT;
	}
	return decode(v, vlen, out, len);
}

const char *stls_p11uri_redact(const char *id, char *out, size_t len)
{
	static const char key[] = "pin-value=";
	size_t o = 0;
	const char *p = id ? id : "";

	if (len == 0) {
		return out;
	}
	while (*p && o + 1 < len) {
		if (strncasecmp(p, key, sizeof(key) - 1) == 0) {
			size_t k = sizeof(key) - 1;

			if (o + k + 3 >= len) {
				break;
			}
			memcpy(out + o, p, k);
			memcpy(out + o + k, "***", 3);
			o += k + 3;
			p += k + strcspn(p + k, ";&");
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}
