/*
 * Relay rewriting, responses from TLS peers (RFC 3261 sections 16.7 and
 * 18.2.2, RFC 3581, RFC 5626): the answer to a request the backend sent
 * through siptlsd goes to the backend, the answer to a request from
 * another flow goes to that flow. See sip_rewrite.h.
 */
#include "relay/sip_rewrite_int.h"

#include <errno.h>

/* The address a response goes to, from a Via (RFC 3261 18.2.2, RFC 3581). */
static void via_target(const struct stls_sip_via *v,
		       struct stls_relay_target *t)
{
	unsigned long port = 0;
	size_t i;

	t->host = v->has_received ? v->received : v->host;
	t->host_is_ip = v->has_received || v->host_ipv6 ||
			stls_sip_host_is_ip(v->host);
	for (i = 0; i < v->rport.len; i++) {
		port = port * 10 + (unsigned long)(v->rport.p[i] - '0');
	}
	t->port = v->rport.len ? (uint16_t)port :
		  v->has_port ? v->port : 5060;
	t->tls = stls_slice_eq_cstr_ci(v->transport, "TLS");
	t->tp = stls_slice_eq_cstr_ci(v->transport, "TCP") ? STLS_SIP_TP_TCP :
		t->tls ? STLS_SIP_TP_TLS : STLS_SIP_TP_UDP;
}

/*
 * Whether the top Via <top> of a response from a TLS peer is ours: a
 * valid ft parameter (a request from another flow: *flow names it; the MAC
 * proves the Via is ours whatever address it shows), or our outside host
 * and port (a request from the backend).
 */
static int client_response_via(const struct stls_relay_ctx *ctx,
			       const struct stls_sip_via *top,
			       struct stls_relay_result *res)
{
	const struct stls_relay_conf *c = ctx->conf;
	struct stls_slice ft;

	res->error = "top Via is not ours";
	if (!stls_sip_via_is_rfc3261(top)) {
		return -EBADMSG;
	}
	if (ctx->signer && stls__relay_via_param(top, "ft", &ft)) {
		res->error = "bad flow token";
		if (stls_flow_token_parse(ctx->signer, ft.p, ft.len,
					  &res->flow)) {
			return -EBADMSG;
		}
		res->has_flow = true;
		return 0;
	}
	if (!c->outside_host ||
	    !stls_slice_eq_cstr_ci(top->host, c->outside_host) ||
	    (top->has_port ? top->port : 5061) != c->outside_port) {
		return -EBADMSG;
	}
	return 0;
}

int stls_relay_client_response(const struct stls_relay_ctx *ctx,
			       struct stls_sip_msg *m, char *out, size_t cap,
			       struct stls_relay_result *res)
{
	struct stls__relay_plan plan = { .m = m };
	const struct stls_sip_via *top;
	struct stls_sip_via next;
	struct stls_sip_values it;
	struct stls_slice v;

	memset(res, 0, sizeof(*res));
	if (m->is_request || !ctx->conf) {
		return -EINVAL;
	}
	res->error = "malformed response";
	/* A second call with another conf (relay_client.c) does not validate
	 * again. */
	if ((m->validated != STLS_SIP_VALID_FULL &&
	     stls_sip_msg_validate(m)) ||
	    stls__relay_top_via(m, &top, &plan.via_cut)) {
		return -EBADMSG;
	}
	if (client_response_via(ctx, top, res)) {
		return -EBADMSG;
	}
	it.msg = m;
	it.line = plan.via_cut.line;
	it.rest = plan.via_cut.rest;
	res->error = "no Via after ours";
	if (stls_sip_values_next(&it, &v) != 1 ||
	    stls_sip_via_parse(v, &next)) {
		return -EBADMSG;
	}
	res->error = NULL;
	if (!res->has_flow) {
		via_target(&next, &res->next);
		res->has_next = true;
	}
	plan.strip_prefix = stls__relay_facts_prefix(ctx->conf);
	return stls__relay_forward(&plan, out, cap, res);
}
