/*
 * Fuzz target: TLS 1.3 record protection (lib/tls/rec13.c), the code that
 * reads every record of a server connection after the record hand-off.
 *
 * Byte 0 picks the suite (mod 3: 0x1301, 0x1302, 0x1303), byte 1 the mode:
 *   even  raw     the rest is a record stream from the peer, opened with
 *                 fixed keys until a record fails (as the engine would
 *                 stop there);
 *   odd   sealed  the rest is [inner type][length][content] chunks that a
 *                 peer with the matching keys seals and we open: padding,
 *                 missing content types and lengths near 2^14 are reached
 *                 past the AEAD check. A round trip that does not return
 *                 what was sealed aborts.
 * Both ends use secrets 1, 4, 7, ... (client) and 2, 7, 12, ... (server)
 * truncated to the hash length; fuzz/gen_rec13_seeds.py writes the raw
 * seeds with Python's cryptography package under the same keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t suites[3] = { 0x1301, 0x1302, 0x1303 };
static unsigned char rec[STLS_REC13_MAX_PLAIN + 256 + 5];
static unsigned char pt[STLS_REC13_MAX_PLAIN + 256];

static void secrets(unsigned char *a, unsigned char *b)
{
	size_t i;

	for (i = 0; i < STLS_REC13_MAX_SECRET; i++) {
		a[i] = (unsigned char)(i * 3 + 1);
		b[i] = (unsigned char)(i * 5 + 2);
	}
}

static void raw(struct stls_rec13 *me, const uint8_t *d, size_t n)
{
	while (n >= 5) {
		size_t body, got = 0;
		unsigned char type;

		if (stls__rec13_check_header(d, &body) != 0 || n - 5 < body) {
			return;
		}
		if (stls__rec13_open(me, d, 5 + body, pt, &got, &type) != 0) {
			return;
		}
		d += 5 + body;
		n -= 5 + body;
	}
}

static void sealed(struct stls_rec13 *peer, struct stls_rec13 *me,
		   const uint8_t *d, size_t n)
{
	while (n >= 3) {
		unsigned char type = d[0], t = 0;
		size_t len = ((size_t)d[1] << 8 | d[2]) % (STLS_REC13_MAX_PLAIN + 1);
		size_t got = 0;
		ssize_t k;
		int err;

		d += 3;
		n -= 3;
		if (len > n) {
			len = n;
		}
		k = stls__rec13_seal(peer, type, d, len, rec);
		if (k < 0) {
			return;
		}
		err = stls__rec13_open(me, rec, (size_t)k, pt, &got, &t);
		if (type != 0 &&
		    (err != 0 || t != type || got != len ||
		     (len && memcmp(pt, d, len) != 0))) {
			abort();
		}
		d += len;
		n -= len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char a[STLS_REC13_MAX_SECRET], b[STLS_REC13_MAX_SECRET];
	struct stls_rec13 me, peer;
	uint16_t suite;
	size_t hl;

	if (size < 2) {
		return 0;
	}
	suite = suites[data[0] % 3];
	hl = stls__rec13_hash_len(suite);
	secrets(a, b);
	/* We read with the client's secret (a) and write with ours (b). */
	if (stls__rec13_init(&me, suite, NULL, a, b, hl) != 0) {
		return 0;
	}
	if (stls__rec13_init(&peer, suite, NULL, b, a, hl) != 0) {
		stls__rec13_fini(&me);
		return 0;
	}
	if (data[1] & 1) {
		sealed(&peer, &me, data + 2, size - 2);
	} else {
		raw(&me, data + 2, size - 2);
	}
	stls__rec13_fini(&me);
	stls__rec13_fini(&peer);
	return 0;
}
