/*
 * Unit tests for daemon/rpc/rpc_server.c: an in-process control server on a
 * temporary socket, driven by real socket clients. Framing, concurrency,
 * timeouts, limits, socket file safety, the loopback TCP option.
 *
 * The case serve_for_integration is not a test by itself: it runs a test
 * server for tests/integration/test_siptlsctl.sh when STLS_RPC_TEST_SOCKET
 * is set, and is skipped otherwise.
 */
#include "test.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "rpc/rpc_server.h"

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int t_set(struct stls_rpc_call *call, void *arg)
{
	(void)arg;
	return stls_rpc_reply_str(call, stls_rpc_param_str(call, 1));
}

static int t_table(struct stls_rpc_call *call, void *arg)
{
	json_t *a = json_array(), *o;
	int i, rc = 0;

	(void)arg;
	for (i = 1; i <= 2 && !rc; i++) {
		o = json_object();
		/* a takes the reference; o stays valid while a holds it. */
		rc = stls_rpc_arr_push(a, o);
		if (!rc) {
			rc = stls_rpc_obj_set_int(o, "id", i);
		}
		if (!rc) {
			rc = stls_rpc_obj_set_str(o, "src_ip",
						  i == 1 ? "192.0.2.1"
						  : "2001:db8::1");
		}
		if (!rc) {
			rc = stls_rpc_obj_set_str(o, "state",
						  "established");
		}
	}
	if (rc) {
		json_decref(a);
		return rc;
	}
	return stls_rpc_reply(call, a);
}

static int t_info(struct stls_rpc_call *call, void *arg)
{
	json_t *o = json_object();
	int rc;

	(void)arg;
	rc = stls_rpc_obj_set_int(o, "max_connections", 2048);
	if (!rc) {
		rc = stls_rpc_obj_set_int(o, "opened_connections", 3);
	}
	if (!rc) {
		rc = stls_rpc_obj_set_str(o, "note", "a b");
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	return stls_rpc_reply(call, o);
}

static int t_fail(struct stls_rpc_call *call, void *arg)
{
	(void)arg;
	return stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
			     "TLS connection id not found");
}

static int t_sleep(struct stls_rpc_call *call, void *arg)
{
	(void)arg;
	usleep((useconds_t)stls_rpc_param_int(call, 0) * 1000);
	return 0;
}

static const struct stls_rpc_method test_methods[] = {
	{ "test.set", t_set, "group:str name:str value:int",
	  "Set a test value.", STLS_RPC_F_WRITE },
	{ "test.list", t_table, "", "Two fake connections.", 0 },
	{ "test.info", t_info, "", "A small object.", 0 },
	{ "test.kill", t_fail, "id:int", "Always: id not found.", 0 },
	{ "test.sleep", t_sleep, "ms:int", "Sleep on the control thread.", 0 },
	STLS_RPC_METHOD_END
};

struct fixture {
	struct stls_rpc *rpc;
	struct stls_rpc_server *srv;
	char path[256];
};

static int start(struct fixture *f, struct stls_rpc_server_conf *conf)
{
	conf->unix_path = f->path;
	return stls_rpc_server_start(f->rpc, conf, &f->srv);
}

static void setup(struct fixture *f, struct stls_rpc_server_conf *conf)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", test_tmp_dir());
	CHECK_OK(stls_rpc_new(&f->rpc));
	CHECK_OK(stls_rpc_register(f->rpc, test_methods, NULL));
	if (conf) {
		CHECK_OK(start(f, conf));
	}
}

static void teardown(struct fixture *f)
{
	stls_rpc_server_stop(f->srv);
	stls_rpc_free(f->rpc);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int connect_tcp(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		CHECK(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/*
 * Reads one line (without "\n") into buf within timeout_ms. Returns its
 * length, 0 on EOF before any byte, -1 on timeout.
 */
static ssize_t read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	uint64_t end = ms_now() + (uint64_t)timeout_ms;
	size_t n = 0;
	ssize_t r;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (n + 1 < cap) {
		uint64_t now = ms_now();

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0) {
			return -1;
		}
		r = recv(fd, buf + n, 1, 0);
		if (r <= 0) {
			buf[n] = '\0';
			return (ssize_t)n;
		}
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (ssize_t)n;
		}
		n++;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

#define ECHO(id) \
	"{\"jsonrpc\":\"2.0\",\"method\":\"core.echo\",\"params\":[" #id \
	"],\"id\":" #id "}\n"

TEST(server_basic_call_and_socket_mode)
{
	struct stls_rpc_server_conf conf = { 0 };
	struct fixture f;
	struct stat st;
	char line[512];
	int fd;

	setup(&f, &conf);
	CHECK_OK(lstat(f.path, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0660);
	CHECK_EQ(st.st_mode & S_IWOTH, 0);
	fd = connect_unix(f.path);
	CHECK(fd >= 0);
	send_all(fd, ECHO(1), strlen(ECHO(1)));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_EQ(line, "{\"jsonrpc\":\"2.0\",\"result\":[1],\"id\":1}");
	close(fd);
	teardown(&f);
	/* Stop removes the socket it created. */
	CHECK(lstat(f.path, &st) != 0 && errno == ENOENT);
}

TEST(server_socket_mode_configurable_never_world_writable)
{
	struct stls_rpc_server_conf conf = { .unix_mode = 0600 };
	struct fixture f;
	struct stat st;

	setup(&f, &conf);
	CHECK_OK(lstat(f.path, &st));
	CHECK_EQ(st.st_mode & 0777, 0600);
	stls_rpc_server_stop(f.srv);
	f.srv = NULL;
	conf.unix_mode = 0666;
	CHECK_EQ(start(&f, &conf), -EINVAL);
	conf.unix_mode = 0662;
	CHECK_EQ(start(&f, &conf), -EINVAL);
	conf.unix_mode = 04660;
	CHECK_EQ(start(&f, &conf), -EINVAL);
	CHECK(lstat(f.path, &st) != 0); /* nothing left behind */
	teardown(&f);
}

TEST(server_pipelined_requests_crlf_blank_lines_notifications)
{
	struct stls_rpc_server_conf conf = { 0 };
	const char *req = "\n" ECHO(1)
		"{\"jsonrpc\":\"2.0\",\"method\":\"core.echo\"}\r\n"
		"   \r\n" ECHO(2);
	struct fixture f;
	char line[512];
	int fd;

	setup(&f, &conf);
	fd = connect_unix(f.path);
	send_all(fd, req, strlen(req));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"id\":1}");
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"id\":2}");
	close(fd);
	teardown(&f);
}

TEST(server_last_request_without_newline_served_at_eof)
{
	struct stls_rpc_server_conf conf = { 0 };
	const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"core.echo\","
			  "\"id\":9}";
	struct fixture f;
	char line[512];
	int fd;

	setup(&f, &conf);
	fd = connect_unix(f.path);
	send_all(fd, req, strlen(req));
	shutdown(fd, SHUT_WR);
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"result\":[],\"id\":9");
	CHECK_EQ(read_line(fd, line, sizeof(line), 5000), 0); /* closed */
	close(fd);
	teardown(&f);
}

TEST(server_parse_error_keeps_connection)
{
	struct stls_rpc_server_conf conf = { 0 };
	struct fixture f;
	char line[512];
	int fd;

	setup(&f, &conf);
	fd = connect_unix(f.path);
	send_all(fd, "{oops\n" ECHO(3), strlen("{oops\n" ECHO(3)));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "-32700");
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"id\":3");
	close(fd);
	teardown(&f);
}

struct worker {
	const char *path;
	int ok;
};

static void *client_thread(void *arg)
{
	struct worker *w = arg;
	char req[128], want[128], line[256];
	int fd = connect_unix(w->path), i;

	for (i = 0; fd >= 0 && i < 50; i++) {
		snprintf(req, sizeof(req),
			 "{\"jsonrpc\":\"2.0\",\"method\":\"core.echo\","
			 "\"params\":[%d],\"id\":%d}\n",
			 i, i);
		snprintf(want, sizeof(want), "\"result\":[%d],\"id\":%d}", i,
			 i);
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
		    read_line(fd, line, sizeof(line), 5000) <= 0 ||
		    !strstr(line, want)) {
			break;
		}
		w->ok++;
	}
	if (fd >= 0) {
		close(fd);
	}
	return NULL;
}

TEST(server_concurrent_clients)
{
	struct stls_rpc_server_conf conf = { 0 };
	struct worker w[16];
	pthread_t th[16];
	struct fixture f;
	int i;

	setup(&f, &conf);
	for (i = 0; i < 16; i++) {
		w[i] = (struct worker){ .path = f.path };
		CHECK_OK(pthread_create(&th[i], NULL, client_thread, &w[i]));
	}
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(w[i].ok, 50);
	}
	teardown(&f);
}

TEST(server_silent_client_timed_out_without_blocking_others)
{
	struct stls_rpc_server_conf conf = { .idle_timeout_ms = 400 };
	struct fixture f;
	char line[512];
	uint64_t t0, t;
	int silent, drip, fd, i;

	setup(&f, &conf);
	t0 = ms_now();
	silent = connect_unix(f.path);
	drip = connect_unix(f.path);
	send_all(silent, "{\"jsonrpc\":", 11); /* and nothing more */
	fd = connect_unix(f.path);
	/* Another client is served promptly meanwhile. */
	for (i = 0; i < 5; i++) {
		t = ms_now();
		send_all(fd, ECHO(4), strlen(ECHO(4)));
		CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
		CHECK(ms_now() - t < 200);
		send_all(drip, " ", 1); /* drip-feeding does not extend */
		usleep(50 * 1000);
	}
	CHECK_EQ(read_line(silent, line, sizeof(line), 3000), 0);
	t = ms_now() - t0;
	CHECK(t >= 350 && t < 2500);
	CHECK_EQ(read_line(drip, line, sizeof(line), 3000), 0);
	close(silent);
	close(drip);
	close(fd);
	teardown(&f);
}

TEST(server_oversized_request_refused)
{
	struct stls_rpc_server_conf conf = { .max_request = 1024 };
	struct fixture f;
	char big[4096], line[512];
	int fd;

	setup(&f, &conf);
	memset(big, ' ', sizeof(big));
	fd = connect_unix(f.path);
	send_all(fd, big, sizeof(big));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"code\":-32600");
	CHECK_STR_HAS(line, "request too large");
	CHECK_EQ(read_line(fd, line, sizeof(line), 5000), 0);
	close(fd);
	/* A request of exactly the limit is fine. */
	fd = connect_unix(f.path);
	memcpy(big + 1024 - strlen(ECHO(5)) + 1, ECHO(5), strlen(ECHO(5)));
	send_all(fd, big, 1025);
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"id\":5");
	close(fd);
	teardown(&f);
}

TEST(server_stale_socket_replaced_live_socket_refused)
{
	struct stls_rpc_server_conf conf = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stls_rpc_server *second = NULL;
	struct fixture f;
	char line[512];
	int fd;

	setup(&f, NULL);
	/* A socket file nobody listens on: what a crashed daemon leaves. */
	strcpy(sa.sun_path, f.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	CHECK_OK(start(&f, &conf));
	/* A second server on the same live socket is refused... */
	CHECK_EQ(stls_rpc_server_start(f.rpc, &conf, &second), -EADDRINUSE);
	CHECK_NULL(second);
	/* ...and the first still serves. */
	fd = connect_unix(f.path);
	send_all(fd, ECHO(6), strlen(ECHO(6)));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	close(fd);
	teardown(&f);
}

TEST(server_refuses_non_socket_path)
{
	struct stls_rpc_server_conf conf = { 0 };
	struct fixture f;
	struct stat st;
	FILE *fp;

	setup(&f, NULL);
	fp = fopen(f.path, "w");
	fputs("keep me\n", fp);
	fclose(fp);
	CHECK_EQ(start(&f, &conf), -EEXIST);
	CHECK_OK(lstat(f.path, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 8);
	/* A path too long for sun_path. */
	memset(f.path, 'a', sizeof(f.path) - 1);
	f.path[0] = '/';
	f.path[200] = '\0';
	CHECK_EQ(start(&f, &conf), -ENAMETOOLONG);
	teardown(&f);
}

TEST(server_tcp_loopback_only_and_read_only)
{
	struct stls_rpc_server_conf conf = { .tcp = "0.0.0.0:0" };
	const char *set = "{\"jsonrpc\":\"2.0\",\"method\":\"test.set\","
			  "\"params\":[\"tls\",\"x\",1],\"id\":1}\n";
	struct fixture f;
	char line[512];
	int fd;

	setup(&f, NULL);
	CHECK_EQ(start(&f, &conf), -EADDRNOTAVAIL);
	conf.tcp = "192.0.2.1:0";
	CHECK_EQ(start(&f, &conf), -EADDRNOTAVAIL);
	conf.tcp = "[::]:0";
	CHECK_EQ(start(&f, &conf), -EADDRNOTAVAIL);
	conf.tcp = "localhost:1";
	CHECK_EQ(start(&f, &conf), -EINVAL);
	conf.tcp = "127.0.0.1:0";
	CHECK_OK(start(&f, &conf));
	CHECK(stls_rpc_server_tcp_port(f.srv) != 0);
	fd = connect_tcp(stls_rpc_server_tcp_port(f.srv));
	CHECK(fd >= 0);
	send_all(fd, ECHO(7), strlen(ECHO(7)));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"id\":7");
	send_all(fd, set, strlen(set));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"code\":403");
	close(fd);
	/* The same method works on the Unix socket. */
	fd = connect_unix(f.path);
	send_all(fd, set, strlen(set));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"result\":\"x\"");
	close(fd);
	stls_rpc_server_stop(f.srv);
	/* tcp_allow_write opens it up. */
	conf.tcp_allow_write = true;
	CHECK_OK(start(&f, &conf));
	fd = connect_tcp(stls_rpc_server_tcp_port(f.srv));
	send_all(fd, set, strlen(set));
	CHECK(read_line(fd, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"result\":\"x\"");
	close(fd);
	teardown(&f);
}

TEST(server_client_limit)
{
	struct stls_rpc_server_conf conf = { .max_clients = 2 };
	struct fixture f;
	char line[512];
	int a, b, c;

	setup(&f, &conf);
	a = connect_unix(f.path);
	b = connect_unix(f.path);
	send_all(a, ECHO(1), strlen(ECHO(1)));
	CHECK(read_line(a, line, sizeof(line), 5000) > 0);
	send_all(b, ECHO(2), strlen(ECHO(2)));
	CHECK(read_line(b, line, sizeof(line), 5000) > 0);
	c = connect_unix(f.path);
	CHECK(read_line(c, line, sizeof(line), 5000) > 0);
	CHECK_STR_HAS(line, "\"code\":503");
	close(a);
	close(b);
	close(c);
	teardown(&f);
}

TEST(server_stop_with_clients_connected)
{
	struct stls_rpc_server_conf conf = { 0 };
	struct fixture f;
	char line[64];
	int a, b;

	setup(&f, &conf);
	a = connect_unix(f.path);
	b = connect_unix(f.path);
	send_all(b, "{\"jsonrpc\"", 10);
	usleep(20 * 1000);
	stls_rpc_server_stop(f.srv);
	f.srv = NULL;
	CHECK_EQ(read_line(a, line, sizeof(line), 2000), 0);
	CHECK_EQ(read_line(b, line, sizeof(line), 2000), 0);
	close(a);
	close(b);
	teardown(&f);
}

/* ---- Test server for tests/integration/test_siptlsctl.sh ---- */

TEST(serve_for_integration)
{
	const char *path = getenv("STLS_RPC_TEST_SOCKET");
	const char *stop = getenv("STLS_RPC_TEST_STOP");
	const char *port_file = getenv("STLS_RPC_TEST_PORT_FILE");
	struct stls_rpc_server_conf conf = { .tcp = "127.0.0.1:0" };
	struct fixture f;
	FILE *fp;
	int i;

	if (!path || !stop || !port_file) {
		test_skip("only for test_siptlsctl.sh");
	}
	setup(&f, NULL);
	snprintf(f.path, sizeof(f.path), "%s", path);
	CHECK_OK(start(&f, &conf));
	fp = fopen(port_file, "w");
	CHECK_NOT_NULL(fp);
	fprintf(fp, "%u\n", (unsigned)stls_rpc_server_tcp_port(f.srv));
	fclose(fp);
	for (i = 0; i < 1200 && access(stop, F_OK) != 0; i++) {
		usleep(50 * 1000); /* at most 60 s */
	}
	teardown(&f);
}
