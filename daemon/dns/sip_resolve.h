/*
 * RFC 3263 section 4 for the targets siptlsd connects to: from a SIP or
 * SIPS URI's host, port and transport to an ordered list of (address,
 * port, TLS or TCP) to try, first to last (section 4.3: the next one when
 * a connect or handshake fails).
 *
 * The steps (docs/dns.md has the table):
 * - a numeric host: that address; the URI's port, else 5061 for TLS and
 *   5060 for TCP; no DNS (section 4.2);
 * - a port in the URI: A and AAAA of the host, that port (section 4.2);
 * - a transport in the URI (transport=tls/tcp): SRV of _sips._tcp or
 *   _sip._tcp (section 4.2), then A/AAAA of the targets;
 * - otherwise NAPTR of the host (section 4.1): records with flag "s" and
 *   a service we can use (SIPS+D2T; SIP+D2T for sip: URIs when plain TCP
 *   is allowed), by order and preference; the first whose SRV has
 *   records wins. No usable NAPTR: SRV of _sips._tcp (then _sip._tcp for
 *   sip: URIs); no SRV either: A/AAAA of the host with the default port.
 *   NXDOMAIN for the NAPTR query ends it (the name does not exist).
 * - SRV records are ordered by RFC 2782 (srv_order.h); each target's A
 *   addresses come before its AAAA ones.
 *
 * Transport: siptlsd opens TLS or TCP, never UDP: a sip: URI without
 * transport (RFC 3263 would say UDP) and one with transport=udp are
 * reached over TCP.
 *
 * Threads: the resolver's worker only.
 */
#ifndef STLSD_DNS_SIP_RESOLVE_H
#define STLSD_DNS_SIP_RESOLVE_H

#include "dns/resolver.h"
#include "dns/srv_order.h"
#include "stls/addr.h"

#define STLS_SIP_TARGETS_MAX 16
#define STLS_SIP_WHY_MAX 200

enum stls_sip_dns_tp {
	STLS_SIP_DNS_TP_NONE, /* no transport= parameter */
	STLS_SIP_DNS_TP_TCP,  /* transport=tcp or transport=udp */
	STLS_SIP_DNS_TP_TLS,  /* transport=tls */
};

/* What to resolve: the next hop's URI parts and what we can open. */
struct stls_sip_dns_req {
	const char *host; /* IPv6 without brackets */
	uint16_t port;    /* 0: none in the URI */
	bool host_is_ip;
	bool sips;        /* a sips: URI (TLS only) */
	enum stls_sip_dns_tp transport;
	bool tls_ok;      /* TLS connections can be opened */
	bool tcp_ok;      /* plain TCP ones can ([relay] plain_targets) */
};

struct stls_sip_target {
	struct stls_addr addr; /* with the port */
	bool tls;
};

struct stls_sip_targets {
	size_t n;
	struct stls_sip_target t[STLS_SIP_TARGETS_MAX];
};

struct stls_sip_resolve;

/*
 * A resolution that waited for the network ended: <err> 0 with <t>
 * (n >= 1), or an error (see stls_sip_resolve) with <why>, a short
 * English reason ("DNS timeout for NAPTR example.com"). Both borrowed
 * for the call. The handle is gone when this runs.
 */
typedef void stls_sip_resolved_fn(void *arg, int err,
				  const struct stls_sip_targets *t,
				  const char *why);

/*
 * Resolves <req> with <dns> (NULL: numeric hosts only). <rnd> orders
 * SRV records of equal priority. Returns:
 *   1  done at once (numeric host, or every step from the cache): the
 *      list is in *now; <fn> is not called;
 *   0  waiting: <fn> runs later, once, unless stls_sip_resolve_cancel
 *      (*out) comes first;
 *  <0  failed at once, with the reason in why[STLS_SIP_WHY_MAX]:
 *      -ENOENT (no such domain, or SRV says no service), -ENODATA (no
 *      address), -ETIMEDOUT (no DNS answer), -EPROTONOSUPPORT (no
 *      transport we may open), -EINVAL (bad host), -EIO, -ECONNREFUSED,
 *      -EBADMSG (DNS failures), -ENOMEM, -ECANCELED.
 * The same errors reach <fn>.
 */
STLS_MUST_USE int stls_sip_resolve(struct stls_dns *dns,
				   const struct stls_sip_dns_req *req,
				   stls_dns_rand_fn *rnd, void *rnd_arg,
				   stls_sip_resolved_fn *fn, void *arg,
				   struct stls_sip_targets *now, char *why,
				   struct stls_sip_resolve **out);

/* Stops a waiting resolution; its callback will not run. NULL is fine. */
void stls_sip_resolve_cancel(struct stls_sip_resolve *r);

#endif
