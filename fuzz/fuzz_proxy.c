/*
 * Fuzz target: the start of a connection on a listener with
 * proxy_protocol (stls/proxy.h), as the daemon reads it: the bytes come
 * in pieces, each prefix is offered to stls_proxy_v2_parse() until it
 * says complete or refused. A complete header must lie within the input
 * and give a TCP address pair (or LOCAL); a prefix of a complete header
 * must never be refused. Bad data must fail cleanly: no crash, no read
 * past the end (the input is copied to a buffer of its own size).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stls/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stls_proxy_hdr h;
	uint8_t *copy;
	size_t i;
	int r = 0, full;

	if (size == 0)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	full = stls_proxy_v2_parse(copy, size, &h);
	if (full > 0) {
		if ((size_t)full > size || full > STLS_PROXY_V2_MAX)
			abort();
		if (!h.local && (h.src.family != h.dst.family ||
				 (h.src.family != AF_INET &&
				  h.src.family != AF_INET6)))
			abort();
	}
	/* Byte by byte, as a slow balancer sends it. */
	for (i = 1; i <= size && (r = stls_proxy_v2_parse(copy, i, &h)) == 0;
	     i++)
		;
	if (full > 0 && r != full)
		abort();
	free(copy);
	return 0;
}
