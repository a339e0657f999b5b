/*
 * The stateless relay's message rewriting (RFC 3261 section 16.11, RFC 3581,
 * RFC 3327 Path, RFC 5626 outbound flow tokens).
 *
 * Four pure functions, one per direction, each taking a parsed message
 * (stls/sip/msg.h), a per-message context and an output buffer, and telling the
 * caller what to do with the result:
 *
 *   stls_relay_client_request()   TLS client  -> backend   (request)
 *   stls_relay_backend_response() backend     -> TLS peer  (response)
 *   stls_relay_backend_request()  backend     -> TLS peer  (request)
 *   stls_relay_client_response()  TLS peer    -> backend   (response)
 *
 * No sockets, no TLS, no allocation: the event loop parses, calls one of
 * these, then sends res.len bytes of <out> where res says (the backend, the
 * connection named by res.flow, or a new outbound connection to res.next),
 * or sends the local reply in <out> back where the request came from
 * (res.action == STLS_RELAY_REPLY). All slices in the result point into
 * the input message.
 *
 * What is added and removed, with examples, is in docs/sip.md.
 */
#ifndef STLS_SIP_REWRITE_H
#define STLS_SIP_REWRITE_H

#include "stls/addr.h"
#include "stls/common.h"
#include "relay/flow_token.h"
#include "stls/sip/msg.h"

enum stls_sip_transport {
	STLS_SIP_TP_UDP,
	STLS_SIP_TP_TCP,
	STLS_SIP_TP_TLS,
};

/* Relay settings: built once from the config, shared read-only. */
struct stls_relay_conf {
	const char *inside_host;  /* our address towards the backend */
	uint16_t inside_port;
	enum stls_sip_transport inside_tp; /* UDP or TCP */
	const char *outside_host; /* our advertised TLS-side address */
	uint16_t outside_port;
	const char *facts_prefix; /* NULL means "X-TLS-" */
	const char *xavp_cfg;     /* NULL: no X-<N>-Server-Name/-Id */
	const char *server;       /* Server header of local replies, or NULL */
};

/* One TLS fact forwarded to the backend as <prefix><name>: <value>. */
struct stls_relay_fact {
	const char *name;  /* e.g. "Verified", "Peer-Subject", "SNI" */
	const char *value; /* control bytes and '%' are %-escaped */
};

struct stls_relay_ctx {
	const struct stls_relay_conf *conf;
	struct stls_flow_signer *signer; /* this worker's */
	const char *flow_token;          /* client side: the connection's */
	const struct stls_addr *src;     /* source address of the message */
	const struct stls_relay_fact *facts;
	size_t n_facts;
	/* RFC 5626 Flow-Timer seconds (0: none): client side, marks an
	 * outbound REGISTER in our Via; backend side, added to its 2xx. */
	unsigned flow_timer;
	/* Backend side: the request comes from another host on the inside
	 * network than the backend (flow_token names it): see
	 * stls_relay_backend_request. */
	bool inside_peer;
};

enum stls_relay_action {
	STLS_RELAY_FORWARD, /* send <out> to the destination in res */
	STLS_RELAY_REPLY,   /* send <out> (a local reply) back to the sender */
};

/* Where a message from the backend must go. */
struct stls_relay_target {
	struct stls_slice host; /* IPv6 without brackets */
	uint16_t port;          /* 0 when the URI/Via has none */
	bool host_is_ip;        /* false: resolve the name (DNS) */
	bool tls;               /* sips: or transport=tls */
	enum stls_sip_transport tp;
	/* Backend requests (RFC 3263 input): a sips: URI, and the URI's
	 * transport= value (empty when absent). */
	bool sips;
	struct stls_slice transport;
};

struct stls_relay_result {
	enum stls_relay_action action;
	unsigned status;           /* REPLY: the status sent */
	size_t len;                /* bytes written to out */
	bool has_flow;             /* send on the connection named by flow */
	bool refused;              /* a Route named a forged or foreign flow */
	struct stls_flow flow;
	bool has_next;             /* send to next (new or pooled connection) */
	struct stls_relay_target next;
	struct stls_slice server_name; /* xavp_cfg: SNI to use, or empty */
	struct stls_slice server_id;   /* xavp_cfg: client profile id */
	const char *error;         /* why -EBADMSG was returned */
};

/*
 * Request from a TLS client. Validates the request (a bad one gets a 400
 * REPLY), checks Max-Forwards (0: 483 REPLY; absent: 70 inserted; else
 * decremented), removes the leading Route entries that name this hop for
 * the client's flow (sip_route.c), adds received/rport to the top Via and
 * strips headers starting with the facts prefix. Then either:
 *
 *  - the next Route entry names another flow of ours (an in-dialog
 *    request the backend did not record-route): res->has_flow names it;
 *    that flow's entries are removed too and our Via goes on top
 *    (outside address, ft=<the client's token>, so that the answer finds
 *    the client); no facts, no Record-Route. Outside a dialog (no To tag)
 *    this is refused: 403 REPLY, res->refused;
 *  - else, for the backend: our Via (inside address, branch per RFC 3261
 *    16.11, ft=<flow token>, ;ob on a REGISTER that asks for outbound when
 *    ctx->flow_timer is set), two Record-Route entries on INVITE,
 *    SUBSCRIBE, REFER and NOTIFY, Path on REGISTER, the facts appended.
 *
 * A forged or stale token on our address in a Route: 403 REPLY,
 * res->refused. ctx->flow_token and ctx->src are required. Returns 0 (see
 * res->action), -EINVAL (msg is not a request, or ctx incomplete) or
 * -ENOBUFS (out too small).
 */
STLS_MUST_USE int stls_relay_client_request(const struct stls_relay_ctx *ctx,
					    struct stls_sip_msg *msg,
					    char *out, size_t cap,
					    struct stls_relay_result *res);

/*
 * Response from the backend. The top Via must be ours (inside host and
 * port, RFC 3261 branch, a valid ft parameter); it is removed and
 * res->flow names the connection to send on. Facts headers are removed.
 * A 2xx to a REGISTER whose Via of ours carries ;ob gets Flow-Timer:
 * ctx->flow_timer (RFC 5626 5.4) unless it has one or that is 0.
 * Returns 0, -EBADMSG (not ours, bad token, malformed: drop and count;
 * res->error says why), -EINVAL, -ENOBUFS.
 */
STLS_MUST_USE int stls_relay_backend_response(const struct stls_relay_ctx *ctx,
					      struct stls_sip_msg *msg,
					      char *out, size_t cap,
					      struct stls_relay_result *res);

/*
 * Request from the backend. Removes our leading Route entries without a
 * token, then the first flow's entries (sip_route.c), and takes that flow
 * or a token in the Request-URI (res->flow); otherwise res->next is the
 * next Route or the Request-URI. Prepends our Via (outside address, TLS),
 * handles Max-Forwards (0: 483 REPLY to the backend), removes facts
 * headers, and with xavp_cfg N removes X-<N>-Server-Name and
 * X-<N>-Server-Id, returning their values. A forged or stale token on our
 * address (Route or Request-URI): 403 REPLY (RFC 5626 5.3), res->refused.
 *
 * With ctx->inside_peer (a phone the backend serves, sending an in-dialog
 * request along a route set that names us, because the backend did not
 * record-route): the request is fully validated, must have a To tag and
 * must name a flow of ours (else 403 REPLY, res->refused), never goes to
 * a next hop, gets no xavp_cfg handling, and our Via carries
 * ft=<ctx->flow_token> so that the answer goes back to the peer.
 * Returns 0, -EBADMSG (malformed: drop and count), -EINVAL, -ENOBUFS.
 */
STLS_MUST_USE int stls_relay_backend_request(const struct stls_relay_ctx *ctx,
					     struct stls_sip_msg *msg,
					     char *out, size_t cap,
					     struct stls_relay_result *res);

/*
 * Response from a TLS peer to a request that went through us. The top
 * Via must be ours: RFC 3261 branch and either a valid ft parameter (the
 * request came from another flow: res->flow names it) or our outside
 * host and port (the request came from the backend: res->next is the
 * next Via's address, received and rport preferred over sent-by). It is
 * removed, and so are facts headers. Returns 0, -EBADMSG, -EINVAL,
 * -ENOBUFS.
 */
STLS_MUST_USE int stls_relay_client_response(const struct stls_relay_ctx *ctx,
					     struct stls_sip_msg *msg,
					     char *out, size_t cap,
					     struct stls_relay_result *res);

#endif
