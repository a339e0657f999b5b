/*
 * Unit tests for cli/rpc_client.c: argument conversion, and calls against
 * a real control server in this process (replies, errors, id matching,
 * timeouts, connection failures with clear messages).
 */
#include "test.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc_client.h"
#include "rpc/rpc_server.h"

static void expect_params(bool strings, const char *want, int argc, ...)
{
	char *argv[16], *out;
	json_t *p = NULL;
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++) {
		argv[i] = va_arg(ap, char *);
	}
	va_end(ap);
	CHECK_OK(stls_rpc_client_params_from_args(argc, argv, strings, &p));
	out = json_dumps(p, JSON_COMPACT);
	CHECK_STR_EQ(out, want);
	free(out);
	json_decref(p);
}

TEST(client_args_become_params_like_kamcmd)
{
	expect_params(false, "[\"tls\",\"connection_timeout\",180]", 3, "tls",
		      "connection_timeout", "180");
	expect_params(false, "[-1,0,\"-0\",\"007\",\"+5\",\"1.5\",\"1e3\"]", 7,
		      "-1", "0", "-0", "007", "+5", "1.5", "1e3");
	expect_params(false, "[true,false,\"True\",\"null\",\"\"]", 5, "true",
		      "false", "True", "null", "");
	expect_params(false,
		      "[9223372036854775807,-9223372036854775808,"
		      "\"9223372036854775808\"]",
		      3, "9223372036854775807", "-9223372036854775808",
		      "9223372036854775808");
	expect_params(true, "[\"180\",\"true\"]", 2, "180", "true");
	expect_params(false, "[]", 0);
	/* A word typed in a Latin-1 terminal: sent, bad bytes as U+FFFD. */
	expect_params(false, "[\"caf\xEF\xBF\xBD\",\"caf\xC3\xA9\"]", 2,
		      "caf\xE9", "caf\xC3\xA9");
}

struct srv {
	struct stls_rpc *rpc;
	struct stls_rpc_server *s;
	char path[256];
};

static void srv_start(struct srv *s)
{
	struct stls_rpc_server_conf conf = { 0 };

	snprintf(s->path, sizeof(s->path), "%s/c.sock", test_tmp_dir());
	conf.unix_path = s->path;
	CHECK_OK(stls_rpc_new(&s->rpc));
	CHECK_OK(stls_rpc_server_start(s->rpc, &conf, &s->s));
}

static void srv_stop(struct srv *s)
{
	stls_rpc_server_stop(s->s);
	stls_rpc_free(s->rpc);
}

TEST(client_calls_and_errors)
{
	struct stls_rpc_client_error err;
	struct stls_rpc_client *c = NULL;
	json_t *res = NULL, *p = NULL;
	char why[256];
	struct srv s;
	int i;

	srv_start(&s);
	CHECK_OK(stls_rpc_client_connect(s.path, NULL, 5000, &c, why,
					 sizeof(why)));
	/* Several calls on one connection: ids advance and match. */
	for (i = 0; i < 3; i++) {
		char *argv[] = { "x", "2" };

		CHECK_OK(stls_rpc_client_params_from_args(2, argv, false, &p));
		CHECK_OK(stls_rpc_client_call(c, "core.echo", p, &res, &err));
		CHECK_EQ(json_integer_value(json_array_get(res, 1)), 2);
		json_decref(res);
	}
	CHECK_OK(stls_rpc_client_call(c, "core.version", NULL, &res, &err));
	CHECK_STR_EQ(json_string_value(json_object_get(res, "name")),
		     "siptlsd");
	json_decref(res);
	CHECK_EQ(stls_rpc_client_call(c, "nope", NULL, &res, &err), -EPROTO);
	CHECK_EQ(err.code, -32601);
	CHECK_STR_HAS(err.message, "method not found: nope");
	CHECK_NULL(res);
	stls_rpc_client_free(c);
	srv_stop(&s);
}

TEST(client_connect_failures_name_the_socket)
{
	struct stls_rpc_client *c = NULL;
	char why[256], path[256];

	snprintf(path, sizeof(path), "%s/none.sock", test_tmp_dir());
	CHECK_EQ(stls_rpc_client_connect(path, NULL, 1000, &c, why,
					 sizeof(why)),
		 -ENOENT);
	CHECK_STR_HAS(why, path);
	CHECK_STR_HAS(why, "is siptlsd running?");
	CHECK_EQ(stls_rpc_client_connect(NULL, "nohost", 1000, &c, why,
					 sizeof(why)),
		 -EINVAL);
	CHECK_STR_HAS(why, "bad TCP address");
	CHECK_EQ(stls_rpc_client_connect(NULL, "127.0.0.1:1", 1000, &c, why,
					 sizeof(why)),
		 -ECONNREFUSED);
	CHECK_STR_HAS(why, "127.0.0.1:1");
	CHECK_NULL(c);
}

/* A fake daemon: accepts, answers each line with a canned reply. */
struct fake {
	int lfd;
	const char *reply; /* NULL: read and never answer */
};

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	char buf[4096];
	int fd = accept(f->lfd, NULL, NULL);

	if (fd >= 0 && recv(fd, buf, sizeof(buf), 0) > 0 && f->reply) {
		(void)!write(fd, f->reply, strlen(f->reply));
	}
	sleep(f->reply ? 0 : 2);
	if (fd >= 0) {
		close(fd);
	}
	return NULL;
}

static int fake_call(const char *reply, json_t **res,
		     struct stls_rpc_client_error *err, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stls_rpc_client *c = NULL;
	struct fake f = { .reply = reply };
	pthread_t th;
	char why[256];
	int rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/fake.sock",
		 test_tmp_dir());
	unlink(sa.sun_path);
	f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(f.lfd, 1));
	CHECK_OK(pthread_create(&th, NULL, fake_thread, &f));
	CHECK_OK(stls_rpc_client_connect(sa.sun_path, NULL, timeout_ms, &c,
					 why, sizeof(why)));
	rc = stls_rpc_client_call(c, "x", NULL, res, err);
	stls_rpc_client_free(c);
	pthread_join(th, NULL);
	close(f.lfd);
	return rc;
}

TEST(client_rejects_bad_replies_and_times_out)
{
	struct stls_rpc_client_error err;
	json_t *res = NULL;

	CHECK_EQ(fake_call("not json\n", &res, &err, 2000), -EBADMSG);
	CHECK_EQ(fake_call("{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":99}\n",
			   &res, &err, 2000),
		 -EBADMSG); /* another request's id */
	CHECK_EQ(fake_call("{\"jsonrpc\":\"2.0\",\"id\":1}\n", &res, &err,
			   2000),
		 -EBADMSG);
	/* Strict JSON only: two "result"s could be read two ways. */
	CHECK_EQ(fake_call("{\"jsonrpc\":\"2.0\",\"result\":1,\"result\":2,"
			   "\"id\":1}\n",
			   &res, &err, 2000),
		 -EBADMSG);
	CHECK_EQ(fake_call("[{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":1}]\n",
			   &res, &err, 2000),
		 -EBADMSG); /* not a response object */
	CHECK_OK(fake_call("{\"jsonrpc\":\"2.0\",\"result\":\"a\\u0000b\","
			   "\"id\":1}\n",
			   &res, &err, 2000));
	CHECK_EQ(json_string_length(res), 3);
	json_decref(res);
	CHECK_EQ(fake_call("{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":1}", &res,
			   &err, 2000),
		 -ECONNRESET); /* closed before the newline */
	CHECK_EQ(fake_call("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":500,"
			   "\"message\":\"m\",\"data\":[\"f:1: x\"]},"
			   "\"id\":1}\n",
			   &res, &err, 2000),
		 -EPROTO);
	CHECK_EQ(err.code, 500);
	CHECK_STR_EQ(json_string_value(json_array_get(err.data, 0)),
		     "f:1: x");
	json_decref(err.data);
	CHECK_EQ(fake_call(NULL, &res, &err, 300), -ETIMEDOUT);
}
