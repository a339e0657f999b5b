/*
 * Tests for daemon/metrics/metrics.c: the HTTP server on loopback (GET
 * and HEAD of /metrics, 404 elsewhere, 405 for other methods, the
 * content type of the text format), scrapes counted, the same page
 * from stls_metrics_render(), and scrapes served while the process holds
 * more descriptors than select() can watch (a busy daemon).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/runtime/daemon_harness.h"
#include "metrics/metrics.h"
#include "runtime/handler_echo.h"

struct mfx {
	struct dh h;
	struct stls_core_conf core;
	struct stls_metrics *m;
};

static void mfx_start(struct mfx *f)
{
	struct stls_metrics_conf mc;
	struct stls_metrics_src src;

	memset(f, 0, sizeof(*f));
	dh_init(&f->h, 2, &stls_echo_handler);
	dh_listen(&f->h, "tcp:127.0.0.1:0");
	dh_start(&f->h);
	f->core.max_connections = 10;
	memset(&mc, 0, sizeof(mc));
	CHECK_OK(stls_addr_parse("127.0.0.1:0", true, &mc.addr));
	mc.on = true;
	memset(&src, 0, sizeof(src));
	src.d = f->h.d;
	src.core = &f->core;
	CHECK_OK(stls_metrics_start(&mc, &src, &f->m));
	CHECK(stls_metrics_port(f->m) > 0);
}

static void mfx_free(struct mfx *f)
{
	stls_metrics_free(f->m);
	dh_free(&f->h);
}

/* Sends <req> and reads the whole reply (the server closes: HTTP/1.0). */
static char *http(struct mfx *f, const char *req)
{
	struct stls_addr a;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	CHECK_NOT_NULL(buf);
	CHECK_OK(stls_addr_parse("127.0.0.1:1", true, &a));
	a.port = stls_metrics_port(f->m);
	fd = dh_connect(&a);
	CHECK_EQ((size_t)send(fd, req, strlen(req), 0), strlen(req));
	while ((n = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			CHECK_NOT_NULL(buf);
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

TEST(get_metrics)
{
	struct mfx f;
	char *r;

	mfx_start(&f);
	r = http(&f, "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strncmp(r, "HTTP/1.0 200 OK\r\n", 17) == 0 ||
	      strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(r, "Content-Type: text/plain; version=0.0.4; "
			"charset=utf-8\r\n"));
	CHECK(strstr(r, "\r\n\r\n# HELP siptls_build_info "));
	CHECK(strstr(r, "siptls_connections_max 10\n"));
	CHECK(strstr(r, "siptls_metrics_scrapes_total 1\n"));
	free(r);
	r = http(&f, "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, "siptls_metrics_scrapes_total 2\n"));
	free(r);
	mfx_free(&f);
}

TEST(head_has_no_body)
{
	struct mfx f;
	char *r;

	mfx_start(&f);
	r = http(&f, "HEAD /metrics HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 200 OK\r\n"));
	CHECK(!strstr(r, "# HELP"));
	free(r);
	mfx_free(&f);
}

TEST(other_paths_and_methods)
{
	struct mfx f;
	char *r;

	mfx_start(&f);
	r = http(&f, "GET / HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 404 Not Found\r\n"));
	CHECK(strstr(r, "try /metrics"));
	free(r);
	r = http(&f, "GET /metrics/x HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 404 Not Found\r\n"));
	free(r);
	r = http(&f, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	CHECK(strstr(r, " 405 Method Not Allowed\r\n"));
	CHECK(strstr(r, "Allow: GET, HEAD\r\n"));
	free(r);
	mfx_free(&f);
}

/* A daemon with thousands of connections: the scrape's socket gets a
 * descriptor above FD_SETSIZE (1024), which a select()-based server
 * refuses. */
TEST(scrape_with_descriptors_above_fd_setsize)
{
	enum { HOLD = 1100 };
	struct rlimit rl;
	static int held[HOLD];
	struct mfx f;
	char *r;
	int i, n = 0;

	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < HOLD + 64 && rl.rlim_max >= HOLD + 64) {
		rl.rlim_cur = HOLD + 64;
		CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	}
	CHECK(rl.rlim_cur >= HOLD + 64);
	mfx_start(&f);
	for (i = 0; i < HOLD; i++) {
		held[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		CHECK(held[i] >= 0);
		n++;
	}
	CHECK(held[HOLD - 1] >= 1024);
	r = http(&f, "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 200 OK\r\n"));
	CHECK(strstr(r, "siptls_metrics_scrapes_total 1\n"));
	free(r);
	for (i = 0; i < n; i++)
		close(held[i]);
	mfx_free(&f);
}

TEST(render_matches_a_scrape)
{
	struct mfx f;
	size_t len;
	char *page;

	mfx_start(&f);
	CHECK_OK(stls_metrics_render(f.m, &page, &len));
	CHECK_EQ(strlen(page), len);
	CHECK(strncmp(page, "# HELP siptls_build_info ", 25) == 0);
	free(page);
	mfx_free(&f);
}

/* A taken port: the start fails, says so, and leaks nothing. */
TEST(port_in_use)
{
	struct stls_metrics_conf mc;
	struct stls_metrics_src src;
	struct stls_metrics *m2 = NULL;
	struct mfx f;

	mfx_start(&f);
	memset(&mc, 0, sizeof(mc));
	CHECK_OK(stls_addr_parse("127.0.0.1:1", true, &mc.addr));
	mc.addr.port = stls_metrics_port(f.m);
	memset(&src, 0, sizeof(src));
	src.d = f.h.d;
	src.core = &f.core;
	CHECK_EQ(stls_metrics_start(&mc, &src, &m2), -EADDRINUSE);
	CHECK(m2 == NULL);
	mfx_free(&f);
}
