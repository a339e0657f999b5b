/*
 * Relay rewriting, common part and the TLS-client side (RFC 3261 sections
 * 16.6 and 16.11, RFC 3581, RFC 3327, RFC 5626). See sip_rewrite.h.
 *
 * Design: each direction first builds a plan (which leading Via/Route
 * values go, what the top Via gains, the Max-Forwards value, which lines
 * are stripped, the lines inserted after the start line and appended after
 * the headers), then stls__relay_emit() writes the message in one pass over
 * the header index, copying untouched lines verbatim. The body is never
 * touched; Content-Length is added when the input had none (a UDP datagram
 * going to a stream).
 */
#include "relay/sip_rewrite_int.h"

#include <errno.h>

#include "stls/sip/reply.h"

#define DEFAULT_FACTS_PREFIX "X-TLS-"
#define HEAD_MAX 1024
#define TAIL_MAX 4096

void stls__relay_put_hostport(struct stls_sip_out *o, const char *host,
			      uint16_t port)
{
	bool v6 = strchr(host, ':') != NULL;

	stls_sip_out_str(o, v6 ? "[" : "");
	stls_sip_out_str(o, host);
	stls_sip_out_str(o, v6 ? "]" : "");
	if (port) {
		stls_sip_out_str(o, ":");
		stls_sip_out_uint(o, port);
	}
}

/*
 * RFC 3261 16.11: with a magic-cookie branch the new branch is a function
 * of that branch and the sent-by (so a CANCEL or a non-2xx ACK gets the
 * branch of its INVITE); otherwise of the fields that identify the
 * transaction in RFC 2543 (Request-URI, tags, Call-ID, CSeq number, top Via).
 */
void stls__relay_put_branch(struct stls_sip_out *o,
			    const struct stls_sip_msg *m,
			    const struct stls_sip_via *top)
{
	const struct stls_sip_hdr_line *h;
	struct stls_slice none = { NULL, 0 }, tag, meth;
	uint64_t x = STLS_SIP_FNV_INIT;
	uint32_t cseq = 0;

	if (stls_sip_via_is_rfc3261(top)) {
		x = stls_sip_fnv(x, top->branch);
		x = stls_sip_fnv(x, top->sent_by);
	} else {
		x = stls_sip_fnv(x, m->ruri);
		x = stls_sip_fnv(x, stls_sip_msg_tag(m, STLS_SIP_HDR_FROM,
						     &tag) ? none : tag);
		x = stls_sip_fnv(x, stls_sip_msg_tag(m, STLS_SIP_HDR_TO,
						     &tag) ? none : tag);
		h = stls_sip_msg_find(m, STLS_SIP_HDR_CALL_ID);
		x = stls_sip_fnv(x, h ? h->value : none);
		if (stls_sip_msg_cseq(m, &cseq, &meth) == 0) {
			x ^= cseq;
		}
		x = stls_sip_fnv(x, top->raw);
	}
	stls_sip_out_str(o, STLS_SIP_MAGIC_COOKIE);
	stls_sip_out_hex64(o, x);
}

int stls__relay_top_via(const struct stls_sip_msg *m,
			const struct stls_sip_via **via,
			struct stls__relay_cut *cut)
{
	if (!m->validated) {
		return -EINVAL;
	}
	*via = &m->top_via;
	cut->line = m->top_via_line;
	cut->rest = m->top_via_rest;
	return 0;
}

int stls__relay_max_forwards(const struct stls_sip_msg *m,
			     struct stls__relay_plan *plan)
{
	unsigned mf;
	int err = stls_sip_msg_max_forwards(m, &mf);

	if (err == -ENOENT) {
		mf = 71;
	} else if (err) {
		return err;
	}
	if (mf == 0) {
		return -ELOOP;
	}
	plan->mf_set = true;
	plan->mf = mf - 1;
	return 0;
}

static bool stripped(const struct stls__relay_plan *p,
		     const struct stls_sip_hdr_line *h)
{
	if (h->id != STLS_SIP_HDR_OTHER) {
		return false;
	}
	return (p->strip_prefix && stls_slice_has_prefix_ci(h->name,
							    p->strip_prefix)) ||
	       (p->strip_a && stls_slice_eq_cstr_ci(h->name, p->strip_a)) ||
	       (p->strip_b && stls_slice_eq_cstr_ci(h->name, p->strip_b));
}

/* Top Via with received/rport replaced by ours. */
static void put_fixed_via(struct stls_sip_out *o,
			  const struct stls__relay_plan *p)
{
	const struct stls_sip_via *v = p->fix_via;
	const char *params = v->n_params ? v->params[0].span.p :
					   v->raw.p + v->raw.len;
	unsigned i;

	stls_sip_out_put(o, v->raw.p, (size_t)(params - v->raw.p));
	for (i = 0; i < v->n_params; i++) {
		if (stls_slice_eq_cstr_ci(v->params[i].name, "received") ||
		    stls_slice_eq_cstr_ci(v->params[i].name, "rport")) {
			continue;
		}
		stls_sip_out_slice(o, v->params[i].span);
	}
	if (p->received) {
		stls_sip_out_str(o, ";received=");
		stls_sip_out_str(o, p->received);
	}
	stls_sip_out_str(o, ";rport=");
	stls_sip_out_uint(o, p->rport);
}

/* Writes line <h> keeping only <rest> of its values (p NULL: nothing). */
static void put_rest(struct stls_sip_out *o, const struct stls_sip_hdr_line *h,
		     struct stls_slice rest, bool fixed_first,
		     const struct stls__relay_plan *p)
{
	rest = rest.p ? stls_slice_trim(rest) : rest;
	if (!fixed_first && rest.len == 0) {
		return;
	}
	stls_sip_out_slice(o, h->name);
	stls_sip_out_str(o, ": ");
	if (fixed_first) {
		put_fixed_via(o, p);
		stls_sip_out_str(o, rest.len ? ", " : "");
	}
	stls_sip_out_slice(o, rest);
	stls_sip_out_str(o, "\r\n");
}

static void put_line(struct stls_sip_out *o, const struct stls__relay_plan *p,
		     const struct stls_sip_hdr_line *h, bool *via_seen)
{
	const struct stls__relay_cut *rc = &p->route_cut;

	if (h->id == STLS_SIP_HDR_VIA && !*via_seen) {
		*via_seen = true;
		if (p->via_cut.line == h || p->fix_via) {
			put_rest(o, h, p->via_cut.rest, p->fix_via != NULL, p);
			return;
		}
	}
	if (h->id == STLS_SIP_HDR_ROUTE && rc->line && h <= rc->line) {
		if (h == rc->line) {
			put_rest(o, h, rc->rest, false, p);
		}
		return;
	}
	if (h->id == STLS_SIP_HDR_MAX_FORWARDS && p->mf_set) {
		stls_sip_out_str(o, "Max-Forwards: ");
		stls_sip_out_uint(o, p->mf);
		stls_sip_out_str(o, "\r\n");
		return;
	}
	if (!stripped(p, h)) {
		stls_sip_out_slice(o, h->line);
	}
}

const char *stls__relay_facts_prefix(const struct stls_relay_conf *c)
{
	return c->facts_prefix ? c->facts_prefix : DEFAULT_FACTS_PREFIX;
}

bool stls__relay_via_param(const struct stls_sip_via *v, const char *name,
			   struct stls_slice *value)
{
	unsigned i;

	for (i = 0; i < v->n_params; i++) {
		if (stls_slice_eq_cstr_ci(v->params[i].name, name)) {
			*value = v->params[i].value;
			return true;
		}
	}
	return false;
}

int stls__relay_forward(const struct stls__relay_plan *plan, char *out,
			size_t cap, struct stls_relay_result *res)
{
	ssize_t n = stls__relay_emit(plan, out, cap);

	if (n < 0)
		return (int)n;
	res->action = STLS_RELAY_FORWARD;
	res->len = (size_t)n;
	return 0;
}

ssize_t stls__relay_emit(const struct stls__relay_plan *p, char *out,
			 size_t cap)
{
	const struct stls_sip_msg *m = p->m;
	struct stls_sip_out o;
	bool via_seen = false;
	unsigned i;

	stls_sip_out_init(&o, out, cap);
	stls_sip_out_slice(&o, m->start);
	stls_sip_out_str(&o, "\r\n");
	stls_sip_out_slice(&o, p->head);
	for (i = 0; i < m->n_hdrs; i++) {
		put_line(&o, p, &m->hdrs[i], &via_seen);
	}
	if (p->mf_set && !stls_sip_msg_find(m, STLS_SIP_HDR_MAX_FORWARDS)) {
		stls_sip_out_str(&o, "Max-Forwards: ");
		stls_sip_out_uint(&o, p->mf);
		stls_sip_out_str(&o, "\r\n");
	}
	stls_sip_out_slice(&o, p->tail);
	if (!m->has_clen) {
		stls_sip_out_str(&o, "Content-Length: ");
		stls_sip_out_uint(&o, m->body.len);
		stls_sip_out_str(&o, "\r\n");
	}
	stls_sip_out_str(&o, "\r\n");
	stls_sip_out_slice(&o, m->body);
	return o.overflow ? -ENOBUFS : (ssize_t)o.len;
}

int stls__relay_reply(const struct stls_relay_ctx *ctx,
		      const struct stls_sip_msg *m, unsigned status, char *out,
		      size_t cap, struct stls_relay_result *res)
{
	ssize_t n = stls_sip_reply_build(m, status, NULL, ctx->conf->server,
					 out, cap);

	if (n < 0) {
		return n == -ENOBUFS ? -ENOBUFS : -EBADMSG;
	}
	res->action = STLS_RELAY_REPLY;
	res->status = status;
	res->len = (size_t)n;
	return 0;
}

/* Methods whose requests get Record-Route (dialog-forming: RFC 3261, 6665,
 * 3515). In-dialog requests of these methods get it too: harmless. */
static const enum stls_sip_method rr_methods[] = {
	STLS_SIP_M_INVITE,
	STLS_SIP_M_SUBSCRIBE,
	STLS_SIP_M_REFER,
	STLS_SIP_M_NOTIFY,
};

static bool wants_record_route(const struct stls_sip_msg *m)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(rr_methods); i++) {
		if (m->method_id == rr_methods[i]) {
			return true;
		}
	}
	return false;
}

static void put_flow_uri(struct stls_sip_out *o, const char *token,
			 const char *host, uint16_t port)
{
	stls_sip_out_str(o, "<sip:");
	stls_sip_out_str(o, token);
	stls_sip_out_str(o, "@");
	stls__relay_put_hostport(o, host, port);
	stls_sip_out_str(o, ";lr");
}

static void build_head(const struct stls_relay_ctx *ctx,
		       const struct stls_sip_msg *m,
		       const struct stls_sip_via *top, struct stls_sip_out *o)
{
	const struct stls_relay_conf *c = ctx->conf;
	bool tcp = c->inside_tp == STLS_SIP_TP_TCP;

	stls_sip_out_str(o, tcp ? "Via: SIP/2.0/TCP " : "Via: SIP/2.0/UDP ");
	stls__relay_put_hostport(o, c->inside_host, c->inside_port);
	stls_sip_out_str(o, ";branch=");
	stls__relay_put_branch(o, m, top);
	stls_sip_out_str(o, ";ft=");
	stls_sip_out_str(o, ctx->flow_token);
	/* RFC 5626 5.4: the 2xx gets Flow-Timer (stls_relay_backend_response
	 * reads this mark in our Via when the response comes back). */
	if (m->method_id == STLS_SIP_M_REGISTER && ctx->flow_timer &&
	    stls__relay_asks_outbound(m)) {
		stls_sip_out_str(o, ";ob");
	}
	stls_sip_out_str(o, "\r\n");
	if (wants_record_route(m)) {
		stls_sip_out_str(o, "Record-Route: ");
		put_flow_uri(o, ctx->flow_token, c->inside_host, c->inside_port);
		stls_sip_out_str(o, tcp ? ";transport=tcp>\r\n" :
					  ";transport=udp>\r\n");
		stls_sip_out_str(o, "Record-Route: ");
		put_flow_uri(o, ctx->flow_token, c->outside_host,
			     c->outside_port);
		stls_sip_out_str(o, ";transport=tls>\r\n");
	}
	if (m->method_id == STLS_SIP_M_REGISTER) {
		stls_sip_out_str(o, "Path: ");
		put_flow_uri(o, ctx->flow_token, c->inside_host, c->inside_port);
		stls_sip_out_str(o, tcp ? ";ob;transport=tcp>\r\n" : ";ob>\r\n");
	}
}

/*
 * Our Via on a request that goes from one flow to another directly: the
 * outside address (the delivering worker rewrites transport, host and
 * port to those of the target flow's listener) and ft naming the client's
 * flow, where the answer must go.
 */
static void build_direct_head(const struct stls_relay_ctx *ctx,
			      const struct stls_sip_msg *m,
			      const struct stls_sip_via *top,
			      struct stls_sip_out *o)
{
	stls_sip_out_str(o, "Via: SIP/2.0/TLS ");
	stls__relay_put_hostport(o, ctx->conf->outside_host,
				 ctx->conf->outside_port);
	stls_sip_out_str(o, ";branch=");
	stls__relay_put_branch(o, m, top);
	stls_sip_out_str(o, ";ft=");
	stls_sip_out_str(o, ctx->flow_token);
	stls_sip_out_str(o, "\r\n");
}

/* Fact values come from certificates: escape anything that could break
 * the header (control bytes, DEL, '%'). */
static void build_tail(const struct stls_relay_ctx *ctx, const char *prefix,
		       struct stls_sip_out *o)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < ctx->n_facts; i++) {
		const unsigned char *v;

		stls_sip_out_str(o, prefix);
		stls_sip_out_str(o, ctx->facts[i].name);
		stls_sip_out_str(o, ": ");
		for (v = (const unsigned char *)ctx->facts[i].value; v && *v;
		     v++) {
			if (*v < 0x20 || *v == 0x7f || *v == '%') {
				char esc[3] = { '%', hex[*v >> 4],
						hex[*v & 15] };

				stls_sip_out_put(o, esc, 3);
			} else {
				stls_sip_out_put(o, v, 1);
			}
		}
		stls_sip_out_str(o, "\r\n");
	}
}

/* Dotted-quad text of an IPv4 address into <text> (16 bytes or more). */
static void ipv4_text(const uint8_t ip[4], char *text)
{
	struct stls_sip_out o;
	int i;

	stls_sip_out_init(&o, text, 16);
	for (i = 0; i < 4; i++) {
		stls_sip_out_str(&o, i ? "." : "");
		stls_sip_out_uint(&o, ip[i]);
	}
	text[o.len] = '\0';
}

/*
 * Writes the source IP as text (for received=) and tells whether the Via
 * host already names it. IPv4 is formatted and compared by hand: the only
 * text form stls_addr_parse_ip() accepts for an IPv4 address is the
 * canonical dotted quad, so equal text is equal address.
 */
static bool same_ip(struct stls_slice host, const struct stls_addr *src,
		    char *text)
{
	struct stls_addr a;
	char buf[64];

	if (src->family == AF_INET) {
		ipv4_text(src->ip, text);
		return stls_slice_eq(host, stls_slice_cstr(text));
	}
	stls_addr_str(src, false, text);
	if (host.len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, host.p, host.len);
	buf[host.len] = '\0';
	return stls_addr_parse_ip(buf, &a) == 0 && stls_addr_ip_eq(&a, src);
}

/*
 * The route set (sip_route.c): a forged token, or another flow named by a
 * request outside a dialog (a client may not reach another client around
 * the backend's policies), is refused with 403.
 */
static int client_routes(const struct stls_relay_ctx *ctx,
			 const struct stls_sip_msg *m,
			 struct stls__relay_plan *plan,
			 struct stls_relay_result *res)
{
	struct stls_slice tag;
	int err = stls__relay_routes(ctx, m, plan, ctx->flow_token,
				     &res->flow, &res->has_flow);

	if (err == -EACCES) {
		res->error = "forged or stale flow token in Route";
	} else if (!err && res->has_flow &&
		   stls_sip_msg_tag(m, STLS_SIP_HDR_TO, &tag) != 0) {
		res->error = "Route to another flow outside a dialog";
		err = -EACCES;
	}
	if (err == -EACCES) {
		res->has_flow = false;
		res->refused = true;
	}
	return err;
}

int stls_relay_client_request(const struct stls_relay_ctx *ctx,
			      struct stls_sip_msg *m, char *out, size_t cap,
			      struct stls_relay_result *res)
{
	struct stls__relay_plan plan = { .m = m };
	char head[HEAD_MAX], tail[TAIL_MAX], src_ip[STLS_ADDR_STRLEN];
	struct stls_sip_out ho, to;
	const struct stls_sip_via *top;
	int err;

	memset(res, 0, sizeof(*res));
	if (!m->is_request || !ctx->flow_token || !ctx->src || !ctx->conf) {
		return -EINVAL;
	}
	if (stls_sip_msg_validate(m)) {
		res->error = m->error;
		return stls__relay_reply(ctx, m, 400, out, cap, res);
	}
	err = stls__relay_max_forwards(m, &plan);
	if (err == -ELOOP) {
		res->error = "Max-Forwards reached 0";
		return stls__relay_reply(ctx, m, 483, out, cap, res);
	}
	if (!err) {
		err = stls__relay_top_via(m, &top, &plan.via_cut);
	}
	if (!err) {
		err = client_routes(ctx, m, &plan, res);
	}
	if (err == -EACCES) {
		return stls__relay_reply(ctx, m, 403, out, cap, res);
	}
	if (err) {
		res->error = "bad Via or Route";
		return stls__relay_reply(ctx, m, 400, out, cap, res);
	}
	plan.fix_via = top;
	plan.received = same_ip(top->host, ctx->src, src_ip) ? NULL : src_ip;
	plan.rport = ctx->src->port;
	plan.strip_prefix = stls__relay_facts_prefix(ctx->conf);
	stls_sip_out_init(&ho, head, sizeof(head));
	stls_sip_out_init(&to, tail, sizeof(tail));
	if (res->has_flow) {
		build_direct_head(ctx, m, top, &ho);
	} else {
		build_head(ctx, m, top, &ho);
		build_tail(ctx, plan.strip_prefix, &to);
	}
	if (ho.overflow || to.overflow) {
		return -ENOBUFS;
	}
	plan.head = stls_slice_make(head, ho.len);
	plan.tail = stls_slice_make(tail, to.len);
	return stls__relay_forward(&plan, out, cap, res);
}
