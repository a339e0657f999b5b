/*
 * Route sets through siptlsd (RFC 3261 sections 16.4 and 16.12, RFC 5626
 * section 5.3, RFC 5658 double Record-Route).
 *
 * siptlsd records two Route entries per flow it serves (inside address
 * and TLS-side address, both with the flow token as user part), and a
 * registration stores one (Path). A route set may therefore hold the
 * entries of two flows: the caller's and the callee's, with the backend's
 * own entry between them when the backend record-routes, and nothing
 * between them when it does not.
 *
 * Which leading entries are removed depends on where the request came
 * from:
 *
 *   from a client flow F: the entries that name this hop for F (token F,
 *     or our address without a token). The first entry naming another
 *     flow G is the next hop: the backend chose not to stay in the
 *     dialog, so the request goes to G directly; G's entries right after
 *     it are removed too (they name us on G's side).
 *   from the backend: our entries without a token, then the first flow G
 *     and G's entries right after it.
 *
 * The walk stops at the first entry that is not ours: that is where the
 * request goes (through the backend, for a client request). A user part of
 * token size on our own address whose MAC fails is a forged or stale
 * token: -EACCES, never followed (the caller answers 403, RFC 5626 5.3).
 */
#include "relay/sip_rewrite_int.h"

#include <errno.h>

static bool host_eq(struct stls_slice a, const char *b)
{
	return b && stls_slice_eq_cstr_ci(a, b);
}

bool stls__relay_uri_is_ours(const struct stls_relay_conf *c,
			     const struct stls_sip_uri *u)
{
	uint16_t port = u->has_port ? u->port :
			u->kind == STLS_SIP_SCHEME_SIPS ? 5061 : 5060;

	if (u->kind == STLS_SIP_SCHEME_OTHER) {
		return false;
	}
	return (host_eq(u->host, c->inside_host) && port == c->inside_port) ||
	       (host_eq(u->host, c->outside_host) &&
		(port == c->outside_port || (!u->has_port &&
					     c->outside_port == 5061)));
}

enum route_kind {
	ROUTE_OTHER, /* not ours: the walk stops */
	ROUTE_OURS,  /* our address, no flow token */
	ROUTE_FLOW,  /* a valid flow token (on any host: the MAC proves it) */
};

/* Classifies Route value <v>; for ROUTE_FLOW sets *tok and *f. */
static int classify(const struct stls_relay_ctx *ctx, struct stls_slice v,
		    enum route_kind *kind, struct stls_slice *tok,
		    struct stls_flow *f)
{
	struct stls_sip_addr a;
	bool ours;

	if (stls_sip_addr_parse(v, false, &a)) {
		return -EBADMSG;
	}
	*kind = ROUTE_OTHER;
	if (a.uri.kind == STLS_SIP_SCHEME_OTHER) {
		return 0;
	}
	ours = stls__relay_uri_is_ours(ctx->conf, &a.uri);
	if (a.uri.user.len == STLS_FLOW_TOKEN_LEN) {
		if (stls_flow_token_parse(ctx->signer, a.uri.user.p,
					  a.uri.user.len, f) == 0) {
			*kind = ROUTE_FLOW;
			*tok = a.uri.user;
			return 0;
		}
		if (ours) {
			return -EACCES;
		}
	}
	if (ours) {
		*kind = ROUTE_OURS;
	}
	return 0;
}

int stls__relay_routes(const struct stls_relay_ctx *ctx,
		       const struct stls_sip_msg *m,
		       struct stls__relay_plan *plan, const char *arrived,
		       struct stls_flow *flow, bool *has_flow)
{
	struct stls_slice v, tok = { NULL, 0 }, next = { NULL, 0 };
	struct stls_sip_values it;
	enum route_kind kind;
	struct stls_flow f;
	int r, err;

	stls_sip_values_init(&it, m, stls_sip_msg_find(m, STLS_SIP_HDR_ROUTE));
	while ((r = stls_sip_values_next(&it, &v)) == 1) {
		err = classify(ctx, v, &kind, &tok, &f);
		if (err) {
			return err;
		}
		if (kind == ROUTE_OTHER) {
			break;
		}
		if (*has_flow) {
			/* Past the next flow: only more of its entries go. */
			if (kind != ROUTE_FLOW || !stls_slice_eq_ci(tok, next)) {
				break;
			}
		} else if (kind == ROUTE_FLOW &&
			   !(arrived && stls_slice_eq_cstr_ci(tok, arrived))) {
			*flow = f;
			*has_flow = true;
			next = tok;
		}
		plan->route_cut.line = it.line;
		plan->route_cut.rest = it.rest;
	}
	return r < 0 ? -EBADMSG : 0;
}

bool stls__relay_asks_outbound(const struct stls_sip_msg *m)
{
	struct stls_sip_values it;
	struct stls_sip_addr a;
	struct stls_slice v, opt;
	bool supported = false;

	/* The Route to us (the UA's outbound proxy) carries ;ob. */
	stls_sip_values_init(&it, m, stls_sip_msg_find(m, STLS_SIP_HDR_ROUTE));
	if (stls_sip_values_next(&it, &v) == 1 &&
	    stls_sip_addr_parse(v, false, &a) == 0 &&
	    stls_sip_uri_param(&a.uri, "ob", &opt)) {
		return true;
	}
	/* Or RFC 5626 4.2.1: Supported: outbound and a Contact reg-id. */
	stls_sip_values_init(&it, m,
			     stls_sip_msg_find(m, STLS_SIP_HDR_SUPPORTED));
	while (!supported && stls_sip_values_next(&it, &opt) == 1) {
		supported = stls_slice_eq_cstr_ci(opt, "outbound");
	}
	if (!supported) {
		return false;
	}
	stls_sip_values_init(&it, m, stls_sip_msg_find(m, STLS_SIP_HDR_CONTACT));
	while (stls_sip_values_next(&it, &v) == 1) {
		if (stls_sip_addr_parse(v, true, &a) == 0 &&
		    stls_sip_param_find(a.params, "reg-id", &opt)) {
			return true;
		}
	}
	return false;
}
