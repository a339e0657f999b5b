/*
 * Unit tests for daemon/tlsx/tlsx.c: the TLS transform in a real in-process
 * daemon. Inbound: an OpenSSL client of the test's own against a tls:
 * listener with the echo handler. Outbound: stls_tlsx_connect() towards
 * `openssl s_server` (a peer nobody here wrote), with the RFC 5922 name
 * check and the connection-out hook.
 */
/* ctest-label: tsan */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"
#include "stls/conf.h"
#include "runtime/tls_info.h"
#include "tlsx/tlsx.h"

struct fixture {
	struct dh h;
	struct stls_conf *conf;
	struct stls_core_conf core;
	struct stls_pstore *ps;
	struct stls_tlsx *t;
};

/* What the recording handler saw on outbound connections. */
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static char rec_data[4096];
static size_t rec_len;
static int rec_closed;
static char rec_detail[256];
static char rec_sni[640];

static int rec_data_fn(struct stls_dconn *c, const uint8_t *p, size_t n,
		       void *arg)
{
	(void)c;
	(void)arg;
	pthread_mutex_lock(&rec_lock);
	if (rec_len + n < sizeof(rec_data)) {
		memcpy(rec_data + rec_len, p, n);
		rec_len += n;
	}
	pthread_mutex_unlock(&rec_lock);
	return 0;
}

static void rec_close_fn(struct stls_dconn *c, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rec_lock);
	snprintf(rec_detail, sizeof(rec_detail), "%s", stls_tlsx_detail(c));
	rec_closed = 1;
	pthread_mutex_unlock(&rec_lock);
}

static void rec_established_fn(struct stls_dconn *c, void *arg)
{
	struct stls_tls_info info;

	(void)arg;
	if (!c->xform.ops || !c->xform.ops->describe)
		return;
	c->xform.ops->describe(c->xform.x, &info);
	pthread_mutex_lock(&rec_lock);
	snprintf(rec_sni, sizeof(rec_sni), "%s|%s|%d", info.sni,
		 info.profile, info.verified);
	pthread_mutex_unlock(&rec_lock);
}

static const struct stls_handler_ops rec_handler = {
	.name = "record",
	.data = rec_data_fn,
	.close = rec_close_fn,
	.established = rec_established_fn,
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

/* Loads a main config with the test PKI and starts one worker. */
static void fx_start(struct fixture *fx, const struct stls_handler_ops *h,
		     const char *client_extra, stls_conn_out_fn *hook)
{
	char path[512], text[4096];
	struct stls_diag diag;
	struct stls_tlsx_conf tc = { 0 };

	memset(fx, 0, sizeof(*fx));
	snprintf(path, sizeof(path), "%s/main.cfg", test_tmp_dir());
	snprintf(text, sizeof(text),
		 "[server:default]\ncertificate = %s\n"
		 "private_key = %s\n"
		 "[client:default]\nverify_certificate = yes\n"
		 "ca_list = %s\n%s",
		 test_cert_path("server.pem"), test_cert_path("server.key"),
		 test_cert_path("ca.pem"), client_extra);
	write_file(path, text);
	stls_diag_init(&diag);
	if (stls_conf_load(path, &fx->conf, &diag) != 0)
		stls_diag_print(&diag, stderr);
	CHECK_NOT_NULL(fx->conf);
	fx->core.listen = fx->h.listen;
	CHECK_OK(stls_pstore_new(fx->conf, &fx->conf->tls, &fx->core, &diag,
				 &fx->ps));
	stls_diag_fini(&diag);
	tc.ps = fx->ps;
	tc.live = &fx->conf->tls;
	tc.conn_out = hook;
	CHECK_OK(stls_tlsx_new(&tc, &fx->t));
	dh_init(&fx->h, 1, h);
	dh_listen(&fx->h, "tls:127.0.0.1:0");
	stls_tlsx_install(fx->t, &fx->h.o);
	dh_start(&fx->h);
}

static void fx_stop(struct fixture *fx)
{
	dh_free(&fx->h);
	stls_tlsx_free(fx->t);
	stls_pstore_free(fx->ps);
	stls_conf_free(fx->conf);
}

/* An OpenSSL client of the test's own: handshake, send, read back. */
static void tls_echo_round_trip(const struct stls_addr *a)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	char buf[64];
	int fd = dh_connect(a), n;

	CHECK_EQ(SSL_CTX_load_verify_locations(ctx, test_cert_path("ca.pem"),
					       NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "sip.example.test");
	CHECK_EQ(SSL_connect(ssl), 1);
	CHECK_EQ(SSL_write(ssl, "ping", 4), 4);
	n = SSL_read(ssl, buf, sizeof(buf));
	CHECK_EQ(n, 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

TEST(tlsx_inbound_echo)
{
	struct fixture fx;
	struct stls_tlsx_stats st;
	int i;

	fx_start(&fx, &stls_echo_handler, "", NULL);
	for (i = 0; i < 3; i++)
		tls_echo_round_trip(stls_daemon_bound(fx.h.d, 0));
	stls_tlsx_stats(fx.t, &st);
	CHECK_EQ(st.handshakes, 3);
	CHECK_EQ(st.handshake_failures, 0);
	fx_stop(&fx);
}

TEST(tlsx_inbound_garbage_counts_a_failed_handshake)
{
	struct fixture fx;
	struct stls_tlsx_stats st;
	char buf[64];
	int fd;

	fx_start(&fx, &stls_echo_handler, "", NULL);
	fd = dh_connect(stls_daemon_bound(fx.h.d, 0));
	dh_send_all(fd, "OPTIONS sip:x SIP/2.0\r\n\r\n", 25);
	/* The daemon answers with an alert, or just closes. */
	(void)dh_recv_n(fd, buf, sizeof(buf));
	close(fd);
	dh_sleep_ms(100);
	stls_tlsx_stats(fx.t, &st);
	CHECK_EQ(st.handshake_failures, 1);
	tls_echo_round_trip(stls_daemon_bound(fx.h.d, 0));
	fx_stop(&fx);
}

/* Starts `openssl s_server -rev` on <port> with cert/key; returns its pid
 * once it accepts connections. Stop it with stop_peer(). */
static pid_t start_s_server(int port, const char *cert, const char *key)
{
	char portstr[16];
	struct stls_addr a;
	pid_t pid;
	int i, fd;

	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("timeout", "timeout", "30", "openssl", "s_server",
		       "-accept", portstr, "-cert", cert, "-key", key, "-rev",
		       NULL);
		_exit(127);
	}
	CHECK_OK(stls_addr_parse("127.0.0.1", false, &a));
	a.port = (uint16_t)port;
	for (i = 0; i < 100; i++) {
		int s = dh_socket(AF_INET);

		if (dh_connect_fd(s, &a) == 0) {
			close(s);
			return pid;
		}
		close(s);
		dh_sleep_ms(50);
	}
	test_fail(__FILE__, __LINE__, "openssl s_server did not start");
}

/* A free loopback port (bound to 0, then released: a tiny race only). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void stop_peer(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

struct connect_msg {
	struct stls_msg m;
	struct stls_tlsx *t;
	struct stls_tlsx_target tg;
	int result;
	int done;
};

static void do_connect(struct stls_worker *w, struct stls_dconn *c,
		       struct stls_msg *m, bool cancelled)
{
	struct connect_msg *cm = (struct connect_msg *)m;
	struct stls_dconn *out = NULL;

	(void)c;
	if (!cancelled) {
		cm->result = stls_tlsx_connect(cm->t, w, &cm->tg, &out);
		if (cm->result == 0)
			cm->result = stls_dconn_send(out, (const uint8_t *)
						     "hello\n", 6);
	}
	__atomic_store_n(&cm->done, 1, __ATOMIC_RELEASE);
}

/* Connects from the worker and waits for the result. */
static int connect_out(struct fixture *fx, int port, const char *sni)
{
	struct connect_msg *cm = calloc(1, sizeof(*cm));
	int i, r;

	CHECK_NOT_NULL(cm);
	cm->m.fn = do_connect;
	cm->t = fx->t;
	CHECK_OK(stls_addr_parse("127.0.0.1", false, &cm->tg.dst));
	cm->tg.dst.port = (uint16_t)port;
	cm->tg.server_name = sni;
	cm->tg.sip_domain = "example.test";
	CHECK_OK(stls_daemon_post(fx->h.d, 0, &cm->m));
	for (i = 0; i < 500 && !__atomic_load_n(&cm->done, __ATOMIC_ACQUIRE);
	     i++)
		dh_sleep_ms(10);
	CHECK(cm->done);
	r = cm->result;
	free(cm);
	return r;
}

static void reset_rec(void)
{
	pthread_mutex_lock(&rec_lock);
	rec_len = 0;
	rec_closed = 0;
	rec_detail[0] = rec_sni[0] = '\0';
	pthread_mutex_unlock(&rec_lock);
}

/* Waits until cond() holds on the recorded state (bounded). */
static bool wait_rec(bool (*cond)(void))
{
	int i;
	bool ok = false;

	for (i = 0; i < 500 && !ok; i++) {
		pthread_mutex_lock(&rec_lock);
		ok = cond();
		pthread_mutex_unlock(&rec_lock);
		if (!ok)
			dh_sleep_ms(10);
	}
	return ok;
}

static bool got_reply(void)
{
	return rec_len >= 6;
}

static bool got_close(void)
{
	return rec_closed;
}

TEST(tlsx_outbound_verified_round_trip)
{
	struct fixture fx;
	struct stls_tlsx_stats st;
	int port = free_port();
	pid_t peer = start_s_server(port, test_cert_path("server.pem"),
				    test_cert_path("server.key"));

	reset_rec();
	fx_start(&fx, &rec_handler, "", NULL);
	CHECK_OK(connect_out(&fx, port, "sip.example.test"));
	CHECK(wait_rec(got_reply));
	pthread_mutex_lock(&rec_lock);
	/* s_server -rev sends each line back reversed. */
	CHECK(memmem(rec_data, rec_len, "olleh", 5) != NULL);
	CHECK_STR_EQ(rec_sni, "sip.example.test|TLSc<default>|1");
	pthread_mutex_unlock(&rec_lock);
	stls_tlsx_stats(fx.t, &st);
	CHECK_EQ(st.handshakes, 1);
	fx_stop(&fx);
	stop_peer(peer);
}

TEST(tlsx_outbound_wrong_name_fails_identity_check)
{
	struct fixture fx;
	struct stls_tlsx_stats st;
	int port = free_port();
	pid_t peer = start_s_server(port, test_cert_path("wrongname.pem"),
				    test_cert_path("wrongname.key"));

	reset_rec();
	fx_start(&fx, &rec_handler, "", NULL);
	CHECK_OK(connect_out(&fx, port, "sip.example.test"));
	CHECK(wait_rec(got_close));
	pthread_mutex_lock(&rec_lock);
	CHECK_EQ(rec_len, 0);
	CHECK_STR_HAS(rec_detail, "example.test");
	pthread_mutex_unlock(&rec_lock);
	stls_tlsx_stats(fx.t, &st);
	CHECK_EQ(st.identity_failures, 1);
	fx_stop(&fx);
	stop_peer(peer);
}

static int deny_established(const struct stls_conn_out_event *ev, void *arg)
{
	(void)arg;
	return ev->phase == STLS_CONN_OUT_ESTABLISHED ? -EPERM : 0;
}

static int deny_port;

static int deny_connect(const struct stls_conn_out_event *ev, void *arg)
{
	(void)arg;
	return ev->dst->port == deny_port ? -EPERM : 0;
}

TEST(tlsx_connection_out_hook_drops_before_any_data)
{
	struct fixture fx;
	struct stls_tlsx_stats st;
	int port = free_port();
	pid_t peer = start_s_server(port, test_cert_path("server.pem"),
				    test_cert_path("server.key"));

	reset_rec();
	fx_start(&fx, &rec_handler, "", deny_established);
	CHECK_OK(connect_out(&fx, port, "sip.example.test"));
	CHECK(wait_rec(got_close));
	pthread_mutex_lock(&rec_lock);
	CHECK_EQ(rec_len, 0); /* "hello" never left: no reversed echo */
	CHECK_STR_HAS(rec_detail, "connection-out hook");
	pthread_mutex_unlock(&rec_lock);
	stls_tlsx_stats(fx.t, &st);
	CHECK_EQ(st.conn_out_dropped, 1);
	fx_stop(&fx);
	stop_peer(peer);

	fx_start(&fx, &rec_handler, "", deny_connect);
	deny_port = free_port();
	CHECK_EQ(connect_out(&fx, deny_port, NULL), -EPERM);
	fx_stop(&fx);
}

/* The TLS counters line names every counter with its value (tls.info
 * names), and a NULL transform logs nothing. */
TEST(tlsx_stats_format)
{
	struct stls_tlsx_stats st;
	char buf[600];

	memset(&st, 0, sizeof(st));
	st.handshakes = 7;
	st.handshake_failures = 3;
	st.renegotiations_refused = 2;
	st.low_memory_refused = 5;
	st.ct_wq_bytes = 1234;
	stls_tlsx_stats_format(&st, buf, sizeof(buf));
	CHECK_STR_HAS(buf, "handshakes=7 ");
	CHECK_STR_HAS(buf, "handshake_failures=3 ");
	CHECK_STR_HAS(buf, "renegotiations_refused=2 ");
	CHECK_STR_HAS(buf, "low_memory_refused=5 ");
	CHECK_STR_HAS(buf, "ct_wq_bytes=1234");
	stls_tlsx_stats_format(&st, buf, 8);
	CHECK_EQ(strlen(buf), 7);
	stls_tlsx_stats_log(NULL);
}
