/*
 * Listening sockets: bound in the main thread (before any privilege drop),
 * one socket per listener per worker, all with SO_REUSEPORT so the kernel
 * spreads new connections (and UDP peers, by address hash) over the
 * workers. Each worker then accepts on its own sockets; a connection lives
 * on the worker that accepted it.
 *
 * Accepting uses accept4() on a uv_poll_t rather than uv_listen(), because
 * libuv's own listen path, out of descriptors, accepts and drops the
 * waiting connections. Here a worker that hits EMFILE/ENFILE stops polling
 * its listeners for accept_backoff ms and keeps serving its connections;
 * the waiting connections stay in the kernel's backlog and are accepted
 * when descriptors are free again.
 *
 * Overload: a worker also stops accepting while it has max_handshakes
 * inbound TLS handshakes in flight, so that a storm waits in the kernel's
 * backlog (and, past it, in the clients' SYN retries) instead of being
 * accepted and starved; the connections it already serves keep their
 * share of the loop. While it is at the limit, a half-open connection
 * older than shed_ms (one whose ClientHello has not arrived whole, so
 * that we have sent it nothing) is closed, oldest first, to make room.
 * Per-source limits (srclim.h) refuse a connection right after accept(),
 * before any state is made: the close sends a reset (SO_LINGER 0) and
 * leaves no TIME_WAIT. With source_filter, the refused source is also
 * listed in a BPF filter on the direct stream listeners (synfilter.h),
 * and its next SYNs are dropped by the kernel; accepted sockets have the
 * filter they inherited taken off.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/dconn.h"
#include "runtime/srclim.h"
#include "runtime/synfilter.h"
#include "stls/log.h"
#include "runtime/worker.h"

#define ACCEPT_BUDGET 64 /* per wake-up, so one listener cannot starve */
/* ... and for at most this long (at least ACCEPT_MIN accepts): a TLS
 * accept costs about 50 µs in a storm (the engine's SSL_new(), the heap
 * growing under it), so 64 in a row held the connected phones' messages
 * of that turn for 3 ms. The listener stays readable: the rest come in
 * the next turns, between which the connections' reads are served. */
#define ACCEPT_TURN_NS 250000
#define ACCEPT_MIN 4
/* The kernel caps it at net.core.somaxconn (4096 by default): a storm of
 * phones waits here while the workers are at max_handshakes. */
#define BACKLOG 4096

void stls_udp_set_buffers(int fd, int bytes)
{
	if (bytes <= 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
		       sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		STLS_WARN("udp_buffer: receive buffer not set: %s",
			  strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes,
		       sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)))
		STLS_WARN("udp_buffer: send buffer not set: %s",
			  strerror(errno));
}

static int bind_one(const struct stls_listen_conf *l, struct stls_addr *bound,
		    int udp_buffer)
{
	int type = l->proto == STLS_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_storage ss;
	socklen_t len = stls_addr_to_sockaddr(bound, &ss);
	int fd, on = 1, err;

	fd = socket(bound->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) ||
	    (bound->family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on))) ||
	    bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM &&
	     (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ||
	      listen(fd, BACKLOG)))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (type == SOCK_DGRAM)
		stls_udp_set_buffers(fd, udp_buffer);
	if (bound->port == 0) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			stls_addr_from_sockaddr((struct sockaddr *)&ss, bound);
	}
	return fd;
}

int stls__listen_open(struct stls_daemon *d)
{
	char buf[STLS_ADDR_STRLEN];
	size_t i;
	unsigned j;
	int fd;

	for (i = 0; i < d->o.n_listen; i++) {
		const struct stls_listen_conf *l = &d->o.listen[i];

		d->bound[i] = l->addr;
		for (j = 0; j < d->n; j++) {
			/* Port 0: the first bind picks it, the rest share
			 * it. */
			fd = bind_one(l, &d->bound[i], d->o.udp_buffer);
			if (fd < 0) {
				STLS_ERR("listen %s:%s: %s",
					 stls_proto_names[l->proto],
					 stls_addr_str(&l->addr, true, buf),
					 strerror(-fd));
				return fd;
			}
			d->fds[i * d->n + j] = fd;
		}
		STLS_INFO("listening on %s:%s (%u sockets)",
			  stls_proto_names[l->proto],
			  stls_addr_str(&d->bound[i], true, buf), d->n);
	}
	return 0;
}

void stls__listen_close_fds(struct stls_daemon *d)
{
	size_t i;

	for (i = 0; d->fds && i < d->o.n_listen * d->n; i++) {
		if (d->fds[i] >= 0)
			close(d->fds[i]);
		d->fds[i] = -1;
	}
}

static void on_backoff(uv_timer_t *t)
{
	struct stls_worker *w = t->data;

	if (w->stopping)
		return;
	STLS_INFO("worker %u: accepting again", w->idx);
	stls__listen_resume(w, STLS_ACCEPT_PAUSE_BACKOFF);
}

static void start_backoff(struct stls_worker *w, int err)
{
	stls__listen_pause(w, STLS_ACCEPT_PAUSE_BACKOFF);
	stls_stats_add(&w->stats, STLS_STAT_ACCEPT_BACKOFF, 1);
	STLS_WARN("worker %u: accept: %s; pausing accept for %d ms", w->idx,
		  strerror(err), w->d->o.accept_backoff_ms);
	uv_timer_start(&w->backoff, on_backoff,
		       (uint64_t)w->d->o.accept_backoff_ms, 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The cheapest refusal: a reset, no FIN exchange, no TIME_WAIT. */
static void refuse(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

bool stls__listen_source_admit(struct stls_worker *w,
			       const struct stls_addr *peer, bool *counted)
{
	*counted = false;
	if (!w->d->srclim || !peer)
		return true;
	switch (stls_srclim_admit(w->d->srclim, peer, mono_ms())) {
	case STLS_SRCLIM_OK:
		*counted = true;
		return true;
	case STLS_SRCLIM_NOMEM:
		return true;
	case STLS_SRCLIM_CONNS:
		stls_stats_add(&w->stats, STLS_STAT_REFUSED_SOURCE_CONNS, 1);
		break;
	case STLS_SRCLIM_RATE:
		stls_stats_add(&w->stats, STLS_STAT_REFUSED_SOURCE_RATE, 1);
		break;
	}
	return false;
}

static void on_synf_timer(uv_timer_t *t)
{
	stls__listen_synf_run(t->data);
}

/* Another worker built a program: each attaches it to its own sockets. */
static void poke_others(struct stls_worker *w)
{
	unsigned i;

	for (i = 0; i < w->d->n; i++) {
		struct stls_worker *o = &w->d->w[i];

		if (o == w || !atomic_load(&o->wake_ok))
			continue;
		atomic_store(&o->synf_poke, true);
		stls__worker_wake(o);
	}
}

static bool filtered(const struct stls_listener *l)
{
	return l->open && l->conf->proto != STLS_PROTO_UDP && !l->conf->proxy;
}

void stls__listen_synf_run(struct stls_worker *w)
{
	uint64_t gen, wait;
	size_t i;
	int err;

	if (!w->d->synf || w->stopping)
		return;
	if (stls_synfilter_update(w->d->synf, mono_ms(), &gen, &wait)) {
		stls_stats_add(&w->stats, STLS_STAT_SOURCE_FILTER_REBUILDS, 1);
		poke_others(w);
	}
	for (i = 0; i < w->d->o.n_listen; i++) {
		struct stls_listener *l = &w->listeners[i];

		if (!filtered(l) || l->synf_gen == gen)
			continue;
		err = stls_synfilter_attach(w->d->synf, l->fd, &l->synf_gen);
		if (err) {
			STLS_WARN("worker %u: source filter not attached: %s",
				  w->idx, strerror(-err));
			/* Try again in a second, not only at the next
			 * hold's end or build (and warn no more often). */
			if (!wait || wait > 1000)
				wait = 1000;
		}
	}
	if (wait)
		uv_timer_start(&w->synf_timer, on_synf_timer, wait, 0);
	else
		uv_timer_stop(&w->synf_timer);
}

/* A refused source into the filter: its next SYNs never reach us. */
static void synf_list(struct stls_worker *w, const struct stls_addr *peer)
{
	int r = stls_synfilter_add(w->d->synf, peer, mono_ms());

	if (r == 1) {
		stls_stats_add(&w->stats, STLS_STAT_SOURCE_FILTER_LISTED, 1);
		stls__listen_synf_run(w);
	} else if (r == -ENOSPC) {
		stls_stats_add(&w->stats, STLS_STAT_SOURCE_FILTER_FULL, 1);
	}
}

/* The limits at accept: a refused connection is reset at once (and its
 * source filtered). A proxy_protocol listener's peer is the balancer:
 * its limits apply to the client's address once the header has come
 * (dconn.c), and it is never filtered. */
static bool source_admits(struct stls_worker *w, int fd,
			  const struct stls_listen_conf *lc,
			  const struct stls_addr *peer, bool *counted)
{
	*counted = false;
	if (lc->proxy || stls__listen_source_admit(w, peer, counted))
		return true;
	refuse(fd);
	if (w->d->synf)
		synf_list(w, peer);
	return false;
}

static void accept_one(struct stls_listener *l, int fd,
		       const struct stls_addr *peer)
{
	struct stls_worker *w = l->w;
	struct stls_dconn *c;
	bool src_counted;
	int err;

	if (!source_admits(w, fd, l->conf, peer, &src_counted))
		return;
	if (!stls__worker_conn_reserve(w)) {
		if (src_counted)
			stls_srclim_release(w->d->srclim, peer);
		close(fd);
		stls_stats_add(&w->stats, STLS_STAT_REFUSED_MAX_CONN, 1);
		return;
	}
	/* The listener's filter came with the clone: every packet of the
	 * connection would run it. */
	if (l->synf_gen)
		(void)stls_synfilter_detach(fd);
	stls_stats_add(&w->stats, STLS_STAT_ACCEPTED, 1);
	err = stls_dconn_new(w, fd, STLS_DCONN_INBOUND, l->conf, l->local,
			     peer,
			     l->conf->proto == STLS_PROTO_TLS, &c);
	if (err) {
		if (src_counted)
			stls_srclim_release(w->d->srclim, peer);
		STLS_DBG("worker %u: new connection: %s", w->idx,
			 strerror(-err));
		return;
	}
	c->src_counted = src_counted;
}

static void on_shed(uv_timer_t *t);

/* The oldest handshake that has cost us nothing yet: its ClientHello is
 * not complete (nor out on a handshake thread), so we have sent nothing (a connection that got our
 * flight is waiting for its client, and keeping it keeps that work). */
static struct stls_dconn *shed_candidate(struct stls_worker *w)
{
	struct stls_dconn *c;

	for (c = w->hs_head; c; c = c->hs_next) {
		/* One whose step is out on a handshake thread is being
		 * served: its work is spent already. */
		if (c->bytes_out == 0 && !c->step_out)
			return c;
	}
	return NULL;
}

/* While accept is paused at the limit: wake when a connection created at
 * <since> becomes old enough to shed. */
static void arm_shed(struct stls_worker *w, uint64_t since)
{
	uint64_t now = uv_now(&w->loop) + 1,
		 due = since + (uint64_t)w->d->o.shed_ms;

	if (w->d->o.shed_ms <= 0 ||
	    !(w->accept_pause & STLS_ACCEPT_PAUSE_HS_LIMIT) || w->stopping) {
		uv_timer_stop(&w->shed_timer);
		return;
	}
	uv_timer_start(&w->shed_timer, on_shed, due > now ? due - now : 0, 0);
}

/* The list is walked here only, when the timer fires (not at every
 * pause: a storm pauses thousands of times a second). */
static void on_shed(uv_timer_t *t)
{
	struct stls_worker *w = t->data;
	uint64_t now = uv_now(&w->loop) + 1;
	struct stls_dconn *c;

	if (!(w->accept_pause & STLS_ACCEPT_PAUSE_HS_LIMIT))
		return;
	c = shed_candidate(w);
	if (c && c->created_ms + (uint64_t)w->d->o.shed_ms <= now) {
		stls_stats_add(&w->stats, STLS_STAT_SHED, 1);
		/* Ends its handshake: accepting resumes for one more. */
		stls_dconn_close(c, STLS_DCLOSE_SHED);
		return;
	}
	/* None old enough: the next one to come of age, or, with none (every
	 * one got our flight), look again a shed age later. */
	arm_shed(w, c ? c->created_ms : now);
}

/* Takes <c> off the held list and gives its held bytes to the caller
 * (their length in *n when n is set; NULL: none held). */
static uint8_t *hold_take(struct stls_worker *w, struct stls_dconn *c,
			  size_t *n)
{
	uint8_t *p = c->hs_hold;

	if (n)
		*n = c->hs_hold_len;
	if (!p)
		return NULL;
	c->hs_hold = NULL;
	c->hs_hold_len = 0;
	if (c->hsq_prev)
		c->hsq_prev->hsq_next = c->hsq_next;
	else
		w->hsq_head = c->hsq_next;
	if (c->hsq_next)
		c->hsq_next->hsq_prev = c->hsq_prev;
	else
		w->hsq_tail = c->hsq_prev;
	c->hsq_prev = c->hsq_next = NULL;
	return p;
}

/* Serves <c>'s held bytes now (off the held list first). */
static void hold_serve(struct stls_worker *w, struct stls_dconn *c)
{
	size_t n;
	uint8_t *p = hold_take(w, c, &n);

	if (p)
		stls__dconn_input(c, p, n);
	free(p);
}

bool stls__hs_turn_take(struct stls_worker *w, struct stls_dconn *c,
			const uint8_t *p, size_t n)
{
	bool held = c->hs_hold != NULL;
	uint8_t *v = NULL;

	if (!w->hsq_head && w->hs_turn < STLS_HS_TURN_BUDGET) {
		w->hs_turn++;
		return false;
	}
	if (c->hs_hold_len + n <= STLS_HS_HOLD_MAX)
		v = realloc(c->hs_hold, c->hs_hold_len + n);
	if (!v) {
		/* Over the bound, or no memory: in order, at once. */
		w->hs_turn++;
		hold_serve(w, c);
		return false;
	}
	memcpy(v + c->hs_hold_len, p, n);
	stls_stats_add(&w->stats, STLS_STAT_HS_HELD, 1);
	c->hs_hold = v;
	c->hs_hold_len += n;
	if (!held) {
		c->hsq_next = NULL;
		c->hsq_prev = w->hsq_tail;
		if (w->hsq_tail)
			w->hsq_tail->hsq_next = c;
		else
			w->hsq_head = c;
		w->hsq_tail = c;
	}
	return true;
}

void stls__hs_turn_end(struct stls_worker *w)
{
	while (w->hsq_head && w->hs_turn < STLS_HS_TURN_BUDGET) {
		w->hs_turn++;
		hold_serve(w, w->hsq_head);
	}
	w->hs_turn = 0;
}

void stls__hs_begin(struct stls_worker *w, struct stls_dconn *c)
{
	c->hs_listed = true;
	c->hs_next = NULL;
	c->hs_prev = w->hs_tail;
	if (w->hs_tail)
		w->hs_tail->hs_next = c;
	else
		w->hs_head = c;
	w->hs_tail = c;
	w->n_hs++;
	stls_stats_handshaking(&w->stats, 1);
	if (w->d->o.max_handshakes > 0 &&
	    w->n_hs >= (unsigned)w->d->o.max_handshakes &&
	    !(w->accept_pause & STLS_ACCEPT_PAUSE_HS_LIMIT)) {
		stls_stats_add(&w->stats, STLS_STAT_HANDSHAKE_LIMIT, 1);
		stls__listen_pause(w, STLS_ACCEPT_PAUSE_HS_LIMIT);
		/* The head is the oldest: no candidate comes of age sooner. */
		arm_shed(w, w->hs_head->created_ms);
	}
}

/*
 * Accepting resumes below the limit with a margin (a quarter of it), not
 * at the first handshake that ends: in a storm the worker sits at the
 * limit, and resuming for one connection at a time stopped and started
 * the listeners' polls about 1,000 times a second per worker, three
 * epoll_ctl() calls each (6 % of the workers' CPU). A shed resumes at
 * once: it closes a connection only to make room for one waiting.
 */
static bool hs_resumes(const struct stls_worker *w,
		       const struct stls_dconn *c)
{
	unsigned max = (unsigned)w->d->o.max_handshakes;

	return w->n_hs < max &&
	       (w->n_hs <= max - (max >= 4 ? max / 4 : 1) ||
		c->reason == STLS_DCLOSE_SHED);
}

void stls__hs_end(struct stls_worker *w, struct stls_dconn *c)
{
	if (!c->hs_listed)
		return;
	c->hs_listed = false;
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else
		w->hs_head = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	else
		w->hs_tail = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
	/* Closed or done: nothing it held is served any more. */
	free(hold_take(w, c, NULL));
	w->n_hs--;
	stls_stats_handshaking(&w->stats, -1);
	if ((w->accept_pause & STLS_ACCEPT_PAUSE_HS_LIMIT) &&
	    hs_resumes(w, c)) {
		uv_timer_stop(&w->shed_timer);
		stls__listen_resume(w, STLS_ACCEPT_PAUSE_HS_LIMIT);
	}
}

static void on_accept(uv_poll_t *h, int status, int events)
{
	struct stls_listener *l = h->data;
	struct sockaddr_storage ss;
	struct stls_addr peer;
	uint64_t t0 = uv_hrtime();
	socklen_t len;
	int i, fd;

	(void)events;
	if (status < 0) {
		STLS_ERR("worker %u: listener poll: %s", l->w->idx,
			 uv_strerror(status));
		return;
	}
	for (i = 0; i < ACCEPT_BUDGET && !l->w->stopping &&
		    !l->w->accept_pause; i++) {
		if (i >= ACCEPT_MIN && uv_hrtime() - t0 > ACCEPT_TURN_NS)
			return;
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			/* The peer comes with the accept: no getpeername(). */
			stls_addr_from_sockaddr((struct sockaddr *)&ss,
						&peer);
			accept_one(l, fd, peer.family != AF_UNSPEC ? &peer
								   : NULL);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			start_backoff(l->w, errno);
		else if (errno != EAGAIN)
			STLS_ERR("worker %u: accept: %s", l->w->idx,
				 strerror(errno));
		return;
	}
}

static void on_dgram_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct stls_listener *l = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)l->w->scratch, (unsigned)l->w->scratch_len);
}

static void on_dgram(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		     const struct sockaddr *sa, unsigned flags)
{
	struct stls_listener *l = h->data;
	struct stls_worker *w = l->w;
	struct stls_addr from;

	if (n <= 0 || !sa || (flags & UV_UDP_PARTIAL))
		return;
	stls_stats_add(&w->stats, STLS_STAT_DGRAMS_IN, 1);
	stls_addr_from_sockaddr(sa, &from);
	if (STLS_H(w)->datagram)
		STLS_H(w)->datagram(l, &from, (const uint8_t *)buf->base,
				    (size_t)n, STLS_HARG(w));
}

int stls_listener_send(struct stls_listener *l, const struct stls_addr *to,
		       const uint8_t *p, size_t n)
{
	struct sockaddr_storage ss;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned int)n);
	int r;

	if (!l->open || l->conf->proto != STLS_PROTO_UDP)
		return -EBADF;
	stls_addr_to_sockaddr(to, &ss);
	r = uv_udp_try_send(&l->h.udp, &b, 1, (struct sockaddr *)&ss);
	if (r < 0)
		return r;
	stls_stats_add(&l->w->stats, STLS_STAT_DGRAMS_OUT, 1);
	return 0;
}

static int start_one(struct stls_worker *w, struct stls_listener *l)
{
	int err;

	if (l->conf->proto == STLS_PROTO_UDP) {
		err = uv_udp_init(&w->loop, &l->h.udp);
		if (err)
			return err;
		l->h.udp.data = l;
		l->open = true;
		err = uv_udp_open(&l->h.udp, l->fd);
		if (err)
			return err;
		l->fd = -1; /* the handle owns it now */
		return uv_udp_recv_start(&l->h.udp, on_dgram_alloc, on_dgram);
	}
	err = uv_poll_init(&w->loop, &l->h.poll, l->fd);
	if (err)
		return err;
	l->h.poll.data = l;
	l->open = true;
	return uv_poll_start(&l->h.poll, UV_READABLE, on_accept);
}

/* True when a is one address (not 0.0.0.0 or ::): the local address of
 * every connection accepted on it, with no getsockname(). */
static bool bound_one_address(const struct stls_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) != 0;
}

int stls__listen_start(struct stls_worker *w)
{
	struct stls_daemon *d = w->d;
	size_t i;
	int err;

	w->backoff.data = w;
	w->shed_timer.data = w;
	for (i = 0; i < d->o.n_listen; i++) {
		struct stls_listener *l = &w->listeners[i];

		l->w = w;
		l->idx = i;
		l->conf = &d->o.listen[i];
		l->local = bound_one_address(&d->bound[i]) ? &d->bound[i]
							    : NULL;
		l->fd = d->fds[i * d->n + w->idx];
		d->fds[i * d->n + w->idx] = -1;
		err = start_one(w, l);
		if (err)
			return err;
	}
	return 0;
}

void stls__listen_pause(struct stls_worker *w, unsigned why)
{
	size_t i;
	bool was = w->accept_pause != 0;

	w->accept_pause |= why;
	if (was)
		return;
	for (i = 0; i < w->d->o.n_listen; i++) {
		if (w->listeners[i].open &&
		    w->listeners[i].conf->proto != STLS_PROTO_UDP)
			uv_poll_stop(&w->listeners[i].h.poll);
	}
}

void stls__listen_resume(struct stls_worker *w, unsigned why)
{
	size_t i;

	if (!w->accept_pause)
		return;
	w->accept_pause &= ~why;
	if (w->accept_pause || w->stopping)
		return;
	for (i = 0; i < w->d->o.n_listen; i++) {
		if (w->listeners[i].open &&
		    w->listeners[i].conf->proto != STLS_PROTO_UDP)
			uv_poll_start(&w->listeners[i].h.poll, UV_READABLE,
				      on_accept);
	}
}

void stls__listen_stop(struct stls_worker *w)
{
	size_t i;

	uv_timer_stop(&w->backoff);
	uv_timer_stop(&w->shed_timer);
	uv_timer_stop(&w->synf_timer);
	for (i = 0; i < w->d->o.n_listen; i++) {
		struct stls_listener *l = &w->listeners[i];

		if (l->open) {
			if (l->conf->proto != STLS_PROTO_UDP)
				uv_poll_stop(&l->h.poll);
			uv_close((uv_handle_t *)&l->h, NULL);
			l->open = false;
		}
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}
