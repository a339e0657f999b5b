/*
 * Internals shared by the relay's files (relay.c: handler and framing,
 * relay_client.c: client side, relay_backend.c: backend side,
 * relay_out.c: outbound pool, relay_policy.c: rules and facts,
 * relay_conf.c: the [relay] keyword table). Not an interface.
 */
#ifndef STLSD_RELAY_INT_H
#define STLSD_RELAY_INT_H

#include <stdatomic.h>

#include <uv.h>

#include "dconn.h"
#include "flow_token.h"
#include "relay.h"
#include "sip_framer.h"
#include "sip_msg.h"
#include "sip_reply.h"
#include "sip_rewrite.h"
#include "worker.h"

/* Room for what the rewrite adds on top of a message. */
#define RELAY_HEADROOM 16384
/* Flow-token "worker" field markers for udp: flows. */
#define RELAY_FLOW_UDP4 0x8000u /* | listener: address in id and gen */
#define RELAY_FLOW_UDP6 0x4000u /* | worker: slot in the worker table */
#define RELAY_UDP6_SLOTS 4096u
#define RELAY_DEST_BUCKETS 256u
#define RELAY_MAX_FACTS 8

struct relay_counters {
	_Atomic uint64_t v[STLS_RELAY__COUNT];
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
};

/* One recent udp: IPv6 peer (the token names the slot). */
struct relay_udp6 {
	struct stls_addr addr;
	uint32_t gen;
	uint16_t lidx;
};

struct relay_dest;

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
	struct stls_relay_fact facts[RELAY_MAX_FACTS];
	size_t n_facts;
	char *facts_buf;     /* the values */
};

static inline void relay_count(struct relay_worker *rw,
			       enum stls_relay_stat k)
{
	uint64_t v = atomic_load_explicit(&rw->cnt->v[k],
					  memory_order_relaxed);

	atomic_store_explicit(&rw->cnt->v[k], v + 1, memory_order_relaxed);
}

static inline struct relay_worker *relay_rw(struct stls_worker *w)
{
	return w->hctx;
}

/* relay_client.c */
void stls__relay_client_msg(struct relay_worker *rw, struct stls_dconn *c,
			    struct stls_listener *l,
			    const struct stls_addr *src, const char *p,
			    size_t n);
STLS_MUST_USE int stls__relay_send_conn(struct stls_dconn *c,
					const char *p, size_t n);
void stls__relay_udp_flow(struct relay_worker *rw, size_t lidx,
			  const struct stls_addr *src, struct stls_flow *f);

/* relay_backend.c */
void stls__relay_backend_msg(struct relay_worker *rw, const char *p,
			     size_t n);
void stls__relay_backend_reply(struct relay_worker *rw, unsigned status);
size_t stls__relay_fix_head(struct relay_worker *rw, size_t lidx,
			    const char *token, size_t len);
STLS_MUST_USE int stls__relay_post(struct relay_worker *rw, unsigned widx,
				   const char *p, size_t n);

/* relay_out.c */
void stls__relay_out_request(struct relay_worker *rw,
			     const struct stls_relay_result *res,
			     const char *raw, size_t raw_len);
void stls__relay_out_established(struct relay_worker *rw,
				 struct stls_dconn *c);
void stls__relay_out_closed(struct relay_worker *rw, struct stls_dconn *c);
void stls__relay_out_fini(struct relay_worker *rw);

/* relay_policy.c */
void stls__relay_facts_fill(struct relay_worker *rw, struct stls_dconn *c,
			    struct relay_conn *rc);

#endif
