/*
 * The relay's backend side: messages from the backend SIP server.
 *
 * Responses: our top Via (stls_relay_backend_response) names the flow.
 * Requests: stls_relay_backend_request finds a flow token (Route of ours,
 * Request-URI) or the next hop.
 *
 * Which worker sends: a flow names its worker (tcp:/tls: connections and
 * udp: IPv6 flows; relay_flow.c delivers); a next hop belongs to the
 * worker hash(its host) % N (relay_out.c). When that is another
 * worker, the original message is posted to it (stls_daemon_post) and
 * handled there from the start: parsing and rewriting again costs a few
 * microseconds and keeps one code path, and the owner has the original
 * request at hand to build a 430 or 503 from. udp: IPv4 flows need no
 * owner: any worker's socket of the listener reaches the client.
 *
 * Another host than the backend on the inside socket (a phone the backend
 * serves, following a route set that names us because the backend did
 * not record-route): stls__relay_peer_msg, in-dialog requests to a flow
 * of ours only.
 *
 * A flow that is gone: a request gets 430 Flow Failed (RFC 5626 section
 * 5.3), sent to the backend from the worker that found the flow dead; a
 * response is dropped and counted (the client is gone; the backend's
 * transaction times out as it would for a lost datagram).
 */
#include "relay/relay_int.h"

#include <errno.h>

#include "dial/backend.h"
#include "stls/log.h"

static void posted(struct relay_worker *rw, const struct stls_flow *f,
		   const char *p, size_t n)
{
	(void)f;
	stls__relay_backend_msg(rw, p, n);
}

static void sent(struct relay_worker *rw)
{
	relay_count(rw, rw->msg->is_request ? STLS_RELAY_BACKEND_REQUESTS
					    : STLS_RELAY_BACKEND_RESPONSES);
}

/* Sends rw->out (len bytes) on flow f, or posts the original <p, n> to
 * the worker that owns f. A flow that is gone: 430 for a request (RFC
 * 5626 5.3), a response is dropped and counted. */
static void deliver(struct relay_worker *rw, const struct stls_flow *f,
		    size_t len, const char *p, size_t n)
{
	int err = stls__relay_deliver(rw, f, len, posted, p, n);

	if (err == 0) {
		sent(rw);
	} else if (err == -ENOENT && rw->msg->is_request) {
		relay_count(rw, STLS_RELAY_FLOW_FAILED);
		stls__relay_backend_reply(rw, 430);
	} else if (err == -ENOENT) {
		relay_count(rw, STLS_RELAY_FLOW_GONE);
	} else if (err == -EINVAL) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
	}
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
		if (stls__relay_post(rw, owner, posted, NULL, p, n) != 0)
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
	ctx.flow_timer = (unsigned)rw->r->rs->flow_timer;
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
	if (err && res.refused) {
		/* An ACK naming a forged flow: no 403, dropped. */
		relay_count(rw, STLS_RELAY_ROUTE_REFUSED);
	} else if (err) {
		bad(rw, res.error);
	} else if (res.action == STLS_RELAY_REPLY) {
		relay_count(rw, res.refused ? STLS_RELAY_ROUTE_REFUSED
					    : STLS_RELAY_LOCAL_REPLIES);
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

/* A reply to the peer request in rw->msg, from the inside socket. */
static void peer_reply(struct relay_worker *rw, const struct stls_addr *to,
		       const char *p, size_t n)
{
	if (stls_backend_send_to(rw->w, to, (const uint8_t *)p, n) != 0)
		STLS_DBG("relay: worker %u: reply to an inside peer lost",
			 rw->w->idx);
}

void stls__relay_peer_msg(struct relay_worker *rw,
			  const struct stls_addr *from, const char *p,
			  size_t n)
{
	char token[STLS_FLOW_TOKEN_LEN + 1];
	struct stls_relay_ctx ctx = { 0 };
	struct stls_relay_result res;
	struct stls_flow f;
	ssize_t len;
	int err;

	/* Answers to what siptlsd sends come from the backend only. */
	if (stls_sip_msg_parse(p, n, 0, rw->msg) != 0 ||
	    !rw->msg->is_request) {
		bad(rw, "not a request, from another host than the backend");
		return;
	}
	stls__relay_udp_flow(rw, RELAY_LIDX_INSIDE, from, &f);
	if (stls_flow_token_build(rw->signer, &f, token) != 0)
		return;
	ctx.conf = &rw->confs[rw->r->primary];
	ctx.signer = rw->signer;
	ctx.src = from;
	ctx.flow_token = token;
	ctx.inside_peer = true;
	err = stls_relay_backend_request(&ctx, rw->msg, rw->out, rw->out_cap,
					 &res);
	if (err) {
		relay_count(rw, res.refused ? STLS_RELAY_ROUTE_REFUSED
					    : STLS_RELAY_BAD_MESSAGES);
		return;
	}
	if (res.action == STLS_RELAY_REPLY) {
		relay_count(rw, res.refused ? STLS_RELAY_ROUTE_REFUSED
					    : STLS_RELAY_LOCAL_REPLIES);
		peer_reply(rw, from, rw->out, res.len);
		return;
	}
	err = stls__relay_deliver_out(rw, &res.flow, res.len);
	if (err == 0) {
		relay_count(rw, STLS_RELAY_DIRECT);
	} else if (err == -ENOENT) {
		relay_count(rw, STLS_RELAY_FLOW_FAILED);
		len = stls_sip_reply_build(rw->msg, 430, NULL,
					   rw->r->rs->server_header, rw->reply,
					   rw->reply_cap);
		if (len > 0)
			peer_reply(rw, from, rw->reply, (size_t)len);
	} else if (err < 0) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
	}
}
