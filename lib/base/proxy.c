/*
 * PROXY protocol v2 headers (stls/proxy.h): a bounded, copy-free reader
 * of the fixed 16 bytes and the address block; TLVs are skipped (their
 * length is part of the header's). Every length is checked before it is
 * used; nothing is read past <n>.
 */
#include <errno.h>
#include <string.h>

#include "stls/proxy.h"

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

enum {
	CMD_LOCAL = 0x0,
	CMD_PROXY = 0x1,
	FAM_TCP4 = 0x11, /* AF_INET, STREAM */
	FAM_TCP6 = 0x21, /* AF_INET6, STREAM */
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int stls_proxy_v2_parse(const uint8_t *p, size_t n,
			struct stls_proxy_hdr *out)
{
	size_t cmp = n < sizeof(sig) ? n : sizeof(sig);
	size_t len, total;
	int ver_cmd, fam;

	if (memcmp(p, sig, cmp) != 0) {
		return -EPROTO; /* also "PROXY TCP4 ..." (v1) */
	}
	if (n < STLS_PROXY_V2_FIXED) {
		if (n > 12 && (p[12] >> 4) != 2) {
			return -EPROTO;
		}
		return 0;
	}
	ver_cmd = p[12];
	fam = p[13];
	len = be16(p + 14);
	total = STLS_PROXY_V2_FIXED + len;
	if ((ver_cmd >> 4) != 2 ||
	    ((ver_cmd & 0xf) != CMD_LOCAL && (ver_cmd & 0xf) != CMD_PROXY)) {
		return -EPROTO;
	}
	if (total > STLS_PROXY_V2_MAX) {
		return -E2BIG;
	}
	if ((ver_cmd & 0xf) == CMD_PROXY && fam != FAM_TCP4 &&
	    fam != FAM_TCP6) {
		return -EAFNOSUPPORT;
	}
	if ((ver_cmd & 0xf) == CMD_PROXY &&
	    len < (fam == FAM_TCP4 ? 12u : 36u)) {
		return -EBADMSG;
	}
	if (n < total) {
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if ((ver_cmd & 0xf) == CMD_LOCAL) {
		out->local = true;
		return (int)total;
	}
	p += STLS_PROXY_V2_FIXED;
	if (fam == FAM_TCP4) {
		out->src.family = out->dst.family = AF_INET;
		memcpy(out->src.ip, p, 4);
		memcpy(out->dst.ip, p + 4, 4);
		out->src.port = be16(p + 8);
		out->dst.port = be16(p + 10);
	} else {
		out->src.family = out->dst.family = AF_INET6;
		memcpy(out->src.ip, p, 16);
		memcpy(out->dst.ip, p + 16, 16);
		out->src.port = be16(p + 32);
		out->dst.port = be16(p + 34);
	}
	return (int)total;
}

size_t stls_proxy_v2_build(const struct stls_addr *src,
			   const struct stls_addr *dst, uint8_t *buf)
{
	size_t alen = src->family == AF_INET ? 4 : 16;
	size_t len = 2 * alen + 4;
	uint8_t *p = buf + STLS_PROXY_V2_FIXED;

	memcpy(buf, sig, sizeof(sig));
	buf[12] = 0x20 | CMD_PROXY;
	buf[13] = src->family == AF_INET ? FAM_TCP4 : FAM_TCP6;
	buf[14] = (uint8_t)(len >> 8);
	buf[15] = (uint8_t)len;
	memcpy(p, src->ip, alen);
	memcpy(p + alen, dst->ip, alen);
	p += 2 * alen;
	p[0] = (uint8_t)(src->port >> 8);
	p[1] = (uint8_t)src->port;
	p[2] = (uint8_t)(dst->port >> 8);
	p[3] = (uint8_t)dst->port;
	return STLS_PROXY_V2_FIXED + len;
}
