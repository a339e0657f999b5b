/*
 * Interop tests for lib/tls/conn.c against TLS stacks nobody here wrote:
 * openssl s_server / s_client and gnutls-serv / gnutls-cli, on loopback.
 * A small driver connects a real non-blocking socket to the engine. Peers
 * run as child processes with a bounded lifetime (PR_SET_PDEATHSIG, plus
 * SIGTERM/SIGKILL and waitpid at the end of every case). Ports: ephemeral
 * where we listen, 24200-24399 where the peer listens. TLS 1.2 clients
 * (s_client per suite, gnutls-cli) check the TLS 1.2 record hand-off.
 */
#include "lib/tls/interop_util.h"
#include "tls/tls_int.h"

static struct stls_conn *engine(SSL_CTX *ctx, enum stls_role role,
				const char *sni, const char *vname,
				struct stls_settings *set)
{
	struct stls_conn_opts o = { 0 };
	struct stls_conn *c = NULL;

	settings_default(set);
	set->send_close_notify = 1;
	o.role = role;
	o.ssl = SSL_new(ctx);
	o.sni = sni;
	o.verify_name = vname;
	o.settings = set;
	CHECK_OK(stls_conn_new(&o, &c, NULL));
	drive_reset();
	return c;
}

static void client_to(char *const argv[], int port, int ver,
		      const char *say, const char *want)
{
	struct stls_settings set;
	struct child ch = { 0 };
	struct stls_conn *c;
	SSL_CTX *ctx;
	int fd;
	bool ok;

	spawn(&ch, argv);
	fd = connect_retry(port);
	if (fd < 0) {
		reap(&ch);
		CHECK(!"peer did not listen");
	}
	ctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, ver, ver);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	c = engine(ctx, STLS_ROLE_CLIENT, "sip.example.test", "example.test",
		   &set);
	ok = drive(fd, c, say, want, -1);
	if (ok) {
		CHECK(stls_conn_is_peer_verified(c));
		(void)stls_conn_close(c);
	}
	stls_conn_free(c);
	SSL_CTX_free(ctx);
	close(fd);
	reap(&ch);
	CHECK(ok);
}

static int client_hellos;

static int count_hello(SSL *ssl, int *al, void *arg)
{
	(void)ssl;
	(void)al;
	(void)arg;
	client_hellos++;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* When set: the TLS 1.2 suite server_for() must see, handed off. */
static const char *want12;

/* groups: the server's groups (NULL: OpenSSL's default list). */
static void server_for(char *argv[], int lfd, const char *say,
		       const char *want_child, const char *want_engine,
		       const char *groups)
{
	struct stls_settings set;
	struct child ch = { 0 };
	struct stls_conn *c;
	SSL_CTX *ctx;
	int fd;
	bool ok;

	spawn(&ch, argv);
	fd = accept_within(lfd, 10000);
	ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
		      TLS1_2_VERSION, TLS1_3_VERSION);
	client_hellos = 0;
	SSL_CTX_set_client_hello_cb(ctx, count_hello, NULL);
	if (groups) {
		CHECK(SSL_CTX_set1_groups_list(ctx, groups));
	}
	c = engine(ctx, STLS_ROLE_SERVER, NULL, NULL, &set);
	CHECK(write(ch.in, "ping-from-peer\n", 15) == 15);
	ok = drive(fd, c, say, want_engine, -1) &&
	     drive(fd, c, "", want_child, ch.out);
	if (ok) {
		CHECK_STR_EQ(stls_conn_get_sni(c), "sip.example.test");
		/* A HelloRetryRequest means a second ClientHello. */
		CHECK_EQ(client_hellos, groups ? 2 : 1);
		CHECK(!groups || stls_conn_is_handed_off(c));
		if (want12) {
			CHECK(stls_conn_is_handed_off(c));
			CHECK_STR_EQ(stls_conn_get_version(c), "TLSv1.2");
			CHECK_STR_EQ(stls_conn_get_cipher(c), want12);
		}
		(void)stls_conn_close(c);
	}
	stls_conn_free(c);
	SSL_CTX_free(ctx);
	close(fd);
	close(lfd);
	reap(&ch);
	CHECK(ok);
}

static void s_server_case(int ver, const char *flag, int port)
{
	char ps[16];
	char *argv[] = { "timeout", "30", "openssl", "s_server", "-accept", ps,
			 "-cert", NULL, "-key", NULL, (char *)flag, "-rev",
			 "-naccept", "1", NULL };
	char cert[1024], key[1024];

	if (!have("openssl")) {
		test_skip("no openssl CLI");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(cert, sizeof(cert), "%s", test_cert_path("server-rsa.pem"));
	snprintf(key, sizeof(key), "%s", test_cert_path("server-rsa.key"));
	argv[7] = cert;
	argv[9] = key;
	client_to(argv, port, ver, "hello sip\n", "pis olleh");
}

TEST(engine_client_to_openssl_s_server_tls13)
{
	s_server_case(TLS1_3_VERSION, "-tls1_3", 24200 + (getpid() % 50));
}

TEST(engine_client_to_openssl_s_server_tls12)
{
	s_server_case(TLS1_2_VERSION, "-tls1_2", 24250 + (getpid() % 50));
}

TEST(engine_client_to_gnutls_serv)
{
	int port = 24300 + (getpid() % 90);
	char ps[16], cert[1024], key[1024];
	char *argv[] = { "timeout", "30", "gnutls-serv", "--echo", "-p", ps,
			 "--x509certfile", cert, "--x509keyfile", key, NULL };

	if (!have("gnutls-serv")) {
		test_skip("no gnutls-serv");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(cert, sizeof(cert), "%s", test_cert_path("server.pem"));
	snprintf(key, sizeof(key), "%s", test_cert_path("server.key"));
	client_to(argv, port, TLS1_3_VERSION, "echo me\n", "echo me");
}

TEST(openssl_s_client_to_engine_server)
{
	int port, lfd = listen_any(&port);
	char conn[64], ca[1024];
	char *argv[] = { "timeout", "30", "openssl", "s_client", "-connect",
			 conn, "-servername", "sip.example.test", "-CAfile", ca,
			 "-verify_return_error", "-quiet", NULL };

	if (!have("openssl")) {
		test_skip("no openssl CLI");
	}
	snprintf(conn, sizeof(conn), "127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	server_for(argv, lfd, "pong-from-engine\n", "pong-from-engine",
		   "ping-from-peer", NULL);
}

/*
 * HelloRetryRequest: s_client sends a key share for its first group only
 * (X25519), the server takes P-256 only and asks again; the connection
 * is still handed off and data flows both ways.
 */
TEST(openssl_s_client_hello_retry_to_handed_off_server)
{
	int port, lfd = listen_any(&port);
	char conn[64], ca[1024];
	char *argv[] = { "timeout", "30", "openssl", "s_client", "-connect",
			 conn, "-servername", "sip.example.test", "-CAfile", ca,
			 "-verify_return_error", "-quiet", "-tls1_3",
			 "-groups", "X25519:P-256", NULL };

	if (!have("openssl")) {
		test_skip("no openssl CLI");
	}
	snprintf(conn, sizeof(conn), "127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	server_for(argv, lfd, "pong-from-engine\n", "pong-from-engine",
		   "ping-from-peer", "P-256");
}

TEST(gnutls_cli_to_engine_server)
{
	int port, lfd = listen_any(&port);
	char ps[16], ca[1024];
	char *argv[] = { "timeout", "30", "gnutls-cli", "-p", ps,
			 "--x509cafile", ca, "--sni-hostname", "sip.example.test",
			 "--verify-hostname", "sip.example.test", "127.0.0.1",
			 NULL };

	if (!have("gnutls-cli")) {
		test_skip("no gnutls-cli");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	server_for(argv, lfd, "pong-from-engine\n", "pong-from-engine",
		   "ping-from-peer", NULL);
}

/*
 * A real client updates its keys on command (TLS 1.3) while talking to a
 * server engine that handed its record layer off: after each update, data
 * must still flow both ways. cmds[i] is the client's stdin command line
 * for one kind of update (with and without update_requested).
 */
static void key_update_case(char *argv[], int lfd, const char *const cmds[2])
{
	struct stls_settings set;
	struct child ch = { 0 };
	struct stls_conn *c;
	char line[64], want[64];
	unsigned char secret[32];
	SSL_CTX *ctx;
	bool ok;
	int fd, i;

	spawn(&ch, argv);
	fd = accept_within(lfd, 10000);
	ctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
		      TLS1_3_VERSION, TLS1_3_VERSION);
	c = engine(ctx, STLS_ROLE_SERVER, NULL, NULL, &set);
	CHECK(write(ch.in, "ping-from-peer\n", 15) == 15);
	ok = drive(fd, c, "pong-0\n", "ping-from-peer", -1) &&
	     drive(fd, c, "", "pong-0", ch.out);
	CHECK(stls_conn_is_handed_off(c));
	memcpy(secret, c->rec->rd.secret, sizeof(secret));
	for (i = 0; ok && i < 4; i++) {
		snprintf(line, sizeof(line), "%s\n", cmds[i & 1]);
		CHECK(write(ch.in, line, strlen(line)) == (ssize_t)strlen(line));
		/* Alone in its read(), or the client sends it as data. */
		usleep(300000);
		snprintf(line, sizeof(line), "after-update-%d\n", i);
		CHECK(write(ch.in, line, strlen(line)) == (ssize_t)strlen(line));
		snprintf(want, sizeof(want), "after-update-%d", i);
		snprintf(line, sizeof(line), "pong-%d\n", i + 1);
		ok = drive(fd, c, "", want, -1) &&
		     drive(fd, c, line, line, ch.out);
		/* The client's key really changed (a KeyUpdate was read). */
		CHECK(memcmp(secret, c->rec->rd.secret, sizeof(secret)) != 0);
		memcpy(secret, c->rec->rd.secret, sizeof(secret));
	}
	if (ok) {
		CHECK_EQ(stls_conn_get_state(c), STLS_CONN_ESTABLISHED);
		(void)stls_conn_close(c);
	}
	stls_conn_free(c);
	SSL_CTX_free(ctx);
	close(fd);
	close(lfd);
	reap(&ch);
	CHECK(ok);
}

TEST(openssl_s_client_key_updates_to_handed_off_server)
{
	static const char *const cmds[2] = { "K", "k" };
	int port, lfd = listen_any(&port);
	char conn[64], ca[1024];
	char *argv[] = { "timeout", "30", "openssl", "s_client", "-connect",
			 conn, "-servername", "sip.example.test", "-CAfile", ca,
			 "-verify_return_error", "-tls1_3", NULL };

	if (!have("openssl")) {
		test_skip("no openssl CLI");
	}
	snprintf(conn, sizeof(conn), "127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	key_update_case(argv, lfd, cmds);
}

TEST(gnutls_cli_rekeys_to_handed_off_server)
{
	static const char *const cmds[2] = { "^rekey1^", "^rekey^" };
	int port, lfd = listen_any(&port);
	char ps[16], ca[1024];
	char *argv[] = { "timeout", "30", "gnutls-cli", "-p", ps,
			 "--x509cafile", ca, "--sni-hostname", "sip.example.test",
			 "--verify-hostname", "sip.example.test",
			 "--inline-commands", "127.0.0.1", NULL };

	if (!have("gnutls-cli")) {
		test_skip("no gnutls-cli");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	key_update_case(argv, lfd, cmds);
}

/*
 * TLS 1.2 peers against a server that handed its record layer off: s_client
 * with each suite of the default list, and gnutls-cli limited to TLS 1.2.
 */
static void s_client12_case(const char *cipher)
{
	int port, lfd = listen_any(&port);
	char conn[64], ca[1024];
	char *argv[] = { "timeout", "30", "openssl", "s_client", "-connect",
			 conn, "-servername", "sip.example.test", "-CAfile", ca,
			 "-verify_return_error", "-quiet", "-tls1_2",
			 "-cipher", (char *)cipher, NULL };

	if (!have("openssl")) {
		test_skip("no openssl CLI");
	}
	snprintf(conn, sizeof(conn), "127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	want12 = cipher;
	server_for(argv, lfd, "pong-from-engine\n", "pong-from-engine",
		   "ping-from-peer", NULL);
	want12 = NULL;
}

TEST(openssl_s_client_tls12_aes128_gcm_to_handed_off_server)
{
	s_client12_case("ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST(openssl_s_client_tls12_aes256_gcm_to_handed_off_server)
{
	s_client12_case("ECDHE-ECDSA-AES256-GCM-SHA384");
}

TEST(openssl_s_client_tls12_chacha20_to_handed_off_server)
{
	s_client12_case("ECDHE-ECDSA-CHACHA20-POLY1305");
}

static void gnutls12_case(const char *prio, const char *cipher)
{
	int port, lfd = listen_any(&port);
	char ps[16], ca[1024];
	char *argv[] = { "timeout", "30", "gnutls-cli", "-p", ps,
			 "--x509cafile", ca, "--sni-hostname", "sip.example.test",
			 "--verify-hostname", "sip.example.test", "--priority",
			 (char *)prio, "127.0.0.1", NULL };

	if (!have("gnutls-cli")) {
		test_skip("no gnutls-cli");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(ca, sizeof(ca), "%s", test_cert_path("ca.pem"));
	want12 = cipher;
	server_for(argv, lfd, "pong-from-engine\n", "pong-from-engine",
		   "ping-from-peer", NULL);
	want12 = NULL;
}

TEST(gnutls_cli_tls12_to_handed_off_server)
{
	gnutls12_case("NORMAL:-VERS-ALL:+VERS-TLS1.2",
		      "ECDHE-ECDSA-AES256-GCM-SHA384");
}

TEST(gnutls_cli_tls12_chacha20_to_handed_off_server)
{
	gnutls12_case("NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:"
		      "+CHACHA20-POLY1305",
		      "ECDHE-ECDSA-CHACHA20-POLY1305");
}
