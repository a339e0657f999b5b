/*
 * Bounded output writer shared by the SIP reply builder and the relay.
 *
 * Writes go into a caller-owned buffer of fixed capacity; once a write does
 * not fit, the writer is marked overflowed and every later write is
 * ignored, so builders check once at the end (-ENOBUFS). Internal header of
 * the daemon's SIP code: not an interface for the event loop.
 */
#ifndef STLS_SIP_OUT_H
#define STLS_SIP_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "stls/sip/slice.h"

struct stls_sip_out {
	char *p;
	size_t len, cap;
	bool overflow;
};

static inline void stls_sip_out_init(struct stls_sip_out *o, char *buf,
				     size_t cap)
{
	o->p = buf;
	o->len = 0;
	o->cap = cap;
	o->overflow = false;
}

static inline void stls_sip_out_put(struct stls_sip_out *o, const void *d,
				    size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	if (n) {
		memcpy(o->p + o->len, d, n);
	}
	o->len += n;
}

static inline void stls_sip_out_str(struct stls_sip_out *o, const char *s)
{
	stls_sip_out_put(o, s, strlen(s));
}

static inline void stls_sip_out_slice(struct stls_sip_out *o,
				      struct stls_slice s)
{
	stls_sip_out_put(o, s.p, s.len);
}

/* Decimal, written by hand (no snprintf on the per-message path). */
static inline void stls_sip_out_uint(struct stls_sip_out *o, unsigned long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	stls_sip_out_put(o, tmp + i, sizeof(tmp) - i);
}

/* FNV-1a 64-bit, for derived identifiers (branch, To tag): not secret. */
static inline uint64_t stls_sip_fnv(uint64_t h, struct stls_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 0x100000001b3ULL;
	}
	/* A separator so that ("ab","c") and ("a","bc") differ. */
	h ^= 0xff;
	h *= 0x100000001b3ULL;
	return h;
}

#define STLS_SIP_FNV_INIT 0xcbf29ce484222325ULL

/* Writes <h> as 16 lowercase hex digits. */
static inline void stls_sip_out_hex64(struct stls_sip_out *o, uint64_t h)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	int i;

	for (i = 15; i >= 0; i--) {
		tmp[i] = hex[h & 15];
		h >>= 4;
	}
	stls_sip_out_put(o, tmp, sizeof(tmp));
}

#endif
