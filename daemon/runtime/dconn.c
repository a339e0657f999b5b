/*
 * Daemon connections: reading through the transform to the handler,
 * writing with a queued remainder, back-pressure, timeouts and the
 * deferred close (see conn.h).
 */
#include "runtime/dconn.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "stls/log.h"
#include "runtime/srclim.h"
#include "stls/proxy.h"
#include "runtime/worker.h"

const char *const stls_dclose_names[STLS_DCLOSE__COUNT] = {
	[STLS_DCLOSE_NONE] = "none",
	[STLS_DCLOSE_PEER] = "peer",
	[STLS_DCLOSE_READ_ERROR] = "read-error",
	[STLS_DCLOSE_WRITE_ERROR] = "write-error",
	[STLS_DCLOSE_IDLE_TIMEOUT] = "idle-timeout",
	[STLS_DCLOSE_HANDSHAKE_TIMEOUT] = "handshake-timeout",
	[STLS_DCLOSE_SEND_TIMEOUT] = "send-timeout",
	[STLS_DCLOSE_OVERFLOW] = "overflow",
	[STLS_DCLOSE_TRANSFORM] = "transform",
	[STLS_DCLOSE_HANDLER] = "handler",
	[STLS_DCLOSE_CONNECT_FAILED] = "connect-failed",
	[STLS_DCLOSE_SHUTDOWN] = "shutdown",
	[STLS_DCLOSE_KILLED] = "killed",
	[STLS_DCLOSE_KEEPALIVE] = "keepalive-timeout",
	[STLS_DCLOSE_SHED] = "shed",
	[STLS_DCLOSE_PROXY] = "proxy",
	[STLS_DCLOSE_SOURCE] = "source-limit",
};

const char *const stls_dconn_state_names[STLS_DCONN__COUNT] = {
	[STLS_DCONN_CONNECTING] = "connecting",
	[STLS_DCONN_HANDSHAKING] = "handshaking",
	[STLS_DCONN_ESTABLISHED] = "established",
	[STLS_DCONN_CLOSING] = "closing",
	[STLS_DCONN_CLOSED] = "closed",
};

/* Legal transitions; rows left out allow nothing. */
static const bool allowed[STLS_DCONN__COUNT][STLS_DCONN__COUNT] = {
	[STLS_DCONN_CONNECTING] = { [STLS_DCONN_HANDSHAKING] = true,
				    [STLS_DCONN_ESTABLISHED] = true,
				    [STLS_DCONN_CLOSING] = true },
	[STLS_DCONN_HANDSHAKING] = { [STLS_DCONN_ESTABLISHED] = true,
				     [STLS_DCONN_CLOSING] = true },
	[STLS_DCONN_ESTABLISHED] = { [STLS_DCONN_CLOSING] = true },
	[STLS_DCONN_CLOSING] = { [STLS_DCONN_CLOSED] = true },
};

/* One queued write: the request and a copy of the bytes. */
struct chunk {
	uv_write_t req;
	struct stls_dconn *c;
	size_t len;
	uint8_t data[];
};

static void set_state(struct stls_dconn *c, enum stls_dconn_state s)
{
	if (!allowed[c->state][s]) {
		stls_log(STLS_L_BUG, "conn %" PRIx64 ": illegal %s -> %s",
			 c->id, stls_dconn_state_names[c->state],
			 stls_dconn_state_names[s]);
		return;
	}
	c->state = s;
}

static uint64_t now_ms(const struct stls_dconn *c)
{
	/* uv_now() starts near 0 on a fresh loop; keep 0 meaning "unset". */
	return uv_now(&c->w->loop) + 1;
}

void stls__dconn_sent(struct stls_dconn *c, size_t n)
{
	c->bytes_out += n;
	c->last_active_ms = now_ms(c);
	stls_stats_add(&c->w->stats, STLS_STAT_BYTES_OUT, n);
}

static void release_waiters(struct stls_dconn *c)
{
	size_t i, n = c->n_waiters;

	c->n_waiters = 0;
	for (i = 0; i < n; i++) {
		struct stls_dconn *s =
			stls_dconn_table_get(&c->w->table, c->waiters[i]);

		if (s && s->state < STLS_DCONN_CLOSING)
			stls__dconn_resume(s, STLS_PAUSE_BACKPRESSURE);
	}
}

static void after_drain(struct stls_dconn *c)
{
	const struct stls_daemon_opts *o = &c->w->d->o;

	if (c->pending <= o->high_water)
		c->congested_ms = 0;
	if (c->pending <= o->low_water)
		release_waiters(c);
	if (c->draining && c->pending == 0)
		stls_dconn_close(c, STLS_DCLOSE_SHUTDOWN);
}

static int check_congestion(struct stls_dconn *c)
{
	const struct stls_daemon_opts *o = &c->w->d->o;

	/* One read's worth of output may land after the high-water mark is
	 * crossed and before reading stops: the hard limit leaves room. */
	if (c->pending > 4 * o->high_water + c->w->scratch_len) {
		stls_dconn_close(c, STLS_DCLOSE_OVERFLOW);
		return -ENOBUFS;
	}
	if (c->pending > o->high_water && !c->congested_ms) {
		c->congested_ms = now_ms(c);
		stls__dconn_arm_timer(c);
	}
	return 0;
}

static void on_write(uv_write_t *req, int status)
{
	struct chunk *ch = (struct chunk *)req;
	struct stls_dconn *c = ch->c;

	c->pending -= ch->len;
	if (status == 0)
		stls__dconn_sent(c, ch->len);
	else if (status != UV_ECANCELED)
		stls_dconn_close(c, STLS_DCLOSE_WRITE_ERROR);
	free(ch);
	after_drain(c);
}

/* Appends to a growable byte buffer (doubling, at least 2 KiB). Returns
 * 0 or -ENOMEM (nothing appended then). */
static int buf_append(uint8_t **buf, size_t *len, size_t *cap,
		      const uint8_t *p, size_t n)
{
	if (*len + n > *cap) {
		size_t want = (*len + n) * 2;
		uint8_t *b;

		want = want < 2048 ? 2048 : want;
		b = realloc(*buf, want);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = want;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

static int queue_pre(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	if (buf_append(&c->pre, &c->pre_len, &c->pre_cap, p, n))
		return -ENOMEM;
	c->pending += n;
	return check_congestion(c);
}

/* Wire bytes to the socket: direct write first, the rest queued. */
static int raw_send(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	struct chunk *ch;
	uv_buf_t b;
	int r;

	if (c->state >= STLS_DCONN_CLOSING)
		return -EPIPE;
	if (c->state == STLS_DCONN_CONNECTING)
		return queue_pre(c, p, n);
	if (c->pending == 0) {
		b = uv_buf_init((char *)p, (unsigned int)n);
		r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (r < 0 && r != UV_EAGAIN) {
			stls_dconn_close(c, STLS_DCLOSE_WRITE_ERROR);
			return -EPIPE;
		}
		if (r > 0) {
			stls__dconn_sent(c, (size_t)r);
			p += r;
			n -= (size_t)r;
		}
	}
	if (n == 0)
		return 0;
	ch = malloc(sizeof(*ch) + n);
	if (!ch) {
		stls_dconn_close(c, STLS_DCLOSE_OVERFLOW);
		return -ENOBUFS;
	}
	ch->c = c;
	ch->len = n;
	memcpy(ch->data, p, n);
	b = uv_buf_init((char *)ch->data, (unsigned int)n);
	r = uv_write(&ch->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (r < 0) {
		free(ch);
		stls_dconn_close(c, STLS_DCLOSE_WRITE_ERROR);
		return -EPIPE;
	}
	c->pending += n;
	return check_congestion(c);
}

/* Moves the transform's wire output to the socket. */
static int flush_xform(struct stls_dconn *c)
{
	const uint8_t *p;
	size_t n;
	int r = 0;

	while (r == 0 && (n = c->xform.ops->peek(c->xform.x, &p)) > 0) {
		r = raw_send(c, p, n);
		c->xform.ops->consume(c->xform.x, n);
	}
	return r;
}

static void flush_pre(struct stls_dconn *c)
{
	uint8_t *p = c->pre;
	size_t n = c->pre_len;

	c->pre = NULL;
	c->pre_len = c->pre_cap = 0;
	c->pending -= n;
	if (n && raw_send(c, p, n) != 0)
		STLS_DBG("conn %" PRIx64 ": queued output lost", c->id);
	free(p);
}

/* Held clear output beyond this goes through the transform at once: one
 * full TLS record. */
#define HOLD_MAX 16384

static int xform_write(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	int r = c->xform.ops->write(c->xform.x, p, n);

	if (r < 0) {
		stls_dconn_close(c, STLS_DCLOSE_TRANSFORM);
		return r;
	}
	return flush_xform(c);
}

static void unhold(struct stls_dconn *c)
{
	if (!c->flush_pprev)
		return;
	*c->flush_pprev = c->flush_next;
	if (c->flush_next)
		c->flush_next->flush_pprev = c->flush_pprev;
	c->flush_next = NULL;
	c->flush_pprev = NULL;
}

void stls_dconn_flush(struct stls_dconn *c)
{
	size_t n = c->held_len;

	unhold(c);
	/* The transform is on a handshake thread: the held bytes wait for
	 * its return (hsstep.c flushes them then). */
	if (c->step_out)
		return;
	c->held_len = 0;
	if (n && c->state < STLS_DCONN_CLOSING &&
	    xform_write(c, c->held, n) == 0 && c->draining && c->pending == 0)
		stls_dconn_close(c, STLS_DCLOSE_SHUTDOWN);
	/* An idle connection holds no buffer (malloc's small-block cache
	 * makes the next turn's allocation cheap). */
	free(c->held);
	c->held = NULL;
	c->held_cap = 0;
}

static int hold(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	if (buf_append(&c->held, &c->held_len, &c->held_cap, p, n))
		return -ENOMEM;
	if (!c->flush_pprev)
		stls__worker_defer_flush(c->w, c);
	if (c->held_len >= HOLD_MAX) {
		stls_dconn_flush(c);
		return c->state < STLS_DCONN_CLOSING ? 0 : -EPIPE;
	}
	return 0;
}

int stls_dconn_send(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	if (c->state >= STLS_DCONN_CLOSING)
		return -EPIPE;
	if (!c->xform.ops)
		return raw_send(c, p, n);
	return hold(c, p, n);
}

bool stls_dconn_is_congested(const struct stls_dconn *c)
{
	return c->pending + c->held_len > c->w->d->o.high_water;
}

void stls_dconn_wait_drain(struct stls_dconn *src, struct stls_dconn *dst)
{
	if (!stls_dconn_is_congested(dst) || dst->state >= STLS_DCONN_CLOSING)
		return;
	if (dst->n_waiters == dst->cap_waiters) {
		size_t cap = dst->cap_waiters ? dst->cap_waiters * 2 : 4;
		uint64_t *v = realloc(dst->waiters, cap * sizeof(*v));

		if (!v)
			return; /* no back-pressure then; send_timeout still */
		dst->waiters = v;
		dst->cap_waiters = cap;
	}
	dst->waiters[dst->n_waiters++] = src->id;
	stls__dconn_pause(src, STLS_PAUSE_BACKPRESSURE);
}

static void deliver(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	struct stls_worker *w = c->w;

	if (STLS_H(w)->data(c, p, n, STLS_HARG(w)) < 0)
		stls_dconn_close(c, STLS_DCLOSE_HANDLER);
}

void stls_dconn_set_established(struct stls_dconn *c)
{
	struct stls_worker *w = c->w;

	if (c->state != STLS_DCONN_HANDSHAKING &&
	    c->state != STLS_DCONN_CONNECTING) {
		return;
	}
	set_state(c, STLS_DCONN_ESTABLISHED);
	stls__hs_end(w, c);
	if (STLS_H(w)->established)
		STLS_H(w)->established(c, STLS_HARG(w));
	stls__dconn_arm_timer(c);
}

void stls__dconn_fed(struct stls_dconn *c, enum stls_io io)
{
	const struct stls_xform_ops *ops = c->xform.ops;
	struct stls_worker *w = c->w;
	ssize_t got;

	if (io == STLS_IO_FAILED) {
		(void)flush_xform(c); /* the alert, if any */
		stls_dconn_close(c, STLS_DCLOSE_TRANSFORM);
		return;
	}
	if (ops->established(c->xform.x))
		stls_dconn_set_established(c);
	while (c->state < STLS_DCONN_CLOSING) {
		got = ops->read(c->xform.x, w->scratch2, w->scratch_len);
		if (got <= 0)
			break;
		deliver(c, w->scratch2, (size_t)got);
	}
	/* Handshake output and replies made while reading: one write. */
	if (c->state < STLS_DCONN_CLOSING && c->flush_pprev)
		stls_dconn_flush(c);
	else if (c->state < STLS_DCONN_CLOSING)
		(void)flush_xform(c);
	if (io == STLS_IO_CLOSED)
		stls_dconn_close(c, STLS_DCLOSE_PEER);
}

static void feed_xform(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	stls__dconn_fed(c, c->xform.ops->feed(c->xform.x, p, n));
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct stls_dconn *c = h->data;

	(void)hint;
	/* One shared buffer per worker: a read is consumed before the next
	 * allocation, and idle connections hold no buffer at all. */
	*buf = uv_buf_init((char *)c->w->scratch, (unsigned)c->w->scratch_len);
}

/*
 * A proxy_protocol listener's connection (listener->proxy): its first
 * bytes are a PROXY v2 header from a trusted balancer. Gathered in
 * c->proxy_buf (a header may come in pieces); once complete, the
 * client's address replaces the balancer's in c->peer, before any byte
 * reaches the transform or the handler, and the rest of the read goes
 * on as usual. Returns the bytes of <p> that follow the header (*rest),
 * or false when the connection waits for more or was closed.
 */
static bool proxy_take(struct stls_dconn *c, const uint8_t *p, size_t n,
		       const uint8_t **rest, size_t *rest_len)
{
	struct stls_proxy_hdr h;
	char was[STLS_ADDR_STRLEN], now[STLS_ADDR_STRLEN];
	size_t take = STLS_PROXY_V2_MAX - c->proxy_len;
	int r;

	if (!c->proxy_buf && !(c->proxy_buf = malloc(STLS_PROXY_V2_MAX))) {
		stls_dconn_close(c, STLS_DCLOSE_PROXY);
		return false;
	}
	if (take > n)
		take = n;
	memcpy(c->proxy_buf + c->proxy_len, p, take);
	c->proxy_len += take;
	r = stls_proxy_v2_parse(c->proxy_buf, c->proxy_len, &h);
	if (r == 0 && c->proxy_len < STLS_PROXY_V2_MAX)
		return false;
	if (r <= 0) {
		STLS_WARN("PROXY: connection from %s: %s: closed",
			  stls_addr_str(&c->peer, true, was),
			  r == -EPROTO ? "no PROXY v2 header" :
			  r == -EAFNOSUPPORT ? "not TCP over IPv4/IPv6" :
			  "malformed PROXY v2 header");
		stls_dconn_close(c, STLS_DCLOSE_PROXY);
		return false;
	}
	if (!h.local) {
		STLS_DBG("PROXY: %s is %s", stls_addr_str(&c->peer, true, was),
			 stls_addr_str(&h.src, true, now));
		c->peer = h.src;
		/* The client's own limits, now that it is known. */
		if (!stls__listen_source_admit(c->w, &c->peer,
					       &c->src_counted)) {
			stls_dconn_close(c, STLS_DCLOSE_SOURCE);
			return false;
		}
	}
	/* The header's bytes of this read: those beyond what came before. */
	*rest = p + ((size_t)r - (c->proxy_len - take));
	*rest_len = n - ((size_t)r - (c->proxy_len - take));
	c->proxy_wait = false;
	free(c->proxy_buf);
	c->proxy_buf = NULL;
	return true;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct stls_dconn *c = s->data;
	const uint8_t *p;
	size_t n;

	if (nread == 0 || c->state >= STLS_DCONN_CLOSING)
		return;
	if (nread < 0) {
		stls_dconn_close(c, nread == UV_EOF ? STLS_DCLOSE_PEER
						    : STLS_DCLOSE_READ_ERROR);
		return;
	}
	c->bytes_in += (size_t)nread;
	c->last_active_ms = now_ms(c);
	stls_stats_add(&c->w->stats, STLS_STAT_BYTES_IN, (uint64_t)nread);
	p = (const uint8_t *)buf->base;
	n = (size_t)nread;
	if (c->proxy_wait && (!proxy_take(c, p, n, &p, &n) || n == 0))
		return;
	if (stls__hs_step_read(c, p, n))
		return;
	if (c->hs_listed && stls__hs_turn_take(c->w, c, p, n))
		return;
	stls__dconn_input(c, p, n);
}

void stls__dconn_input(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	if (c->state >= STLS_DCONN_CLOSING)
		return;
	/* Never the engine while a step runs it on a thread: behind it. */
	if (c->step_out && stls__hs_step_read(c, p, n))
		return;
	if (c->xform.ops)
		feed_xform(c, p, n);
	else
		deliver(c, p, n);
}

void stls__dconn_start_read(struct stls_dconn *c)
{
	if (c->pause || c->state >= STLS_DCONN_CLOSING ||
	    c->state == STLS_DCONN_CONNECTING) {
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
		stls_dconn_close(c, STLS_DCLOSE_READ_ERROR);
}

void stls__dconn_pause(struct stls_dconn *c, unsigned why)
{
	if (!c->pause && c->state != STLS_DCONN_CONNECTING)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->pause |= why;
}

void stls__dconn_resume(struct stls_dconn *c, unsigned why)
{
	unsigned was = c->pause;

	c->pause &= ~why;
	if (was && !c->pause)
		stls__dconn_start_read(c);
}

static void on_timer(uv_timer_t *t);

void stls__dconn_arm_timer(struct stls_dconn *c)
{
	const struct stls_daemon_opts *o = &c->w->d->o;
	uint64_t now = now_ms(c), due = UINT64_MAX;

	if (c->state >= STLS_DCONN_CLOSING)
		return;
	if (c->state < STLS_DCONN_ESTABLISHED && o->handshake_ms > 0)
		due = c->created_ms + (uint64_t)o->handshake_ms;
	if (c->congested_ms && c->congested_ms + (uint64_t)o->send_ms < due)
		due = c->congested_ms + (uint64_t)o->send_ms;
	if (c->idle_ms > 0 && c->last_active_ms + (uint64_t)c->idle_ms < due)
		due = c->last_active_ms + (uint64_t)c->idle_ms;
	if (due == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct stls_dconn *c = t->data;
	const struct stls_daemon_opts *o = &c->w->d->o;
	uint64_t now = now_ms(c);

	if (c->state >= STLS_DCONN_CLOSING)
		return;
	if (c->state < STLS_DCONN_ESTABLISHED && o->handshake_ms > 0 &&
	    now >= c->created_ms + (uint64_t)o->handshake_ms)
		stls_dconn_close(c, STLS_DCLOSE_HANDSHAKE_TIMEOUT);
	else if (c->congested_ms &&
		 now >= c->congested_ms + (uint64_t)o->send_ms)
		stls_dconn_close(c, STLS_DCLOSE_SEND_TIMEOUT);
	else if (c->idle_ms > 0 &&
		 now >= c->last_active_ms + (uint64_t)c->idle_ms)
		stls_dconn_close(c, STLS_DCLOSE_IDLE_TIMEOUT);
	else
		stls__dconn_arm_timer(c);
}

void stls_dconn_close(struct stls_dconn *c, enum stls_dclose r)
{
	char buf[STLS_ADDR_STRLEN];

	if (c->state >= STLS_DCONN_CLOSING)
		return;
	if (c->flush_pprev) {
		stls_dconn_flush(c); /* may close c itself (write error) */
		if (c->state >= STLS_DCONN_CLOSING)
			return;
	}
	STLS_DBG("conn %" PRIx64 " %s: closing (%s)", c->id,
		 stls_addr_str(&c->peer, true, buf),
		 stls_dclose_names[r]);
	stls__dconn_pause(c, STLS_PAUSE_SHUTDOWN);
	c->reason = r;
	set_state(c, STLS_DCONN_CLOSING);
	stls__hs_end(c->w, c);
	uv_timer_stop(&c->timer);
	stls__worker_defer_close(c->w, c);
}

void stls__dconn_connected(struct stls_dconn *c)
{
	if (c->state != STLS_DCONN_CONNECTING)
		return;
	c->connected = true;
	if (c->xform.ops)
		set_state(c, STLS_DCONN_HANDSHAKING);
	else
		stls_dconn_set_established(c);
	flush_pre(c);
	if (c->xform.ops && c->state < STLS_DCONN_CLOSING)
		(void)flush_xform(c);
	stls__dconn_start_read(c);
	stls__dconn_arm_timer(c);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct stls_dconn *c = h->data;
	struct stls_worker *w = c->w;

	if (--c->open_handles > 0)
		return;
	free(c->pre);
	free(c->held);
	free(c->proxy_buf);
	free(c->step_buf);
	free(c->waiters);
	free(c);
	stls__worker_conn_gone(w);
}

/* Best effort: the transform's last words (close_notify) if the socket
 * takes them now; a close never waits for a peer. */
static void xform_last_words(struct stls_dconn *c)
{
	const uint8_t *p;
	size_t n;
	uv_buf_t b;

	if (c->reason == STLS_DCLOSE_WRITE_ERROR || c->pending ||
	    !uv_is_writable((uv_stream_t *)&c->tcp))
		return;
	c->xform.ops->shutdown(c->xform.x);
	while ((n = c->xform.ops->peek(c->xform.x, &p)) > 0) {
		b = uv_buf_init((char *)p, (unsigned int)n);
		if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) != (int)n)
			break;
		c->xform.ops->consume(c->xform.x, n);
	}
}

void stls__dconn_finish_close(struct stls_dconn *c)
{
	struct stls_worker *w = c->w;

	/* Nothing of the transform may be touched (nor freed) while a step
	 * is out: the close resumes when the step comes back. */
	if (c->step_out) {
		c->close_waits = true;
		return;
	}
	unhold(c);
	if (c->xform.ops && c->state == STLS_DCONN_CLOSING && c->id)
		xform_last_words(c);
	/* The handler's close runs while the transform still exists, so it
	 * can read why a TLS connection failed (stls_tlsx_detail). */
	if (c->hopen && STLS_H(w)->close)
		STLS_H(w)->close(c, STLS_HARG(w));
	c->hopen = false;
	if (c->xform.ops) {
		c->xform.ops->free(c->xform.x);
		c->xform.ops = NULL;
		c->xform.x = NULL;
	}
	if (c->on_closed)
		c->on_closed(c);
	c->on_closed = NULL;
	release_waiters(c);
	if (c->id) {
		stls_dconn_table_remove(&w->table, c->id);
		stls_stats_closed(&w->stats, c->reason);
		stls_stats_open(&w->stats, -1);
	}
	if (c->counted)
		stls__worker_conn_release(w);
	c->counted = false;
	if (c->src_counted)
		stls_srclim_release(w->d->srclim, &c->peer);
	c->src_counted = false;
	set_state(c, STLS_DCONN_CLOSED);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* The addresses the caller did not know (accept4() gives the peer, a
 * listener bound to one address gives the local one): each is a system
 * call per connection. */
static void fill_addrs(struct stls_dconn *c, int fd, bool need_local,
		       bool need_peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (need_local && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		stls_addr_from_sockaddr((struct sockaddr *)&ss, &c->local);
	len = sizeof(ss);
	if (need_peer && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		stls_addr_from_sockaddr((struct sockaddr *)&ss, &c->peer);
}

/* Table, transform, handler: the parts that may fail once the handles
 * exist (a failure then goes through the normal deferred close). */
static int attach(struct stls_dconn *c, bool tls)
{
	struct stls_worker *w = c->w;
	int err;

	c->id = stls_dconn_table_add(&w->table, c);
	if (!c->id)
		return -ENOMEM;
	stls_stats_open(&w->stats, 1);
	if (tls) {
		if (!w->d->o.xform_new)
			return -ENOTSUP;
		err = w->d->o.xform_new(w->d->o.xform_arg, c, &c->xform);
		if (err)
			return err;
	}
	if (STLS_H(w)->open) {
		err = STLS_H(w)->open(c, STLS_HARG(w));
		if (err)
			return err;
	}
	c->hopen = true;
	return 0;
}

int stls_dconn_new(struct stls_worker *w, int fd, enum stls_dconn_kind kind,
		   const struct stls_listen_conf *listener,
		   const struct stls_addr *local,
		   const struct stls_addr *peer, bool tls,
		   struct stls_dconn **out)
{
	struct stls_dconn *c = calloc(1, sizeof(*c));
	int err;

	if (!c || uv_tcp_init(&w->loop, &c->tcp) != 0) {
		if (fd >= 0)
			close(fd);
		if (kind != STLS_DCONN_BACKEND)
			stls__worker_conn_release(w);
		free(c);
		return -ENOMEM;
	}
	/* No Nagle: every write is a whole TLS record or SIP message, and a
	 * response sent while an earlier small segment (a TLS 1.3 ticket) is
	 * unacknowledged would otherwise wait for the peer's delayed ACK
	 * (40 ms on Linux). libuv applies it when the socket is opened;
	 * accepted sockets inherit it from the listener (listen.c). */
	if (kind != STLS_DCONN_INBOUND)
		(void)uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_init(&w->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	w->live++;
	c->w = w;
	c->kind = kind;
	c->listener = listener;
	if (peer)
		c->peer = *peer;
	if (local)
		c->local = *local;
	c->counted = kind != STLS_DCONN_BACKEND;
	c->state = fd >= 0 ? STLS_DCONN_HANDSHAKING : STLS_DCONN_CONNECTING;
	c->created_ms = c->last_active_ms = now_ms(c);
	c->idle_ms = atomic_load_explicit(&w->d->idle_ms, memory_order_relaxed);
	if (fd >= 0) {
		fill_addrs(c, fd, !local, !peer);
		err = uv_tcp_open(&c->tcp, fd);
		if (err) {
			close(fd);
			goto fail;
		}
	}
	err = attach(c, tls);
	if (err)
		goto fail;
	/* A proxy_protocol listener: only its balancers, header first.
	 * Checked once the connection is counted, so that refusals show
	 * among the closes (reason "proxy"). */
	if (kind == STLS_DCONN_INBOUND && listener && listener->proxy) {
		char src[STLS_ADDR_STRLEN];

		if (!stls_nets_match(listener->trusted, listener->n_trusted,
				     &c->peer)) {
			STLS_WARN("PROXY: connection from %s refused: not in "
				  "[core] proxy_trusted",
				  stls_addr_str(&c->peer, true, src));
			stls_dconn_close(c, STLS_DCLOSE_PROXY);
			return -EACCES;
		}
		c->proxy_wait = true;
	}
	if (c->state == STLS_DCONN_HANDSHAKING && !c->xform.ops)
		stls_dconn_set_established(c);
	else if (c->state == STLS_DCONN_HANDSHAKING &&
		 kind == STLS_DCONN_INBOUND)
		stls__hs_begin(w, c);
	stls__dconn_arm_timer(c);
	stls__dconn_start_read(c);
	*out = c;
	return 0;
fail:
	stls_dconn_close(c, tls ? STLS_DCLOSE_TRANSFORM : STLS_DCLOSE_HANDLER);
	return err;
}
