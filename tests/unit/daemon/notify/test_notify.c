/*
 * Tests for daemon/notify/notify.c: the messages sd_notify sends to a
 * NOTIFY_SOCKET the test binds itself, the watchdog's rhythm, and that a
 * worker stuck in a loop turn stops the watchdog until it answers again.
 * ctest-label: tsan
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "daemon/runtime/daemon_harness.h"
#include "notify/notify.h"
#include "runtime/handler_echo.h"

struct sd {
	int fd;
	char path[108];
};

static void sd_open(struct sd *s, const char *usec)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 0, 20000 };

	snprintf(s->path, sizeof(s->path), "%s/notify.sock", test_tmp_dir());
	unlink(s->path);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(s->fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	CHECK_OK(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK_OK(setenv("NOTIFY_SOCKET", s->path, 1));
	if (usec)
		CHECK_OK(setenv("WATCHDOG_USEC", usec, 1));
	else
		unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* The next datagram's text ("" when none came within 20 ms). */
static void sd_recv(struct sd *s, char *buf, size_t len)
{
	ssize_t n = recv(s->fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/* Runs <loop> for about <ms> and counts the WATCHDOG=1 that arrive. */
static int run_count(uv_loop_t *loop, struct sd *s, int ms)
{
	uint64_t end = dh_now_ms() + (uint64_t)ms;
	char buf[256];
	int n = 0;

	while (dh_now_ms() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		sd_recv(s, buf, sizeof(buf));
		if (strstr(buf, "WATCHDOG=1"))
			n++;
	}
	return n;
}

TEST(messages_without_watchdog)
{
	struct stls_notify *n = NULL;
	uv_loop_t loop;
	char buf[256];
	struct sd s;
	struct dh h;

	sd_open(&s, NULL);
	dh_init(&h, 1, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	CHECK_OK(uv_loop_init(&loop));
	CHECK_OK(stls_notify_new(h.d, &loop, &n));
	CHECK_EQ(stls_notify_watchdog_usec(n), 0);
	stls_notify_ready(n, "serving");
	sd_recv(&s, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "READY=1\nSTATUS=serving");
	stls_notify_reloading(n);
	sd_recv(&s, buf, sizeof(buf));
	CHECK(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	CHECK(strtoull(buf + 27, NULL, 10) > 0);
	stls_notify_ready(n, NULL);
	sd_recv(&s, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "READY=1");
	stls_notify_stopping(n);
	sd_recv(&s, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "STOPPING=1");
	stls_notify_free(n);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_OK(uv_loop_close(&loop));
	dh_free(&h);
	close(s.fd);
}

/* A message that keeps its worker busy for 600 ms. */
static void block_worker(struct stls_worker *w, struct stls_dconn *c,
			 struct stls_msg *m, bool cancelled)
{
	(void)w;
	(void)c;
	if (!cancelled)
		dh_sleep_ms(600);
	free(m);
}

TEST(watchdog_needs_every_worker)
{
	struct stls_notify *n = NULL;
	struct stls_msg *m;
	uv_loop_t loop;
	struct sd s;
	struct dh h;
	int got;

	sd_open(&s, "200000"); /* 200 ms: a tick every 100 ms */
	dh_init(&h, 2, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	CHECK_OK(uv_loop_init(&loop));
	CHECK_OK(stls_notify_new(h.d, &loop, &n));
	CHECK_EQ(stls_notify_watchdog_usec(n), 200000);
	got = run_count(&loop, &s, 1000);
	CHECK(got >= 6 && got <= 11);
	/* Worker 1 stuck for 600 ms: at most the ping already earned
	 * leaves, then none until it answers again. */
	m = calloc(1, sizeof(*m));
	CHECK_NOT_NULL(m);
	m->fn = block_worker;
	CHECK_OK(stls_daemon_post(h.d, 1, m));
	dh_sleep_ms(20);
	got = run_count(&loop, &s, 450);
	CHECK(got <= 1);
	got = run_count(&loop, &s, 800);
	CHECK(got >= 3);
	stls_notify_stopping(n);
	stls_notify_free(n);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_OK(uv_loop_close(&loop));
	dh_free(&h);
	close(s.fd);
}

/* No NOTIFY_SOCKET: every call is silent and harmless. */
TEST(no_service_manager)
{
	struct stls_notify *n = NULL;
	uv_loop_t loop;
	struct dh h;

	unsetenv("NOTIFY_SOCKET");
	CHECK_OK(setenv("WATCHDOG_USEC", "100000", 1));
	dh_init(&h, 1, &stls_echo_handler);
	dh_listen(&h, "tcp:127.0.0.1:0");
	dh_start(&h);
	CHECK_OK(uv_loop_init(&loop));
	CHECK_OK(stls_notify_new(h.d, &loop, &n));
	stls_notify_ready(n, "x");
	stls_notify_reloading(n);
	stls_notify_stopping(n);
	stls_notify_free(n);
	stls_notify_free(NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_OK(uv_loop_close(&loop));
	dh_free(&h);
}
