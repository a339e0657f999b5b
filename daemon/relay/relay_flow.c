/*
 * Delivery on flows: a rewritten message goes out on the flow a token
 * names (a tls:/tcp: connection, or a udp: client), from the worker that
 * owns the flow; and hand-over of messages between workers.
 *
 * Two kinds of message reach a flow:
 *
 *   from the backend (relay_backend.c): when the flow lives on another
 *     worker, the original message is posted there and handled from the
 *     start (the owner has the original request for a 430 to the
 *     backend);
 *   from another flow (relay_client.c: an in-dialog request the backend
 *     did not record-route, or the response to one): the rewritten
 *     message is posted, and the owner only sends it. Our Via on such a
 *     request names the sender's flow (ft), so a 430 for a flow found
 *     dead on the owner goes back the way any response would (bounce()).
 *
 * udp: flows (stls__relay_udp_flow): a datagram client has no
 * connection, so its flow token names the listener and the source
 * address: IPv4 fits in the token itself (worker field RELAY_FLOW_UDP4 |
 * listener, address and port in the id and generation fields: no state
 * at all); IPv6 does not, so each worker keeps a direct-mapped table of
 * RELAY_UDP6_SLOTS recent IPv6 peers and the token names the slot and its
 * generation. A slot taken over by another peer invalidates the old token
 * (430 Flow Failed, the client re-registers). Replies leave from the
 * worker's socket of the same listener: all workers share its address
 * and port. The listener RELAY_LIDX_INSIDE stands for the inside socket:
 * a phone the backend serves that sent an in-dialog request to us
 * directly; it only ever gets the answers.
 *
 * A request delivered on a flow gets our Via rewritten to the transport
 * and address of the flow's listener, and a dialog-forming one the
 * Record-Route pair naming that flow (stls__relay_fix_head).
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dial/backend.h"
#include "stls/sip/out.h"
#include "stls/log.h"

#define ANY_WORKER UINT_MAX

struct relay_post {
	struct stls_msg m;
	relay_posted_fn *fn;
	struct stls_flow flow;
	size_t len;
	char data[];
};

static void on_posted(struct stls_worker *w, struct stls_dconn *c,
		      struct stls_msg *m, bool cancelled)
{
	struct relay_post *pm = (struct relay_post *)m;

	(void)c;
	if (!cancelled && w->hctx)
		pm->fn(w->hctx, &pm->flow, pm->data, pm->len);
	free(pm);
}

int stls__relay_post(struct relay_worker *rw, unsigned widx,
		     relay_posted_fn *fn, const struct stls_flow *f,
		     const char *p, size_t n)
{
	struct relay_post *pm = malloc(sizeof(*pm) + n);
	int err;

	if (!pm)
		return -ENOMEM;
	memset(pm, 0, sizeof(*pm));
	pm->m.fn = on_posted;
	pm->fn = fn;
	if (f)
		pm->flow = *f;
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

static uint32_t addr_hash(const struct stls_addr *a)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ a->ip[i]) * 16777619u;
	return (h ^ a->port) * 16777619u;
}

void stls__relay_udp_flow(struct relay_worker *rw, size_t lidx,
			  const struct stls_addr *src, struct stls_flow *f)
{
	struct relay_udp6 *e;
	uint32_t slot;

	if (src->family == AF_INET) {
		f->worker = (uint16_t)(RELAY_FLOW_UDP4 | lidx);
		memcpy(&f->conn_id, src->ip, 4);
		f->gen = src->port;
		return;
	}
	slot = addr_hash(src) % RELAY_UDP6_SLOTS;
	e = &rw->udp6[slot];
	if (!stls_addr_eq(&e->addr, src) || e->lidx != lidx) {
		e->addr = *src;
		e->lidx = (uint16_t)lidx;
		e->gen++;
	}
	f->worker = (uint16_t)(RELAY_FLOW_UDP6 | rw->w->idx);
	f->conn_id = ((uint32_t)lidx << 16) | slot;
	f->gen = e->gen;
}

static int udp_send(struct relay_worker *rw, size_t lidx,
		    const struct stls_addr *to, const struct stls_flow *f,
		    size_t len)
{
	char token[STLS_FLOW_TOKEN_LEN + 1];

	if (lidx == RELAY_LIDX_INSIDE) {
		/* A peer on the inside network gets only answers. */
		if (rw->msg->is_request)
			return -EINVAL;
		return stls_backend_send_to(rw->w, to, (const uint8_t *)rw->out,
					    len) == 0 ? 0 : -EIO;
	}
	if (lidx >= rw->r->core->n_listen ||
	    rw->r->core->listen[lidx].proto != STLS_PROTO_UDP)
		return -EINVAL;
	if (rw->msg->is_request &&
	    (stls_flow_token_build(rw->signer, f, token) != 0 ||
	     !(len = stls__relay_fix_head(rw, lidx, token, len))))
		return -EINVAL;
	if (stls_listener_send(&rw->w->listeners[lidx], to,
			       (const uint8_t *)rw->out, len) != 0) {
		STLS_DBG("relay: worker %u: udp send failed", rw->w->idx);
		return -EIO;
	}
	return 0;
}

static int deliver_udp4(struct relay_worker *rw, const struct stls_flow *f,
			size_t len)
{
	struct stls_addr to = { .family = AF_INET };

	memcpy(to.ip, &f->conn_id, 4);
	to.port = (uint16_t)f->gen;
	return udp_send(rw, f->worker & ~RELAY_FLOW_UDP4, &to, f, len);
}

static int deliver_udp6(struct relay_worker *rw, const struct stls_flow *f,
			size_t len)
{
	const struct relay_udp6 *e = &rw->udp6[(f->conn_id & 0xffffu) %
						RELAY_UDP6_SLOTS];

	if (e->gen != f->gen || e->lidx != f->conn_id >> 16 ||
	    e->addr.family != AF_INET6)
		return -ENOENT;
	return udp_send(rw, e->lidx, &e->addr, f, len);
}

/* The stream connection flow <f> names, if it is this worker's and
 * alive; the backend connection is no flow. */
static struct stls_dconn *flow_conn(struct relay_worker *rw,
				    const struct stls_flow *f)
{
	uint64_t id = ((uint64_t)(f->worker + 1) << 56) |
		      ((uint64_t)(f->gen & 0xffffffu) << 32) | f->conn_id;
	struct stls_dconn *c = stls_dconn_table_get(&rw->w->table, id);

	if (!c || c->state >= STLS_DCONN_CLOSING ||
	    c->kind == STLS_DCONN_BACKEND)
		return NULL;
	return c;
}

const char *stls__relay_issued_token(void *arg, const struct stls_flow *f)
{
	struct relay_worker *rw = arg;
	struct stls_dconn *c;
	struct relay_conn *rc;

	if (f->worker != rw->w->idx)
		return NULL; /* another worker's, or a udp: flow */
	c = flow_conn(rw, f);
	rc = c ? c->hstate : NULL;
	return rc && rc->token[0] ? rc->token : NULL;
}

static int deliver_conn(struct relay_worker *rw, const struct stls_flow *f,
			size_t len)
{
	struct stls_dconn *c = flow_conn(rw, f);
	struct relay_conn *rc;

	if (!c)
		return -ENOENT;
	rc = c->hstate;
	if (rw->msg->is_request && rc &&
	    !(len = stls__relay_fix_head(rw, rc->lidx, rc->token, len)))
		return -EINVAL;
	/* A slow client is bounded by send_timeout and the overflow limit:
	 * pausing the sender for it would stall every other client. */
	if (stls__relay_send_conn(c, rw->out, len) != 0)
		return -EIO;
	return 0;
}

/* The worker that owns flow <f>; ANY_WORKER: any (udp: IPv4). */
static unsigned flow_owner(const struct stls_flow *f)
{
	if (f->worker & RELAY_FLOW_UDP4)
		return ANY_WORKER;
	if (f->worker & RELAY_FLOW_UDP6)
		return f->worker & ~RELAY_FLOW_UDP6;
	return f->worker;
}

/* Sends rw->out (len bytes; rw->msg is its parsed original or itself) on
 * flow <f>, which this worker may serve. */
static int deliver_here(struct relay_worker *rw, const struct stls_flow *f,
			size_t len)
{
	if (f->worker & RELAY_FLOW_UDP4)
		return deliver_udp4(rw, f, len);
	if (f->worker & RELAY_FLOW_UDP6)
		return deliver_udp6(rw, f, len);
	return deliver_conn(rw, f, len);
}

int stls__relay_deliver(struct relay_worker *rw, const struct stls_flow *f,
			size_t len, relay_posted_fn *fn, const char *p,
			size_t n)
{
	unsigned owner = flow_owner(f);

	if (owner != ANY_WORKER && owner >= rw->r->n_workers)
		return -EINVAL;
	if (owner == ANY_WORKER || owner == rw->w->idx)
		return deliver_here(rw, f, len);
	if (stls__relay_post(rw, owner, fn, f, p, n) != 0)
		STLS_DBG("relay: worker %u: post to %u failed", rw->w->idx,
			 owner);
	return 1;
}

static void flow_posted(struct relay_worker *rw, const struct stls_flow *f,
			const char *p, size_t n);

int stls__relay_deliver_out(struct relay_worker *rw,
			    const struct stls_flow *f, size_t len)
{
	return stls__relay_deliver(rw, f, len, flow_posted, rw->out, len);
}

/*
 * The request in rw->msg (rewritten, our Via with ft on top) found its
 * flow dead on this worker: its sender gets 430 Flow Failed (RFC 5626
 * 5.3) along our Via, as the target's own answer would have gone.
 */
static void bounce(struct relay_worker *rw)
{
	struct stls_relay_ctx ctx = { 0 };
	struct stls_relay_result res;
	ssize_t n;

	if (rw->msg->method_id == STLS_SIP_M_ACK)
		return;
	n = stls_sip_reply_build(rw->msg, 430, NULL, rw->r->rs->server_header,
				 rw->reply, rw->reply_cap);
	if (n <= 0 || stls_sip_msg_parse(rw->reply, (size_t)n, 0,
					 rw->msg) != 0)
		return;
	ctx.conf = &rw->confs[rw->r->primary];
	ctx.signer = rw->signer;
	if (stls_relay_client_response(&ctx, rw->msg, rw->out, rw->out_cap,
				       &res) != 0 || !res.has_flow)
		return;
	if (stls__relay_deliver_out(rw, &res.flow, res.len) < 0)
		relay_count(rw, STLS_RELAY_FLOW_GONE);
}

/* A rewritten message from another worker for flow <f>, owned here. */
static void flow_posted(struct relay_worker *rw, const struct stls_flow *f,
			const char *p, size_t n)
{
	int err;

	if (n > rw->out_cap || stls_sip_msg_parse(p, n, 0, rw->msg) != 0) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	/* rw->msg points into <p>, which outlives this call; rw->out gets
	 * the copy that fix_head may rewrite. */
	memcpy(rw->out, p, n);
	err = deliver_here(rw, f, n);
	if (!err) {
		relay_count(rw, STLS_RELAY_DIRECT);
	} else if (err == -ENOENT && rw->msg->is_request) {
		relay_count(rw, STLS_RELAY_FLOW_FAILED);
		bounce(rw);
	} else if (err == -ENOENT) {
		relay_count(rw, STLS_RELAY_FLOW_GONE);
	} else if (err == -EINVAL) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
	}
}
