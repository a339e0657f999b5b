/* Lists of networks (nets.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/nets.h"

static int parse_bits(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return (!*s || errno || *end) ? -EINVAL : 0;
}

static int parse_net(const char *item, struct stls_net *n)
{
	char ip[64];
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	struct stls_addr a;
	long bits;
	unsigned i;

	if (len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, item, len);
	ip[len] = '\0';
	if (stls_addr_parse_ip(ip, &a) != 0)
		return -EINVAL;
	bits = a.family == AF_INET ? 32 : 128;
	if (slash && (parse_bits(slash + 1, &bits) || bits < 0 ||
		      bits > (a.family == AF_INET ? 32 : 128)))
		return -EINVAL;
	n->family = a.family;
	n->bits = (unsigned)bits;
	memset(n->ip, 0, sizeof(n->ip));
	for (i = 0; i < 16 && i * 8 < n->bits; i++) {
		unsigned keep = n->bits - i * 8 >= 8 ? 8 : n->bits - i * 8;

		n->ip[i] = (uint8_t)(a.ip[i] & (0xff00u >> keep));
	}
	return 0;
}

int stls_nets_add(const char *v, struct stls_net **arr, size_t *n,
		  const char **why)
{
	struct stls_net net, *a;
	char item[80];
	size_t len;

	for (;;) {
		v += strspn(v, " \t,");
		len = strcspn(v, " \t,");
		if (!len)
			return 0;
		if (len >= sizeof(item) || (memcpy(item, v, len),
					    item[len] = '\0',
					    parse_net(item, &net) != 0)) {
			*why = "expected IP or IP/BITS (IPv4 or IPv6)";
			return -EINVAL;
		}
		v += len;
		a = realloc(*arr, (*n + 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		a[(*n)++] = net;
		*arr = a;
	}
}

bool stls_net_has(const struct stls_net *n, const struct stls_addr *a)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;
	uint8_t mask;

	if (n->family != a->family)
		return false;
	if (memcmp(n->ip, a->ip, full) != 0)
		return false;
	if (!rest)
		return true;
	mask = (uint8_t)(0xffu << (8 - rest));
	return (a->ip[full] & mask) == n->ip[full];
}

bool stls_nets_match(const struct stls_net *v, size_t n,
		     const struct stls_addr *a)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (stls_net_has(&v[i], a))
			return true;
	}
	return false;
}
