/*
 * loadgen's engine: one epoll loop driving many non-blocking TLS client
 * connections, each a small state machine:
 *
 *   CONNECT -> HANDSHAKE -> EXCHANGE (full, persistent) -> CLOSING -> free
 *                        -> CLOSING (handshake, resume)
 *                        -> IDLE (idle mode, until the end)
 *
 * An operation ends at the moment its result is known (handshake done, 200
 * read); the close that follows (close_notify, then read until the peer
 * closes, at most 1 s) keeps the slot busy but is not timed. Reading to the
 * peer's close consumes TLS 1.3 session tickets, which resume mode needs,
 * and avoids resets that would make servers count errors.
 *
 * Requests are SIP OPTIONS with a unique Call-ID and branch per request; the
 * Call-ID carries the request's sequence number so that a response finds its
 * send time even when several are in flight on one connection.
 */
#include "lg_conn.h"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>

static int sess_idx = -1;

static void set_err(struct eng *e, const char *what)
{
	unsigned long code = ERR_peek_last_error();
	char ossl[120] = "";

	if (code) {
		ERR_error_string_n(code, ossl, sizeof(ossl));
	}
	snprintf(e->st->last_err, sizeof(e->st->last_err), "%s%s%s", what,
		 code ? ": " : "", ossl);
	ERR_clear_error();
}

static void watch(struct conn *c, bool out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN };

	ev.data.ptr = c;
	if (out != c->want_out) {
		c->want_out = out;
		epoll_ctl(c->e->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

void lg_conn_free(struct conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->st != C_FREE) {
		c->e->live--;
	}
	c->st = C_FREE;
	c->rlen = c->wlen = 0;
	c->inflight = 0;
}

static void record_lat(struct lg_stats *st, double d)
{
	if (st->nlat < st->cap_lat) {
		st->lat[st->nlat++] = d;
	}
}

void lg_conn_fail(struct conn *c, const char *what)
{
	c->e->st->errors++;
	set_err(c->e, what);
	lg_conn_free(c);
}

void lg_conn_begin_close(struct conn *c)
{
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	c->st = C_CLOSING;
	c->deadline = bench_now() + CLOSE_WAIT_S;
	watch(c, false);
}

int lg_conn_start(struct conn *c)
{
	const struct lg_opts *o = c->e->o;
	struct epoll_event ev = { .events = EPOLLOUT };
	int one = 1;

	c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		snprintf(c->e->st->last_err, sizeof(c->e->st->last_err),
			 "socket: %s", strerror(errno));
		c->e->st->errors++;
		return -errno;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->src_len &&
	    bind(c->fd, (const struct sockaddr *)&o->src, o->src_len) < 0) {
		snprintf(c->e->st->last_err, sizeof(c->e->st->last_err),
			 "bind: %s", strerror(errno));
		c->e->st->errors++;
		close(c->fd);
		c->fd = -1;
		return -errno;
	}
	c->e->live++;
	c->st = C_CONNECT;
	c->t0 = bench_now();
	c->deadline = c->t0 + o->timeout;
	c->want_out = true;
	ev.data.ptr = c;
	epoll_ctl(c->e->ep, EPOLL_CTL_ADD, c->fd, &ev);
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addr_len) <
		    0 &&
	    errno != EINPROGRESS) {
		lg_conn_fail(c, strerror(errno));
		return -ECONNREFUSED;
	}
	return 0;
}

static void build_request(struct conn *c)
{
	uint64_t s = c->e->next_seq++;

	c->wlen += lg_sip_build(c->wbuf + c->wlen, WBUF_SIZE - c->wlen,
				c->e->o->uri, c->lport, s, c->slot);
	c->seq[c->inflight] = s;
	c->sent[c->inflight] = bench_now();
	c->inflight++;
	if (c->e->o->mode == LG_PERSISTENT) {
		c->e->st->started++;
	}
}

static bool may_send(struct eng *e, double now)
{
	if (!e->running || e->st->started >= e->o->count) {
		return false;
	}
	if (e->o->rate > 0) {
		return (double)e->st->started <
		       (now - e->st->t_start) * e->o->rate;
	}
	return true;
}

/* Persistent mode: top up the pipeline of <c>. */
void lg_conn_fill(struct conn *c, double now)
{
	while (c->st == C_EXCHANGE && c->inflight < c->e->o->pipeline &&
	       WBUF_SIZE - c->wlen > 512 && may_send(c->e, now)) {
		build_request(c);
	}
}

/* Matches one response to its request; false when it matches none. */
static bool take_response(struct conn *c, uint64_t s, bool ok,
			  const char *m)
{
	int i;

	for (i = 0; i < c->inflight && c->seq[i] != s; i++) {
	}
	if (i == c->inflight) {
		return false;
	}
	if (ok) {
		c->e->st->ops++;
		record_lat(c->e->st, bench_now() - c->sent[i]);
	} else {
		c->e->st->errors++;
		snprintf(c->e->st->last_err, sizeof(c->e->st->last_err),
			 "response %.20s", m);
	}
	c->inflight--;
	c->seq[i] = c->seq[c->inflight];
	c->sent[i] = c->sent[c->inflight];
	return true;
}

/* Consumes every complete message in rbuf; false on a framing error. */
static bool parse_responses(struct conn *c)
{
	for (;;) {
		size_t total;
		uint64_t s;
		bool ok;
		int r;

		r = lg_sip_parse(c->rbuf, c->rlen, RBUF_SIZE, &total, &s, &ok);
		if (r <= 0) {
			return r == 0;
		}
		/* --echo-ok: a server that echoes returns our request. */
		ok = ok || (c->e->o->echo_ok &&
			    strncmp(c->rbuf, "OPTIONS ", 8) == 0);
		if (!take_response(c, s, ok, c->rbuf)) {
			return false;
		}
		memmove(c->rbuf, c->rbuf + total, c->rlen - total);
		c->rlen -= total;
	}
}

/* Returns false when the connection was freed. */
static bool io_error(struct conn *c, int r, const char *what)
{
	int err = SSL_get_error(c->ssl, r);

	if (err == SSL_ERROR_WANT_READ) {
		watch(c, false);
		return true;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		watch(c, true);
		return true;
	}
	lg_conn_fail(c, what);
	return false;
}

void lg_conn_exchange(struct conn *c)
{
	int r;

	if (c->wlen > 0) {
		r = SSL_write(c->ssl, c->wbuf, (int)c->wlen);
		if (r <= 0) {
			io_error(c, r, "SSL_write");
			return;
		}
		c->wlen = 0;
	}
	for (;;) {
		r = SSL_read(c->ssl, c->rbuf + c->rlen,
			     (int)(RBUF_SIZE - c->rlen));
		if (r <= 0) {
			if (!io_error(c, r, "SSL_read (connection lost)")) {
				return;
			}
			break;
		}
		c->rlen += (size_t)r;
		if (!parse_responses(c)) {
			lg_conn_fail(c, "malformed response");
			return;
		}
	}
	if (c->e->o->mode == LG_FULL && c->inflight == 0) {
		lg_conn_begin_close(c);
		return;
	}
	lg_conn_fill(c, bench_now());
	if (c->wlen > 0) {
		lg_conn_exchange(c);
	}
}

static void handshake_done(struct conn *c)
{
	struct eng *e = c->e;
	double now = bench_now();

	c->deadline = now + e->o->timeout;
	switch (e->o->mode) {
	case LG_FULL:
		c->st = C_EXCHANGE;
		build_request(c);
		lg_conn_exchange(c);
		return;
	case LG_PERSISTENT:
		c->st = C_EXCHANGE;
		lg_conn_fill(c, now);
		lg_conn_exchange(c);
		return;
	case LG_IDLE:
		e->st->ops++;
		record_lat(e->st, now - c->t0);
		c->st = C_IDLE;
		watch(c, false);
		return;
	case LG_RESUME:
		if (SSL_session_reused(c->ssl)) {
			e->st->reused++;
		}
		/* fall through */
	case LG_HANDSHAKE:
		e->st->ops++;
		record_lat(e->st, now - c->t0);
		lg_conn_begin_close(c);
		return;
	}
}

static void start_tls(struct conn *c)
{
	struct eng *e = c->e;
	struct sockaddr_storage la;
	socklen_t len = sizeof(la);
	int soerr = 0;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr) {
		lg_conn_fail(c, strerror(soerr));
		return;
	}
	len = sizeof(la);
	getsockname(c->fd, (struct sockaddr *)&la, &len);
	c->lport = ntohs(((struct sockaddr_in *)&la)->sin_port);
	c->ssl = SSL_new(e->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
	    (e->o->sni && !SSL_set_tlsext_host_name(c->ssl, e->o->sni))) {
		lg_conn_fail(c, "SSL_new");
		return;
	}
	SSL_set_ex_data(c->ssl, sess_idx, c);
	if (e->sess && e->sess[c->slot]) {
		SSL_set_session(c->ssl, e->sess[c->slot]);
		e->st->offered++;
	}
	c->st = C_HANDSHAKE;
}

void lg_conn_drive(struct conn *c)
{
	int r;

	switch (c->st) {
	case C_CONNECT:
		start_tls(c);
		if (c->st != C_HANDSHAKE) {
			return;
		}
		/* fall through */
	case C_HANDSHAKE:
		r = SSL_connect(c->ssl);
		if (r == 1) {
			handshake_done(c);
		} else {
			io_error(c, r, "handshake");
		}
		return;
	case C_EXCHANGE:
		lg_conn_exchange(c);
		return;
	case C_CLOSING:
	case C_IDLE: {
		char junk[4096];

		do {
			r = SSL_read(c->ssl, junk, sizeof(junk));
		} while (r > 0);
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
			return;
		}
		if (c->st == C_IDLE) {
			lg_conn_fail(c, "idle connection lost");
			return;
		}
		ERR_clear_error();
		lg_conn_free(c);
		return;
	}
	case C_FREE:
		return;
	}
}

static int new_session(SSL *ssl, SSL_SESSION *s)
{
	struct conn *c = SSL_get_ex_data(ssl, sess_idx);

	if (!c || !c->e->sess) {
		return 0;
	}
	SSL_SESSION_free(c->e->sess[c->slot]);
	/* Returning 1 keeps the reference OpenSSL handed us: the slot owns it
	 * until replaced or the run ends. */
	c->e->sess[c->slot] = s;
	return 1;
}

int lg_ctx_keep_sessions(SSL_CTX *ctx)
{
	if (sess_idx < 0) {
		sess_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	}
	if (sess_idx < 0) {
		return -ENOMEM;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
					    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	return 0;
}


