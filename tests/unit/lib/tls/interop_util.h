/*
 * Helpers of the interop tests (test_conn_interop.c,
 * test_handoff_interop.c): real peers (openssl, gnutls-cli, python3) as
 * child processes with a bounded lifetime (PR_SET_PDEATHSIG, plus
 * SIGTERM/SIGKILL and waitpid at the end of every case), loopback
 * sockets, and a driver that moves bytes between a non-blocking socket
 * and an engine. Header only.
 */
#ifndef STLS_TEST_INTEROP_UTIL_H
#define STLS_TEST_INTEROP_UTIL_H

#include "lib/tls/tls_pair.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct child {
	pid_t pid;
	int in;  /* its stdin */
	int out; /* its stdout (and stderr with err_out) */
	bool err_out;
};

static UNUSED long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static UNUSED bool have(const char *prog)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Start argv; stderr goes to the stdout pipe too when ch->err_out. */
static UNUSED void spawn(struct child *ch, char *const argv[])
{
	int in[2], out[2];

	CHECK_OK(pipe(in));
	CHECK_OK(pipe(out));
	ch->pid = fork();
	CHECK(ch->pid >= 0);
	if (ch->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* Dies with the test process, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(ch->err_out ? out[1] : null, 2);
		close(in[1]);
		close(out[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ch->in = in[1];
	ch->out = out[0];
	fcntl(ch->out, F_SETFL, O_NONBLOCK);
}

static UNUSED void reap(struct child *ch)
{
	int i, st;

	if (ch->pid <= 0) {
		return;
	}
	close(ch->in);
	close(ch->out);
	kill(ch->pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(ch->pid, &st, WNOHANG) == ch->pid) {
			ch->pid = 0;
			return;
		}
		usleep(20000);
	}
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, &st, 0);
	ch->pid = 0;
}

static UNUSED int connect_retry(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	long long end = now_ms() + 10000;

	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (now_ms() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		CHECK(fd >= 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			fcntl(fd, F_SETFL, O_NONBLOCK);
			return fd;
		}
		close(fd);
		usleep(50000);
	}
	return -1;
}

static UNUSED int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(fd, 4));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&a, &len));
	*port = ntohs(a.sin_port);
	return fd;
}

static UNUSED int accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	CHECK(poll(&p, 1, ms) == 1);
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Consume buf up to and including the first `want`; keep the rest. */
static UNUSED bool take_match(char *buf, size_t *len, const char *want)
{
	char *m = strstr(buf, want);
	size_t used;

	if (m == NULL) {
		return false;
	}
	used = (size_t)(m - buf) + strlen(want);
	memmove(buf, buf + used, *len - used + 1);
	*len -= used;
	return true;
}

/*
 * Run the engine over fd: send `say` once established, stop when the
 * plaintext received contains `want` (or the child's stdout does, when
 * child_out >= 0). Bounded to 30 s. Returns true on success. What arrived
 * after `want` is kept for the next call on the same connection
 * (drive_reset() forgets it): a peer
 * that answers fast can put two expected lines in one read.
 */
static char rx[65536], crx[65536];
static size_t rxlen, crxlen;

/* Forget what drive() kept: call it for every new connection. */
static UNUSED void drive_reset(void)
{
	rxlen = crxlen = 0;
	rx[0] = crx[0] = '\0';
}

static UNUSED bool drive(int fd, struct stls_conn *c, const char *say,
		  const char *want, int child_out)
{
	long long end = now_ms() + 30000; /* a busy machine is slow */
	bool said = false;
	while (now_ms() < end) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = child_out, .events = POLLIN } };
		unsigned char buf[4096];
		size_t n, got = 0;
		const void *d;
		ssize_t r;
		enum stls_io io;

		io = stls_conn_drain(c, rx + rxlen, sizeof(rx) - 1 - rxlen,
				     &got);
		rxlen += got;
		rx[rxlen] = '\0';
		if (io == STLS_IO_FAILED) {
			fprintf(stderr, "engine failed: %s\n",
				stls_conn_get_detail(c));
			return false;
		}
		if (!said && stls_conn_get_state(c) == STLS_CONN_ESTABLISHED) {
			CHECK_EQ(stls_conn_push(c, say, strlen(say)),
				 (long long)strlen(say));
			said = true;
		}
		while ((d = stls_conn_peek(c, &n)) != NULL) {
			r = write(fd, d, n);
			if (r <= 0) {
				break;
			}
			stls_conn_consume(c, (size_t)r);
		}
		if (child_out >= 0 ? take_match(crx, &crxlen, want)
				   : take_match(rx, &rxlen, want)) {
			return true;
		}
		poll(p, child_out >= 0 ? 2 : 1, 100);
		r = read(fd, buf, sizeof(buf));
		if (r > 0) {
			CHECK_OK(stls_conn_feed(c, buf, (size_t)r));
		} else if (r == 0) {
			stls_conn_feed_eof(c);
		}
		if (child_out >= 0) {
			r = read(child_out, crx + crxlen,
				 sizeof(crx) - 1 - crxlen);
			if (r > 0) {
				crxlen += (size_t)r;
				crx[crxlen] = '\0';
			}
		}
	}
	fprintf(stderr, "timeout; got '%s' / '%s'\n", rx, crx);
	return false;
}

#endif
