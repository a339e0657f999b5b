/*
 * The relay's outbound pool: requests from the backend for a destination
 * with no flow token (a carrier, a trunk, a phone known only by address).
 *
 * One connection per destination (RFC 5923 spirit: reuse what is open).
 * A destination is the target's transport, host, port, and the SNI and
 * client-profile id asked for by the backend (xavp_cfg): two requests that
 * differ in any of these need different connections. Each destination
 * belongs to one worker, hash(destination) % N, so that all its requests
 * meet on the worker that holds its connection; other workers post the
 * request there.
 *
 * States of a destination: resolving (uv_getaddrinfo on the worker loop:
 * never blocking, A and AAAA, the first answer is used), connecting (TCP
 * connect, TLS handshake, connection-out hook), up. Requests that arrive
 * before "up" wait in a bounded queue (out_queue_max), each with its 503
 * reply already built, so that a failure (DNS, connect, handshake,
 * certificate, hook, timeout) can answer every queued request except ACK
 * without keeping the parsed message. A destination is forgotten when its
 * connection closes; the next request opens a new one.
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dial/backend.h"
#include "dial/outbound.h"
#include "stls/log.h"
#include "tlsx/tlsx.h"

struct relay_pending {
	struct relay_pending *next;
	size_t len;       /* the rewritten request */
	size_t reply_len; /* the 503 that follows it (0: ACK, none) */
	char data[];
};

struct relay_dest {
	struct relay_dest *next; /* bucket chain */
	struct relay_worker *rw;
	char *key;
	char *host;
	char *server_name; /* or NULL */
	char *server_id;   /* or NULL */
	uint16_t port;
	bool tls;
	bool host_is_ip;
	bool resolving;
	bool dead;         /* forgotten while resolving: free in callback */
	bool up;
	uint64_t conn_id;
	struct relay_pending *head, **tail;
	unsigned n_pending;
	uv_getaddrinfo_t gai;
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static char *slice_dup(struct stls_slice s)
{
	return s.len ? strndup(s.p, s.len) : NULL;
}

static void pending_free_all(struct relay_dest *d, bool answer)
{
	struct relay_pending *p;

	while ((p = d->head)) {
		d->head = p->next;
		if (answer && p->reply_len) {
			relay_count(d->rw, STLS_RELAY_OUT_FAILED);
			if (stls_backend_send(d->rw->w,
					      (const uint8_t *)p->data + p->len,
					      p->reply_len) != 0)
				STLS_DBG("relay: 503 to the backend lost");
		}
		free(p);
	}
	d->tail = &d->head;
	d->n_pending = 0;
}

static void dest_free(struct relay_dest *d)
{
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

/* The destination failed: 503 for what waits, then forget it. */
static void dest_fail(struct relay_dest *d, const char *why)
{
	STLS_INFO("relay: %s %s:%u: %s; %u queued request(s) answered 503",
		  d->tls ? "tls" : "tcp", d->host, d->port, why,
		  d->n_pending);
	pending_free_all(d, true);
	unlink_dest(d);
	if (d->resolving)
		d->dead = true;
	else
		dest_free(d);
}

static int open_conn(struct relay_dest *d, const struct stls_addr *dst,
		     struct stls_dconn **c)
{
	struct relay_worker *rw = d->rw;
	struct stls_tlsx_target tg;

	if (!d->tls) {
		if (!stls_relay_dst_allowed(rw->r->rs, dst)) {
			relay_count(rw, STLS_RELAY_OUT_DENIED);
			return -EPERM;
		}
		return stls_outbound_open(rw->w, dst, NULL,
					  STLS_DCONN_OUTBOUND, false, c);
	}
	if (!rw->r->tlsx)
		return -ENOTSUP;
	memset(&tg, 0, sizeof(tg));
	tg.dst = *dst;
	tg.server_name = d->server_name;
	tg.server_id = d->server_id;
	/* RFC 5922: the peer must show the target's SIP domain; an IP
	 * literal is no domain, and then the SNI sent is checked. */
	tg.sip_domain = d->host_is_ip ? NULL : d->host;
	return stls_tlsx_connect(rw->r->tlsx, rw->w, &tg, c);
}

static void connect_to(struct relay_dest *d, struct stls_addr *dst)
{
	struct stls_dconn *c;
	struct relay_conn *rc;
	int err;

	dst->port = d->port;
	err = open_conn(d, dst, &c);
	if (err) {
		dest_fail(d, err == -EPERM ? "denied by connection-out rules"
					   : strerror(-err));
		return;
	}
	rc = c->hstate;
	if (!rc) {
		stls_dconn_close(c, STLS_DCLOSE_HANDLER);
		dest_fail(d, "no handler state");
		return;
	}
	rc->dest = d;
	d->conn_id = c->id;
	relay_count(d->rw, STLS_RELAY_OUT_OPENED);
}

static void on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct relay_dest *d = req->data;
	struct stls_addr dst;

	d->resolving = false;
	if (d->dead) {
		uv_freeaddrinfo(ai);
		dest_free(d);
		return;
	}
	if (status < 0 || !ai) {
		uv_freeaddrinfo(ai);
		dest_fail(d, status < 0 ? uv_strerror(status) : "no address");
		return;
	}
	stls_addr_from_sockaddr(ai->ai_addr, &dst);
	uv_freeaddrinfo(ai);
	connect_to(d, &dst);
}

static void dest_start(struct relay_dest *d)
{
	struct addrinfo hints;
	struct stls_addr dst;
	int err;

	if (d->host_is_ip && stls_addr_parse_ip(d->host, &dst) == 0) {
		connect_to(d, &dst);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	d->gai.data = d;
	d->resolving = true;
	err = uv_getaddrinfo(&d->rw->w->loop, &d->gai, on_gai, d->host, NULL,
			     &hints);
	if (err) {
		d->resolving = false;
		dest_fail(d, uv_strerror(err));
	}
}

static struct relay_dest *dest_new(struct relay_worker *rw, const char *key,
				   const struct stls_relay_result *res,
				   uint16_t port)
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
	d->port = port;
	d->tls = res->next.tls;
	d->host_is_ip = res->next.host_is_ip;
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

/* Writes the destination key: transport, host (lower case), port, SNI
 * and profile id. Returns false when it does not fit. */
static bool make_key(const struct stls_relay_result *res, uint16_t port,
		     char *key, size_t cap)
{
	const struct stls_relay_target *t = &res->next;
	int n = snprintf(key, cap, "%c|%.*s|%u|%.*s|%.*s", t->tls ? 'T' : 'P',
			 (int)t->host.len, t->host.p, port,
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

/* The port of the next hop: the given one, or the transport's default. */
static uint16_t dest_port(const struct stls_relay_result *res)
{
	if (res->next.port)
		return res->next.port;
	return res->next.tls ? 5061 : 5060;
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
	    !make_key(res, dest_port(res), key, STLS_RELAY_DEST_KEY_MAX))
		return -EPERM;
	*owner = (unsigned)(key_hash(key) % rw->r->n_workers);
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
		d = dest_new(rw, key, res, dest_port(res));
		if (!d) {
			stls__relay_backend_reply(rw, 503);
			return;
		}
	}
	if (enqueue(rw, d, res->len) != 0) {
		relay_count(rw, STLS_RELAY_OUT_FAILED);
		stls__relay_backend_reply(rw, 503);
		if (!d->n_pending && !d->conn_id && !d->resolving) {
			unlink_dest(d);
			dest_free(d);
		}
		return;
	}
	if (!d->conn_id && !d->resolving && d->n_pending == 1)
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
}

static const char *tls_detail(const struct stls_dconn *c)
{
	return stls_tlsx_detail(c);
}

void stls__relay_out_closed(struct relay_worker *rw, struct stls_dconn *c)
{
	struct relay_conn *rc = c->hstate;
	struct relay_dest *d = rc->dest;
	char why[256];

	rc->dest = NULL;
	if (d->up) {
		unlink_dest(d);
		dest_free(d);
		return;
	}
	snprintf(why, sizeof(why), "connection closed (%s%s%s)",
		 stls_dclose_names[c->reason], rw->r->tlsx ? " " : "",
		 rw->r->tlsx ? tls_detail(c) : "");
	dest_fail(d, why);
}

void stls__relay_out_fini(struct relay_worker *rw)
{
	struct relay_dest *d;
	size_t b;

	for (b = 0; b < RELAY_DEST_BUCKETS; b++) {
		while ((d = rw->dests[b])) {
			rw->dests[b] = d->next;
			pending_free_all(d, false);
			/* A lookup still running owns the request memory:
			 * its callback frees the entry. */
			if (d->resolving) {
				d->dead = true;
				(void)uv_cancel((uv_req_t *)&d->gai);
				continue;
			}
			dest_free(d);
		}
	}
}
