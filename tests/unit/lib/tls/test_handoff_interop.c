/*
 * Interop with the record hand-off on (TLS 1.3), against clients nobody
 * here wrote, on loopback: openssl s_client, gnutls-cli and Python's ssl
 * module. Each run: data both ways, KeyUpdates both ways (the client's,
 * with and without update_requested where the client can send one, and
 * ours through stls_conn_key_update(), after which a client asked to
 * update answers with its own), then a close: ours (the client must see
 * close_notify, not a bare EOF) or the client's (we must see close_notify:
 * state closing, reason peer). Key changes are checked in the record
 * state (the secrets change), data after each change in both directions.
 */
#include "lib/tls/interop_util.h"
#include "tls/tls_int.h"

/* One accepted connection, its engine and the client process. */
struct run {
	struct child ch;
	int fd;
	SSL_CTX *ctx;
	struct stls_conn *c;
	struct stls_settings set;
	unsigned char rd[48], wr[48];
};

static void run_open(struct run *r, char *argv[], int lfd, bool err_out)
{
	struct stls_conn_opts o = { 0 };

	memset(r, 0, sizeof(*r));
	r->ch.err_out = err_out;
	spawn(&r->ch, argv);
	r->fd = accept_within(lfd, 10000);
	close(lfd);
	r->ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			 TLS1_3_VERSION, TLS1_3_VERSION);
	settings_default(&r->set);
	r->set.send_close_notify = 1;
	o.role = STLS_ROLE_SERVER;
	o.ssl = SSL_new(r->ctx);
	o.settings = &r->set;
	CHECK_OK(stls_conn_new(&o, &r->c, NULL));
	drive_reset();
}

static void run_close(struct run *r)
{
	stls_conn_free(r->c);
	SSL_CTX_free(r->ctx);
	close(r->fd);
	reap(&r->ch);
}

/* Remember the current secrets (to see them change). */
static void keys_mark(struct run *r)
{
	memcpy(r->rd, r->c->rec->rd.secret, sizeof(r->rd));
	memcpy(r->wr, r->c->rec->wr.secret, sizeof(r->wr));
}

static bool rd_changed(const struct run *r)
{
	return memcmp(r->rd, r->c->rec->rd.secret, sizeof(r->rd)) != 0;
}

static bool wr_changed(const struct run *r)
{
	return memcmp(r->wr, r->c->rec->wr.secret, sizeof(r->wr)) != 0;
}

static void to_child(struct run *r, const char *line)
{
	CHECK(write(r->ch.in, line, strlen(line)) == (ssize_t)strlen(line));
}

/*
 * A line from us reaches the client (which reads whatever we queued
 * before it, a KeyUpdate included), then one from the client reaches us.
 */
static void exchange(struct run *r, const char *to_cl, const char *from_cl)
{
	char line[96];

	snprintf(line, sizeof(line), "%s\n", to_cl);
	CHECK(drive(r->fd, r->c, line, to_cl, r->ch.out));
	snprintf(line, sizeof(line), "%s\n", from_cl);
	to_child(r, line);
	CHECK(drive(r->fd, r->c, "", from_cl, -1));
}

/* Our KeyUpdate, then data both ways; with request, the client's
 * answer comes before its next data. */
static void server_key_update(struct run *r, bool request, int i)
{
	char a[32], b[32];

	keys_mark(r);
	CHECK_OK(stls_conn_key_update(r->c, request));
	snprintf(a, sizeof(a), "pong-our-ku-%d", i);
	snprintf(b, sizeof(b), "after-our-ku-%d", i);
	exchange(r, a, b);
	CHECK(wr_changed(r));
	CHECK_EQ(rd_changed(r), request);
}

/* The client's KeyUpdate on command (cmd: its stdin line), then data. */
static void client_key_update(struct run *r, const char *cmd, int i)
{
	char line[32], a[32], b[32];

	keys_mark(r);
	snprintf(line, sizeof(line), "%s\n", cmd);
	to_child(r, line);
	/* Alone in its read(), or the client sends it as data. */
	usleep(300000);
	snprintf(a, sizeof(a), "pong-client-ku-%d", i);
	snprintf(b, sizeof(b), "after-client-ku-%d", i);
	exchange(r, a, b);
	CHECK(rd_changed(r));
}

/* Bytes both ways until the engine leaves ESTABLISHED (30 s at most). */
static void drive_until_closing(struct run *r)
{
	long long end = now_ms() + 30000;
	unsigned char buf[4096], plain[4096];

	while (now_ms() < end &&
	       stls_conn_get_state(r->c) == STLS_CONN_ESTABLISHED) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		ssize_t n;
		size_t got;

		poll(&p, 1, 100);
		n = read(r->fd, buf, sizeof(buf));
		if (n == 0) {
			stls_conn_feed_eof(r->c);
		}
		(void)!stls_conn_feed_drain(r->c, buf, n > 0 ? (size_t)n : 0,
					    plain, sizeof(plain), &got);
	}
}

/* Our close_notify, written to the socket. */
static void server_close(struct run *r)
{
	const void *p;
	size_t n;

	CHECK_EQ(stls_conn_close(r->c), STLS_IO_DONE);
	while ((p = stls_conn_peek(r->c, &n)) != NULL) {
		ssize_t w = write(r->fd, p, n);

		CHECK(w > 0);
		stls_conn_consume(r->c, (size_t)w);
	}
}

static char child_out[65536];

/* The child's output, until it holds want or 30 s have passed. */
static bool child_says(struct run *r, const char *want)
{
	char *out = child_out;
	long long end = now_ms() + 30000;
	size_t len = 0;

	out[0] = '\0';
	while (now_ms() < end && !strstr(out, want)) {
		struct pollfd p = { .fd = r->ch.out, .events = POLLIN };
		ssize_t n;

		poll(&p, 1, 100);
		n = read(r->ch.out, out + len, sizeof(child_out) - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			out[len] = '\0';
		}
	}
	if (!strstr(out, want)) {
		fprintf(stderr, "  child said: '%s'\n", out);
	}
	return strstr(out, want) != NULL;
}

/* Who ends the connection. */
enum how { WE_CLOSE, CLIENT_CLOSES, WE_DROP };

/* What a client prints for a close_notify, and for a bare EOF. */
struct words {
	const char *closed;
	const char *eof;
};

/*
 * A command-line client (s_client, gnutls-cli; stdout and stderr read):
 * data, its KeyUpdates on command (cmds), ours, then the end: our
 * close_notify (the client prints its words for one), the client's (its
 * stdin ends), or, as the control, a bare EOF from us (the client prints
 * its words for that, not those for a close_notify).
 */
static void cli_case(char *argv[], int lfd, const char *const cmds[2],
		     enum how how, const struct words *w)
{
	struct run r;
	int i;

	run_open(&r, argv, lfd, true);
	to_child(&r, "ping-from-peer\n");
	CHECK(drive(r.fd, r.c, "pong-0\n", "ping-from-peer", -1));
	CHECK(drive(r.fd, r.c, "", "pong-0", r.ch.out));
	CHECK(stls_conn_is_handed_off(r.c));
	for (i = 0; i < 2; i++) {
		client_key_update(&r, cmds[i], i);
		server_key_update(&r, i == 1, i);
	}
	if (how == WE_CLOSE) {
		server_close(&r);
		CHECK(child_says(&r, w->closed));
	} else if (how == WE_DROP) {
		shutdown(r.fd, SHUT_WR);
		CHECK(child_says(&r, w->eof));
		CHECK(!strstr(child_out, w->closed));
	} else {
		close(r.ch.in);
		r.ch.in = -1;
		drive_until_closing(&r);
		CHECK_EQ(stls_conn_get_state(r.c), STLS_CONN_CLOSING);
		CHECK_EQ(stls_conn_get_reason(r.c), STLS_CLOSE_PEER);
		server_close(&r);
	}
	run_close(&r);
}

static void s_client_case(enum how how)
{
	/* "closed" on a line when it reads close_notify. */
	static const struct words w = { "\nclosed",
					"unexpected eof while reading" };
	static const char *const cmds[2] = { "k", "K" };
	int port, lfd = listen_any(&port);
	char conn[64], ca[1024];
	char *argv[] = { "timeout", "60", "openssl", "s_client", "-connect",
			 conn, "-servername", "sip.example.test", "-CAfile", ca,
			 "-verify_return_error", "-tls1_3", NULL };

	if (!have("openssl")) {
		test_skip("no openssl CLI");
	}
	snprintf(conn, sizeof(conn), "127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	cli_case(argv, lfd, cmds, how, &w);
}

TEST(openssl_s_client_we_close) { s_client_case(WE_CLOSE); }
TEST(openssl_s_client_closes) { s_client_case(CLIENT_CLOSES); }
TEST(openssl_s_client_tells_eof_from_close_notify)
{
	s_client_case(WE_DROP);
}

static void gnutls_case(enum how how)
{
	static const struct words w = {
		"Peer has closed the GnuTLS connection",
		"non-properly terminated",
	};
	static const char *const cmds[2] = { "^rekey^", "^rekey1^" };
	int port, lfd = listen_any(&port);
	char ps[16], ca[1024];
	char *argv[] = { "timeout", "60", "gnutls-cli", "-p", ps,
			 "--x509cafile", ca, "--sni-hostname",
			 "sip.example.test", "--verify-hostname",
			 "sip.example.test", "--priority",
			 "NORMAL:-VERS-ALL:+VERS-TLS1.3",
			 "--inline-commands", "127.0.0.1", NULL };

	if (!have("gnutls-cli")) {
		test_skip("no gnutls-cli");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	cli_case(argv, lfd, cmds, how, &w);
}

TEST(gnutls_cli_we_close) { gnutls_case(WE_CLOSE); }
TEST(gnutls_cli_closes) { gnutls_case(CLIENT_CLOSES); }
TEST(gnutls_cli_tells_eof_from_close_notify) { gnutls_case(WE_DROP); }

/*
 * Python's ssl module (OpenSSL underneath, driven by a program nobody
 * here wrote): it cannot start a KeyUpdate, but answers ours with its own
 * when asked. Python's sockets suppress "ragged" EOFs by default (a bare
 * EOF would read as a clean close): the script turns that off, and a
 * control case drops the socket to show that it tells the two apart. It
 * acknowledges every line; "bye" makes it close
 * (unwrap(): its close_notify, then it waits for ours); a close_notify
 * from us ends its read loop cleanly, a bare EOF does not.
 */
static const char py_client[] =
	"import socket, ssl, sys\n"
	"ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
	"ctx.minimum_version = ssl.TLSVersion.TLSv1_3\n"

	"raw = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
	"s = ctx.wrap_socket(raw, server_hostname='sip.example.test',\n"
	"                    suppress_ragged_eofs=False)\n"
	"s.sendall(b'ping-from-peer\\n')\n"
	"buf = b''\n"
	"while True:\n"
	"    try:\n"
	"        d = s.recv(4096)\n"
	"    except ssl.SSLEOFError:\n"
	"        print('eof-without-close_notify', flush=True)\n"
	"        sys.exit(1)\n"
	"    if not d:\n"
	"        print('read-close_notify', flush=True)\n"
	"        sys.exit(0)\n"
	"    buf += d\n"
	"    while b'\\n' in buf:\n"
	"        line, buf = buf.split(b'\\n', 1)\n"
	"        print('got', line.decode(), flush=True)\n"
	"        if line == b'bye':\n"
	"            s.sendall(b'bye-ack\\n')\n"
	"            s.unwrap()\n"
	"            print('unwrapped', flush=True)\n"
	"            sys.exit(0)\n"
	"        s.sendall(b'ack-' + line + b'\\n')\n";

/* how: 0 we close, 1 Python closes, 2 we drop the socket (the control:
 * a bare EOF must not pass for a close_notify). */
static void python_case(int how)
{
	int port, lfd = listen_any(&port), i;
	char ps[16], ca[1024], line[32], ack[40];
	char *argv[] = { "timeout", "60", "python3", "-c", (char *)py_client,
			 ps, ca, NULL };
	struct run r;

	if (!have("python3")) {
		test_skip("no python3");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	run_open(&r, argv, lfd, false);
	CHECK(drive(r.fd, r.c, "pong-0\n", "ping-from-peer", -1));
	CHECK(drive(r.fd, r.c, "", "ack-pong-0", -1));
	CHECK(stls_conn_is_handed_off(r.c));
	for (i = 1; i <= 4; i++) {
		keys_mark(&r);
		CHECK_OK(stls_conn_key_update(r.c, i & 1));
		snprintf(line, sizeof(line), "pong-%d\n", i);
		snprintf(ack, sizeof(ack), "ack-pong-%d", i);
		CHECK(drive(r.fd, r.c, line, ack, -1));
		CHECK(wr_changed(&r));
		/* Asked to update, Python answered before its ack. */
		CHECK_EQ(rd_changed(&r), i & 1);
	}
	if (how == 0) {
		server_close(&r);
		CHECK(child_says(&r, "read-close_notify"));
	} else if (how == 2) {
		shutdown(r.fd, SHUT_WR);
		CHECK(child_says(&r, "eof-without-close_notify"));
	} else {
		CHECK(drive(r.fd, r.c, "bye\n", "bye-ack", -1));
		drive_until_closing(&r);
		CHECK_EQ(stls_conn_get_state(r.c), STLS_CONN_CLOSING);
		CHECK_EQ(stls_conn_get_reason(r.c), STLS_CLOSE_PEER);
		server_close(&r);
		CHECK(child_says(&r, "unwrapped"));
	}
	run_close(&r);
}

TEST(python_ssl_we_close) { python_case(0); }
TEST(python_ssl_closes) { python_case(1); }
TEST(python_ssl_tells_eof_from_close_notify) { python_case(2); }
