/*
 * SIP URIs, name-addr / addr-spec and generic parameters (RFC 3261 sections
 * 19.1 and 25.1, RFC 2732 for IPv6 references).
 *
 * Everything is zero-copy: the structs hold slices into the parsed text.
 * Escapes (%HH) are checked but not decoded: comparing or decoding is the
 * caller's business. Non-SIP URIs (tel:, http:, "soap.beep:", ...) are
 * accepted as absolute URIs with only the scheme split out.
 */
#ifndef STLS_SIP_URI_H
#define STLS_SIP_URI_H

#include "stls/common.h"
#include "stls/sip/slice.h"

enum stls_sip_scheme {
	STLS_SIP_SCHEME_OTHER = 0,
	STLS_SIP_SCHEME_SIP,
	STLS_SIP_SCHEME_SIPS,
};

struct stls_sip_uri {
	struct stls_slice raw;      /* the whole URI */
	struct stls_slice scheme;   /* "sip", "sips", "tel", ... */
	enum stls_sip_scheme kind;
	/* Fields below are set for SIP and SIPS URIs only. */
	struct stls_slice user;     /* escaped form; empty when absent */
	struct stls_slice password; /* empty when absent */
	bool has_user;
	struct stls_slice host;     /* IPv6 without its brackets */
	bool host_ipv6;             /* host was written in [] */
	bool host_is_ip;            /* IPv4 or IPv6 literal */
	uint16_t port;              /* 0 when absent */
	bool has_port;
	struct stls_slice params;   /* from the first ';' to '?' or end */
	struct stls_slice headers;  /* after '?', empty when absent */
	bool has_headers;
};

/*
 * Parses <s> as a URI. Refuses LWS, control bytes, angle brackets, a bad
 * escape, a bad host or port, an empty parameter. Returns 0 or -EBADMSG.
 */
STLS_MUST_USE int stls_sip_uri_parse(struct stls_slice s,
				     struct stls_sip_uri *u);

/*
 * Finds URI parameter <name> (case-insensitive) in u->params. Returns true
 * and sets *value (empty for a parameter without value) when present.
 */
bool stls_sip_uri_param(const struct stls_sip_uri *u, const char *name,
			struct stls_slice *value);

/*
 * Generic parameter list iterator: *rest starts at ';' (LWS allowed around
 * ';' and '='; values are tokens, hosts or quoted strings). Returns 1 with
 * *name / *value (value empty when absent; quoted values keep their
 * quotes) and *span (the parameter from its ';' to its end), 0 at the end
 * of the list, -EBADMSG on an empty or malformed parameter.
 */
STLS_MUST_USE int stls_sip_param_next(struct stls_slice *rest,
				      struct stls_slice *name,
				      struct stls_slice *value,
				      struct stls_slice *span);

/* Finds parameter <name> in list <params>; true when present. */
bool stls_sip_param_find(struct stls_slice params, const char *name,
			 struct stls_slice *value);

/* One name-addr or addr-spec with its header parameters. */
struct stls_sip_addr {
	struct stls_slice display; /* raw (quotes kept), empty when none */
	struct stls_slice uri_raw;
	struct stls_sip_uri uri;
	struct stls_slice params;  /* header params from the first ';' */
	bool angle;                /* written as <uri> */
	bool star;                 /* Contact: * */
};

/*
 * Parses one value of From, To, Contact, Route, Record-Route, Path,
 * Refer-To... (already split from a comma list). Refuses an unterminated
 * quote, LWS inside <>, an unquoted display name with non-token
 * characters, '?' or ',' in an addr-spec, malformed parameters. "*" is
 * accepted (star = true) only when allow_star. Returns 0 or -EBADMSG.
 */
STLS_MUST_USE int stls_sip_addr_parse(struct stls_slice s, bool allow_star,
				      struct stls_sip_addr *a);

/* True when <s> is an IPv4 or IPv6 literal (no brackets). */
bool stls_sip_host_is_ip(struct stls_slice s);

#endif
