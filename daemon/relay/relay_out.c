/*
 * The relay's outbound pool: requests from the backend for a destination
 * with no flow token (a carrier, a trunk, a phone known only by address).
 *
 * One connection per destination (RFC 5923 spirit: reuse what is open).
 * A destination is the target's URI transport, host, port, and the SNI
 * and client-profile id asked for by the backend (xavp_cfg): two
 * requests that differ in any of these need different connections. Each
 * destination belongs to one worker, hash(host) % N, so that all its
 * requests meet on the worker that holds its connection, and every
 * destination of one host on the worker whose DNS cache holds that
 * host's records; other workers post the request there.
 *
 * States of a destination: resolving (RFC 3263 on the worker's resolver,
 * dns/sip_resolve.h: NAPTR, SRV, A/AAAA, from the cache when it can),
 * connecting (TCP connect, TLS handshake, connection-out hook) to one
 * target of the resolved list, up. Requests that arrive before "up"
 * wait in a bounded queue (out_queue_max), each with its 503 reply
 * already built, so that a failure can answer every queued request
 * except ACK without keeping the parsed message.
 *
 * Fail-over (RFC 3263 section 4.3): when a target's connect, handshake,
 * certificate check or connection-out rule fails, the queued requests
 * go to the next target of the list, unchanged. A request is written to
 * a connection only once it is up, and is never written again: when an
 * up connection fails, what it carried is not resent. When the list is
 * used up, or DNS fails, every queued request gets 503; a DNS failure
 * says so in the reason phrase ("DNS Timeout", "DNS Name Not Found",
 * "DNS No Address", "DNS Failure") and in a Warning header (399). A
 * destination is forgotten when its connection closes; the next request
 * resolves again (from the cache while the TTLs last).
 *
 * Keep-alive on up connections: relay_out_ka.c.
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dial/backend.h"
#include "dial/outbound.h"
#include "dns/dns_part.h"
#include "stls/log.h"
#include "tlsx/tlsx.h"

static uint64_t key_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* FNV-1a of the key's host field (up to the next '|'). */
static uint64_t host_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s && *s != '|'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static char *slice_dup(struct stls_slice s)
{
	return s.len ? strndup(s.p, s.len) : NULL;
}

static void send_503(struct relay_worker *rw, const struct relay_pending *p,
		     const char *reason, const char *warn)
{
	const struct stls_relay_conf *conf = &rw->confs[rw->r->primary];
	const char *r = p->data + p->len, *eol;
	char text[STLS_SIP_WHY_MAX + 8], *buf = NULL;
	size_t i, rest = 0;
	bool v6;
	int n = 0;

	eol = reason ? memchr(r, '\n', p->reply_len) : NULL;
	if (eol) {
		rest = p->reply_len - (size_t)(eol + 1 - r);
		buf = malloc(rest + sizeof(text) + 512);
	}
	if (buf) {
		/* The warn-text is a quoted-string: no quote, backslash or
		 * control byte of a DNS name gets into it. */
		for (i = 0; warn[i] && i + 1 < sizeof(text); i++)
			text[i] = warn[i] == '"' || warn[i] == '\\' ||
						  (unsigned char)warn[i] < 0x20 ||
						  warn[i] == 0x7f
					  ? '?'
					  : warn[i];
		text[i] = '\0';
		v6 = strchr(conf->outside_host, ':') != NULL;
		n = snprintf(buf, sizeof(text) + 512,
			     "SIP/2.0 503 %s\r\nWarning: 399 %s%s%s:%u "
			     "\"%s\"\r\n",
			     reason, v6 ? "[" : "", conf->outside_host,
			     v6 ? "]" : "", (unsigned)conf->outside_port,
			     text);
		if (n > 0 && (size_t)n < sizeof(text) + 512) {
			memcpy(buf + n, eol + 1, rest);
			n += (int)rest;
		} else {
			free(buf);
			buf = NULL; /* cannot happen: names are bounded */
		}
	}
	if (stls_backend_send(rw->w, buf ? (const uint8_t *)buf
					 : (const uint8_t *)r,
			      buf ? (size_t)n : p->reply_len) != 0)
		STLS_DBG("relay: 503 to the backend lost");
	free(buf);
}

static void pending_free_all(struct relay_dest *d, bool answer,
			     const char *reason, const char *warn)
{
	struct relay_pending *p;

	while ((p = d->head)) {
		d->head = p->next;
		if (answer && p->reply_len) {
			relay_count(d->rw, STLS_RELAY_OUT_FAILED);
			send_503(d->rw, p, reason, warn);
		}
		free(p);
	}
	d->tail = &d->head;
	d->n_pending = 0;
}

static void dest_free(struct relay_dest *d)
{
	stls_sip_resolve_cancel(d->sr);
	free(d->key);
	free(d->host);
	free(d->server_name);
	free(d->server_id);
	free(d);
}

static void unlink_dest(struct relay_dest *d)
{
	struct relay_dest **pp =
		&d->rw->dests[key_hash(d->key) % RELAY_DEST_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			return;
		}
	}
}

/* The destination failed: 503 for what waits (with <reason> and the
 * Warning <warn> when DNS failed), then forget it. */
static void dest_fail(struct relay_dest *d, const char *why,
		      const char *reason)
{
	STLS_INFO("relay: %s%s%s: %s; %u queued request(s) answered 503",
		  d->req.sips ? "sips:" : "sip:", d->host,
		  d->req.port ? "" : " (no port)", why, d->n_pending);
	pending_free_all(d, true, reason, why);
	unlink_dest(d);
	dest_free(d);
}

static int open_conn(struct relay_dest *d, const struct stls_sip_target *t,
		     struct stls_dconn **c)
{
	struct relay_worker *rw = d->rw;
	struct stls_tlsx_target tg;

	if (!t->tls) {
		if (!stls_relay_dst_allowed(rw->r->rs, &t->addr)) {
			relay_count(rw, STLS_RELAY_OUT_DENIED);
			return -EPERM;
		}
		return stls_outbound_open(rw->w, &t->addr, NULL,
					  STLS_DCONN_OUTBOUND, false, c);
	}
	if (!rw->r->tlsx)
		return -ENOTSUP;
	memset(&tg, 0, sizeof(tg));
	tg.dst = t->addr;
	tg.server_name = d->server_name;
	tg.server_id = d->server_id;
	/* RFC 5922: the peer must show the target's SIP domain (the URI's
	 * host, not an SRV target); an IP literal is no domain, and then
	 * the SNI sent is checked. */
	tg.sip_domain = d->req.host_is_ip ? NULL : d->host;
	return stls_tlsx_connect(rw->r->tlsx, rw->w, &tg, c);
}

/*
 * Connects to the next target of the list; a target that cannot even
 * be started is skipped. <why> says what failed before (for the log
 * when the list is used up).
 */
static void connect_next(struct relay_dest *d, const char *why)
{
	char buf[STLS_ADDR_STRLEN], last[160];
	const struct stls_sip_target *t;
	struct stls_dconn *c;
	struct relay_conn *rc;
	int err;

	snprintf(last, sizeof(last), "%s", why ? why : "no target");
	while (d->next_target < d->targets.n) {
		t = &d->targets.t[d->next_target++];
		if (d->next_target > 1)
			relay_count(d->rw, STLS_RELAY_OUT_FAILOVER);
		err = open_conn(d, t, &c);
		if (err) {
			snprintf(last, sizeof(last), "%s %s: %s",
				 t->tls ? "tls" : "tcp",
				 stls_addr_str(&t->addr, true, buf),
				 err == -EPERM ? "denied by connection-out "
						 "rules"
					       : strerror(-err));
			continue;
		}
		rc = c->hstate;
		if (!rc) {
			stls_dconn_close(c, STLS_DCLOSE_HANDLER);
			snprintf(last, sizeof(last), "no handler state");
			continue;
		}
		rc->dest = d;
		d->conn_id = c->id;
		d->tls = t->tls;
		relay_count(d->rw, STLS_RELAY_OUT_OPENED);
		return;
	}
	dest_fail(d, last, NULL);
}

/* The 503 reason phrase for a resolution error. */
static const char *dns_reason(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "DNS Timeout";
	case -ENOENT:
		return "DNS Name Not Found";
	case -ENODATA:
		return "DNS No Address";
	case -EPROTONOSUPPORT:
		return "No Usable Transport";
	}
	return "DNS Failure";
}

static void resolved(struct relay_dest *d, int err,
		     const struct stls_sip_targets *t, const char *why)
{
	char warn[STLS_SIP_WHY_MAX + 8];

	if (err == -ECANCELED) {
		/* The worker is stopping: no answers now. */
		pending_free_all(d, false, NULL, NULL);
		unlink_dest(d);
		dest_free(d);
		return;
	}
	if (err) {
		relay_count(d->rw, STLS_RELAY_OUT_DNS_FAILED);
		snprintf(warn, sizeof(warn), "%s%s",
			 strncmp(why, "DNS", 3) == 0 ? "" : "DNS: ", why);
		dest_fail(d, warn, dns_reason(err));
		return;
	}
	d->targets = *t;
	d->next_target = 0;
	connect_next(d, NULL);
}

static void on_resolved(void *arg, int err, const struct stls_sip_targets *t,
			const char *why)
{
	struct relay_dest *d = arg;

	d->sr = NULL;
	resolved(d, err, t, why);
}

static void dest_start(struct relay_dest *d)
{
	struct stls_sip_targets now;
	char why[STLS_SIP_WHY_MAX];
	int rc;

	rc = stls_sip_resolve(stls_dns_of(d->rw->w), &d->req, relay_random,
			      d->rw, on_resolved, d, &now, why, &d->sr);
	if (rc != 0)
		resolved(d, rc < 0 ? rc : 0, &now, why);
}

static enum stls_sip_dns_tp uri_transport(const struct stls_relay_target *t)
{
	if (t->tls)
		return t->sips && !t->transport.len ? STLS_SIP_DNS_TP_NONE
						    : STLS_SIP_DNS_TP_TLS;
	return t->transport.len ? STLS_SIP_DNS_TP_TCP : STLS_SIP_DNS_TP_NONE;
}

static struct relay_dest *dest_new(struct relay_worker *rw, const char *key,
				   const struct stls_relay_result *res)
{
	struct relay_dest *d = calloc(1, sizeof(*d));
	size_t b = key_hash(key) % RELAY_DEST_BUCKETS;

	if (!d)
		return NULL;
	d->rw = rw;
	d->key = strdup(key);
	d->host = slice_dup(res->next.host);
	d->server_name = slice_dup(res->server_name);
	d->server_id = slice_dup(res->server_id);
	if (!d->key || !d->host ||
	    (res->server_name.len && !d->server_name) ||
	    (res->server_id.len && !d->server_id)) {
		dest_free(d);
		return NULL;
	}
	d->req.host = d->host;
	d->req.port = res->next.port;
	d->req.host_is_ip = res->next.host_is_ip;
	d->req.sips = res->next.sips;
	d->req.transport = uri_transport(&res->next);
	d->req.tls_ok = rw->r->tlsx != NULL;
	/* plain_targets = refuse: sip: targets never got this far. */
	d->req.tcp_ok = !res->next.tls;
	d->tail = &d->head;
	d->next = rw->dests[b];
	rw->dests[b] = d;
	return d;
}

static struct relay_dest *dest_find(struct relay_worker *rw, const char *key)
{
	struct relay_dest *d = rw->dests[key_hash(key) % RELAY_DEST_BUCKETS];

	while (d && strcmp(d->key, key) != 0)
		d = d->next;
	return d;
}

/* Queues rw->out (len bytes) with its 503 reply. */
static int enqueue(struct relay_worker *rw, struct relay_dest *d, size_t len)
{
	struct relay_pending *p;
	ssize_t rl = 0;

	if (d->n_pending >= (unsigned)rw->r->rs->out_queue_max)
		return -ENOBUFS;
	if (rw->msg->method_id != STLS_SIP_M_ACK) {
		rl = stls_sip_reply_build(rw->msg, 503, NULL,
					  rw->r->rs->server_header, rw->reply,
					  rw->reply_cap);
		if (rl < 0)
			rl = 0;
	}
	p = malloc(sizeof(*p) + len + (size_t)rl);
	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->len = len;
	p->reply_len = (size_t)rl;
	memcpy(p->data, rw->out, len);
	memcpy(p->data + len, rw->reply, (size_t)rl);
	*d->tail = p;
	d->tail = &p->next;
	d->n_pending++;
	return 0;
}

/* Writes the destination key: URI transport, host (lower case), port
 * (0: none, resolved by SRV), SNI and profile id. Returns false when it
 * does not fit. */
static bool make_key(const struct stls_relay_result *res, char *key,
		     size_t cap)
{
	const struct stls_relay_target *t = &res->next;
	int n = snprintf(key, cap, "%c|%.*s|%u|%.*s|%.*s",
			 t->tls ? (t->sips ? 'S' : 'T') : 'P',
			 (int)t->host.len, t->host.p, t->port,
			 (int)res->server_name.len, res->server_name.p,
			 (int)res->server_id.len, res->server_id.p);
	char *s;

	if (n < 0 || (size_t)n >= cap)
		return false;
	for (s = key; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
	return true;
}

static void send_on(struct relay_worker *rw, struct relay_dest *d,
		    size_t len)
{
	struct stls_dconn *c = stls_dconn_table_get(&rw->w->table,
						    d->conn_id);

	if (c && stls__relay_send_conn(c, rw->out, len) == 0) {
		relay_count(rw, STLS_RELAY_OUT_REUSED);
		relay_count(rw, STLS_RELAY_BACKEND_REQUESTS);
		return;
	}
	relay_count(rw, STLS_RELAY_OUT_FAILED);
	stls__relay_backend_reply(rw, 503);
}

int stls__relay_out_key(struct relay_worker *rw,
			const struct stls_relay_result *res, char *key,
			unsigned *owner)
{
	const struct stls_relay_settings *rs = rw->r->rs;
	bool tls = res->next.tls;

	if ((!tls && rs->plain_targets == STLS_RELAY_PLAIN_REFUSE) ||
	    (tls && !rw->r->tlsx) ||
	    !make_key(res, key, STLS_RELAY_DEST_KEY_MAX))
		return -EPERM;
	/* The host's part of the key (lower case): "X|host|...". */
	*owner = (unsigned)(host_hash(key + 2) % rw->r->n_workers);
	return 0;
}

void stls__relay_out_request(struct relay_worker *rw,
			     const struct stls_relay_result *res,
			     const char *key)
{
	struct relay_dest *d;

	d = dest_find(rw, key);
	if (d && d->up) {
		send_on(rw, d, res->len);
		return;
	}
	if (!d) {
		d = dest_new(rw, key, res);
		if (!d) {
			stls__relay_backend_reply(rw, 503);
			return;
		}
	}
	if (enqueue(rw, d, res->len) != 0) {
		relay_count(rw, STLS_RELAY_OUT_FAILED);
		stls__relay_backend_reply(rw, 503);
		if (!d->n_pending && !d->conn_id && !d->sr) {
			unlink_dest(d);
			dest_free(d);
		}
		return;
	}
	if (!d->conn_id && !d->sr && d->n_pending == 1)
		dest_start(d);
}

void stls__relay_out_established(struct relay_worker *rw,
				 struct stls_dconn *c)
{
	struct relay_conn *rc = c->hstate;
	struct relay_dest *d = rc->dest;
	struct relay_pending *p;

	d->up = true;
	while ((p = d->head)) {
		d->head = p->next;
		if (stls__relay_send_conn(c, p->data, p->len) == 0)
			relay_count(rw, STLS_RELAY_BACKEND_REQUESTS);
		free(p);
	}
	d->tail = &d->head;
	d->n_pending = 0;
	if (rw->r->rs->outbound_keepalive > 0)
		stls__relay_ka_start(rw, d);
}

static const char *tls_detail(const struct stls_dconn *c)
{
	return stls_tlsx_detail(c);
}

void stls__relay_out_closed(struct relay_worker *rw, struct stls_dconn *c)
{
	struct relay_conn *rc = c->hstate;
	struct relay_dest *d = rc->dest;
	char why[256], buf[STLS_ADDR_STRLEN];

	rc->dest = NULL;
	if (d->up) {
		unlink_dest(d);
		dest_free(d);
		return;
	}
	d->conn_id = 0;
	snprintf(why, sizeof(why), "%s %s: connection closed (%s%s%s)",
		 d->tls ? "tls" : "tcp", stls_addr_str(&c->peer, true, buf),
		 stls_dclose_names[c->reason], d->tls && rw->r->tlsx ? " " : "",
		 d->tls && rw->r->tlsx ? tls_detail(c) : "");
	if (c->reason == STLS_DCLOSE_SHUTDOWN || rw->w->stopping) {
		dest_fail(d, why, NULL);
		return;
	}
	/* RFC 3263 4.3: nothing was written to it; the next target gets
	 * the same requests. */
	STLS_DBG("relay: %s: trying the next target", why);
	connect_next(d, why);
}

void stls__relay_out_fini(struct relay_worker *rw)
{
	struct relay_dest *d;
	size_t b;

	for (b = 0; b < RELAY_DEST_BUCKETS; b++) {
		while ((d = rw->dests[b])) {
			rw->dests[b] = d->next;
			pending_free_all(d, false, NULL, NULL);
			/* A resolution still waiting is cancelled. */
			dest_free(d);
		}
	}
}
