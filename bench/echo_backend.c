/*
 * echo_backend: a tiny stateless SIP server for benchmarks. It answers every
 * request with "200 OK", copying Via (all of them, in order), From, To
 * (adding a tag when there is none), Call-ID and CSeq, with
 * Content-Length: 0 (RFC 3261 section 8.2.6). Responses it receives are
 * dropped.
 *
 * It listens on UDP (replies go to the datagram's source, as rport would)
 * and on TCP (for blind TLS terminators, which need a stream backend; the
 * stream is framed by Content-Length, RFC 3261 section 18.3, and a CRLF
 * keep-alive ping gets its pong, RFC 5626 section 3.5.1). One thread, one
 * epoll loop. It exits after --duration seconds or on SIGTERM/SIGINT.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG_MAX 65536
#define OUT_MAX (4 * MSG_MAX)

struct tconn {
	struct tconn *prev, *next; /* all open connections, freed at exit */
	int fd;
	size_t rlen, olen;
	char rbuf[MSG_MAX];
	char obuf[OUT_MAX];
};

static volatile sig_atomic_t stop;
static struct tconn *conns;
static unsigned long n_req, n_drop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Copies one header line (with its CRLF) when it is one we echo. */
static size_t copy_line(const char *l, size_t len, char *out, size_t cap,
			bool *is_to)
{
	static const char *const keep[] = { "via:", "v:", "from:", "f:",
					    "to:", "t:", "call-id:", "i:",
					    "cseq:" };
	size_t i, k;

	*is_to = false;
	for (i = 0; i < STLS_ARRAY_SIZE(keep); i++) {
		k = strlen(keep[i]);
		if (len > k && strncasecmp(l, keep[i], k) == 0) {
			break;
		}
		/* Allow "Via :" with blanks before the colon. */
		if (len > k && strncasecmp(l, keep[i], k - 1) == 0 &&
		    (l[k - 1] == ' ' || l[k - 1] == '\t')) {
			break;
		}
	}
	if (i == STLS_ARRAY_SIZE(keep) || len + 16 > cap) {
		return 0;
	}
	*is_to = i == 4 || i == 5;
	memcpy(out, l, len);
	return len;
}

/*
 * Builds the 200 for the request whose header block is h[0..hlen). Returns
 * its length, or 0 for a response or something that does not fit.
 */
static size_t build_reply(const char *h, size_t hlen, char *out, size_t cap)
{
	const char *end = h + hlen, *l = h, *eol;
	static const char tail[] = "Content-Length: 0\r\n\r\n";
	bool is_to, copied = false;
	size_t n, w;

	if (hlen < 8 || strncmp(h, "SIP/2.0 ", 8) == 0 || cap < 64) {
		return 0;
	}
	w = (size_t)snprintf(out, cap, "SIP/2.0 200 OK\r\n");
	/* Skip the request line. */
	l = memchr(h, '\n', hlen);
	for (l = l ? l + 1 : end; l < end; l = eol + 1) {
		eol = memchr(l, '\n', (size_t)(end - l));
		if (!eol || eol - l <= 1) {
			break;
		}
		n = (size_t)(eol - l) + 1;
		if (*l == ' ' || *l == '\t') {
			/* Folded continuation of the previous header. */
			if (copied && w + n + 32 < cap) {
				memcpy(out + w, l, n);
				w += n;
			}
			continue;
		}
		n = copy_line(l, n, out + w, cap - w - 32, &is_to);
		copied = n > 0;
		if (copied && is_to && !memmem(l, n, ";tag=", 5)) {
			/* Insert our tag before the CRLF. */
			w += n - 2;
			w += (size_t)snprintf(out + w, cap - w,
					      ";tag=echo\r\n");
		} else {
			w += n;
		}
	}
	if (w + sizeof(tail) > cap) {
		return 0;
	}
	memcpy(out + w, tail, sizeof(tail) - 1);
	return w + sizeof(tail) - 1;
}

/* Length of the whole message at m (headers + body), 0 if incomplete. */
static size_t frame(const char *m, size_t len, size_t *hlen)
{
	const char *e = memmem(m, len, "\r\n\r\n", 4);
	const char *p, *end;
	size_t cl = 0;

	if (!e) {
		return 0;
	}
	*hlen = (size_t)(e - m) + 4;
	end = m + *hlen;
	for (p = m; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;) {
		p++;
		if (strncasecmp(p, "content-length:", 15) == 0) {
			cl = strtoul(p + 15, NULL, 10);
		} else if (strncasecmp(p, "l:", 2) == 0) {
			cl = strtoul(p + 2, NULL, 10);
		}
	}
	return *hlen + cl;
}

static void on_udp(int fd)
{
	static char in[MSG_MAX], out[MSG_MAX];
	struct sockaddr_storage from;
	socklen_t flen;
	size_t hlen, rl;
	ssize_t n;
	int i;

	/* Bounded batch so that TCP work is not starved. */
	for (i = 0; i < 64; i++) {
		flen = sizeof(from);
		n = recvfrom(fd, in, sizeof(in) - 1, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n <= 0) {
			return;
		}
		if (frame(in, (size_t)n, &hlen) == 0) {
			n_drop++;
			continue;
		}
		rl = build_reply(in, hlen, out, sizeof(out));
		if (rl == 0) {
			n_drop++;
			continue;
		}
		n_req++;
		sendto(fd, out, rl, MSG_DONTWAIT, (struct sockaddr *)&from,
		       flen);
	}
}

static void tcp_close(int ep, struct tconn *c)
{
	if (ep >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	}
	if (c->prev) {
		c->prev->next = c->next;
	} else {
		conns = c->next;
	}
	if (c->next) {
		c->next->prev = c->prev;
	}
	close(c->fd);
	free(c);
}

/* Writes what is queued; false when the connection must go. */
static bool tcp_flush(int ep, struct tconn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t n;

	while (c->olen > 0) {
		n = send(c->fd, c->obuf, c->olen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		if (n <= 0) {
			return false;
		}
		memmove(c->obuf, c->obuf + n, c->olen - (size_t)n);
		c->olen -= (size_t)n;
	}
	ev.events = c->olen > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

/* Answers every complete message in rbuf; false on a framing error. */
static bool tcp_consume(struct tconn *c)
{
	size_t off = 0, total, hlen;

	while (off < c->rlen) {
		if (c->rlen - off >= 4 &&
		    memcmp(c->rbuf + off, "\r\n\r\n", 4) == 0) {
			/* RFC 5626 keep-alive: double CRLF ping, CRLF pong. */
			if (c->olen + 2 <= OUT_MAX) {
				memcpy(c->obuf + c->olen, "\r\n", 2);
				c->olen += 2;
			}
			off += 4;
			continue;
		}
		if (c->rbuf[off] == '\r' || c->rbuf[off] == '\n') {
			off++;
			continue;
		}
		total = frame(c->rbuf + off, c->rlen - off, &hlen);
		if (total > MSG_MAX) {
			return false;
		}
		if (total == 0 || off + total > c->rlen) {
			if (c->rlen - off == MSG_MAX) {
				return false;
			}
			break;
		}
		total = build_reply(c->rbuf + off, hlen, c->obuf + c->olen,
				    OUT_MAX - c->olen);
		n_req += total > 0;
		c->olen += total;
		off += frame(c->rbuf + off, c->rlen - off, &hlen);
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return true;
}

static void on_tcp(int ep, struct tconn *c, unsigned events)
{
	ssize_t n;

	if (events & EPOLLIN) {
		n = recv(c->fd, c->rbuf + c->rlen, MSG_MAX - c->rlen,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			tcp_close(ep, c);
			return;
		}
		if (n > 0) {
			c->rlen += (size_t)n;
			if (!tcp_consume(c)) {
				tcp_close(ep, c);
				return;
			}
		}
	}
	if (!tcp_flush(ep, c)) {
		tcp_close(ep, c);
	}
}

static void on_accept(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct tconn *c;
	int fd, i;

	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			return;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->rlen = c->olen = 0;
		c->prev = NULL;
		c->next = conns;
		if (conns) {
			conns->prev = c;
		}
		conns = c;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static int open_sock(const char *spec, int type)
{
	struct addrinfo hints = { .ai_socktype = type,
				  .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	char host[128], *colon;
	struct addrinfo *ai;
	int fd, one = 1;

	snprintf(host, sizeof(host), "%s", spec[0] == '[' ? spec + 1 : spec);
	colon = strrchr(host, ':');
	if (!colon) {
		return -EINVAL;
	}
	*colon = '\0';
	if (colon > host && colon[-1] == ']') {
		colon[-1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
		return -EINVAL;
	}
	fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    (type == SOCK_STREAM && listen(fd, 4096) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd < 0 ? -errno : fd;
}

static int run(int ufd, int tfd, double duration)
{
	struct epoll_event ev[128], add = { .events = EPOLLIN };
	static int ukey, tkey;
	double end = bench_now() + duration;
	int ep, n, i;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		return -errno;
	}
	if (ufd >= 0) {
		add.data.ptr = &ukey;
		epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &add);
	}
	if (tfd >= 0) {
		add.data.ptr = &tkey;
		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &add);
	}
	while (!stop && bench_now() < end) {
		n = epoll_wait(ep, ev, 128, 100);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &ukey) {
				on_udp(ufd);
			} else if (ev[i].data.ptr == &tkey) {
				on_accept(ep, tfd);
			} else {
				on_tcp(ep, ev[i].data.ptr, ev[i].events);
			}
		}
	}
	while (conns) {
		tcp_close(-1, conns);
	}
	close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "udp", required_argument, NULL, 'u' },
		{ "tcp", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *udp = NULL, *tcp = NULL;
	double duration = 60;
	int ch, ufd = -1, tfd = -1;

	while ((ch = getopt_long(argc, argv, "u:t:d:", opts, NULL)) != -1) {
		if (ch == 'u') {
			udp = optarg;
		} else if (ch == 't') {
			tcp = optarg;
		} else if (ch == 'd') {
			duration = atof(optarg);
		} else {
			goto usage;
		}
	}
	if ((!udp && !tcp) || duration <= 0 || duration > 86400) {
		goto usage;
	}
	if ((udp && (ufd = open_sock(udp, SOCK_DGRAM)) < 0) ||
	    (tcp && (tfd = open_sock(tcp, SOCK_STREAM)) < 0)) {
		fprintf(stderr, "echo_backend: cannot bind %s: %s\n",
			ufd < 0 && udp ? udp : tcp, strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "echo_backend: pid %d udp %s tcp %s for %.0f s\n",
		(int)getpid(), udp ? udp : "-", tcp ? tcp : "-", duration);
	run(ufd, tfd, duration);
	fprintf(stderr, "echo_backend: answered %lu, dropped %lu\n", n_req,
		n_drop);
	return 0;
usage:
	fprintf(stderr, "usage: echo_backend [--udp H:P] [--tcp H:P] "
		"[--duration S]\n");
	return 2;
}
