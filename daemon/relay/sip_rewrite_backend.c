/*
 * Relay rewriting, backend side: responses and requests coming from the SIP
 * server behind siptlsd (RFC 3261 sections 16.4, 16.6, 16.7, 16.11, RFC 3327
 * Path, RFC 5626 flow tokens). See sip_rewrite.h.
 */
#include "relay/sip_rewrite_int.h"

#include <errno.h>

#define HEAD_MAX 512
#define XAVP_NAME_MAX 96
#define TAIL_MAX 64

/* RFC 3261 16.7 step 3: a response whose only Via is ours was meant for
 * us, not for a client. True when a Via value follows the cut. */
static bool via_after(const struct stls_sip_msg *m,
		      const struct stls__relay_cut *cut)
{
	struct stls_sip_values it = { m, cut->line, cut->rest };
	struct stls_slice v;

	return stls_sip_values_next(&it, &v) == 1 && v.len > 0;
}

/*
 * RFC 5626 5.4: the 2xx to a REGISTER that asked for outbound (our Via
 * carries ;ob, see stls_relay_client_request) tells the UA how often to
 * send its keep-alives, unless the registrar already did.
 */
static void put_flow_timer(const struct stls_relay_ctx *ctx,
			   const struct stls_sip_msg *m,
			   const struct stls_sip_via *top,
			   struct stls_sip_out *o)
{
	struct stls_slice ob;

	if (!ctx->flow_timer || m->status < 200 || m->status > 299 ||
	    !stls_slice_eq_cstr_ci(m->cseq_method, "REGISTER") ||
	    !stls__relay_via_param(top, "ob", &ob) ||
	    stls_sip_msg_find_name(m, stls_slice_cstr("Flow-Timer"))) {
		return;
	}
	stls_sip_out_str(o, "Flow-Timer: ");
	stls_sip_out_uint(o, ctx->flow_timer);
	stls_sip_out_str(o, "\r\n");
}

int stls_relay_backend_response(const struct stls_relay_ctx *ctx,
				struct stls_sip_msg *m, char *out, size_t cap,
				struct stls_relay_result *res)
{
	struct stls__relay_plan plan = { .m = m };
	const struct stls_relay_conf *c = ctx->conf;
	const struct stls_sip_via *top;
	struct stls_sip_out to;
	char tail[TAIL_MAX];
	struct stls_slice ft;

	memset(res, 0, sizeof(*res));
	if (m->is_request || !c || !ctx->signer) {
		return -EINVAL;
	}
	res->error = "malformed response";
	if (stls_sip_msg_validate_trusted(m) ||
	    stls__relay_top_via(m, &top, &plan.via_cut)) {
		return -EBADMSG;
	}
	res->error = "top Via is not ours";
	if (!stls_slice_eq_cstr_ci(top->host, c->inside_host) ||
	    (top->has_port ? top->port : 5060) != c->inside_port ||
	    !stls_sip_via_is_rfc3261(top) ||
	    !stls__relay_via_param(top, "ft", &ft)) {
		return -EBADMSG;
	}
	res->error = "bad flow token";
	if (stls_flow_token_parse(ctx->signer, ft.p, ft.len, &res->flow)) {
		return -EBADMSG;
	}
	res->error = "no Via after ours";
	if (!via_after(m, &plan.via_cut)) {
		return -EBADMSG;
	}
	res->error = NULL;
	res->has_flow = true;
	plan.strip_prefix = stls__relay_facts_prefix(c);
	stls_sip_out_init(&to, tail, sizeof(tail));
	put_flow_timer(ctx, m, top, &to);
	plan.tail = stls_slice_make(tail, to.len);
	return stls__relay_forward(&plan, out, cap, res);
}

/* The destination named by a URI (RFC 3263 input for the caller). */
static void uri_target(const struct stls_sip_uri *u,
		       struct stls_relay_target *t)
{
	struct stls_slice tp = { 0 };

	t->host = u->host;
	t->port = u->port;
	t->host_is_ip = u->host_is_ip;
	t->sips = u->kind == STLS_SIP_SCHEME_SIPS;
	if (!stls_sip_uri_param(u, "transport", &tp))
		tp.len = 0;
	t->transport = tp;
	t->tls = t->sips || stls_slice_eq_cstr_ci(tp, "tls");
	t->tp = STLS_SIP_TP_TLS;
}

/* Next hop when no flow token applies: next Route, else Request-URI. */
static int find_next(const struct stls_sip_msg *m,
		     const struct stls__relay_plan *plan,
		     struct stls_relay_target *t)
{
	struct stls_sip_values it;
	struct stls_sip_addr a;
	struct stls_sip_uri u;
	struct stls_slice v;
	int r;

	if (plan->route_cut.line) {
		it.msg = m;
		it.line = plan->route_cut.line;
		it.rest = plan->route_cut.rest;
	} else {
		stls_sip_values_init(&it, m,
				     stls_sip_msg_find(m, STLS_SIP_HDR_ROUTE));
	}
	r = stls_sip_values_next(&it, &v);
	if (r == 1) {
		if (stls_sip_addr_parse(v, false, &a) ||
		    a.uri.kind == STLS_SIP_SCHEME_OTHER) {
			return -EBADMSG;
		}
		uri_target(&a.uri, t);
		return 0;
	}
	if (r < 0 || stls_sip_uri_parse(m->ruri, &u) ||
	    u.kind == STLS_SIP_SCHEME_OTHER) {
		return -EBADMSG;
	}
	uri_target(&u, t);
	return 0;
}

/* Writes "X-<n><suffix>" and a NUL into <buf> (XAVP_NAME_MAX bytes). */
static int put_name(char *buf, const char *n, const char *suffix)
{
	struct stls_sip_out o;

	stls_sip_out_init(&o, buf, XAVP_NAME_MAX);
	stls_sip_out_str(&o, "X-");
	stls_sip_out_str(&o, n);
	stls_sip_out_str(&o, suffix);
	stls_sip_out_put(&o, "", 1);
	return o.overflow ? -EINVAL : 0;
}

/* xavp_cfg headers: values returned, lines stripped. */
static int take_xavp(const struct stls_relay_ctx *ctx,
		     const struct stls_sip_msg *m,
		     struct stls__relay_plan *plan, char *names,
		     struct stls_relay_result *res)
{
	const char *n = ctx->conf->xavp_cfg;
	const struct stls_sip_hdr_line *h;
	char *sn = names, *si = names + XAVP_NAME_MAX;

	if (!n || !*n) {
		return 0;
	}
	if (put_name(sn, n, "-Server-Name") || put_name(si, n, "-Server-Id")) {
		return -EINVAL;
	}
	h = stls_sip_msg_find_name(m, stls_slice_cstr(sn));
	if (h) {
		res->server_name = h->value;
	}
	h = stls_sip_msg_find_name(m, stls_slice_cstr(si));
	if (h) {
		res->server_id = h->value;
	}
	plan->strip_a = sn;
	plan->strip_b = si;
	return 0;
}

static void build_via(const struct stls_relay_ctx *ctx,
		      const struct stls_sip_msg *m, struct stls_sip_out *o)
{
	stls_sip_out_str(o, "Via: SIP/2.0/TLS ");
	stls__relay_put_hostport(o, ctx->conf->outside_host,
				 ctx->conf->outside_port);
	stls_sip_out_str(o, ";branch=");
	/* m was validated: m->top_via is its parsed top Via. */
	stls__relay_put_branch(o, m, &m->top_via);
	if (ctx->inside_peer && ctx->flow_token) {
		stls_sip_out_str(o, ";ft=");
		stls_sip_out_str(o, ctx->flow_token);
	}
	stls_sip_out_str(o, "\r\n");
}

/* A flow token as the Request-URI user on our address (-EACCES: forged
 * or stale). */
static int check_ruri_flow(const struct stls_relay_ctx *ctx,
			   const struct stls_sip_msg *m,
			   struct stls_relay_result *res)
{
	struct stls_sip_uri u;

	if (stls_sip_uri_parse(m->ruri, &u) || u.kind == STLS_SIP_SCHEME_OTHER ||
	    u.user.len != STLS_FLOW_TOKEN_LEN ||
	    !stls__relay_uri_is_ours(ctx->conf, &u)) {
		return 0;
	}
	if (stls_flow_token_parse(ctx->signer, u.user.p, u.user.len,
				  &res->flow)) {
		return -EACCES;
	}
	res->has_flow = true;
	return 0;
}

/* Where the request goes: a flow (Route entries of ours, then the
 * Request-URI) or the next hop. */
static int backend_target(const struct stls_relay_ctx *ctx,
			  const struct stls_sip_msg *m,
			  struct stls__relay_plan *plan,
			  struct stls_relay_result *res)
{
	struct stls_slice tag;
	int err = stls__relay_routes(ctx, m, plan, NULL, &res->flow,
				     &res->has_flow);

	if (!err && !res->has_flow) {
		err = check_ruri_flow(ctx, m, res);
	}
	/* A peer on the inside network may only follow a route set that
	 * names one of our flows, inside a dialog. */
	if (!err && ctx->inside_peer &&
	    (!res->has_flow ||
	     stls_sip_msg_tag(m, STLS_SIP_HDR_TO, &tag) != 0)) {
		res->error = "inside peer request without a flow of ours";
		res->refused = true;
		return -EACCES;
	}
	if (err == -EACCES) {
		res->error = "forged or stale flow token";
		res->refused = true;
		res->has_flow = false;
		return err;
	}
	res->error = "bad Route";
	if (err) {
		return -EBADMSG;
	}
	res->error = "no usable next hop";
	if (!res->has_flow) {
		if (find_next(m, plan, &res->next)) {
			return -EBADMSG;
		}
		res->has_next = true;
	}
	res->error = NULL;
	return 0;
}

int stls_relay_backend_request(const struct stls_relay_ctx *ctx,
			       struct stls_sip_msg *m, char *out, size_t cap,
			       struct stls_relay_result *res)
{
	struct stls__relay_plan plan = { .m = m };
	char head[HEAD_MAX], names[2 * XAVP_NAME_MAX];
	struct stls_sip_out ho;
	int err;

	memset(res, 0, sizeof(*res));
	if (!m->is_request || !ctx->conf || !ctx->signer) {
		return -EINVAL;
	}
	if (ctx->inside_peer ? stls_sip_msg_validate(m)
			     : stls_sip_msg_validate_trusted(m)) {
		res->error = m->error;
		return -EBADMSG;
	}
	err = stls__relay_max_forwards(m, &plan);
	if (err == -ELOOP) {
		res->error = "Max-Forwards reached 0";
		return stls__relay_reply(ctx, m, 483, out, cap, res);
	}
	if (err) {
		res->error = "bad Max-Forwards";
		return -EBADMSG;
	}
	err = backend_target(ctx, m, &plan, res);
	if (err == -EACCES) {
		/* RFC 5626 5.3: a tampered flow token gets 403. */
		return stls__relay_reply(ctx, m, 403, out, cap, res);
	}
	if (err) {
		return err;
	}
	err = ctx->inside_peer ? 0 : take_xavp(ctx, m, &plan, names, res);
	if (err) {
		return err;
	}
	plan.strip_prefix = stls__relay_facts_prefix(ctx->conf);
	stls_sip_out_init(&ho, head, sizeof(head));
	build_via(ctx, m, &ho);
	if (ho.overflow) {
		return -ENOBUFS;
	}
	plan.head = stls_slice_make(head, ho.len);
	return stls__relay_forward(&plan, out, cap, res);
}
