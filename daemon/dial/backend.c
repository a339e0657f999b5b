/*
 * The backend socket of a worker (see backend.h).
 */
#include "dial/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/dconn.h"
#include "dial/outbound.h"
#include "stls/log.h"
#include "runtime/worker.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
/* Requests to a udp: backend wait for the end of the loop turn and leave
 * in one sendmmsg(): the backend then wakes once per batch rather than
 * once per datagram (on loopback, and on a busy host, the wake-up is most
 * of a datagram's cost). At most BATCH_MAX datagrams or OUT_CAP bytes
 * wait; more flushes at once. */
#define BATCH_MAX 64
#define OUT_CAP (256 * 1024)

/* A datagram refused in a forced flush, for the handler at the turn's end. */
struct unsent {
	struct unsent *next;
	size_t n;
	int err;
	uint8_t data[];
};

struct stls_backend {
	struct stls_worker *w;
	enum stls_proto proto;
	struct sockaddr_storage to;
	int fd;           /* udp: the socket, -1 without */
	uv_poll_t udp;    /* udp: readable */
	uv_timer_t retry;
	bool udp_open;
	bool retry_open;
	bool stopped;
	uint64_t conn_id; /* tcp: 0 while down */
	uint8_t *mmsg;    /* udp: the recvmmsg() buffer, or NULL */
	uint8_t *out;     /* udp: datagrams held for the end of the turn */
	size_t out_len;
	unsigned n_out;
	bool flushing;    /* sends during a flush go out at once */
	struct unsent *unsent;
	uint32_t out_lens[BATCH_MAX];
	int retry_ms;
};

/*
 * The UDP socket reads with recvmmsg(): up to MMSG_SLOTS datagrams per
 * system call, each in its own 64 KiB slot of one buffer (the largest UDP
 * payload fits a slot, so nothing is truncated). Only the pages a
 * datagram touches become resident: a few KiB for SIP. A call that
 * returns fewer datagrams than slots has emptied the queue, so the loop
 * stops there and waits for the next readable event (libuv's own UDP
 * reader calls again until EAGAIN: in a busy hour half its calls found
 * nothing). At most MMSG_ROUNDS calls per event, so that a flooding
 * backend cannot starve the worker's connections.
 */
#define MMSG_SLOT (64 * 1024)
#define MMSG_SLOTS 8
#define MMSG_ROUNDS 4

static void deliver_datagram(struct stls_backend *b, const uint8_t *p,
			     size_t n, const struct sockaddr *sa)
{
	struct stls_worker *w = b->w;
	struct stls_addr from;

	stls_stats_add(&w->stats, STLS_STAT_BACKEND_RECEIVED, 1);
	stls_addr_from_sockaddr(sa, &from);
	if (STLS_H(w)->backend)
		STLS_H(w)->backend(w, &from, p, n, STLS_HARG(w));
}

static void on_udp(uv_poll_t *h, int status, int events)
{
	struct stls_backend *b = h->data;
	struct stls_worker *w = b->w;
	struct mmsghdr m[MMSG_SLOTS];
	struct iovec iov[MMSG_SLOTS];
	struct sockaddr_storage from[MMSG_SLOTS];
	/* Without the buffer: one datagram at a time in the scratch one. */
	unsigned slots = b->mmsg ? MMSG_SLOTS : 1, round, i;
	size_t slot = b->mmsg ? MMSG_SLOT : w->scratch_len;
	uint8_t *base = b->mmsg ? b->mmsg : w->scratch;
	int r;

	(void)events;
	if (status < 0) {
		/* libuv stopped the handle on a socket error: clear the
		 * error and read on (the socket is not connected, so this
		 * is not expected; not to stop reading for good). */
		int e = 0;
		socklen_t len = sizeof(e);

		(void)getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &e, &len);
		STLS_WARN("worker %u: backend socket: %s", w->idx,
			  uv_strerror(status));
		if (b->udp_open)
			(void)uv_poll_start(&b->udp, UV_READABLE, on_udp);
		return;
	}
	memset(m, 0, sizeof(m[0]) * slots);
	for (i = 0; i < slots; i++) {
		iov[i].iov_base = base + i * slot;
		iov[i].iov_len = slot;
		m[i].msg_hdr.msg_name = &from[i];
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	for (round = 0; round < MMSG_ROUNDS && b->udp_open; round++) {
		/* The only input field a call overwrites. */
		for (i = 0; i < slots; i++)
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
		r = recvmmsg(b->fd, m, slots, MSG_DONTWAIT, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* EAGAIN: empty; an error: next event */
		for (i = 0; i < (unsigned)r && b->udp_open; i++) {
			/* Empty and cut datagrams (possible only in the
			 * scratch buffer) are dropped. */
			if (m[i].msg_len == 0 ||
			    (m[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			deliver_datagram(b, iov[i].iov_base, m[i].msg_len,
					 (struct sockaddr *)&from[i]);
		}
		if ((unsigned)r < slots)
			return;
	}
}

/* A UDP socket on backend_source (or "any" of the backend's family). */
static int udp_socket(const struct stls_daemon_opts *o)
{
	struct stls_addr src = o->backend_source;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1, err;

	if (src.family == AF_UNSPEC)
		src.family = o->backend.family;
	len = stls_addr_to_sockaddr(&src, &ss);
	fd = socket(src.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((src.port &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on))) ||
	    bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	stls_udp_set_buffers(fd, o->udp_buffer);
	return fd;
}

static int start_udp(struct stls_backend *b)
{
	struct stls_worker *w = b->w;
	int fd, err;

	fd = udp_socket(&w->d->o);
	if (fd < 0)
		return fd;
	b->mmsg = malloc(MMSG_SLOT * MMSG_SLOTS);
	b->out = malloc(OUT_CAP); /* without it: one sendmsg() per send */
	err = uv_poll_init(&w->loop, &b->udp, fd);
	if (err) {
		close(fd);
		return err;
	}
	b->fd = fd; /* closed by backend_stop() from now on */
	b->udp.data = b;
	b->udp_open = true;
	return uv_poll_start(&b->udp, UV_READABLE, on_udp);
}

static void connect_tcp(struct stls_backend *b);

static void on_retry(uv_timer_t *t)
{
	connect_tcp(t->data);
}

static void schedule_retry(struct stls_backend *b)
{
	if (b->stopped)
		return;
	uv_timer_start(&b->retry, on_retry, (uint64_t)b->retry_ms, 0);
	b->retry_ms = b->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS
						     : b->retry_ms * 2;
}

static void on_conn_closed(struct stls_dconn *c)
{
	struct stls_backend *b = c->w->backend;
	char buf[STLS_ADDR_STRLEN];

	if (!b || b->conn_id != c->id)
		return;
	b->conn_id = 0;
	if (c->connected)
		b->retry_ms = RETRY_MIN_MS;
	if (!b->stopped)
		STLS_WARN("worker %u: backend %s: connection %s (%s); "
			  "retrying in %d ms", c->w->idx,
			  stls_addr_str(&c->peer, true, buf),
			  c->connected ? "lost" : "failed",
			  stls_dclose_names[c->reason], b->retry_ms);
	schedule_retry(b);
}

static void connect_tcp(struct stls_backend *b)
{
	struct stls_worker *w = b->w;
	struct stls_dconn *c;
	int err;

	if (b->stopped || b->conn_id)
		return;
	err = stls_outbound_open(w, &w->d->o.backend, &w->d->o.backend_source,
				 STLS_DCONN_BACKEND, false, &c);
	if (err) {
		STLS_WARN("worker %u: backend connect: %s", w->idx,
			  uv_strerror(err));
		schedule_retry(b);
		return;
	}
	b->conn_id = c->id;
	c->on_closed = on_conn_closed;
	stls_stats_add(&w->stats, STLS_STAT_BACKEND_CONNECTS, 1);
}

static int backend_start(struct stls_worker *w)
{
	const struct stls_daemon_opts *o = &w->d->o;
	struct stls_backend *b;

	if (o->backend.family == AF_UNSPEC)
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	w->backend = b;
	b->w = w;
	b->proto = o->backend_proto;
	b->fd = -1;
	b->retry_ms = RETRY_MIN_MS;
	stls_addr_to_sockaddr(&o->backend, &b->to);
	if (uv_timer_init(&w->loop, &b->retry) != 0)
		return -ENOMEM;
	b->retry.data = b;
	b->retry_open = true;
	if (b->proto == STLS_PROTO_UDP)
		return start_udp(b);
	connect_tcp(b);
	return 0;
}

static void backend_flush(struct stls_worker *w);

static void backend_stop(struct stls_worker *w)
{
	struct stls_backend *b = w->backend;

	if (!b || b->stopped)
		return;
	b->stopped = true;
	backend_flush(w);
	if (b->retry_open)
		uv_close((uv_handle_t *)&b->retry, NULL);
	if (b->udp_open) {
		/* Off epoll first: the descriptor may then be closed. */
		uv_poll_stop(&b->udp);
		uv_close((uv_handle_t *)&b->udp, NULL);
		close(b->fd);
		b->fd = -1;
	}
	b->retry_open = b->udp_open = false;
	/* The tcp: connection is in the worker's table and closes (after
	 * flushing) with the others. */
}

static void backend_free(struct stls_worker *w)
{
	struct unsent *u;

	if (w->backend) {
		if (w->backend->fd >= 0) /* never stopped */
			close(w->backend->fd);
		free(w->backend->mmsg);
		free(w->backend->out);
		while ((u = w->backend->unsent) != NULL) {
			w->backend->unsent = u->next;
			free(u);
		}
	}
	free(w->backend);
	w->backend = NULL;
}

struct stls_dconn *stls_backend_conn(struct stls_worker *w)
{
	struct stls_backend *b = w->backend;

	if (!b || !b->conn_id)
		return NULL;
	return stls_dconn_table_get(&w->table, b->conn_id);
}

int stls_backend_local(struct stls_worker *w, struct stls_addr *out)
{
	struct stls_backend *b = w->backend;
	struct sockaddr_storage ss;
	struct stls_dconn *c;
	socklen_t len = sizeof(ss);

	if (b && b->proto == STLS_PROTO_UDP && b->udp_open &&
	    getsockname(b->fd, (struct sockaddr *)&ss, &len) == 0) {
		stls_addr_from_sockaddr((struct sockaddr *)&ss, out);
		return 0;
	}
	c = b && b->proto == STLS_PROTO_TCP ? stls_backend_conn(w) : NULL;
	if (c && c->connected) {
		*out = c->local;
		return 0;
	}
	return -ENOTCONN;
}

bool stls_backend_is_up(struct stls_worker *w)
{
	struct stls_dconn *c;

	if (!w->backend)
		return false;
	if (w->backend->proto == STLS_PROTO_UDP)
		return w->backend->udp_open;
	c = stls_backend_conn(w);
	return c && c->state == STLS_DCONN_ESTABLISHED;
}

/* One datagram to <to> now, with no batching: 0 or -errno (-EAGAIN: the
 * socket's buffer is full, the datagram is dropped). */
static int send_one(struct stls_backend *b, const struct sockaddr_storage *to,
		    const uint8_t *p, size_t n)
{
	socklen_t len = to->ss_family == AF_INET6
				? sizeof(struct sockaddr_in6)
				: sizeof(struct sockaddr_in);
	ssize_t r;

	do {
		r = sendto(b->fd, p, n, MSG_DONTWAIT,
			   (const struct sockaddr *)to, len);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == n ? 0 : -EMSGSIZE;
}

/* A held datagram the kernel refused: counted, and the handler may still
 * answer for it (the relay sends the client a 503). A flush forced by a
 * full batch runs inside the handler's own send, so the handler hears of
 * it at the end of the turn, from a copy. */
static void refused(struct stls_backend *b, const uint8_t *p, size_t n,
		    int err, bool turn_end)
{
	struct stls_worker *w = b->w;
	struct unsent *u, **tail;

	stls_stats_add(&w->stats, STLS_STAT_BACKEND_SEND_ERRORS, 1);
	STLS_DBG("worker %u: backend send: %s", w->idx, strerror(-err));
	if (!STLS_H(w)->backend_unsent)
		return;
	if (turn_end) {
		STLS_H(w)->backend_unsent(w, p, n, err, STLS_HARG(w));
		return;
	}
	u = malloc(sizeof(*u) + n);
	if (!u)
		return;
	u->next = NULL;
	u->n = n;
	u->err = err;
	memcpy(u->data, p, n);
	for (tail = &b->unsent; *tail; tail = &(*tail)->next)
		;
	*tail = u;
}

/* The refusals kept from forced flushes, oldest first. */
static void report_unsent(struct stls_backend *b)
{
	struct stls_worker *w = b->w;
	struct unsent *u;

	while ((u = b->unsent) != NULL) {
		b->unsent = u->next;
		STLS_H(w)->backend_unsent(w, u->data, u->n, u->err,
					  STLS_HARG(w));
		free(u);
	}
}

static void flush(struct stls_backend *b, bool turn_end);

static void backend_flush(struct stls_worker *w)
{
	if (w->backend)
		flush(w->backend, true);
}

static void flush(struct stls_backend *b, bool turn_end)
{
	struct stls_worker *w = b->w;
	struct mmsghdr m[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	socklen_t tolen;
	int fd = b->fd;
	size_t off = 0;
	unsigned i, done = 0;
	int r;

	if (turn_end && b->unsent)
		report_unsent(b);
	if (!b->n_out)
		return;
	tolen = b->to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					    : sizeof(struct sockaddr_in);
	memset(m, 0, sizeof(m[0]) * b->n_out);
	for (i = 0; i < b->n_out; i++) {
		iov[i].iov_base = b->out + off;
		iov[i].iov_len = b->out_lens[i];
		off += b->out_lens[i];
		m[i].msg_hdr.msg_name = &b->to;
		m[i].msg_hdr.msg_namelen = tolen;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	b->flushing = true;
	while (done < b->n_out) {
		r = fd >= 0 ? sendmmsg(fd, m + done, b->n_out - done, 0) : -1;
		if (r > 0) {
			stls_stats_add(&w->stats, STLS_STAT_BACKEND_SENT,
				       (uint64_t)r);
			done += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			/* The first one left failed: skip it, go on. */
			refused(b, iov[done].iov_base, iov[done].iov_len,
				fd >= 0 ? -errno : -EBADF, turn_end);
			done++;
		}
	}
	b->n_out = 0;
	b->out_len = 0;
	b->flushing = false;
}

/* Holds the datagram for the end of the turn. Returns 1 (held), or what
 * send_one() returns when it cannot be held. */
static int send_udp(struct stls_backend *b, const uint8_t *p, size_t n)
{
	if (!b->udp_open)
		return -ENOTCONN;
	if (!b->out || b->flushing || n > OUT_CAP)
		return send_one(b, &b->to, p, n);
	if (b->n_out == BATCH_MAX || b->out_len + n > OUT_CAP)
		flush(b, false);
	memcpy(b->out + b->out_len, p, n);
	b->out_len += n;
	b->out_lens[b->n_out++] = (uint32_t)n;
	if (b->n_out == 1)
		stls__worker_due(b->w);
	return 1;
}

int stls_backend_send(struct stls_worker *w, const uint8_t *p, size_t n)
{
	struct stls_backend *b = w->backend;
	struct stls_dconn *c;
	int r;

	if (!b) {
		r = -ENOTCONN;
	} else if (b->proto == STLS_PROTO_UDP) {
		r = send_udp(b, p, n);
		if (r == 1)
			return 0; /* counted when it leaves */
	} else {
		/* Not queued behind a (re)connect: a connect that fails would
		 * lose it silently; the caller learns now and can answer. */
		c = stls_backend_conn(w);
		r = c && c->state == STLS_DCONN_ESTABLISHED
			    ? stls_dconn_send(c, p, n)
			    : -ENOTCONN;
	}
	stls_stats_add(&w->stats, r ? STLS_STAT_BACKEND_SEND_ERRORS
				    : STLS_STAT_BACKEND_SENT, 1);
	return r;
}

int stls_backend_send_to(struct stls_worker *w, const struct stls_addr *to,
			 const uint8_t *p, size_t n)
{
	struct stls_backend *b = w->backend;
	struct sockaddr_storage ss;

	if (!b || b->proto != STLS_PROTO_UDP || !b->udp_open)
		return -ENOTSUP;
	stls_addr_to_sockaddr(to, &ss);
	return send_one(b, &ss, p, n);
}

const struct stls_worker_part stls_backend_part = {
	.name = "backend",
	.start = backend_start,
	.turn_end = backend_flush,
	.stop = backend_stop,
	.free = backend_free,
};
