/*
 * JSON-RPC client of siptlsctl (see rpc_client.h). Blocking sockets with
 * SO_RCVTIMEO/SO_SNDTIMEO: a CLI has nothing else to do while it waits.
 */
#include "rpc_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "stls/addr.h"
#include "stls/utf8.h"

/* Largest reply accepted (tls.list of a busy daemon is big). */
#define MAX_REPLY (256u << 20)

struct stls_rpc_client {
	int fd;
	int64_t next_id;
	char *buf; /* bytes received past the last reply line */
	size_t len, cap;
};

static void set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static const char *hint(int err, bool tcp)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return tcp ? " (is siptlsd running with a TCP control port?)"
			   : " (is siptlsd running? set the socket with -s "
			     "or SIPTLS_SOCKET)";
	case EACCES:
	case EPERM:
		return " (the control socket is group-only: is your user in "
		       "the daemon's group?)";
	default:
		return "";
	}
}

static int open_unix(const char *path, char *why, size_t why_len, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, why_len, "cannot connect to %s: path too long",
			 path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 ||
	    connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot connect to %s: %s%s", path,
			 strerror(-rc), hint(-rc, false));
		return rc;
	}
	return 0;
}

static int open_tcp(const char *text, char *why, size_t why_len, int *fd)
{
	struct sockaddr_storage ss;
	struct stls_addr a;
	char tmp[64];
	socklen_t len;
	int rc;

	if (strncmp(text, "localhost:", 10) == 0) {
		snprintf(tmp, sizeof(tmp), "127.0.0.1:%s", text + 10);
		text = tmp;
	}
	if (stls_addr_parse(text, true, &a) != 0) {
		snprintf(why, why_len,
			 "bad TCP address \"%s\" (want IP:PORT, e.g. "
			 "127.0.0.1:5060)",
			 text);
		return -EINVAL;
	}
	len = stls_addr_to_sockaddr(&a, &ss);
	*fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 || connect(*fd, (struct sockaddr *)&ss, len) != 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot connect to %s: %s%s", text,
			 strerror(-rc), hint(-rc, true));
		return rc;
	}
	return 0;
}

int stls_rpc_client_connect(const char *unix_path, const char *tcp,
			    int timeout_ms, struct stls_rpc_client **out,
			    char *why, size_t why_len)
{
	struct stls_rpc_client *c;
	int fd = -1, rc;

	*out = NULL;
	rc = tcp ? open_tcp(tcp, why, why_len, &fd)
		 : open_unix(unix_path, why, why_len, &fd);
	if (rc) {
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	set_timeouts(fd, timeout_ms);
	c->fd = fd;
	c->next_id = 1;
	*out = c;
	return 0;
}

void stls_rpc_client_free(struct stls_rpc_client *c)
{
	if (!c) {
		return;
	}
	close(c->fd);
	free(c->buf);
	free(c);
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w < 0) {
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until c->buf holds a full line; returns its length (no "\n"). */
static ssize_t read_line(struct stls_rpc_client *c)
{
	char *nl, *nb;
	ssize_t r;

	while (!c->buf || !(nl = memchr(c->buf, '\n', c->len))) {
		if (c->len + 4096 > c->cap) {
			if (c->cap >= MAX_REPLY) {
				return -EMSGSIZE;
			}
			nb = realloc(c->buf, c->cap ? c->cap * 2 : 8192);
			if (!nb) {
				return -ENOMEM;
			}
			c->buf = nb;
			c->cap = c->cap ? c->cap * 2 : 8192;
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (r == 0) {
			return -ECONNRESET;
		}
		c->len += (size_t)r;
	}
	return nl - c->buf;
}

json_t *stls_rpc_client_text(const char *s)
{
	size_t len = strlen(s), n = 0;
	char *fixed = NULL;
	json_t *v;

	/* jansson holds only UTF-8; a word typed in a Latin-1 terminal is
	 * sent with its bad bytes as U+FFFD, as our own writer did. */
	if (stls_utf8_valid(s, len)) {
		return json_stringn_nocheck(s, len);
	}
	if (stls_utf8_repair(s, len, &fixed, &n)) {
		return NULL;
	}
	v = json_stringn_nocheck(fixed, n);
	free(fixed);
	return v;
}

/* {"jsonrpc","method","params","id"}; takes <params>. NULL: OOM. */
static json_t *build_request(const char *method, json_t *params, int64_t id)
{
	json_t *r = json_object();
	int rc;

	/* json_object_set_new() takes the value, also when it fails. */
	rc = json_object_set_new(r, "jsonrpc", json_string("2.0"));
	if (!rc) {
		rc = json_object_set_new(r, "method",
					 stls_rpc_client_text(method));
	}
	if (!rc && params) {
		rc = json_object_set_new(r, "params", params);
		params = NULL;
	}
	if (!rc) {
		rc = json_object_set_new(r, "id", json_integer(id));
	}
	json_decref(params);
	if (rc) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static int read_reply(json_t *reply, int64_t id, json_t **result,
		      struct stls_rpc_client_error *err)
{
	json_t *e = json_object_get(reply, "error");
	json_t *res = json_object_get(reply, "result");
	json_t *rid = json_object_get(reply, "id");
	const char *msg;

	if (json_integer_value(rid) != id && !json_is_null(rid)) {
		return -EBADMSG;
	}
	if (json_is_object(e)) {
		msg = json_string_value(json_object_get(e, "message"));
		err->code = json_integer_value(json_object_get(e, "code"));
		snprintf(err->message, sizeof(err->message), "%s",
			 msg ? msg : "(no message)");
		/* Outlives the reply: a reference of its own (or NULL). */
		err->data = json_incref(json_object_get(e, "data"));
		return -EPROTO;
	}
	if (!res) {
		return -EBADMSG;
	}
	*result = json_incref(res); /* outlives the reply */
	return 0;
}

int stls_rpc_client_call(struct stls_rpc_client *c, const char *method,
			 json_t *params, json_t **result,
			 struct stls_rpc_client_error *err)
{
	json_t *req, *reply;
	int64_t id = c->next_id++;
	char *text;
	size_t len;
	ssize_t n;
	int rc;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	req = build_request(method, params, id);
	/* Compact: one line, newlines inside strings are escaped. */
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		return -ENOMEM;
	}
	len = strlen(text);
	text[len] = '\n'; /* in place of the NUL, which is not sent */
	rc = send_all(c->fd, text, len + 1);
	free(text);
	if (rc) {
		return rc;
	}
	n = read_line(c);
	if (n < 0) {
		return (int)n;
	}
	reply = json_loadb(c->buf, (size_t)n,
			   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	memmove(c->buf, c->buf + n + 1, c->len - (size_t)n - 1);
	c->len -= (size_t)n + 1;
	if (!reply) {
		return -EBADMSG;
	}
	rc = read_reply(reply, id, result, err);
	json_decref(reply);
	return rc;
}

static bool is_int_word(const char *s)
{
	const char *p = s + (*s == '-');
	size_t n = strlen(p);

	/* The text must read back the same: no "007", "-0" or "+5". */
	if (n == 0 || n > 19 || (p[0] == '0' && (n > 1 || p != s))) {
		return false;
	}
	if (strspn(p, "0123456789") != n) {
		return false;
	}
	/* 19 digits may still overflow int64. */
	return n < 19 ||
	       strcmp(p, *s == '-' ? "9223372036854775808"
				   : "9223372036854775807") <= 0;
}

int stls_rpc_client_params_from_args(int argc, char *const *argv,
				     bool all_strings, json_t **out)
{
	json_t *a = json_array(), *v;
	int i;

	*out = NULL;
	for (i = 0; a && i < argc; i++) {
		if (all_strings) {
			v = stls_rpc_client_text(argv[i]);
		} else if (is_int_word(argv[i])) {
			v = json_integer(strtoll(argv[i], NULL, 10));
		} else if (strcmp(argv[i], "true") == 0 ||
			   strcmp(argv[i], "false") == 0) {
			v = json_boolean(argv[i][0] == 't');
		} else {
			v = stls_rpc_client_text(argv[i]);
		}
		/* Takes v, also when it fails (v NULL: out of memory). */
		if (json_array_append_new(a, v)) {
			json_decref(a);
			return -ENOMEM;
		}
	}
	*out = a;
	return a ? 0 : -ENOMEM;
}
