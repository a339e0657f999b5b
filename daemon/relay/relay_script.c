/*
 * The relay's side of the Lua request hook (docs/scripting.md): what a
 * hook may read about a client request, and what the relay does with the
 * verdict. The hook runs after the fixed policies (verified_only, OPTIONS
 * to siptlsd) and before the rewrite; its header edits and xavp_cfg
 * values go to the rewrite through the context.
 */
#include "relay/relay_int.h"

#include "tlsx/tlsx.h"

static const char *proto_of(const struct stls_dconn *c)
{
	if (!c)
		return "udp";
	return stls_tlsx_conn_of(c) ? "tls" : "tcp";
}

int stls__relay_script_request(struct relay_worker *rw, struct stls_dconn *c,
			       struct stls_listener *l,
			       const struct stls_addr *src,
			       struct stls_relay_ctx *ctx,
			       struct stls_script_verdict *v)
{
	struct stls_script_req req;

	/* The hook sees valid requests only; a bad one gets its 400 from
	 * the rewrite (which does not validate it again). */
	if (stls_sip_msg_validate(rw->msg) != 0)
		return 0;
	req.msg = rw->msg;
	req.src = src;
	req.local = c ? &c->local : l->local;
	req.proto = proto_of(c);
	req.facts = c ? stls_tlsx_facts(c) : NULL;
	stls_script_request(rw->r->script, rw->w->idx, &req, v);
	switch (v->action) {
	case STLS_SCRIPT_REPLY:
		/* The caller answers (never an ACK: reply() skips it). */
		relay_count(rw, STLS_RELAY_SCRIPT_REPLIES);
		return 1;
	case STLS_SCRIPT_DROP:
		relay_count(rw, STLS_RELAY_SCRIPT_DROPS);
		return 1;
	case STLS_SCRIPT_PASS:
		break;
	}
	ctx->extra = stls_slice_make(v->hdrs, v->hdrs_len);
	ctx->strip = v->remove;
	ctx->n_strip = v->n_remove;
	ctx->server_name = v->server_name;
	ctx->server_id = v->server_id;
	return 0;
}
