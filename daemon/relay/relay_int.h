/*
 * Internals shared by the relay's files (relay.c: handler and framing,
 * relay_client.c: client side, relay_backend.c: backend side,
 * relay_flow.c: delivery on flows and hand-over between workers,
 * relay_out.c: outbound pool, relay_out_ka.c: its keep-alive,
 * relay_policy.c: connection-out rules, relay_facts.c: TLS facts,
 * relay_script.c: the Lua request hook, relay_send.c: sending, shared by
 * all; the [relay] keyword table is config/relay_conf.c). Not an
 * interface.
 *
 * Calls run one way: relay.c (the handler ops) calls the sides and the
 * keep-alive's pong check; relay_client.c and relay_backend.c call
 * relay_flow.c; relay_backend.c calls relay_out.c, which calls
 * relay_out_ka.c; every file may call relay_send.c, relay_policy.c,
 * relay_facts.c, relay_script.c and the rewrite (sip_rewrite*.c,
 * sip_route.c, flow_token.c); nothing calls back up (a side hands
 * relay_flow.c the function a posted message goes to).
 */
#ifndef STLSD_RELAY_INT_H
#define STLSD_RELAY_INT_H

#include <stdatomic.h>

#include <uv.h>

#include "dns/sip_resolve.h"
#include "runtime/dconn.h"
#include "relay/flow_token.h"
#include "relay/relay.h"
#include "stls/sip/framer.h"
#include "stls/sip/msg.h"
#include "stls/sip/reply.h"
#include "relay/sip_rewrite.h"
#include "runtime/worker.h"
#include "script/script.h"

/* Room for what the rewrite adds on top of a message. */
#define RELAY_HEADROOM 16384
/* Flow-token "worker" field markers for udp: flows. */
#define RELAY_FLOW_UDP4 0x8000u /* | listener: address in id and gen */
#define RELAY_FLOW_UDP6 0x4000u /* | worker: slot in the worker table */
#define RELAY_UDP6_SLOTS 4096u
/* The "listener" of a udp: flow naming a peer on the inside network. */
#define RELAY_LIDX_INSIDE 0x7fffu
#define RELAY_DEST_BUCKETS 256u

struct relay_counters {
	_Atomic uint64_t v[STLS_RELAY__COUNT];
	struct stls_histo latency; /* stls_relay_latency() */
};

struct stls_relay {
	const struct stls_relay_settings *rs;
	const struct stls_core_conf *core;
	const struct stls_settings *tls;
	struct stls_daemon *d;
	struct stls_tlsx *tlsx;
	uint8_t key[STLS_FLOW_KEY_LEN];
	char inside_host[64];
	char **outside_host;        /* per listener */
	uint16_t *outside_port;     /* per listener */
	size_t primary;             /* listener for outbound Vias */
	struct stls_sip_local *locals; /* our addresses, for OPTIONS */
	size_t n_locals;
	size_t max_msg;
	unsigned n_workers;
	struct relay_counters *cnt; /* per worker */
	_Atomic uint64_t hook_denied; /* connection-out hook, any worker */
	struct stls_script *script;   /* Lua hooks, or NULL */
};

/* One recent udp: IPv6 peer (the token names the slot). */
struct relay_udp6 {
	struct stls_addr addr;
	uint32_t gen;
	uint16_t lidx;
};

/* relay_out.c: a request waiting for its destination's connection. */
struct relay_pending {
	struct relay_pending *next;
	size_t len;       /* the rewritten request */
	size_t reply_len; /* the 503 that follows it (0: ACK, none) */
	char data[];
};

/* relay_out.c: one destination of the outbound pool. */
struct relay_dest {
	struct relay_dest *next; /* bucket chain */
	struct relay_worker *rw;
	char *key;
	char *host;
	char *server_name; /* or NULL */
	char *server_id;   /* or NULL */
	struct stls_sip_dns_req req; /* req.host is <host> */
	bool up;
	bool tls;          /* the current target's transport */
	struct stls_sip_resolve *sr; /* resolving */
	struct stls_sip_targets targets;
	size_t next_target; /* the one to try after the current */
	uint64_t conn_id;
	struct relay_pending *head, **tail;
	unsigned n_pending;
	/* relay_out_ka.c */
	uint64_t ka_due;   /* up: next ping (loop ms); 0: none */
	uint64_t pong_due; /* a ping waits for its pong until then; 0: none */
};

/* Per worker (w->hctx). */
struct relay_worker {
	struct stls_relay *r;
	struct stls_worker *w;
	struct stls_flow_signer *signer;
	struct stls_sip_msg *msg;
	char *out;
	size_t out_cap;
	char *reply;
	size_t reply_cap;
	struct stls_relay_conf *confs; /* per listener */
	struct relay_counters *cnt;
	struct relay_udp6 *udp6;
	struct relay_dest *dests[RELAY_DEST_BUCKETS];
	uint64_t t_in_ns; /* the client bytes being handled arrived */
	uint64_t rng;          /* relay_random() */
	uv_timer_t ka_timer;   /* relay_out_ka.c: outbound keep-alive */
	bool ka_timer_ok;      /* initialised (closed by the part) */
};

/* Per connection (c->hstate). */
struct relay_conn {
	struct stls_sip_framer fr;
	uint8_t *in;         /* unframed input; NULL when none */
	size_t in_len, in_cap;
	char token[STLS_FLOW_TOKEN_LEN + 1];
	size_t lidx;         /* listener; SIZE_MAX: outbound or backend */
	struct relay_dest *dest; /* outbound: its pool entry */
	bool facts_done;     /* facts below are filled */
	bool verified;
	struct stls_relay_fact *facts; /* in facts_buf, or &fact_verified */
	size_t n_facts;
	struct stls_relay_fact fact_verified; /* Verified alone */
	char *facts_buf;     /* the facts array and the values */
};

static inline void relay_count(struct relay_worker *rw,
			       enum stls_relay_stat k)
{
	uint64_t v = atomic_load_explicit(&rw->cnt->v[k],
					  memory_order_relaxed);

	atomic_store_explicit(&rw->cnt->v[k], v + 1, memory_order_relaxed);
}

/* A reply siptlsd made, by side and status class. */
static inline void relay_count_reply(struct relay_worker *rw, bool to_client,
				     unsigned status)
{
	bool ok = status < 300;

	relay_count(rw, to_client ? (ok ? STLS_RELAY_REPLIED_CLIENT_OK
					: STLS_RELAY_REPLIED_CLIENT_ERROR)
				  : (ok ? STLS_RELAY_REPLIED_BACKEND_OK
					: STLS_RELAY_REPLIED_BACKEND_ERROR));
}

/* The status of the reply at <p> ("SIP/2.0 NNN ..."), or 0. */
static inline unsigned relay_reply_status(const char *p, size_t n)
{
	if (n < 11 || p[8] < '1' || p[8] > '6')
		return 0;
	return (unsigned)(p[8] - '0') * 100 + (unsigned)(p[9] - '0') * 10 +
	       (unsigned)(p[10] - '0');
}

static inline struct relay_worker *relay_rw(struct stls_worker *w)
{
	return w->hctx;
}

/* The worker's PRNG (SRV weights, keep-alive jitter; <arg> is the
 * struct relay_worker): xorshift64*, seeded on first use. Not for
 * secrets. */
static inline uint32_t relay_random(void *arg)
{
	struct relay_worker *rw = arg;
	uint64_t x = rw->rng;

	if (!x)
		x = uv_hrtime() ^ ((uint64_t)(uintptr_t)rw << 17) ^
		    0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rw->rng = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * Everything below runs on the worker that owns <rw> (w->hctx) and uses
 * its scratch state: rw->msg (the parsed message), rw->out (the rewritten
 * one) and rw->reply (local replies). Pointers are borrowed.
 */

/* relay_send.c: the lowest file; the others call it, it calls none. */

/* stls_dconn_send() of text: 0, -EPIPE or -ENOBUFS (c is closing). */
STLS_MUST_USE int stls__relay_send_conn(struct stls_dconn *c,
					const char *p, size_t n);

/* Answers the request in rw->msg with <status> to the backend (no reply
 * for ACK or a response). */
void stls__relay_backend_reply(struct relay_worker *rw, unsigned status);

/* relay_client.c */

/*
 * Relays one whole message from a client: a stream connection <c> (then
 * <l> is NULL) or a datagram from <src> on udp: listener <l> (then <c> is
 * NULL). Local replies go back the same way; a stream message that does
 * not parse closes <c> (after a 400 for a request). Never fails: problems
 * are counted.
 */
void stls__relay_client_msg(struct relay_worker *rw, struct stls_dconn *c,
			    struct stls_listener *l,
			    const struct stls_addr *src, const char *p,
			    size_t n);

/*
 * Refuses a bad request on stream connection <c>: from <hdr>,
 * its header section or the first bytes of it (a header bomb, a NUL, a bad
 * Content-Length, a line over the size limit, a bad request line), copies
 * the method, Via, From, To, Call-ID and CSeq, answers 400 from them (505
 * when the request line names another SIP version) and lets <c> drain
 * and close. Returns 0, or -EPROTO when no reply can be built (not a
 * request, those headers unreadable): the caller closes <c>.
 */
STLS_MUST_USE int stls__relay_refuse(struct relay_worker *rw,
				     struct stls_dconn *c,
				     struct stls_slice hdr);

/* relay_backend.c */

/*
 * Relays one whole message from the backend (a datagram, or one framed
 * off the tcp: backend connection): to its flow, to the worker owning the
 * flow or destination (posted), or to the outbound pool. Never fails:
 * problems are counted, requests answered (430, 483, 503) when they can.
 */
void stls__relay_backend_msg(struct relay_worker *rw, const char *p,
			     size_t n);

/*
 * Relays one datagram that reached the inside socket from <from>, a host
 * other than the backend: only an in-dialog request following a route
 * set that names one of our flows (a phone the backend serves, when the
 * backend did not record-route) is delivered, with our Via naming <from>
 * for the answer; anything else is refused (403) or dropped, and counted.
 */
void stls__relay_peer_msg(struct relay_worker *rw,
			  const struct stls_addr *from, const char *p,
			  size_t n);

/* relay_flow.c: calls relay_send.c and the rewrite. */

/* The flow of a udp: client <src> on listener <lidx>
 * (RELAY_LIDX_INSIDE: a peer on the inside network). */
void stls__relay_udp_flow(struct relay_worker *rw, size_t lidx,
			  const struct stls_addr *src, struct stls_flow *f);

/* What a worker does with a message another worker posted to it. */
typedef void relay_posted_fn(struct relay_worker *rw,
			     const struct stls_flow *f, const char *p,
			     size_t n);

/*
 * Copies <p, n> and posts it to worker <widx>, where fn(rw, f, p, n) runs
 * (f: a copy of *f, or zeros when f is NULL). Returns 0, -ENOMEM or
 * -ENOENT (then nothing was posted).
 */
STLS_MUST_USE int stls__relay_post(struct relay_worker *rw, unsigned widx,
				   relay_posted_fn *fn,
				   const struct stls_flow *f, const char *p,
				   size_t n);

/*
 * Rewrites the head of the request in rw->out (len bytes) for listener
 * <lidx> (SIZE_MAX: outbound) and, for a dialog-forming request, adds the
 * Record-Route pair naming <token> (NULL: none). The result is in rw->out
 * (rw->out and rw->reply are swapped). Returns the new length, or 0 when
 * the message does not fit or has no Via of ours on top.
 */
size_t stls__relay_fix_head(struct relay_worker *rw, size_t lidx,
			    const char *token, size_t len);

/* The signer's issued-token source (flow_token.h): the token kept with
 * the live stream connection <f> names on this worker, or NULL. <arg>
 * is the relay_worker. */
const char *stls__relay_issued_token(void *arg, const struct stls_flow *f);

/*
 * Sends rw->out (len bytes; rw->msg parsed from the message it was
 * rewritten from) on flow <f>: here when this worker serves the flow,
 * else <p, n> is posted to the owner, which runs fn. Returns 0 (sent),
 * 1 (posted: the owner counts and answers), -ENOENT (the flow is gone:
 * the caller answers), -EINVAL (a flow or message that cannot be sent)
 * or -EIO.
 */
STLS_MUST_USE int stls__relay_deliver(struct relay_worker *rw,
				      const struct stls_flow *f, size_t len,
				      relay_posted_fn *fn, const char *p,
				      size_t n);

/*
 * Same for a message from another flow: what is posted is rw->out itself,
 * and the owner only sends it (a request it finds without flow is
 * answered 430 along our Via, whose ft names the sender). Same returns.
 */
STLS_MUST_USE int stls__relay_deliver_out(struct relay_worker *rw,
					  const struct stls_flow *f,
					  size_t len);

/* relay_out.c: calls relay_send.c only. */

/* Room for a destination key (transport, host, port, SNI, server_id). */
#define STLS_RELAY_DEST_KEY_MAX 600

/*
 * The pool key of the next hop res->next (key: STLS_RELAY_DEST_KEY_MAX
 * bytes) and the worker that owns it. Returns 0, or -EPERM when the
 * target may not be reached (plain targets refused, TLS without the
 * transform, a key too long): the caller answers 503.
 */
STLS_MUST_USE int stls__relay_out_key(struct relay_worker *rw,
				      const struct stls_relay_result *res,
				      char *key, unsigned *owner);

/*
 * A backend request (rw->msg parsed, rw->out rewritten, res from
 * stls_relay_backend_request) for destination <key>, on the worker that
 * owns it: sent on its connection, queued while it opens, or answered
 * 503.
 */
void stls__relay_out_request(struct relay_worker *rw,
			     const struct stls_relay_result *res,
			     const char *key);

/* Outbound connection <c> of a destination is up: flush its queue. */
void stls__relay_out_established(struct relay_worker *rw,
				 struct stls_dconn *c);

/* Outbound connection <c> is closing: 503 for what still waits, and the
 * destination is forgotten. */
void stls__relay_out_closed(struct relay_worker *rw, struct stls_dconn *c);

/* Frees every destination of the worker (worker stop; no replies). */
void stls__relay_out_fini(struct relay_worker *rw);

/* relay_out_ka.c: keep-alive; calls relay_send.c only. */

/* Destination <d> is up: its first ping is due in one interval. */
void stls__relay_ka_start(struct relay_worker *rw, struct relay_dest *d);

/*
 * Bytes <p, n> arrived on outbound connection <c> (the unframed input,
 * before framing): returns how many leading bytes are CRLF keep-alive
 * pongs (RFC 5626 4.4.1), to drop before framing; a pong answers the
 * ping of its destination.
 */
size_t stls__relay_ka_pong(struct relay_worker *rw, struct stls_dconn *c,
			   const char *p, size_t n);

/* The relay's worker part (closes the keep-alive timer at stop). */
extern const struct stls_worker_part stls__relay_ka_part;

/* relay_script.c */

/*
 * The request hook for the request in rw->msg from <c> (or <src> on a
 * udp: listener): returns 0 to relay it, with the hook's edits in <ctx>
 * (they point into the script's state: use them before the next hook
 * call), or 1 when the hook answered (v->action REPLY: the caller sends
 * v->code, v->reason) or dropped it. A request that does not validate is
 * not shown to the hook (0: the rewrite answers 400).
 */
STLS_MUST_USE int stls__relay_script_request(struct relay_worker *rw,
					     struct stls_dconn *c,
					     struct stls_listener *l,
					     const struct stls_addr *src,
					     struct stls_relay_ctx *ctx,
					     struct stls_script_verdict *v);

/* relay_facts.c */

/*
 * Fills rc's facts headers and verified flag from connection <c>, once
 * (after the handshake; before it, nothing is filled and a later call
 * tries again). Out of memory: only the Verified fact is kept.
 */
void stls__relay_facts_fill(struct relay_worker *rw, struct stls_dconn *c,
			    struct relay_conn *rc);

#endif
