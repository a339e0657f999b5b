/*
 * Via header values (RFC 3261 section 20.42, RFC 3581 rport).
 *
 * One value of a Via header (the comma list is split by
 * stls_sip_values_next()) parsed zero-copy: sent-protocol with LWS around
 * the slashes, sent-by host (name, IPv4 or [IPv6]) and port, and the
 * parameters the relay uses (branch, received, rport with or without value,
 * maddr, ttl). Every parameter's raw span is kept so that the relay can
 * copy a Via while dropping or replacing some of them.
 */
#ifndef STLS_SIP_VIA_H
#define STLS_SIP_VIA_H

#include "stls/common.h"
#include "stls/sip/slice.h"

#define STLS_SIP_VIA_MAX_PARAMS 24
#define STLS_SIP_MAGIC_COOKIE "z9hG4bK"

struct stls_sip_via_param {
	struct stls_slice name, value, span; /* span: ";name=value" */
};

struct stls_sip_via {
	struct stls_slice raw;       /* the whole value */
	struct stls_slice proto;     /* "SIP" */
	struct stls_slice version;   /* "2.0" */
	struct stls_slice transport; /* "UDP", "TCP", "TLS", ... */
	struct stls_slice host;      /* IPv6 without brackets */
	bool host_ipv6;
	uint16_t port;               /* 0 when absent */
	bool has_port;
	struct stls_slice sent_by;   /* host[:port] as written */
	struct stls_slice branch, received, rport, maddr, ttl;
	bool has_branch, has_received, has_rport, has_maddr, has_ttl;
	unsigned n_params;
	struct stls_sip_via_param params[STLS_SIP_VIA_MAX_PARAMS];
};

/*
 * Parses one Via value. Refuses a missing part, a bad host or port, an
 * empty or malformed parameter, a bad received address, an rport or ttl
 * that is not a number in range, more than STLS_SIP_VIA_MAX_PARAMS
 * parameters. Returns 0 or -EBADMSG.
 */
STLS_MUST_USE int stls_sip_via_parse(struct stls_slice s,
				     struct stls_sip_via *v);

/* True when the branch starts with the RFC 3261 magic cookie. */
bool stls_sip_via_is_rfc3261(const struct stls_sip_via *v);

#endif
