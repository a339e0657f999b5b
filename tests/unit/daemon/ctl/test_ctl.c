/*
 * Tests of daemon/ctl/ctl.c: the control plane's lifecycle (methods
 * registered, socket and its directory). The reload path:
 * test_ctl_reload.c.
 */
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
