/*
 * IP addresses with a port, as profiles and listeners name them.
 *
 * Text forms: "1.2.3.4:5061", "[2001:db8::1]:5061"; without a port where the
 * caller allows it. IPv4 and IPv6 never compare equal (an IPv4-mapped IPv6
 * address is not the IPv4 address), as in the seed's profile matching.
 */
#ifndef STLS_ADDR_H
#define STLS_ADDR_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "stls/common.h"

struct stls_addr {
	sa_family_t family; /* AF_INET, AF_INET6, or AF_UNSPEC (none) */
	uint16_t port;      /* host order; 0 = any port */
	uint8_t ip[16];     /* network order; IPv4 uses the first 4 bytes */
};

/* Longest text form, with brackets, port and NUL. */
#define STLS_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/*
 * Parses "IPv4[:port]" or "[IPv6][:port]" or a bare IPv6 address when
 * port_required is false. Returns 0, or -EINVAL (nothing is written to *out
 * then).
 */
STLS_MUST_USE int stls_addr_parse(const char *s, bool port_required,
				  struct stls_addr *out);

/* Parses an IP address alone (no brackets, no port). */
STLS_MUST_USE int stls_addr_parse_ip(const char *s, struct stls_addr *out);

/* Writes "1.2.3.4:5061" or "[::1]:5061" (with_port) or the bare IP. */
const char *stls_addr_str(const struct stls_addr *a, bool with_port,
			  char buf[STLS_ADDR_STRLEN]);

/* Same family and IP bytes (ports ignored). */
bool stls_addr_ip_eq(const struct stls_addr *a, const struct stls_addr *b);

/* IP equal and ports equal. */
bool stls_addr_eq(const struct stls_addr *a, const struct stls_addr *b);

/* Conversions to and from the socket API. */
void stls_addr_from_sockaddr(const struct sockaddr *sa, struct stls_addr *out);
socklen_t stls_addr_to_sockaddr(const struct stls_addr *a,
				struct sockaddr_storage *ss);

#endif
