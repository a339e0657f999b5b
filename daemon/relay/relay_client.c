/*
 * The relay's client side: a message from a TLS/TCP connection (inbound,
 * or an outbound one to a carrier) or a udp: datagram goes to the backend.
 *
 * Requests: the verified-only policy of the listener, OPTIONS addressed to
 * siptlsd (200 here), then stls_relay_client_request() (Via with the flow
 * token, Record-Route, Path, facts headers) and the backend socket. When
 * the backend cannot take it, the client gets 503 at once.
 * An in-dialog request whose route set names another flow of ours next
 * (the backend did not record-route) goes to that flow directly
 * (relay_flow.c), and so does the answer to it (our Via names the
 * sender's flow).
 * Responses (to requests the backend sent through us): our top Via is
 * removed and the rest goes to the backend.
 * A stream request that cannot be framed or parsed gets a 400 built from
 * its start line, Via, From, To, Call-ID and CSeq lines alone (whatever
 * else is wrong with it need not be read), then the connection closes.
 *
 * udp: flows: relay_flow.c (stls__relay_udp_flow).
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dial/backend.h"
#include "stls/log.h"

/* Header names a stateless reply copies (long and compact forms). */
static const struct {
	const char *name;
	size_t len;
} reply_hdrs[] = {
	{ "Via", 3 }, { "v", 1 }, { "From", 4 }, { "f", 1 }, { "To", 2 },
	{ "t", 1 }, { "Call-ID", 7 }, { "i", 1 }, { "CSeq", 4 },
};

/* True when the header line at p (n bytes) is one a reply copies. */
static bool is_reply_line(const char *p, size_t n)
{
	size_t name = 0, i;

	while (name < n && p[name] != ':' && p[name] != ' ' && p[name] != '\t')
		name++;
	for (i = 0; i < STLS_ARRAY_SIZE(reply_hdrs); i++) {
		if (name == reply_hdrs[i].len &&
		    strncasecmp(p, reply_hdrs[i].name, name) == 0)
			return true;
	}
	return false;
}

/*
 * Writes the start line of the 400 source into rw->out: the method of the
 * refused request's start line <p, n> with a placeholder Request-URI, so
 * that a request line the parser refuses (RFC 4475 "ltgtruri", "lwsruri",
 * "trws": a bad URI, extra spaces) still gets its answer. *status is 505
 * when the line names a SIP version other than 2.0 (RFC 4475 "badvers"),
 * else 400. Returns the length, or 0 when the line has no method.
 */
static size_t start_line(struct relay_worker *rw, const char *p, size_t n,
			 unsigned *status)
{
	static const char tail[] = " sip:invalid SIP/2.0\r\n";
	const char *sp = memchr(p, ' ', n), *end = p + n, *v;
	size_t m = sp ? (size_t)(sp - p) : 0;

	while (end > p && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' '))
		end--;
	for (v = end; v > p && v[-1] != ' '; v--)
		;
	*status = (size_t)(end - v) >= 4 && strncmp(v, "SIP/", 4) == 0 &&
			  !((size_t)(end - v) == 7 && strncmp(v, "SIP/2.0", 7) == 0)
		  ? 505 : 400;
	/* A response (or no method at all) gets no answer. */
	if (!m || (n >= 4 && strncmp(p, "SIP/", 4) == 0) ||
	    m + sizeof(tail) > rw->out_cap)
		return 0;
	memcpy(rw->out, p, m);
	memcpy(rw->out + m, tail, sizeof(tail) - 1);
	return m + sizeof(tail) - 1;
}

/*
 * Copies, from the (possibly incomplete) header section of a refused
 * request, the whole lines a reply needs (Via, From, To, Call-ID, CSeq,
 * with their folds) into rw->out after the start line from start_line(),
 * and ends it with a blank line: whatever else made the request unusable
 * (a header bomb, a NUL, a bad Content-Length, a line over the size
 * limit, a bad request line) is left behind, so the parser can read the
 * rest. Returns the length, or 0 when it does not fit.
 */
static size_t reply_head(struct relay_worker *rw, struct stls_slice hdr,
			 unsigned *status)
{
	const char *p = hdr.p, *end = hdr.p + hdr.len, *eol;
	bool keep = true;
	size_t len = 0, n;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break; /* an unfinished line: never copied */
		n = (size_t)(eol - p) + 1;
		if (n <= 2)
			break; /* the blank line */
		if (!len) {
			len = start_line(rw, p, n, status);
			if (!len)
				return 0;
			p += n;
			continue;
		}
		if (p[0] != ' ' && p[0] != '\t')
			keep = is_reply_line(p, n);
		if (keep && len + n + 2 <= rw->out_cap) {
			memcpy(rw->out + len, p, n);
			len += n;
		}
		p += n;
	}
	if (len < 2 || rw->out[len - 2] != '\r')
		return 0;
	memcpy(rw->out + len, "\r\n", 2);
	return len + 2;
}

int stls__relay_refuse(struct relay_worker *rw, struct stls_dconn *c,
		       struct stls_slice hdr)
{
	size_t n = hdr.len > rw->r->max_msg ? rw->r->max_msg : hdr.len;
	unsigned status = 400;
	ssize_t r;

	n = reply_head(rw, stls_slice_make(hdr.p, n), &status);
	if (!n || stls_sip_msg_parse(rw->out, n, 0, rw->msg) != 0 ||
	    !rw->msg->is_request)
		return -EPROTO;
	r = stls_sip_reply_build(rw->msg, status, NULL,
				 rw->r->rs->server_header, rw->reply,
				 rw->reply_cap);
	if (r <= 0 || stls__relay_send_conn(c, rw->reply, (size_t)r) != 0)
		return -EPROTO;
	stls_dconn_flush(c);
	if (c->state >= STLS_DCONN_CLOSING || c->pending == 0)
		return -EPROTO;
	/* Let the reply leave, then close: read no more from this peer. */
	stls__dconn_pause(c, STLS_PAUSE_SHUTDOWN);
	c->draining = true;
	return 0;
}

/* Sends <p, n> back where the message came from. */
static void send_back(struct relay_worker *rw, struct stls_dconn *c,
		      struct stls_listener *l, const struct stls_addr *src,
		      const char *p, size_t n)
{
	if (c) {
		if (stls__relay_send_conn(c, p, n) == 0 &&
		    stls_dconn_is_congested(c))
			stls_dconn_wait_drain(c, c);
		return;
	}
	if (stls_listener_send(l, src, (const uint8_t *)p, n) != 0)
		STLS_DBG("relay: worker %u: udp reply dropped", rw->w->idx);
}

/* A local reply to the request in rw->msg (none for an ACK). */
static void reply(struct relay_worker *rw, struct stls_dconn *c,
		  struct stls_listener *l, const struct stls_addr *src,
		  unsigned status, const char *reason)
{
	ssize_t n;

	if (rw->msg->method_id == STLS_SIP_M_ACK)
		return;
	n = stls_sip_reply_build(rw->msg, status, reason,
				 rw->r->rs->server_header, rw->reply,
				 rw->reply_cap);
	if (n > 0)
		send_back(rw, c, l, src, rw->reply, (size_t)n);
}

/* The verified-only policy of the connection's listener. */
static bool refused(struct relay_worker *rw, struct stls_dconn *c)
{
	const struct stls_relay_settings *rs = rw->r->rs;
	struct relay_conn *rc = c ? c->hstate : NULL;

	if (!rc || rc->lidx >= rs->n_listen || !rs->verified_only[rc->lidx])
		return false;
	stls__relay_facts_fill(rw, c, rc);
	return !rc->verified;
}

static void to_backend(struct relay_worker *rw, struct stls_dconn *c,
		       struct stls_listener *l, const struct stls_addr *src,
		       size_t len)
{
	struct stls_dconn *bc;

	if (stls_backend_send(rw->w, (const uint8_t *)rw->out, len) != 0) {
		relay_count(rw, STLS_RELAY_BACKEND_DOWN);
		if (rw->msg->is_request)
			reply(rw, c, l, src, 503, NULL);
		return;
	}
	/* tcp: backend: stop reading this client while the backend
	 * connection is congested. */
	bc = c ? stls_backend_conn(rw->w) : NULL;
	if (bc && stls_dconn_is_congested(bc))
		stls_dconn_wait_drain(c, bc);
}

/*
 * An in-dialog request whose route set names another flow next (the
 * backend did not record-route): sent on that flow. A flow that is gone
 * here: 430 Flow Failed to the client (RFC 5626 5.3); found gone on the
 * worker that owns it, the 430 comes back along our Via (relay_flow.c).
 */
static void direct(struct relay_worker *rw, struct stls_dconn *c,
		   struct stls_listener *l, const struct stls_addr *src,
		   const struct stls_relay_result *res)
{
	int err = stls__relay_deliver_out(rw, &res->flow, res->len);

	if (err == 0) {
		relay_count(rw, STLS_RELAY_DIRECT);
	} else if (err == -ENOENT) {
		relay_count(rw, STLS_RELAY_FLOW_FAILED);
		reply(rw, c, l, src, 430, NULL);
	} else if (err < 0) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
	}
}

static void client_request(struct relay_worker *rw, struct stls_dconn *c,
			   struct stls_listener *l,
			   const struct stls_addr *src,
			   struct stls_relay_ctx *ctx)
{
	const struct stls_relay_settings *rs = rw->r->rs;
	struct stls_relay_result res;
	struct relay_conn *rc = c ? c->hstate : NULL;

	if (refused(rw, c)) {
		relay_count(rw, STLS_RELAY_POLICY_REFUSED);
		reply(rw, c, l, src, (unsigned)rs->unverified_code,
		      rs->unverified_reason);
		return;
	}
	if (rs->options_reply && rw->msg->method_id == STLS_SIP_M_OPTIONS &&
	    stls_sip_reply_is_local(rw->msg, rw->r->locals,
				    rw->r->n_locals)) {
		relay_count(rw, STLS_RELAY_LOCAL_REPLIES);
		reply(rw, c, l, src, 200, NULL);
		return;
	}
	if (rc && rs->facts) {
		stls__relay_facts_fill(rw, c, rc);
		ctx->facts = rc->facts;
		ctx->n_facts = rc->n_facts;
	}
	if (stls_relay_client_request(ctx, rw->msg, rw->out, rw->out_cap,
				      &res) != 0) {
		/* res.refused: an ACK naming a forged or foreign flow. */
		relay_count(rw, res.refused ? STLS_RELAY_ROUTE_REFUSED
					    : STLS_RELAY_BAD_MESSAGES);
		return;
	}
	if (res.action == STLS_RELAY_REPLY) {
		relay_count(rw, res.refused ? STLS_RELAY_ROUTE_REFUSED
					    : STLS_RELAY_LOCAL_REPLIES);
		send_back(rw, c, l, src, rw->out, res.len);
		return;
	}
	if (res.has_flow) {
		direct(rw, c, l, src, &res);
		return;
	}
	relay_count(rw, STLS_RELAY_CLIENT_REQUESTS);
	to_backend(rw, c, l, src, res.len);
}

static void client_response(struct relay_worker *rw, struct stls_dconn *c,
			    struct stls_listener *l,
			    const struct stls_addr *src,
			    struct stls_relay_ctx *ctx)
{
	const struct stls_relay_conf *primary = &rw->confs[rw->r->primary];
	struct stls_relay_result res;
	int err;

	/* Requests from the backend carry the Via of the listener they left
	 * on (stls__relay_fix_head), or of the primary one (outbound). */
	err = stls_relay_client_response(ctx, rw->msg, rw->out, rw->out_cap,
					 &res);
	if (err && ctx->conf != primary) {
		ctx->conf = primary;
		err = stls_relay_client_response(ctx, rw->msg, rw->out,
						 rw->out_cap, &res);
	}
	if (err) {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	if (res.has_flow) {
		/* The answer to a request from another flow (direct()). */
		err = stls__relay_deliver_out(rw, &res.flow, res.len);
		if (err == 0)
			relay_count(rw, STLS_RELAY_DIRECT);
		else if (err == -ENOENT)
			relay_count(rw, STLS_RELAY_FLOW_GONE);
		else if (err < 0)
			relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		return;
	}
	relay_count(rw, STLS_RELAY_CLIENT_RESPONSES);
	to_backend(rw, c, l, src, res.len);
}

void stls__relay_client_msg(struct relay_worker *rw, struct stls_dconn *c,
			    struct stls_listener *l,
			    const struct stls_addr *src, const char *p,
			    size_t n)
{
	struct relay_conn *rc = c ? c->hstate : NULL;
	size_t lidx = rc ? rc->lidx : l->idx;
	char token[STLS_FLOW_TOKEN_LEN + 1];
	struct stls_relay_ctx ctx = { 0 };
	struct stls_flow f;
	int err;

	err = stls_sip_msg_parse(p, n, c ? STLS_SIP_PARSE_STREAM : 0,
				 rw->msg);
	if (err) {
		/* Framed but unusable (too many header lines, a NUL, ...): a
		 * stream peer that sends this is broken. A request gets 400
		 * when its reply headers can be read; then close. */
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
		if (c && stls__relay_refuse(rw, c, stls_slice_make(p, n)) != 0)
			stls_dconn_close(c, STLS_DCLOSE_HANDLER);
		return;
	}
	ctx.conf = &rw->confs[lidx < rw->r->core->n_listen ? lidx
							    : rw->r->primary];
	ctx.signer = rw->signer;
	ctx.src = src;
	if (rc) {
		/* Flow-Timer for stream flows only: a udp: client keeps its
		 * NAT binding with the RFC 5626 default (STUN). */
		ctx.flow_timer = (unsigned)rw->r->rs->flow_timer;
		ctx.flow_token = rc->token;
	} else {
		stls__relay_udp_flow(rw, lidx, src, &f);
		if (stls_flow_token_build(rw->signer, &f, token) != 0)
			return;
		ctx.flow_token = token;
	}
	if (rw->msg->is_request)
		client_request(rw, c, l, src, &ctx);
	else
		client_response(rw, c, l, src, &ctx);
}
