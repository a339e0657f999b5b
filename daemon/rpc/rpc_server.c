/*
 * Control socket server (see rpc_server.h for the contract and framing).
 *
 * Design: one thread, one poll(2) loop over a wake-up pipe, the listeners
 * and at most max_clients connections, all non-blocking. A client is read
 * only while it has no reply pending, so a client that sends but does not
 * read stops being read (its reply waits, its deadline runs) instead of
 * growing our buffers. Each client has one deadline, pushed forward when a
 * request completes or reply bytes leave; partial input does not push it,
 * which bounds a drip-feeding client too.
 */
#include "rpc/rpc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "stls/addr.h"
#include "stls/log.h"

struct client {
	int fd;
	bool readonly;
	bool eof;     /* the peer will send nothing more */
	bool closing; /* close once out is sent */
	char *in;     /* max_request + 1 bytes */
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	uint64_t deadline; /* monotonic ms */
};

struct stls_rpc_server {
	struct stls_rpc *rpc;
	char *path;
	dev_t dev; /* identity of the socket file we made */
	ino_t ino;
	size_t max_request;
	unsigned idle_ms, max_clients;
	bool tcp_write;
	int ufd, tfd, wake[2];
	uint16_t tport;
	pthread_t thread;
	bool running;
	struct client *c; /* max_clients slots; fd < 0 means free */
	size_t nc;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- Sockets ---- */

/* Is something accepting connections on the Unix socket at <path>? */
static bool unix_is_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	bool live;

	if (fd < 0) {
		return false;
	}
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	       errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return live;
}

static int check_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		STLS_ERR("rpc: %s exists and is not a socket; not replacing it",
			 path);
		return -EEXIST;
	}
	if (unix_is_live(sa)) {
		STLS_ERR("rpc: %s: another process is serving this socket",
			 path);
		return -EADDRINUSE;
	}
	STLS_INFO("rpc: removing stale socket %s", path);
	if (unlink(path) != 0 && errno != ENOENT) {
		return -errno;
	}
	return 0;
}

static int open_unix(struct stls_rpc_server *srv, unsigned mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (strlen(srv->path) >= sizeof(sa.sun_path)) {
		STLS_ERR("rpc: socket path too long: %s", srv->path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, srv->path);
	rc = check_path(srv->path, &sa);
	if (rc) {
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		STLS_ERR("rpc: cannot bind %s: %s", srv->path, strerror(-rc));
		close(fd);
		return rc;
	}
	/* Nobody can connect before listen(), so the umask-made mode of the
	 * new file is never usable. */
	if (chmod(srv->path, mode) != 0 || lstat(srv->path, &st) != 0 ||
	    listen(fd, 64) != 0) {
		rc = -errno;
		STLS_ERR("rpc: cannot set up %s: %s", srv->path, strerror(-rc));
		unlink(srv->path);
		close(fd);
		return rc;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	srv->ufd = fd;
	return 0;
}

static bool is_loopback(const struct stls_addr *a)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };

	if (a->family == AF_INET) {
		return a->ip[0] == 127;
	}
	return a->family == AF_INET6 && memcmp(a->ip, v6_lo, 16) == 0;
}

static int open_tcp(struct stls_rpc_server *srv, const char *text)
{
	struct sockaddr_storage ss;
	struct stls_addr a;
	socklen_t len;
	int fd, one = 1, rc;

	if (stls_addr_parse(text, true, &a) != 0) {
		STLS_ERR("rpc: bad TCP address \"%s\" (want IP:PORT)", text);
		return -EINVAL;
	}
	if (!is_loopback(&a)) {
		STLS_ERR("rpc: refusing TCP control port on %s: only loopback "
			 "addresses (127.0.0.0/8, ::1) are allowed",
			 text);
		return -EADDRNOTAVAIL;
	}
	len = stls_addr_to_sockaddr(&a, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		rc = -errno;
		STLS_ERR("rpc: cannot listen on %s: %s", text, strerror(-rc));
		close(fd);
		return rc;
	}
	stls_addr_from_sockaddr((struct sockaddr *)&ss, &a);
	srv->tport = a.port;
	srv->tfd = fd;
	return 0;
}

/* ---- Clients ---- */

static void client_close(struct client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Queues one reply line; takes <resp>. */
static void queue_reply(struct client *c, char *resp, size_t len)
{
	char *n;

	/* Only ever called with nothing pending: replace, do not append. */
	free(c->out);
	n = realloc(resp, len + 1);
	if (!n) {
		free(resp);
		c->out = NULL;
		c->closing = true;
		return;
	}
	n[len] = '\n';
	c->out = n;
	c->out_len = len + 1;
	c->out_off = 0;
}

static void flush_out(struct client *c, unsigned idle_ms)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		if (n <= 0) {
			c->closing = true;
			c->out_len = c->out_off = 0;
			return;
		}
		c->out_off += (size_t)n;
		c->deadline = now_ms() + idle_ms;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

static void serve_text(struct stls_rpc_server *srv, struct client *c,
		       const char *text, size_t len)
{
	char *resp = NULL;
	size_t rlen = 0;

	while (len && (text[len - 1] == '\r' || text[len - 1] == ' ' ||
		       text[len - 1] == '\t')) {
		len--;
	}
	if (len == 0) {
		return; /* blank line */
	}
	c->deadline = now_ms() + srv->idle_ms;
	if (stls_rpc_handle(srv->rpc, text, len,
			    c->readonly ? STLS_RPC_CTX_READONLY : 0, &resp,
			    &rlen) != 0) {
		c->closing = true; /* out of memory: drop the client */
		return;
	}
	if (resp) {
		queue_reply(c, resp, rlen);
	}
}

/* Serves complete lines while no reply is pending. */
static void serve_lines(struct stls_rpc_server *srv, struct client *c)
{
	char *nl, *resp = NULL;
	size_t used, rlen = 0;

	while (!c->closing && c->out_len == 0 &&
	       (nl = memchr(c->in, '\n', c->in_len))) {
		used = (size_t)(nl - c->in) + 1;
		serve_text(srv, c, c->in, used - 1);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		flush_out(c, srv->idle_ms);
	}
	if (c->closing || c->out_len) {
		return;
	}
	if (c->in_len > srv->max_request) {
		STLS_WARN("rpc: request larger than %zu bytes refused",
			  srv->max_request);
		if (stls_rpc_error_reply(STLS_RPC_E_INVALID_REQUEST,
					 "request too large", &resp,
					 &rlen) == 0) {
			queue_reply(c, resp, rlen);
		}
		c->closing = true;
	} else if (c->eof) {
		serve_text(srv, c, c->in, c->in_len); /* last, unterminated */
		c->in_len = 0;
		c->closing = true;
	}
	flush_out(c, srv->idle_ms);
}

static void client_read(struct stls_rpc_server *srv, struct client *c)
{
	size_t room = srv->max_request + 1 - c->in_len;
	ssize_t n;

	if (room == 0) {
		serve_lines(srv, c); /* full: refuses the request */
		return;
	}
	if (!c->in) {
		c->in = malloc(srv->max_request + 1);
		if (!c->in) {
			c->closing = true;
			return;
		}
	}
	n = recv(c->fd, c->in + c->in_len, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n < 0) {
		c->closing = true;
		c->out_len = c->out_off = 0;
		return;
	}
	if (n == 0) {
		c->eof = true;
	}
	c->in_len += (size_t)n;
	serve_lines(srv, c);
}

static void accept_one(struct stls_rpc_server *srv, int lfd, bool tcp)
{
	struct client *c = NULL;
	char *resp = NULL;
	size_t i, rlen = 0;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		return;
	}
	for (i = 0; i < srv->max_clients && !c; i++) {
		if (srv->c[i].fd < 0) {
			c = &srv->c[i];
		}
	}
	if (!c) {
		if (stls_rpc_error_reply(STLS_RPC_E_UNAVAILABLE,
					 "too many control connections",
					 &resp, &rlen) == 0) {
			resp[rlen] = '\n'; /* replaces the NUL */
			(void)!send(fd, resp, rlen + 1,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			free(resp);
		}
		close(fd);
		return;
	}
	c->fd = fd;
	c->readonly = tcp && !srv->tcp_write;
	c->deadline = now_ms() + srv->idle_ms;
}

/* ---- The loop ---- */

static int poll_timeout(const struct stls_rpc_server *srv, uint64_t now)
{
	uint64_t next = now + 60000;
	size_t i;

	for (i = 0; i < srv->max_clients; i++) {
		if (srv->c[i].fd >= 0 && srv->c[i].deadline < next) {
			next = srv->c[i].deadline;
		}
	}
	return next <= now ? 0 : (int)(next - now);
}

/* Fills pfd; map[k] is the client slot of pfd[k] (or -1). */
static nfds_t build_pollset(struct stls_rpc_server *srv, struct pollfd *pfd,
			    long *map)
{
	nfds_t n = 0;
	size_t i;

	pfd[n] = (struct pollfd){ .fd = srv->wake[0], .events = POLLIN };
	map[n++] = -1;
	pfd[n] = (struct pollfd){ .fd = srv->ufd, .events = POLLIN };
	map[n++] = -1;
	if (srv->tfd >= 0) {
		pfd[n] = (struct pollfd){ .fd = srv->tfd, .events = POLLIN };
		map[n++] = -1;
	}
	for (i = 0; i < srv->max_clients; i++) {
		struct client *c = &srv->c[i];

		if (c->fd < 0) {
			continue;
		}
		pfd[n].fd = c->fd;
		pfd[n].events = c->out_len ? POLLOUT : 0;
		if (!c->out_len && !c->eof && !c->closing) {
			pfd[n].events |= POLLIN;
		}
		pfd[n].revents = 0;
		map[n++] = (long)i;
	}
	return n;
}

static void service(struct stls_rpc_server *srv, struct pollfd *pfd,
		    long *map, nfds_t n)
{
	uint64_t now;
	nfds_t k;

	for (k = 0; k < n; k++) {
		struct client *c;

		if (map[k] < 0 || !pfd[k].revents) {
			continue;
		}
		c = &srv->c[map[k]];
		if (pfd[k].revents & POLLOUT) {
			flush_out(c, srv->idle_ms);
			serve_lines(srv, c);
		}
		if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
			client_read(srv, c);
		}
	}
	now = now_ms();
	for (k = 0; k < srv->max_clients; k++) {
		struct client *c = &srv->c[k];

		if (c->fd < 0) {
			continue;
		}
		if (c->closing && c->out_len == 0) {
			client_close(c);
		} else if (now >= c->deadline) {
			STLS_DBG("rpc: closing an idle control connection");
			client_close(c);
		}
	}
}

static void *loop(void *arg)
{
	struct stls_rpc_server *srv = arg;
	struct pollfd *pfd;
	long *map;
	nfds_t n;
	sigset_t all;

	pthread_setname_np(pthread_self(), "stls-rpc");
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals go elsewhere */
	pfd = calloc(srv->max_clients + 3, sizeof(*pfd));
	map = calloc(srv->max_clients + 3, sizeof(*map));
	while (pfd && map) {
		n = build_pollset(srv, pfd, map);
		if (poll(pfd, n, poll_timeout(srv, now_ms())) < 0 &&
		    errno != EINTR) {
			STLS_ERR("rpc: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents) {
			break; /* stop requested */
		}
		if (pfd[1].revents & POLLIN) {
			accept_one(srv, srv->ufd, false);
		}
		if (srv->tfd >= 0 && (pfd[2].revents & POLLIN)) {
			accept_one(srv, srv->tfd, true);
		}
		service(srv, pfd, map, n);
	}
	if (!pfd || !map) {
		STLS_ERR("rpc: control thread out of memory; not serving");
	}
	free(pfd);
	free(map);
	return NULL;
}

/* ---- Start and stop ---- */

static void release(struct stls_rpc_server *srv)
{
	struct stat st;
	size_t i;

	for (i = 0; srv->c && i < srv->max_clients; i++) {
		client_close(&srv->c[i]);
	}
	if (srv->ufd >= 0) {
		close(srv->ufd);
		/* Only remove the file if it is still ours. */
		if (lstat(srv->path, &st) == 0 && st.st_dev == srv->dev &&
		    st.st_ino == srv->ino) {
			unlink(srv->path);
		}
	}
	if (srv->tfd >= 0) {
		close(srv->tfd);
	}
	for (i = 0; i < 2; i++) {
		if (srv->wake[i] >= 0) {
			close(srv->wake[i]);
		}
	}
	free(srv->c);
	free(srv->path);
	free(srv);
}

static int check_conf(const struct stls_rpc_server_conf *conf, unsigned *mode)
{
	*mode = conf->unix_mode ? conf->unix_mode : STLS_RPC_DEFAULT_MODE;
	if (!conf->unix_path || !*conf->unix_path) {
		STLS_ERR("rpc: no control socket path");
		return -EINVAL;
	}
	if (*mode & ~0777u) {
		STLS_ERR("rpc: bad socket mode %o", *mode);
		return -EINVAL;
	}
	if (*mode & 0002) {
		STLS_ERR("rpc: refusing a world-writable control socket (mode "
			 "%04o): anyone could reconfigure the daemon",
			 *mode);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct stls_rpc_server *srv,
		 const struct stls_rpc_server_conf *conf, unsigned mode)
{
	size_t i;
	int rc;

	srv->path = strdup(conf->unix_path);
	srv->c = calloc(srv->max_clients, sizeof(*srv->c));
	if (!srv->path || !srv->c) {
		return -ENOMEM;
	}
	for (i = 0; i < srv->max_clients; i++) {
		srv->c[i].fd = -1;
	}
	if (pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		return -errno;
	}
	rc = open_unix(srv, mode);
	if (!rc && conf->tcp) {
		rc = open_tcp(srv, conf->tcp);
	}
	if (!rc) {
		rc = -pthread_create(&srv->thread, NULL, loop, srv);
	}
	return rc;
}

int stls_rpc_server_start(struct stls_rpc *rpc,
			  const struct stls_rpc_server_conf *conf,
			  struct stls_rpc_server **out)
{
	struct stls_rpc_server *srv;
	unsigned mode;
	int rc;

	*out = NULL;
	rc = check_conf(conf, &mode);
	if (rc) {
		return rc;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		return -ENOMEM;
	}
	srv->rpc = rpc;
	srv->ufd = srv->tfd = srv->wake[0] = srv->wake[1] = -1;
	srv->max_request = conf->max_request ? conf->max_request
					     : STLS_RPC_DEFAULT_MAX_REQUEST;
	srv->idle_ms = conf->idle_timeout_ms ? conf->idle_timeout_ms
					     : STLS_RPC_DEFAULT_IDLE_MS;
	srv->max_clients = conf->max_clients ? conf->max_clients
					     : STLS_RPC_DEFAULT_MAX_CLIENTS;
	srv->tcp_write = conf->tcp_allow_write;
	stls_rpc_set_max_request(rpc, srv->max_request);
	rc = setup(srv, conf, mode);
	if (rc) {
		release(srv);
		return rc;
	}
	srv->running = true;
	STLS_INFO("rpc: control socket %s (mode %04o)%s", conf->unix_path, mode,
		  conf->tcp ? ", TCP loopback port open" : "");
	*out = srv;
	return 0;
}

uint16_t stls_rpc_server_tcp_port(const struct stls_rpc_server *srv)
{
	return srv->tfd >= 0 ? srv->tport : 0;
}

void stls_rpc_server_stop(struct stls_rpc_server *srv)
{
	if (!srv) {
		return;
	}
	if (srv->running) {
		(void)!write(srv->wake[1], "x", 1);
		pthread_join(srv->thread, NULL);
	}
	release(srv);
}
