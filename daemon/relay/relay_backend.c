/*
 * The relay's backend side: messages from the backend SIP server.
 *
 * Responses: our top Via (stls_relay_backend_response) names the flow.
 * Requests: stls_relay_backend_request finds a flow token (Route of ours,
 * Request-URI) or the next hop.
 *
 * Which worker sends: a flow names its worker (tcp:/tls: connections and
 * udp: IPv6 flows); a next hop belongs to the worker hash(destination) % N
 * (relay_out.c). When that is another worker, the original message is
 * posted to it (stls_daemon_post) and handled there from the start:
 * parsing and rewriting again costs a few microseconds and keeps one code
 * path, and the owner has the original request at hand to build a 430 or
 * 503 from. udp: IPv4 flows need no owner: any worker's socket of the
 * listener reaches the client.
 *
 * A flow that is gone: a request gets 430 Flow Failed (RFC 5626 section
 * 5.3), sent to the backend from the worker that found the flow dead; a
 * response is dropped and counted (the client is gone; the backend's
 * transaction times out as it would for a lost datagram).
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dial/backend.h"
#include "stls/sip/out.h"
#include "stls/log.h"

struct relay_post {
	struct stls_msg m;
	size_t len;
	char data[];
};

static void on_posted(struct stls_worker *w, struct stls_dconn *c,
		      struct stls_msg *m, bool cancelled)
{
	struct relay_post *pm = (struct relay_post *)m;

	(void)c;
	if (!cancelled && w->hctx)
		stls__relay_backend_msg(w->hctx, pm->data, pm->len);
	free(pm);
}

int stls__relay_post(struct relay_worker *rw, unsigned widx, const char *p,
		     size_t n)
{
	struct relay_post *pm = malloc(sizeof(*pm) + n);
	int err;

	if (!pm)
		return -ENOMEM;
	memset(&pm->m, 0, sizeof(pm->m));
	pm->m.fn = on_posted;
	pm->len = n;
	memcpy(pm->data, p, n);
	err = stls_daemon_post(rw->r->d, widx, &pm->m);
	if (err) {
		free(pm);
		return err;
	}
	relay_count(rw, STLS_RELAY_POSTED);
	return 0;
}

static bool dialog_forming(const struct stls_sip_msg *m)
{
	struct stls_slice tag;

	if (!m->is_request || stls_sip_msg_tag(m, STLS_SIP_HDR_TO, &tag) == 0)
		return false;
	return m->method_id == STLS_SIP_M_INVITE ||
	       m->method_id == STLS_SIP_M_SUBSCRIBE ||
	       m->method_id == STLS_SIP_M_REFER ||
	       m->method_id == STLS_SIP_M_NOTIFY;
}

static const char *const tp_names[STLS_PROTO__COUNT] = {
	[STLS_PROTO_UDP] = "UDP",
	[STLS_PROTO_TCP] = "TCP",
	[STLS_PROTO_TLS] = "TLS",
};

static void put_hostport(struct stls_sip_out *o, const char *host,
			 uint16_t port)
{
	bool v6 = strchr(host, ':') != NULL;

	stls_sip_out_str(o, v6 ? "[" : "");
	stls_sip_out_str(o, host);
	stls_sip_out_str(o, v6 ? "]:" : ":");
	stls_sip_out_uint(o, port);
}

static void put_rr(struct stls_sip_out *o, const char *token,
		   const char *host, uint16_t port, const char *tp)
{
	stls_sip_out_str(o, "Record-Route: <sip:");
	stls_sip_out_str(o, token);
	stls_sip_out_str(o, "@");
	put_hostport(o, host, port);
	stls_sip_out_str(o, ";lr;transport=");
	stls_sip_out_str(o, tp);
	stls_sip_out_str(o, ">\r\n");
}

/*
 * The request in rw->out (len bytes) leaves on listener <lidx>'s side
 * (SIZE_MAX: an outbound connection): our Via (the first header line)
 * gets that listener's transport and address, and a dialog-forming
 * request gets two Record-Route entries naming flow <token> (our side
 * towards the peer on top, then the inside), so that in-dialog requests
 * of both parties come back through the same flow. Returns the new
 * length (the result is in rw->out), or 0 when it does not fit.
 */
size_t stls__relay_fix_head(struct relay_worker *rw, size_t lidx,
			    const char *token, size_t len)
{
	const struct stls_relay_conf *conf;
	const char *p = rw->out, *end = rw->out + len, *via, *eol, *rest;
	enum stls_proto proto = STLS_PROTO_TLS;
	struct stls_sip_out o;
	char *tmp;

	if (lidx >= rw->r->core->n_listen)
		lidx = rw->r->primary;
	else
		proto = rw->r->core->listen[lidx].proto;
	conf = &rw->confs[lidx];
	via = memchr(p, '\n', len);
	eol = via ? memchr(via + 1, '\n', (size_t)(end - via - 1)) : NULL;
	rest = via ? memchr(via + 1, ';', (size_t)(end - via - 1)) : NULL;
	if (!eol || !rest || rest > eol)
		return 0;
	stls_sip_out_init(&o, rw->reply, rw->reply_cap);
	stls_sip_out_put(&o, p, (size_t)(via + 1 - p));
	stls_sip_out_str(&o, "Via: SIP/2.0/");
	stls_sip_out_str(&o, tp_names[proto]);
	stls_sip_out_str(&o, " ");
	put_hostport(&o, conf->outside_host, conf->outside_port);
	stls_sip_out_put(&o, rest, (size_t)(eol + 1 - rest));
	if (token && dialog_forming(rw->msg)) {
		put_rr(&o, token, conf->outside_host, conf->outside_port,
		       proto == STLS_PROTO_UDP ? "udp" :
		       proto == STLS_PROTO_TCP ? "tcp" : "tls");
		put_rr(&o, token, conf->inside_host, conf->inside_port,
		       conf->inside_tp == STLS_SIP_TP_TCP ? "tcp" : "udp");
	}
	stls_sip_out_put(&o, eol + 1, (size_t)(end - eol - 1));
	if (o.overflow)
		return 0;
	tmp = rw->out;
	rw->out = rw->reply;
	rw->reply = tmp;
	return o.len;
}

static void flow_dead(struct relay_worker *rw)
{
	if (rw->msg->is_request) {
		relay_count(rw, STLS_RELAY_FLOW_FAILED);
		stls__relay_backend_reply(rw, 430);
	} else {
		relay_count(rw, STLS_RELAY_FLOW_GONE);
	}
}

static void sent(struct relay_worker *rw)
{
	relay_count(rw, rw->msg->is_request ? STLS_RELAY_BACKEND_REQUESTS
					    : STLS_RELAY_BACKEND_RESPONSES);
}

static void udp_send(struct relay_worker *rw, size_t lidx,
		     const struct stls_addr *to, const struct stls_flow *f,
		     size_t len)
{
	char token[STLS_FLOW_TOKEN_LEN + 1];

	if (lidx >= rw->r->core->n_listen ||
	    rw->r->core->listen[lidx].proto != STLS_PROTO_UDP) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	if (rw->msg->is_request &&
	    (stls_flow_token_build(rw->signer, f, token) != 0 ||
	     !(len = stls__relay_fix_head(rw, lidx, token, len)))) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	if (stls_listener_send(&rw->w->listeners[lidx], to,
			       (const uint8_t *)rw->out, len) != 0) {
		STLS_DBG("relay: worker %u: udp send failed", rw->w->idx);
		return;
	}
	sent(rw);
}

static void deliver_udp4(struct relay_worker *rw, const struct stls_flow *f,
			 size_t len)
{
	struct stls_addr to = { .family = AF_INET };

	memcpy(to.ip, &f->conn_id, 4);
	to.port = (uint16_t)f->gen;
	udp_send(rw, f->worker & ~RELAY_FLOW_UDP4, &to, f, len);
}

static void deliver_udp6(struct relay_worker *rw, const struct stls_flow *f,
			 size_t len)
{
	const struct relay_udp6 *e = &rw->udp6[(f->conn_id & 0xffffu) %
						RELAY_UDP6_SLOTS];

	if (e->gen != f->gen || e->lidx != f->conn_id >> 16 ||
	    e->addr.family != AF_INET6) {
		flow_dead(rw);
		return;
	}
	udp_send(rw, e->lidx, &e->addr, f, len);
}

static void deliver_conn(struct relay_worker *rw, const struct stls_flow *f,
			 size_t len)
{
	uint64_t id = ((uint64_t)(f->worker + 1) << 56) |
		      ((uint64_t)(f->gen & 0xffffffu) << 32) | f->conn_id;
	struct stls_dconn *c = stls_dconn_table_get(&rw->w->table, id);
	struct relay_conn *rc;

	if (!c || c->state >= STLS_DCONN_CLOSING ||
	    c->kind == STLS_DCONN_BACKEND) {
		flow_dead(rw);
		return;
	}
	rc = c->hstate;
	if (rw->msg->is_request && rc &&
	    !(len = stls__relay_fix_head(rw, rc->lidx, rc->token, len))) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	/* A slow client is bounded by send_timeout and the overflow limit:
	 * pausing the backend for it would stall every other client. */
	if (stls__relay_send_conn(c, rw->out, len) == 0)
		sent(rw);
}

/* Sends rw->out (len bytes) on flow f, or posts the original <p, n> to
 * the worker that owns f. */
static void deliver(struct relay_worker *rw, const struct stls_flow *f,
		    size_t len, const char *p, size_t n)
{
	unsigned owner;

	if (f->worker & RELAY_FLOW_UDP4) {
		deliver_udp4(rw, f, len);
		return;
	}
	owner = f->worker & RELAY_FLOW_UDP6 ? f->worker & ~RELAY_FLOW_UDP6
					    : f->worker;
	if (owner >= rw->r->n_workers) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	if (owner != rw->w->idx) {
		if (stls__relay_post(rw, owner, p, n) != 0)
			STLS_DBG("relay: worker %u: post to %u failed",
				 rw->w->idx, owner);
		return;
	}
	if (f->worker & RELAY_FLOW_UDP6)
		deliver_udp6(rw, f, len);
	else
		deliver_conn(rw, f, len);
}

/* A request for a next hop (no flow): the destination's owner worker
 * (relay_out.c) sends it; another owner gets the original message. */
static void to_next_hop(struct relay_worker *rw,
			const struct stls_relay_result *res, const char *p,
			size_t n)
{
	char key[STLS_RELAY_DEST_KEY_MAX];
	unsigned owner;

	if (stls__relay_out_key(rw, res, key, &owner) != 0) {
		relay_count(rw, STLS_RELAY_OUT_FAILED);
		stls__relay_backend_reply(rw, 503);
	} else if (owner != rw->w->idx) {
		if (stls__relay_post(rw, owner, p, n) != 0)
			stls__relay_backend_reply(rw, 503);
	} else {
		stls__relay_out_request(rw, res, key);
	}
}

static void bad(struct relay_worker *rw, const char *why)
{
	relay_count(rw, STLS_RELAY_BAD_MESSAGES);
	STLS_DBG("relay: worker %u: backend message dropped: %s", rw->w->idx,
		 why ? why : "malformed");
}

void stls__relay_backend_msg(struct relay_worker *rw, const char *p,
			     size_t n)
{
	struct stls_relay_ctx ctx = { 0 };
	struct stls_relay_result res;
	int err;

	if (stls_sip_msg_parse(p, n, 0, rw->msg) != 0) {
		bad(rw, rw->msg->error);
		return;
	}
	ctx.conf = &rw->confs[rw->r->primary];
	ctx.signer = rw->signer;
	ctx.src = &rw->r->core->backend;
	memset(&res, 0, sizeof(res));
	if (!rw->msg->is_request) {
		err = stls_relay_backend_response(&ctx, rw->msg, rw->out,
						  rw->out_cap, &res);
		if (err || !res.has_flow) {
			bad(rw, res.error);
			return;
		}
		deliver(rw, &res.flow, res.len, p, n);
		return;
	}
	err = stls_relay_backend_request(&ctx, rw->msg, rw->out, rw->out_cap,
					 &res);
	if (err) {
		bad(rw, res.error);
	} else if (res.action == STLS_RELAY_REPLY) {
		relay_count(rw, STLS_RELAY_LOCAL_REPLIES);
		relay_count_reply(rw, false,
				  relay_reply_status(rw->out, res.len));
		if (stls_backend_send(rw->w, (const uint8_t *)rw->out,
				      res.len) != 0)
			STLS_DBG("relay: local reply to the backend lost");
	} else if (res.has_flow) {
		deliver(rw, &res.flow, res.len, p, n);
	} else if (res.has_next) {
		to_next_hop(rw, &res, p, n);
	} else {
		bad(rw, "no destination");
	}
}
