/*
 * c-ares driven by a libuv loop (see channel.h).
 *
 * Sockets: c-ares reports each socket it opens, and what to watch on
 * it, through on_sock_state(); a socket to watch gets a uv_poll_t (one
 * struct dns_sock), a socket c-ares is about to close gets its poll
 * handle stopped and closed before c-ares closes the descriptor.
 *
 * Time: c-ares has no timer of its own; ares_timeout() says when its
 * next retransmission or timeout is due, and one uv_timer_t fires then
 * and calls ares_process_fd() with no socket, which runs them. The
 * timer is re-armed after every call into c-ares.
 *
 * Teardown: ares_destroy() ends every query (callbacks see -ECANCELED)
 * and closes its sockets; the handles close through the loop, and the
 * last close callback frees the channel.
 */
#include "dns/channel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "stls/log.h"

struct dns_sock {
	uv_poll_t poll;
	struct stls_dns_channel *ch;
	ares_socket_t fd;
	struct dns_sock *next;
};

struct stls_dns_channel {
	uv_loop_t *loop;
	ares_channel ares;
	bool ares_ok;
	bool closing;
	uv_timer_t timer;
	bool timer_ok;
	struct dns_sock *socks;
	unsigned open_handles; /* timer and polls not closed yet */
	size_t pending;
};

struct query {
	struct stls_dns_channel *ch;
	stls_dns_raw_fn *fn;
	void *arg;
	bool submitting; /* inside ares_query(): report, do not call fn */
	bool done;
	int err;
};

static uv_once_t lib_once = UV_ONCE_INIT;
static int lib_status;

static void lib_init(void)
{
	lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static void maybe_free(struct stls_dns_channel *ch)
{
	if (ch->closing && ch->open_handles == 0)
		free(ch);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct stls_dns_channel *ch;

	if (h->type == UV_POLL) {
		struct dns_sock *s = h->data;

		ch = s->ch;
		free(s);
	} else {
		ch = h->data;
	}
	ch->open_handles--;
	maybe_free(ch);
}

static void on_timer(uv_timer_t *t);

/* Arms the timer for c-ares' next deadline (or stops it). */
static void rearm(struct stls_dns_channel *ch)
{
	struct timeval tv, *next;
	uint64_t ms;

	if (ch->closing)
		return;
	next = ares_timeout(ch->ares, NULL, &tv);
	if (!next) {
		uv_timer_stop(&ch->timer);
		return;
	}
	ms = (uint64_t)next->tv_sec * 1000u +
	     ((uint64_t)next->tv_usec + 999u) / 1000u;
	uv_timer_start(&ch->timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct stls_dns_channel *ch = t->data;

	ares_process_fd(ch->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(ch);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct dns_sock *s = h->data;
	struct stls_dns_channel *ch = s->ch;
	ares_socket_t fd = s->fd, rfd, wfd;

	/* An error on the socket: let c-ares read it and notice. After
	 * this call <s> may be gone (c-ares closed the socket). */
	rfd = status < 0 || (events & UV_READABLE) ? fd : ARES_SOCKET_BAD;
	wfd = status < 0 || (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD;
	ares_process_fd(ch->ares, rfd, wfd);
	rearm(ch);
}

static struct dns_sock **find_sock(struct stls_dns_channel *ch,
				   ares_socket_t fd)
{
	struct dns_sock **pp = &ch->socks;

	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	return pp;
}

static void close_sock(struct dns_sock **pp)
{
	struct dns_sock *s = *pp;

	*pp = s->next;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static struct dns_sock *open_sock(struct stls_dns_channel *ch,
				  ares_socket_t fd)
{
	struct dns_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (uv_poll_init_socket(ch->loop, &s->poll, fd) != 0) {
		free(s);
		return NULL;
	}
	s->poll.data = s;
	s->ch = ch;
	s->fd = fd;
	s->next = ch->socks;
	ch->socks = s;
	ch->open_handles++;
	return s;
}

/* c-ares: watch <fd> for these events, or (none) forget it. */
static void on_sock_state(void *data, ares_socket_t fd, int readable,
			  int writable)
{
	struct stls_dns_channel *ch = data;
	struct dns_sock **pp = find_sock(ch, fd), *s = *pp;

	if (!readable && !writable) {
		if (s)
			close_sock(pp);
		return;
	}
	if (!s)
		s = open_sock(ch, fd);
	if (!s) {
		/* The query on it will time out; nothing else to do. */
		STLS_WARN("dns: cannot watch socket %d", (int)fd);
		return;
	}
	uv_poll_start(&s->poll,
		      (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
		      on_poll);
}

static int map_status(int st)
{
	switch (st) {
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return -ECONNREFUSED;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return -ECANCELED;
	case ARES_ENOMEM:
		return -ENOMEM;
	}
	return -EIO;
}

static void on_answer(void *arg, int status, int timeouts,
		      unsigned char *abuf, int alen)
{
	struct query *q = arg;
	int err = 0;

	(void)timeouts;
	/* NXDOMAIN and NODATA come as errors with the response: they are
	 * answers (the caller caches them). */
	if (!abuf || alen <= 0 ||
	    (status != ARES_SUCCESS && status != ARES_ENOTFOUND &&
	     status != ARES_ENODATA))
		err = map_status(status == ARES_SUCCESS ? ARES_EBADRESP
							: status);
	if (q->submitting) {
		q->done = true;
		q->err = err ? err : -EIO;
		return;
	}
	q->ch->pending--;
	q->fn(q->arg, err, err ? NULL : abuf, err ? 0 : (size_t)alen);
	free(q);
}

int stls_dns_channel_query(struct stls_dns_channel *ch, const char *name,
			   uint16_t type, stls_dns_raw_fn *fn, void *arg)
{
	struct query *q;
	int err;

	if (ch->closing)
		return -ECANCELED;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ch = ch;
	q->fn = fn;
	q->arg = arg;
	q->submitting = true;
	ares_query(ch->ares, name, 1 /* IN */, type, on_answer, q);
	q->submitting = false;
	if (q->done) {
		/* Refused at once (a bad name, no server): no callback. */
		err = q->err;
		free(q);
		return err;
	}
	ch->pending++;
	rearm(ch);
	return 0;
}

size_t stls_dns_channel_pending(const struct stls_dns_channel *ch)
{
	return ch->pending;
}

static int set_servers(struct stls_dns_channel *ch,
		       const struct stls_dns_channel_conf *conf)
{
	struct ares_addr_port_node *nodes;
	size_t i;
	int st;

	if (conf->n_servers == 0)
		return 0;
	nodes = calloc(conf->n_servers, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (i = 0; i < conf->n_servers; i++) {
		const struct stls_addr *a = &conf->servers[i];
		int port = a->port ? a->port : 53;

		nodes[i].next = i + 1 < conf->n_servers ? &nodes[i + 1] : NULL;
		nodes[i].family = a->family;
		if (a->family == AF_INET)
			memcpy(&nodes[i].addr.addr4, a->ip, 4);
		else if (a->family == AF_INET6)
			memcpy(&nodes[i].addr.addr6, a->ip, 16);
		else
			break;
		nodes[i].udp_port = nodes[i].tcp_port = port;
	}
	st = i < conf->n_servers ? ARES_EBADSTR
				 : ares_set_servers_ports(ch->ares, nodes);
	free(nodes);
	if (st != ARES_SUCCESS) {
		STLS_ERR("dns: servers refused: %s", ares_strerror(st));
		return -EINVAL;
	}
	return 0;
}

static int start_ares(struct stls_dns_channel *ch,
		      const struct stls_dns_channel_conf *conf)
{
	struct ares_options o;
	int st;

	uv_once(&lib_once, lib_init);
	if (lib_status != ARES_SUCCESS) {
		STLS_ERR("dns: c-ares: %s", ares_strerror(lib_status));
		return -EIO;
	}
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
	o.timeout = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
	o.tries = conf->tries > 0 ? conf->tries : 2;
	o.ednspsz = 1232; /* RFC 9000-era safe UDP size */
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = ch;
	st = ares_init_options(&ch->ares, &o,
			       ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
				       ARES_OPT_TRIES | ARES_OPT_EDNSPSZ |
				       ARES_OPT_SOCK_STATE_CB);
	if (st != ARES_SUCCESS) {
		STLS_ERR("dns: c-ares: %s", ares_strerror(st));
		return st == ARES_ENOMEM ? -ENOMEM : -EIO;
	}
	ch->ares_ok = true;
	return set_servers(ch, conf);
}

int stls_dns_channel_new(uv_loop_t *loop,
			 const struct stls_dns_channel_conf *conf,
			 struct stls_dns_channel **out)
{
	struct stls_dns_channel *ch = calloc(1, sizeof(*ch));
	int err;

	if (!ch)
		return -ENOMEM;
	ch->loop = loop;
	if (uv_timer_init(loop, &ch->timer) != 0) {
		free(ch);
		return -ENOMEM;
	}
	ch->timer.data = ch;
	ch->timer_ok = true;
	ch->open_handles = 1;
	err = start_ares(ch, conf);
	if (err) {
		stls_dns_channel_close(ch);
		return err;
	}
	*out = ch;
	return 0;
}

void stls_dns_channel_close(struct stls_dns_channel *ch)
{
	if (!ch || ch->closing)
		return;
	ch->closing = true;
	uv_timer_stop(&ch->timer);
	if (ch->ares_ok) {
		/* Ends every query (-ECANCELED) and reports its sockets
		 * closed, which closes their poll handles. */
		ares_destroy(ch->ares);
		ch->ares_ok = false;
	}
	while (ch->socks)
		close_sock(&ch->socks);
	uv_close((uv_handle_t *)&ch->timer, on_handle_closed);
}
