/*
 * The relay handler: process-wide setup, per-worker state, and the stream
 * side of every connection (framing, CRLF keep-alive, framing errors).
 * See relay.h for the data flow and docs/deploy.md for the deployment
 * view.
 *
 * Input buffering: bytes are framed straight from the worker's scratch
 * buffer; only the tail of an incomplete message is copied into the
 * connection's own buffer, which is released as soon as it empties, so an
 * idle connection holds no buffer (DESIGN.md). The buffer never exceeds
 * max_message_size plus one read, because the framer refuses a message
 * that has outgrown the limit.
 */
#include "relay/relay_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dial/backend.h"
#include "stls/log.h"

const char *const stls_relay_stat_names[STLS_RELAY__COUNT] = {
	[STLS_RELAY_CLIENT_REQUESTS] = "client_requests",
	[STLS_RELAY_CLIENT_RESPONSES] = "client_responses",
	[STLS_RELAY_BACKEND_REQUESTS] = "backend_requests",
	[STLS_RELAY_BACKEND_RESPONSES] = "backend_responses",
	[STLS_RELAY_PINGS] = "pings",
	[STLS_RELAY_LOCAL_REPLIES] = "local_replies",
	[STLS_RELAY_FRAMING_ERRORS] = "framing_errors",
	[STLS_RELAY_BAD_MESSAGES] = "bad_messages",
	[STLS_RELAY_POLICY_REFUSED] = "policy_refused",
	[STLS_RELAY_FLOW_FAILED] = "flow_failed",
	[STLS_RELAY_FLOW_GONE] = "flow_gone",
	[STLS_RELAY_OUT_OPENED] = "out_opened",
	[STLS_RELAY_OUT_REUSED] = "out_reused",
	[STLS_RELAY_OUT_FAILED] = "out_failed",
	[STLS_RELAY_OUT_DENIED] = "out_denied",
	[STLS_RELAY_BACKEND_DOWN] = "backend_down",
	[STLS_RELAY_POSTED] = "posted",
	[STLS_RELAY_REPLIED_CLIENT_OK] = "replied_client_ok",
	[STLS_RELAY_REPLIED_CLIENT_ERROR] = "replied_client_error",
	[STLS_RELAY_REPLIED_BACKEND_OK] = "replied_backend_ok",
	[STLS_RELAY_REPLIED_BACKEND_ERROR] = "replied_backend_error",
	[STLS_RELAY_CLIENT_DROPPED] = "client_dropped",
	[STLS_RELAY_OUT_FAILOVER] = "out_failover",
	[STLS_RELAY_OUT_DNS_FAILED] = "out_dns_failed",
	[STLS_RELAY_OUT_PINGS] = "out_pings",
	[STLS_RELAY_OUT_KEEPALIVE_FAILED] = "out_keepalive_failed",
	[STLS_RELAY_DIRECT] = "direct",
	[STLS_RELAY_ROUTE_REFUSED] = "route_refused",
	[STLS_RELAY_SCRIPT_REPLIES] = "script_replies",
	[STLS_RELAY_SCRIPT_DROPS] = "script_drops",
};


int stls_relay_new(const struct stls_relay_settings *rs,
		   const struct stls_core_conf *core,
		   const struct stls_settings *tls, struct stls_relay **out)
{
	struct stls_relay *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->rs = rs;
	r->core = core;
	r->tls = tls;
	r->max_msg = (size_t)core->max_message_size;
	r->n_workers = (unsigned)core->workers;
	r->cnt = calloc(r->n_workers, sizeof(*r->cnt));
	r->outside_host = calloc(core->n_listen, sizeof(char *));
	r->outside_port = calloc(core->n_listen, sizeof(uint16_t));
	r->locals = calloc(core->n_listen * 2, sizeof(*r->locals));
	if (!r->cnt || !r->outside_host || !r->outside_port || !r->locals) {
		stls_relay_free(r);
		return -ENOMEM;
	}
	err = stls_flow_key_generate(r->key);
	if (err) {
		stls_relay_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void stls_relay_free(struct stls_relay *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; r->outside_host && i < r->core->n_listen; i++)
		free(r->outside_host[i]);
	free(r->outside_host);
	free(r->outside_port);
	free(r->locals);
	free(r->cnt);
	OPENSSL_cleanse(r->key, sizeof(r->key));
	free(r);
}

void stls_relay_set_tlsx(struct stls_relay *r, struct stls_tlsx *t)
{
	r->tlsx = t;
}

void stls_relay_set_script(struct stls_relay *r, struct stls_script *s)
{
	r->script = s;
}

/* The source address the kernel picks towards the backend. */
static int route_source(const struct stls_addr *to, struct stls_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = stls_addr_to_sockaddr(to, &ss);
	int fd = socket(to->family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0)
		err = -errno;
	len = sizeof(ss);
	if (!err && getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		err = -errno;
	close(fd);
	if (!err)
		stls_addr_from_sockaddr((struct sockaddr *)&ss, out);
	return err;
}

static bool addr_is_any(const struct stls_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

static int set_inside_host(struct stls_relay *r)
{
	const struct stls_core_conf *c = r->core;
	char buf[STLS_ADDR_STRLEN];
	struct stls_addr a = c->backend_source;
	int err;

	if (r->rs->inside_host) {
		snprintf(r->inside_host, sizeof(r->inside_host), "%s",
			 r->rs->inside_host);
		return 0;
	}
	if (a.family == AF_UNSPEC || addr_is_any(&a)) {
		err = route_source(&c->backend, &a);
		if (err) {
			STLS_ERR("relay: no route to backend %s: %s",
				 stls_addr_str(&c->backend, true, buf),
				 strerror(-err));
			return err;
		}
	}
	snprintf(r->inside_host, sizeof(r->inside_host), "%s",
		 stls_addr_str(&a, false, buf));
	return 0;
}

static int set_outside(struct stls_relay *r, size_t i,
		       const struct stls_addr *bound)
{
	const struct stls_listen_conf *l = &r->core->listen[i];
	char buf[STLS_ADDR_STRLEN];
	const char *host = l->advertise_host;

	/* A wildcard listener needs advertise= to be reachable by name;
	 * without it the Via shows the wildcard (documented). */
	if (!host)
		host = stls_addr_str(bound, false, buf);
	r->outside_host[i] = strdup(host);
	if (!r->outside_host[i])
		return -ENOMEM;
	r->outside_port[i] = l->advertise_port ? l->advertise_port
					       : bound->port;
	r->locals[r->n_locals].host = r->outside_host[i];
	r->locals[r->n_locals++].port = r->outside_port[i];
	return 0;
}

int stls_relay_attach(struct stls_relay *r, struct stls_daemon *d)
{
	const struct stls_core_conf *c = r->core;
	bool have_tls = false;
	size_t i;
	int err;

	r->d = d;
	err = set_inside_host(r);
	for (i = 0; !err && i < c->n_listen; i++) {
		err = set_outside(r, i, stls_daemon_bound(d, i));
		if (!err && !have_tls && c->listen[i].proto != STLS_PROTO_UDP) {
			r->primary = i;
			have_tls = c->listen[i].proto == STLS_PROTO_TLS;
		}
	}
	if (!err)
		STLS_INFO("relay: inside %s, outbound Via %s:%u",
			  r->inside_host, r->outside_host[r->primary],
			  r->outside_port[r->primary]);
	return err;
}

void stls_relay_stats(const struct stls_relay *r, uint64_t *v)
{
	unsigned w, k;

	memset(v, 0, STLS_RELAY__COUNT * sizeof(*v));
	for (w = 0; w < r->n_workers; w++) {
		for (k = 0; k < STLS_RELAY__COUNT; k++)
			v[k] += atomic_load_explicit(&r->cnt[w].v[k],
						     memory_order_relaxed);
	}
	v[STLS_RELAY_OUT_DENIED] += atomic_load_explicit(
		&r->hook_denied, memory_order_relaxed);
}

void stls_relay_latency(const struct stls_relay *r,
			struct stls_histo_snap *out)
{
	unsigned w;

	memset(out, 0, sizeof(*out));
	for (w = 0; w < r->n_workers; w++)
		stls_histo_read(&r->cnt[w].latency, out);
}

void stls_relay_stats_log(const struct stls_relay *r)
{
	uint64_t v[STLS_RELAY__COUNT];
	char line[1400];
	size_t k, n = 0;

	stls_relay_stats(r, v);
	for (k = 0; k < STLS_RELAY__COUNT && n < sizeof(line); k++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%llu",
				      stls_relay_stat_names[k],
				      (unsigned long long)v[k]);
	STLS_NOTICE("relay stats:%s", line);
}

/* Per-worker relay settings: the listener's outside address and this
 * worker's backend port. */
static void fill_confs(struct relay_worker *rw)
{
	struct stls_relay *r = rw->r;
	struct stls_addr local = { 0 };
	size_t i;

	if (stls_backend_local(rw->w, &local) != 0)
		local.port = r->core->backend_source.port;
	for (i = 0; i < r->core->n_listen; i++) {
		struct stls_relay_conf *rc = &rw->confs[i];

		rc->inside_host = r->inside_host;
		rc->inside_port = local.port;
		rc->inside_tp = r->core->backend_proto == STLS_PROTO_TCP
					? STLS_SIP_TP_TCP
					: STLS_SIP_TP_UDP;
		rc->outside_host = r->outside_host[i];
		rc->outside_port = r->outside_port[i];
		rc->facts_prefix = r->rs->facts_prefix;
		rc->xavp_cfg = r->tls && r->tls->xavp_cfg &&
					       r->tls->xavp_cfg[0]
				       ? r->tls->xavp_cfg
				       : NULL;
		rc->server = r->rs->server_header;
	}
}

static void worker_free(struct relay_worker *rw)
{
	if (!rw)
		return;
	stls__relay_out_fini(rw);
	if (rw->r->script)
		stls_script_worker_stop(rw->r->script, rw->w->idx);
	stls_flow_signer_free(rw->signer);
	free(rw->msg);
	free(rw->out);
	free(rw->reply);
	free(rw->confs);
	free(rw->udp6);
	free(rw);
}

static int relay_worker_init(struct stls_worker *w, void *arg)
{
	struct stls_relay *r = arg;
	struct relay_worker *rw = calloc(1, sizeof(*rw));
	int err;

	if (!rw)
		return -ENOMEM;
	rw->r = r;
	rw->w = w;
	rw->cnt = &r->cnt[w->idx];
	rw->out_cap = r->max_msg + RELAY_HEADROOM;
	rw->reply_cap = r->max_msg + RELAY_HEADROOM;
	rw->msg = malloc(sizeof(*rw->msg));
	rw->out = malloc(rw->out_cap);
	rw->reply = malloc(rw->reply_cap);
	rw->confs = calloc(r->core->n_listen, sizeof(*rw->confs));
	rw->udp6 = calloc(RELAY_UDP6_SLOTS, sizeof(*rw->udp6));
	err = stls_flow_signer_new(r->key, &rw->signer);
	if (!err)
		stls_flow_signer_set_issued(rw->signer,
					    stls__relay_issued_token, rw);
	if (!err && (!rw->msg || !rw->out || !rw->reply || !rw->confs ||
		     !rw->udp6))
		err = -ENOMEM;
	/* This worker's Lua state, loaded now (not at the first request). */
	if (!err && r->script)
		err = stls_script_worker_start(r->script, w->idx);
	if (err) {
		worker_free(rw);
		return err;
	}
	fill_confs(rw);
	w->hctx = rw;
	return 0;
}

static void relay_worker_fini(struct stls_worker *w, void *arg)
{
	(void)arg;
	worker_free(w->hctx);
	w->hctx = NULL;
}

static int relay_open(struct stls_dconn *c, void *arg)
{
	struct stls_relay *r = arg;
	struct relay_conn *rc = calloc(1, sizeof(*rc));
	struct stls_flow f;
	int err;

	if (!rc)
		return -ENOMEM;
	stls_sip_framer_init(&rc->fr, r->max_msg);
	rc->lidx = c->listener ? (size_t)(c->listener - r->core->listen)
			       : SIZE_MAX;
	c->hstate = rc;
	/* The tcp: backend connection is no flow (and is first opened
	 * before worker_init). */
	if (c->kind == STLS_DCONN_BACKEND)
		return 0;
	f.worker = (uint16_t)c->w->idx;
	f.conn_id = (uint32_t)c->id;
	f.gen = (uint32_t)(c->id >> 32) & 0xffffffu;
	err = stls_flow_token_build(relay_rw(c->w)->signer, &f, rc->token);
	if (err) {
		c->hstate = NULL;
		free(rc);
	}
	return err;
}

static void relay_established(struct stls_dconn *c, void *arg)
{
	struct relay_worker *rw = relay_rw(c->w);
	struct relay_conn *rc = c->hstate;
	size_t i;

	(void)arg;
	if (!rw)
		return;
	if (c->kind == STLS_DCONN_BACKEND) {
		/* tcp: backend: our Via names this connection's port. */
		for (i = 0; i < rw->r->core->n_listen; i++)
			rw->confs[i].inside_port = c->local.port;
		return;
	}
	if (rc && rc->dest)
		stls__relay_out_established(rw, c);
}

static void relay_close(struct stls_dconn *c, void *arg)
{
	struct relay_conn *rc = c->hstate;

	(void)arg;
	if (!rc)
		return;
	if (rc->dest && c->w->hctx)
		stls__relay_out_closed(relay_rw(c->w), c);
	free(rc->in);
	free(rc->facts_buf);
	free(rc);
	c->hstate = NULL;
}

/* A framing error at <in> (the unconsumed input): 400 for a request whose
 * start line and reply headers can be read, then the connection closes
 * (after the reply is flushed). */
static int frame_error(struct relay_worker *rw, struct stls_dconn *c,
		       const struct stls_sip_frame *fr, struct stls_slice in)
{
	char buf[STLS_ADDR_STRLEN];

	relay_count(rw, STLS_RELAY_FRAMING_ERRORS);
	STLS_INFO("relay: %s: framing error (%s): closing",
		  stls_addr_str(&c->peer, true, buf),
		  stls_sip_frame_err_str(fr->err));
	if (!fr->is_request || fr->err == STLS_SIP_FRAME_GARBAGE) {
		relay_count(rw, STLS_RELAY_CLIENT_DROPPED);
		return -EPROTO;
	}
	/* TOO_BIG before the header section ended: what came so far. */
	if (stls__relay_refuse(rw, c, fr->msg.len ? fr->msg : in) != 0) {
		relay_count(rw, STLS_RELAY_CLIENT_DROPPED);
		return -EPROTO;
	}
	return 0;
}

static void one_message(struct relay_worker *rw, struct stls_dconn *c,
			const struct stls_slice *m)
{
	if (c->kind == STLS_DCONN_BACKEND)
		stls__relay_backend_msg(rw, m->p, m->len);
	else
		stls__relay_client_msg(rw, c, NULL, &c->peer, m->p, m->len);
}

/*
 * Frames and handles whole messages in p[0..n). Returns the bytes
 * consumed, or -errno to close the connection.
 */
static ssize_t frame_all(struct relay_worker *rw, struct stls_dconn *c,
			 const char *p, size_t n)
{
	struct relay_conn *rc = c->hstate;
	struct stls_sip_frame fr;
	struct stls_slice in;
	size_t used = 0;

	while (c->state < STLS_DCONN_CLOSING && !c->draining) {
		stls_sip_framer_next(&rc->fr, p + used, n - used, &fr);
		if (fr.kind == STLS_SIP_FRAME_ERROR) {
			used += fr.consumed;
			in = stls_slice_make(p + used, n - used);
			return frame_error(rw, c, &fr, in) < 0 ? -EPROTO
								: (ssize_t)n;
		}
		used += fr.consumed;
		if (fr.kind == STLS_SIP_FRAME_NEED_MORE)
			break;
		if (fr.kind == STLS_SIP_FRAME_PING) {
			relay_count(rw, STLS_RELAY_PINGS);
			if (stls__relay_send_conn(c, "\r\n", 2) != 0)
				break;
		} else if (fr.kind == STLS_SIP_FRAME_MESSAGE) {
			one_message(rw, c, &fr.msg);
		}
	}
	return (ssize_t)used;
}

static int grow_in(struct relay_conn *rc, size_t n)
{
	uint8_t *b;

	if (n <= rc->in_cap)
		return 0;
	b = realloc(rc->in, n);
	if (!b)
		return -ENOMEM;
	rc->in = b;
	rc->in_cap = n;
	return 0;
}

/* Keeps the unframed tail p[0..n): inside rc->in when <joined>. */
static int keep_tail(struct relay_conn *rc, const uint8_t *p, size_t n,
		     bool joined)
{
	int err;

	if (joined) {
		memmove(rc->in, p, n);
	} else {
		err = grow_in(rc, n);
		if (err)
			return err;
		memcpy(rc->in, p, n);
	}
	rc->in_len = n;
	return 0;
}

static int relay_data(struct stls_dconn *c, const uint8_t *p, size_t n,
		      void *arg)
{
	struct relay_worker *rw = relay_rw(c->w);
	struct relay_conn *rc = c->hstate;
	bool joined;
	ssize_t used;
	int err;

	(void)arg;
	if (!rc || !rw || c->draining)
		return 0;
	rw->t_in_ns = stls_mono_ns();
	joined = rc->in_len != 0;
	if (rc->dest && !joined) {
		/* Pongs on a connection we opened (relay_out.c). */
		used = (ssize_t)stls__relay_ka_pong(rw, c, (const char *)p, n);
		p += used;
		n -= (size_t)used;
		if (!n)
			return 0;
	}
	if (joined) {
		/* Join the tail kept from the last read. */
		err = grow_in(rc, rc->in_len + n);
		if (err)
			return err;
		memcpy(rc->in + rc->in_len, p, n);
		rc->in_len += n;
		p = rc->in;
		n = rc->in_len;
	}
	used = frame_all(rw, c, (const char *)p, n);
	if (used < 0)
		return (int)used;
	if ((size_t)used == n) {
		free(rc->in);
		rc->in = NULL;
		rc->in_len = rc->in_cap = 0;
		return 0;
	}
	return keep_tail(rc, p + used, n - (size_t)used, joined);
}

static bool is_crlf(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	}
	return true;
}

static void relay_datagram(struct stls_listener *l,
			   const struct stls_addr *from, const uint8_t *p,
			   size_t n, void *arg)
{
	(void)arg;
	/* A UDP keep-alive (CRLF): nothing to relay. */
	if (n <= 4 && is_crlf((const char *)p, n))
		return;
	relay_rw(l->w)->t_in_ns = stls_mono_ns();
	stls__relay_client_msg(relay_rw(l->w), NULL, l, from,
			       (const char *)p, n);
}

static void relay_backend_dgram(struct stls_worker *w,
				const struct stls_addr *from,
				const uint8_t *p, size_t n, void *arg)
{
	struct stls_relay *r = arg;
	struct relay_worker *rw = relay_rw(w);

	/* A keep-alive (CRLF): nothing to relay. */
	if (n <= 4 && is_crlf((const char *)p, n))
		return;
	if (stls_addr_eq(from, &r->core->backend)) {
		stls__relay_backend_msg(rw, (const char *)p, n);
	} else if (r->rs->inside_peers) {
		/* Another host: only requests that name a flow of ours. */
		stls__relay_peer_msg(rw, from, (const char *)p, n);
	} else {
		relay_count(rw, STLS_RELAY_BAD_MESSAGES);
	}
}

/* A request held for the backend that the kernel refused at the end of
 * the turn: the client gets the 503 it would have had at once, through
 * the response path (our Via on top names its connection). */
static void relay_backend_unsent(struct stls_worker *w, const uint8_t *p,
				 size_t n, int err, void *arg)
{
	struct stls_relay *r = arg;
	struct relay_worker *rw = relay_rw(w);
	char *buf;
	ssize_t len;

	(void)err;
	relay_count(rw, STLS_RELAY_BACKEND_DOWN);
	relay_count_reply(rw, true, 503);
	if (stls_sip_msg_parse((const char *)p, n, 0, rw->msg) != 0 ||
	    !rw->msg->is_request || rw->msg->method_id == STLS_SIP_M_ACK)
		return;
	buf = malloc(rw->reply_cap);
	if (!buf)
		return;
	len = stls_sip_reply_build(rw->msg, 503, NULL, r->rs->server_header,
				   buf, rw->reply_cap);
	if (len > 0)
		stls__relay_backend_msg(rw, buf, (size_t)len);
	free(buf);
}

static const struct stls_handler_ops relay_ops = {
	.name = "relay",
	.worker_init = relay_worker_init,
	.worker_fini = relay_worker_fini,
	.open = relay_open,
	.established = relay_established,
	.data = relay_data,
	.close = relay_close,
	.datagram = relay_datagram,
	.backend = relay_backend_dgram,
	.backend_unsent = relay_backend_unsent,
};

void stls_relay_install(struct stls_relay *r, struct stls_daemon_opts *o)
{
	size_t i;

	o->handler = &relay_ops;
	o->handler_arg = r;
	/* The outbound keep-alive timer closes with the worker. */
	for (i = 0; i < STLS_WORKER_PARTS_MAX; i++) {
		if (!o->parts[i]) {
			o->parts[i] = &stls__relay_ka_part;
			break;
		}
	}
}
