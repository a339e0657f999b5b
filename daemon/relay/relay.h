/*
 * The SIP relay of siptlsd: the message handler that turns the daemon into
 * a SIP edge (docs/deploy.md has the flows, docs/relay-config.md the keys).
 *
 * Data flow:
 *   client (tls:/tcp: stream, or udp: datagram) -> framer -> parse ->
 *     policy (verified-only listeners, OPTIONS to us) -> rewrite (Via with
 *     flow token, Record-Route, Path, facts headers) -> backend socket;
 *     an in-dialog request whose route set names another flow next (the
 *     backend did not record-route) -> that flow, and its answer back
 *   backend -> parse -> response: our top Via names the flow -> the owning
 *     worker sends it on that connection (or drops it when gone);
 *     request: a flow token in a Route of ours or the Request-URI -> that
 *     connection (430 Flow Failed when gone, 403 when forged); no token ->
 *     the next hop:
 *     one pooled outbound connection per destination on the worker that
 *     owns the destination (hash), opened on demand (TLS with the matching
 *     client profile and SNI, or plain TCP), 503 when that fails.
 *
 * Threads: stls_relay_new/attach/free run on the main thread before the
 * workers start or after they stopped; the handler ops run on the workers;
 * stls_relay_stats and the connection-out hook on any thread (read-only).
 */
#ifndef STLSD_RELAY_H
#define STLSD_RELAY_H

#include "config/core_conf.h"
#include "config/relay_conf.h"
#include "runtime/daemon.h"
#include "stls/conf.h"
#include "stls/diag.h"

struct stls_tlsx;
struct stls_conn_out_event;

/*
 * The connection-out rules as a stls_conn_out_fn (tlsx.h): <arg> is the
 * struct stls_relay. Denies a destination inside a deny network, or
 * outside every allow network when allow networks are set; counts each
 * refusal. Returns 0 or -EPERM. Any worker; never blocks.
 */
int stls_relay_conn_out(const struct stls_conn_out_event *ev, void *arg);

/* Same rule on a bare address: true when allowed. */
bool stls_relay_dst_allowed(const struct stls_relay_settings *s,
			    const struct stls_addr *dst);

struct stls_relay;

/*
 * Makes the relay. Borrows <rs>, <core> and <tls> (they outlive it); a
 * fresh flow-token key is generated. Returns 0 and *out, -ENOMEM or -EIO.
 * Main thread.
 */
STLS_MUST_USE int stls_relay_new(const struct stls_relay_settings *rs,
				 const struct stls_core_conf *core,
				 const struct stls_settings *tls,
				 struct stls_relay **out);

void stls_relay_free(struct stls_relay *r);

/* Sets o->handler and o->handler_arg. */
void stls_relay_install(struct stls_relay *r, struct stls_daemon_opts *o);

/*
 * Learns the bound listener addresses (port 0 resolved) and the address
 * towards the backend. Call after stls_daemon_new(), before
 * stls_daemon_start(). Returns 0 or -errno.
 */
STLS_MUST_USE int stls_relay_attach(struct stls_relay *r,
				    struct stls_daemon *d);

/* Outbound TLS and facts; NULL: sips targets get 503. Before start. */
void stls_relay_set_tlsx(struct stls_relay *r, struct stls_tlsx *t);

/* Relay counters (summed over workers). */
enum stls_relay_stat {
	STLS_RELAY_CLIENT_REQUESTS,  /* relayed to the backend */
	STLS_RELAY_CLIENT_RESPONSES, /* from a TLS peer to the backend */
	STLS_RELAY_BACKEND_REQUESTS, /* relayed towards a peer */
	STLS_RELAY_BACKEND_RESPONSES,
	STLS_RELAY_PINGS,            /* CRLF keep-alives answered */
	STLS_RELAY_LOCAL_REPLIES,    /* OPTIONS to us, 400, 483 */
	STLS_RELAY_FRAMING_ERRORS,   /* connection closed */
	STLS_RELAY_BAD_MESSAGES,     /* unparsable or not ours: dropped */
	STLS_RELAY_POLICY_REFUSED,   /* verified_only */
	STLS_RELAY_FLOW_FAILED,      /* 430 to the backend */
	STLS_RELAY_FLOW_GONE,        /* response for a closed flow */
	STLS_RELAY_OUT_OPENED,       /* outbound connections started */
	STLS_RELAY_OUT_REUSED,       /* requests on a pooled connection */
	STLS_RELAY_OUT_FAILED,       /* 503 for an unreachable target */
	STLS_RELAY_OUT_DENIED,       /* connection-out rules */
	STLS_RELAY_BACKEND_DOWN,     /* 503 to a client: backend send failed */
	STLS_RELAY_POSTED,           /* handed to another worker */
	STLS_RELAY_OUT_FAILOVER,     /* next target tried (RFC 3263 4.3) */
	STLS_RELAY_OUT_DNS_FAILED,   /* 503: the target did not resolve */
	STLS_RELAY_OUT_PINGS,        /* keep-alive pings sent outbound */
	STLS_RELAY_OUT_KEEPALIVE_FAILED, /* closed: no pong in time */
	STLS_RELAY_DIRECT,           /* flow to flow, backend not in dialog */
	STLS_RELAY_ROUTE_REFUSED,    /* Route with a forged or foreign flow */
	STLS_RELAY__COUNT
};

extern const char *const stls_relay_stat_names[STLS_RELAY__COUNT];

/* Sums the workers' counters into v[STLS_RELAY__COUNT]. Any thread. */
void stls_relay_stats(const struct stls_relay *r, uint64_t *v);

/* Logs one line with every counter (SIGUSR1, exit). */
void stls_relay_stats_log(const struct stls_relay *r);

#endif
