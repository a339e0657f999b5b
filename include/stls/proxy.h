/*
 * The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt,
 * section 2.2) that an L4 balancer sends before the client's bytes, so
 * that the server sees the client's address instead of the balancer's.
 * Untrusted input: only the daemon's listeners with proxy_protocol read
 * it, and only from sources listed in [core] proxy_trusted
 * (fuzz/fuzz_proxy.c).
 *
 * Version 1 (the text form "PROXY TCP4 ...") is not accepted: a balancer
 * that can send v1 can send v2 (HAProxy: send-proxy-v2).
 */
#ifndef STLS_PROXY_H
#define STLS_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "stls/addr.h"

/* The fixed part: signature (12), version and command, family, length. */
#define STLS_PROXY_V2_FIXED 16
/* The largest header accepted (addresses and TLVs). */
#define STLS_PROXY_V2_MAX 1024

struct stls_proxy_hdr {
	bool local;           /* LOCAL command (the balancer's own health
			       * check): no addresses, use the connection's */
	struct stls_addr src; /* the client (PROXY over TCP/IPv4 or IPv6) */
	struct stls_addr dst; /* the address the client connected to */
};

/*
 * Reads a PROXY v2 header at the start of <p> (<n> bytes so far).
 * Returns the header's length (>0, the bytes to skip) with *out filled;
 * 0 when more bytes are needed (and what came so far can still be a
 * header); -EPROTO when it is not a v2 header (wrong signature, version
 * or command, or a v1 text header); -EAFNOSUPPORT for a PROXY command
 * with a family other than TCP over IPv4/IPv6 (UNIX sockets, UDP,
 * UNSPEC); -EBADMSG when the length is too short for the family;
 * -E2BIG when the header is longer than STLS_PROXY_V2_MAX.
 */
STLS_MUST_USE int stls_proxy_v2_parse(const uint8_t *p, size_t n,
				      struct stls_proxy_hdr *out);

/* Writes a PROXY v2 header (PROXY, TCP) for src -> dst (same family)
 * into buf (at least 52 bytes). Returns its length. Tests, tools. */
size_t stls_proxy_v2_build(const struct stls_addr *src,
			   const struct stls_addr *dst, uint8_t *buf);

#endif
