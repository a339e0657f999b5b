/*
 * `[core] metrics` and `metrics_allow` (see metrics_conf.h). The keyword
 * table of core_conf.c declares both keys (type, doc); this file gives
 * them their meaning and checks them together.
 */
#include "config/metrics_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct stls_kv *find_kv(const struct stls_section *sec,
				     const char *key)
{
	const struct stls_kv *kv, *last = NULL;

	for (kv = sec ? sec->kvs : NULL; kv; kv = kv->next) {
		if (strcmp(kv->key, key) == 0)
			last = kv;
	}
	return last;
}

static int parse_net(const char *item, struct stls_metrics_net *n)
{
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	unsigned max, i, keep;
	struct stls_addr a;
	char ip[64], *end;
	long bits;

	if (len == 0 || len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, item, len);
	ip[len] = '\0';
	if (stls_addr_parse_ip(ip, &a) != 0)
		return -EINVAL;
	max = a.family == AF_INET ? 32 : 128;
	bits = max;
	if (slash) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits < 0 ||
		    bits > (long)max)
			return -EINVAL;
	}
	memset(n, 0, sizeof(*n));
	n->family = a.family;
	n->bits = (unsigned)bits;
	for (i = 0; i < 16 && i * 8 < n->bits; i++) {
		keep = n->bits - i * 8 >= 8 ? 8 : n->bits - i * 8;
		n->ip[i] = (uint8_t)(a.ip[i] & (0xff00u >> keep));
	}
	return 0;
}

static bool net_has(const struct stls_metrics_net *n,
		    const struct stls_addr *a)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;
	uint8_t mask;

	if (n->family != a->family || memcmp(n->ip, a->ip, full) != 0)
		return false;
	if (!rest)
		return true;
	mask = (uint8_t)(0xffu << (8 - rest));
	return (a->ip[full] & mask) == n->ip[full];
}

bool stls_addr_is_loopback(const struct stls_addr *a)
{
	static const uint8_t v6[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->ip[0] == 127;
	return a->family == AF_INET6 && memcmp(a->ip, v6, 16) == 0;
}

static bool is_wildcard(const struct stls_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

bool stls_metrics_conf_allows(const struct stls_metrics_conf *c,
			      const struct stls_addr *a)
{
	size_t i;

	if (stls_addr_is_loopback(a))
		return true;
	for (i = 0; i < c->n_allow; i++) {
		if (net_has(&c->allow[i], a))
			return true;
	}
	return false;
}

/* Items of a list separated by commas and/or blanks. */
static int parse_allow(const struct stls_kv *kv, struct stls_metrics_conf *c,
		       struct stls_diag *diag)
{
	const char *p = kv->value;
	struct stls_metrics_net net, *v;
	char item[80];
	size_t n;

	for (;;) {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			return 0;
		if (n >= sizeof(item) ||
		    (memcpy(item, p, n), item[n] = '\0',
		     parse_net(item, &net) != 0)) {
			stls_diag_err(diag, kv->loc.file, kv->loc.line,
				      "metrics_allow: '%.*s': expected IP or "
				      "IP/BITS",
				      (int)n, p);
			return -EINVAL;
		}
		v = realloc(c->allow, (c->n_allow + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		v[c->n_allow++] = net;
		c->allow = v;
		p += n;
	}
}

/* The listening address against the rule of metrics_conf.h. */
static int check_addr(const struct stls_kv *kv, struct stls_metrics_conf *c,
		      struct stls_diag *diag)
{
	size_t i;

	if (stls_addr_is_loopback(&c->addr))
		return 0;
	if (is_wildcard(&c->addr)) {
		if (c->n_allow)
			return 0;
		stls_diag_err(diag, kv->loc.file, kv->loc.line,
			      "metrics: %s listens on every address: set "
			      "metrics_allow to the networks that may scrape",
			      kv->value);
		return -EINVAL;
	}
	for (i = 0; i < c->n_allow; i++) {
		if (net_has(&c->allow[i], &c->addr))
			return 0;
	}
	stls_diag_err(diag, kv->loc.file, kv->loc.line,
		      "metrics: %s is not a loopback address: list its "
		      "network in metrics_allow to serve metrics there",
		      kv->value);
	return -EINVAL;
}

int stls_metrics_conf_apply(const struct stls_section *core,
			    struct stls_metrics_conf *out,
			    struct stls_diag *diag)
{
	const struct stls_kv *m = find_kv(core, "metrics");
	const struct stls_kv *al = find_kv(core, "metrics_allow");
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (al)
		err = parse_allow(al, out, diag);
	if (err || !m)
		return err;
	if (stls_addr_parse(m->value, true, &out->addr) != 0 ||
	    out->addr.port == 0 ||
	    (out->addr.family == AF_INET6 && m->value[0] != '[')) {
		stls_diag_err(diag, m->loc.file, m->loc.line,
			      "metrics: '%s': expected IPv4:PORT or "
			      "[IPv6]:PORT (port not 0)",
			      m->value);
		return -EINVAL;
	}
	err = check_addr(m, out, diag);
	out->on = err == 0;
	return err;
}

void stls_metrics_conf_fini(struct stls_metrics_conf *c)
{
	if (!c)
		return;
	free(c->allow);
	memset(c, 0, sizeof(*c));
}
