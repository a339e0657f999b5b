/*
 * Internals shared by sip_rewrite.c (client side) and
 * sip_rewrite_backend.c (backend side): the edit plan and the writer that
 * applies it. Not an interface for the event loop.
 */
#ifndef STLS_SIP_REWRITE_INT_H
#define STLS_SIP_REWRITE_INT_H

#include "stls/sip/out.h"
#include "relay/sip_rewrite.h"
#include "stls/sip/uri.h"
#include "stls/sip/via.h"

/* Cut of a comma list: values before (line, rest) are removed. */
struct stls__relay_cut {
	const struct stls_sip_hdr_line *line; /* NULL: nothing removed */
	struct stls_slice rest; /* kept tail of that line; p NULL: none */
};

struct stls__relay_plan {
	const struct stls_sip_msg *m;
	struct stls__relay_cut via_cut;   /* top Via removed */
	struct stls__relay_cut route_cut; /* leading Routes removed */
	const struct stls_sip_via *fix_via; /* top Via re-written with: */
	const char *received;             /* NULL: no received */
	unsigned rport;
	bool mf_set;                      /* write Max-Forwards: mf */
	unsigned mf;
	const char *strip_prefix;         /* drop lines whose name starts so */
	const char *strip_a, *strip_b;    /* drop lines with these names */
	struct stls_slice head;           /* lines inserted after start line */
	struct stls_slice tail;           /* lines appended after headers */
};

/* Writes host, bracketing IPv6, and ":port" when port is not 0. */
void stls__relay_put_hostport(struct stls_sip_out *o, const char *host,
			      uint16_t port);

/* The RFC 3261 16.11 branch value (with magic cookie) for <m>. */
void stls__relay_put_branch(struct stls_sip_out *o,
			    const struct stls_sip_msg *m,
			    const struct stls_sip_via *top);

/*
 * The first Via value as the validation parsed it (no second parse);
 * sets *cut to remove it. Returns 0, or -EINVAL when <m> was not
 * validated (stls_sip_msg_validate*()).
 */
STLS_MUST_USE int stls__relay_top_via(const struct stls_sip_msg *m,
				      const struct stls_sip_via **via,
				      struct stls__relay_cut *cut);

/* The facts header prefix of <c> ("X-TLS-" when unset). */
const char *stls__relay_facts_prefix(const struct stls_relay_conf *c);

/* Finds Via parameter <name> (case-insensitive); true and *value when
 * present. */
bool stls__relay_via_param(const struct stls_sip_via *v, const char *name,
			   struct stls_slice *value);

/* Max-Forwards rule: 0 -> -ELOOP, absent -> 70, else n - 1. */
STLS_MUST_USE int stls__relay_max_forwards(const struct stls_sip_msg *m,
					   struct stls__relay_plan *plan);

/* sip_route.c: route sets. */

/* True when <u> is one of our addresses (inside or outside). */
bool stls__relay_uri_is_ours(const struct stls_relay_conf *c,
			     const struct stls_sip_uri *u);

/*
 * Removes the leading Route values that name this hop for a request that
 * came on flow <arrived> (its token; NULL: from the backend) and, when the
 * next value names another flow, that flow's values too: then *flow is
 * that flow and *has_flow true (the request goes there directly). Stops at
 * the first value that is not ours. Returns 0, -EACCES (a forged or stale
 * token on our address: never followed) or -EBADMSG (malformed).
 */
STLS_MUST_USE int stls__relay_routes(const struct stls_relay_ctx *ctx,
				     const struct stls_sip_msg *m,
				     struct stls__relay_plan *plan,
				     const char *arrived,
				     struct stls_flow *flow, bool *has_flow);

/*
 * True when REGISTER <m> asks for RFC 5626 outbound: ;ob on its first
 * Route, or Supported: outbound with a Contact that has reg-id.
 */
bool stls__relay_asks_outbound(const struct stls_sip_msg *m);

/* Writes the message per <plan>. Returns length or -ENOBUFS. */
STLS_MUST_USE ssize_t stls__relay_emit(const struct stls__relay_plan *plan,
				       char *out, size_t cap);

/* Writes the message per <plan> and marks <res> as a forward of it.
 * Returns 0 or -ENOBUFS (res untouched then). */
STLS_MUST_USE int stls__relay_forward(const struct stls__relay_plan *plan,
				      char *out, size_t cap,
				      struct stls_relay_result *res);

/* Writes a 400/483 local reply to <m> into out; fills res. */
STLS_MUST_USE int stls__relay_reply(const struct stls_relay_ctx *ctx,
				    const struct stls_sip_msg *m,
				    unsigned status, char *out, size_t cap,
				    struct stls_relay_result *res);

#endif
