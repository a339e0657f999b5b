/*
 * A tiny HTTP server for the lib/revoc tests: a thread on a loopback
 * socket (port 0) that answers each connection, in order, with one
 * scripted reply (raw bytes: status line, headers, body, as a server
 * would send them, garbage included) and keeps what each request was.
 *
 * A reply with hold set stays open after its bytes until the client
 * closes (bounded: 10 s), as a stalled server or `openssl ocsp` does. The
 * server stops after its replies or when hs_stop() is called; hs_stop()
 * joins the thread.
 */
#ifndef STLS_TEST_HTTP_FIXTURE_H
#define STLS_TEST_HTTP_FIXTURE_H

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#ifndef UNUSED
#define UNUSED __attribute__((unused))
#endif

#define HS_MAX 8

struct hs_reply {
	const void *data; /* what is sent */
	size_t len;       /* 0: strlen(data) */
	bool hold;        /* keep the connection open afterwards */
};

struct hs {
	int fd;
	int port;
	pthread_t th;
	struct hs_reply replies[HS_MAX];
	size_t nreplies;
	size_t served;
	char *req[HS_MAX]; /* each request as received (malloc) */
	size_t reqlen[HS_MAX];
};

/* Reads one request: headers, then Content-Length bytes of body. */
static char *hs_read_request(int c, size_t *len)
{
	size_t cap = 65536, n = 0, want = 0;
	char *buf = malloc(cap + 1), *eoh, *cl;
	ssize_t r;
	struct pollfd p = { .fd = c, .events = POLLIN };

	if (!buf) {
		return NULL;
	}
	for (;;) {
		buf[n] = '\0';
		eoh = strstr(buf, "\r\n\r\n");
		if (eoh) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = (size_t)(eoh + 4 - buf) +
			       (cl && cl < eoh ? strtoul(cl + 17, NULL, 10) :
						 0);
			if (n >= want) {
				break;
			}
		}
		if (n == cap || poll(&p, 1, 10000) != 1) {
			break;
		}
		r = read(c, buf + n, cap - n);
		if (r <= 0) {
			break;
		}
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static void *hs_main(void *arg)
{
	struct hs *s = arg;

	while (s->served < s->nreplies) {
		struct hs_reply *rp = &s->replies[s->served];
		size_t len = rp->len ? rp->len : strlen(rp->data), off = 0;
		int c = accept(s->fd, NULL, NULL);
		char tmp[256];

		if (c < 0) {
			break;
		}
		s->req[s->served] = hs_read_request(c, &s->reqlen[s->served]);
		while (off < len) {
			ssize_t w = send(c, (const char *)rp->data + off,
					 len - off, MSG_NOSIGNAL);

			if (w <= 0) {
				break;
			}
			off += (size_t)w;
		}
		if (rp->hold) {
			struct pollfd p = { .fd = c, .events = POLLIN };

			/* Until the client closes, at most 10 s. */
			while (poll(&p, 1, 10000) == 1 &&
			       read(c, tmp, sizeof(tmp)) > 0) {
			}
		}
		close(c);
		s->served++;
	}
	return NULL;
}

/*
 * Listens on a fresh loopback port (s->port): the URL base is
 * http://127.0.0.1:<port>, known before the replies (a redirect names it).
 */
static UNUSED void hs_listen(struct hs *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s->fd >= 0);
	CHECK_OK(bind(s->fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(s->fd, 8));
	CHECK_OK(getsockname(s->fd, (struct sockaddr *)&a, &al));
	s->port = ntohs(a.sin_port);
}

/* Serves <n> replies, one per connection, on a thread. */
static UNUSED void hs_run(struct hs *s, const struct hs_reply *r, size_t n)
{
	CHECK(n <= HS_MAX);
	memcpy(s->replies, r, n * sizeof(*r));
	s->nreplies = n;
	CHECK_OK(pthread_create(&s->th, NULL, hs_main, s));
}

static UNUSED void hs_start(struct hs *s, const struct hs_reply *r, size_t n)
{
	hs_listen(s);
	hs_run(s, r, n);
}

/*
 * Stops the server (shutdown() wakes a blocked accept()) and joins it;
 * s->req[] stays readable until hs_free().
 */
static UNUSED void hs_stop(struct hs *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->fd);
}

static UNUSED void hs_free(struct hs *s)
{
	size_t i;

	for (i = 0; i < HS_MAX; i++) {
		free(s->req[i]);
		s->req[i] = NULL;
	}
}

#endif
