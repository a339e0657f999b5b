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
	/*
	 * Client requests: what the request hook decided (script/script.h);
	 * all optional. <extra>: checked header lines appended after the
	 * facts; <strip>: names of headers removed (compact forms too);
	 * <server_name>/<server_id>: sent as X-<xavp_cfg>-Server-Name/-Id
	 * (with xavp_cfg set; such headers from the client are always
	 * removed).
	 */
	struct stls_slice extra;
	const char *const *strip;
	size_t n_strip;
	const char *server_name;
	const char *server_id;
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
};

struct stls_relay_result {
	enum stls_relay_action action;
	unsigned status;           /* REPLY: the status sent */
	size_t len;                /* bytes written to out */
	bool has_flow;             /* send on the connection named by flow */
	struct stls_flow flow;
	bool has_next;             /* send to next (new or pooled connection) */
	struct stls_relay_target next;
	struct stls_slice server_name; /* xavp_cfg: SNI to use, or empty */
	struct stls_slice server_id;   /* xavp_cfg: client profile id */
	const char *error;         /* why -EBADMSG was returned */
};

/*
 * Request from a TLS client to the backend. Validates the request (a bad
 * one gets a 400 REPLY), checks Max-Forwards (0: 483 REPLY; absent: 70
 * inserted; else decremented), removes leading Route entries that are
 * ours, adds received/rport to the top Via, prepends our Via (inside
 * address, branch per RFC 3261 16.11, parameter ft=<flow token>), adds two
 * Record-Route entries on INVITE, SUBSCRIBE, REFER and NOTIFY, adds Path on
 * REGISTER, strips headers starting with the facts prefix (and the
 * xavp_cfg ones) and appends the facts, then the hook's edits (ctx). A
 * request already validated in full (msg->validated) is not validated
 * again. ctx->flow_token and ctx->src are required. Returns 0 (see
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
 * res->flow names the connection to send on. Returns 0, -EBADMSG (not
 * ours, bad token, malformed: drop and count; res->error says why),
 * -EINVAL, -ENOBUFS.
 */
STLS_MUST_USE int stls_relay_backend_response(const struct stls_relay_ctx *ctx,
					      struct stls_sip_msg *msg,
					      char *out, size_t cap,
					      struct stls_relay_result *res);

/*
 * Request from the backend. Removes leading Route entries that are ours
 * (inside or outside address, or a user part that is a valid flow token)
 * and takes the flow token from them or from the Request-URI (res->flow);
 * otherwise res->next is the next Route or the Request-URI. Prepends our
 * Via (outside address, TLS), handles Max-Forwards (0: 483 REPLY to the
 * backend), and with xavp_cfg N removes X-<N>-Server-Name and
 * X-<N>-Server-Id, returning their values. Returns 0, -EBADMSG (malformed,
 * a bad token in a Route of ours: drop and count), -EINVAL, -ENOBUFS.
 */
STLS_MUST_USE int stls_relay_backend_request(const struct stls_relay_ctx *ctx,
					     struct stls_sip_msg *msg,
					     char *out, size_t cap,
					     struct stls_relay_result *res);

/*
 * Response from a TLS peer to a request the backend sent through us. The
 * top Via must be ours (outside host and port, RFC 3261 branch); it is
 * removed and res->next is the next Via's address (received and rport
 * preferred over sent-by). Returns 0, -EBADMSG, -EINVAL, -ENOBUFS.
 */
STLS_MUST_USE int stls_relay_client_response(const struct stls_relay_ctx *ctx,
					     struct stls_sip_msg *msg,
					     char *out, size_t cap,
					     struct stls_relay_result *res);

#endif
