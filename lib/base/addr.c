/*
 * IP address parsing, printing and comparison (see stls/addr.h).
 */
#include "stls/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int stls_addr_parse_ip(const char *s, struct stls_addr *out)
{
	struct stls_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.ip) == 1) {
		a.family = AF_INET;
	} else if (inet_pton(AF_INET6, s, a.ip) == 1) {
		a.family = AF_INET6;
	} else {
		return -EINVAL;
	}
	*out = a;
	return 0;
}

int stls_addr_parse(const char *s, bool port_required, struct stls_addr *out)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *end;
	struct stls_addr a = { 0 };
	size_t n;

	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
		s++;
	} else {
		end = strchr(s, ':');
		if (end && strchr(end + 1, ':')) {
			/* Bare IPv6 without brackets: no port possible. */
			end = s + strlen(s);
		} else if (end) {
			port = end + 1;
		} else {
			end = s + strlen(s);
		}
		n = (size_t)(end - s);
	}
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (stls_addr_parse_ip(ip, &a) != 0)
		return -EINVAL;
	if (port) {
		if (parse_port(port, &a.port) != 0)
			return -EINVAL;
	} else if (port_required) {
		return -EINVAL;
	}
	*out = a;
	return 0;
}

const char *stls_addr_str(const struct stls_addr *a, bool with_port,
			  char buf[STLS_ADDR_STRLEN])
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, STLS_ADDR_STRLEN, "none");
		return buf;
	}
	inet_ntop(a->family, a->ip, ip, sizeof(ip));
	if (!with_port)
		snprintf(buf, STLS_ADDR_STRLEN, "%s", ip);
	else if (a->family == AF_INET6)
		snprintf(buf, STLS_ADDR_STRLEN, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, STLS_ADDR_STRLEN, "%s:%u", ip, a->port);
	return buf;
}

bool stls_addr_ip_eq(const struct stls_addr *a, const struct stls_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0;
}

bool stls_addr_eq(const struct stls_addr *a, const struct stls_addr *b)
{
	return a->port == b->port && stls_addr_ip_eq(a, b);
}

void stls_addr_from_sockaddr(const struct sockaddr *sa, struct stls_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		out->port = ntohs(in->sin_port);
		memcpy(out->ip, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		out->family = AF_INET6;
		out->port = ntohs(in6->sin6_port);
		memcpy(out->ip, &in6->sin6_addr, 16);
	} else {
		out->family = AF_UNSPEC;
	}
}

socklen_t stls_addr_to_sockaddr(const struct stls_addr *a,
				struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip, 4);
		return sizeof(*in);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
		return sizeof(*in6);
	}
	return 0;
}
