/*
 * Lists of networks written as "IP" or "IP/BITS" (IPv4 or IPv6),
 * separated by commas or blanks: [relay] connection_out_deny/allow and
 * [core] proxy_trusted.
 */
#ifndef STLSD_NETS_H
#define STLSD_NETS_H

#include <stddef.h>

#include "stls/addr.h"

struct stls_net {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t ip[16];     /* masked to <bits> */
	unsigned bits;
};

/* Appends the networks of <v> to *arr (*n of them, realloc'd). Returns 0,
 * -EINVAL with *why, or -ENOMEM. */
STLS_MUST_USE int stls_nets_add(const char *v, struct stls_net **arr,
				size_t *n, const char **why);

/* Whether <a> is in network <net>. */
bool stls_net_has(const struct stls_net *net, const struct stls_addr *a);

/* Whether <a> is in any of v[0..n). */
bool stls_nets_match(const struct stls_net *v, size_t n,
		     const struct stls_addr *a);

#endif
