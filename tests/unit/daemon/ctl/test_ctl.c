/*
 * Tests of daemon/ctl/ctl.c: the control plane's lifecycle (methods
 * registered, socket and its directory), and the reload path shared by
 * tls.reload and SIGHUP, serialised against changes of `config`.
 */
/* ctest-label: tsan */
#include "daemon/ctl/ctl_fixture.h"

#include <pthread.h>
#include <sys/un.h>

TEST(every_method_is_registered)
{
	static const char *const names[] = {
		"tls.info", "tls.list", "tls.options", "tls.reload",
		"tls.kill", "cfg.get", "cfg.set", "cfg.set_now_int",
		"cfg.set_now_string", "core.stats", "core.version",
		"core.uptime", "system.listMethods",
	};
	struct cf f;
	json_t *r;
	const json_t *a;
	size_t i, j;
	bool found;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "system.listMethods", NULL);
	a = cf_result(r);
	for (i = 0; i < STLS_ARRAY_SIZE(names); i++) {
		found = false;
		for (j = 0; j < json_array_size(a); j++) {
			const char *n = json_string_value(json_array_get(a, j));

			found |= strcmp(n, names[i]) == 0;
		}
		CHECK(found);
	}
	json_decref(r);
	cf_fini(&f);
}

TEST(no_rpc_socket_means_no_server)
{
	struct cf f;

	cf_init(&f, 1, NULL);
	CHECK_OK(stls_ctl_start(f.ctl));
	CHECK_EQ(stls_ctl_tcp_port(f.ctl), 0);
	cf_fini(&f);
}

/* The socket's missing directories are made 0750; the socket 0660. */
TEST(start_creates_the_socket_directory)
{
	struct cf f;
	char extra[900], dir[600], sock[700];
	struct stat st;
	struct sockaddr_un sun;
	int fd;

	snprintf(dir, sizeof(dir), "%s/run/siptls", test_tmp_dir());
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(extra, sizeof(extra),
		 "rpc_socket = %s\nrpc_tcp = 127.0.0.1:0\n", sock);
	cf_init(&f, 1, extra);
	CHECK_OK(stls_ctl_start(f.ctl));
	CHECK_OK(stat(dir, &st));
	CHECK_EQ(st.st_mode & 0777, 0750);
	CHECK_OK(stat(sock, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0660);
	CHECK(stls_ctl_tcp_port(f.ctl) > 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK(strlen(sock) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, sock, strlen(sock));
	CHECK_OK(connect(fd, (struct sockaddr *)&sun, sizeof(sun)));
	close(fd);
	cf_fini(&f);
	CHECK(stat(sock, &st) != 0); /* removed at stop */
}

TEST(start_refuses_a_world_writable_mode)
{
	struct cf f;
	char extra[700];

	snprintf(extra, sizeof(extra),
		 "rpc_socket = %s/c.sock\nrpc_socket_mode = 0666\n",
		 test_tmp_dir());
	cf_init(&f, 1, extra);
	CHECK_EQ(stls_ctl_start(f.ctl), -EINVAL);
	cf_fini(&f);
}

TEST(reload_reports_generation_and_count)
{
	struct cf f;
	struct stls_diag diag;
	uint64_t gen = 0;
	size_t n = 0;

	cf_init(&f, 1, NULL);
	stls_diag_init(&diag);
	CHECK_OK(stls_ctl_reload(f.ctl, &diag, &gen, &n));
	CHECK_EQ(gen, 2);
	CHECK_EQ(n, 2);
	CHECK_OK(stls_ctl_reload(f.ctl, &diag, NULL, NULL));
	CHECK_EQ(stls_pstore_generation(f.ps), 3);
	stls_diag_fini(&diag);
	CHECK_OK(stls_ctl_reload_hook(f.ctl));
	cf_fini(&f);
}

TEST(reload_hook_failure_keeps_the_set)
{
	struct cf f;
	json_t *r;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "cfg.set", "[\"tls\",\"config\",\"/nonexistent.cfg\"]");
	CHECK_EQ(cf_error(r), 0);
	json_decref(r);
	CHECK_EQ(stls_ctl_reload_hook(f.ctl), -EINVAL);
	CHECK_EQ(stls_pstore_generation(f.ps), 1);
	cf_fini(&f);
}

struct hup {
	struct cf *f;
	int ok, failed;
};

static void *sighup_loop(void *arg)
{
	struct hup *h = arg;
	int i;

	for (i = 0; i < 60; i++) {
		if (stls_ctl_reload_hook(h->f->ctl) == 0)
			h->ok++;
		else
			h->failed++;
	}
	return NULL;
}

/*
 * SIGHUP reloads (main thread) race cfg.set config (control thread): the
 * string swap and the reload's read of it never overlap (TSan, ASan).
 */
TEST(reload_and_config_change_are_serialised)
{
	struct cf f;
	struct hup h = { 0 };
	char good[700], p[800];
	pthread_t t;
	int i;

	cf_init(&f, 1, NULL);
	snprintf(good, sizeof(good), "%s/tls.cfg", test_tmp_dir());
	cf_write(good, "[server:default]\ncertificate = cert.pem\n"
		       "private_key = cert.pem\n");
	h.f = &f;
	CHECK_OK(pthread_create(&t, NULL, sighup_loop, &h));
	for (i = 0; i < 60; i++) {
		snprintf(p, sizeof(p), "[\"tls\",\"config\",\"%s\"]",
			 i % 2 ? good : "/nonexistent.cfg");
		json_decref(cf_call(&f, "cfg.set", p));
	}
	pthread_join(t, NULL);
	CHECK_EQ(h.ok + h.failed, 60);
	cf_fini(&f);
}
