/*
 * Test fixture for the control plane: a real configuration (main config
 * with the test PKI's server certificate), its [core] section and profile
 * set, an in-process daemon whose tls: listener uses the toy transform of
 * test_xform.h with a describe() op, and a ctl over all of it. Methods are
 * called through the dispatcher (stls_rpc_handle), the way the control
 * thread calls them. Header-only; every wait is bounded.
 */
#ifndef STLS_TEST_CTL_FIXTURE_H
#define STLS_TEST_CTL_FIXTURE_H

#include <stdio.h>
#include <sys/stat.h>

#include "ctl/ctl_int.h"
#include "daemon/rpc/rpc_test.h"
#include "daemon/runtime/daemon_harness.h"
#include "runtime/handler_echo.h"
#include "stls/conf.h"
#include "daemon/runtime/test_xform.h"

static inline void tx_describe(void *x, struct stls_tls_info *out)
{
	struct tx *t = x;

	snprintf(out->state, sizeof(out->state), "%s",
		 t->established ? "established" : "tls_accept");
	out->flags = t->established ? 2 : 0;
	snprintf(out->sni, sizeof(out->sni), "toy.example.test");
	snprintf(out->cipher, sizeof(out->cipher), "TOY-CIPHER");
	snprintf(out->version, sizeof(out->version), "TOYv1");
	snprintf(out->profile, sizeof(out->profile), "TLSs<default>");
	out->generation = 1;
	out->verified = 0;
}

static const struct stls_xform_ops txd_ops = {
	"toy",	    tx_feed,	tx_read,	tx_write,
	tx_peek,    tx_consume, tx_established, tx_shutdown,
	tx_free,    tx_describe,
};

static inline int txd_new(void *arg, struct stls_dconn *c,
			  struct stls_xform *out)
{
	int err = tx_new(arg, c, out);

	out->ops = &txd_ops;
	return err;
}

struct cf {
	char dir[512];
	char cfg[600];
	struct stls_conf *conf;
	struct stls_core_conf core;
	struct stls_pstore *ps;
	struct dh h;
	struct stls_ctl *ctl;
};

static inline void cf_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

/* cert.pem = server certificate + key, in dir. */
static inline void cf_cert(const char *dir)
{
	char path[600], buf[8192];
	const char *names[2] = { "server.pem", "server.key" };
	FILE *out, *in;
	size_t i, n;

	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	out = fopen(path, "w");
	CHECK_NOT_NULL(out);
	for (i = 0; i < 2; i++) {
		in = fopen(test_cert_path(names[i]), "r");
		CHECK_NOT_NULL(in);
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(in);
	}
	fclose(out);
	chmod(path, 0600);
}

static inline const struct stls_section *
cf_core_section(const struct stls_conf *c)
{
	const struct stls_section *sec;

	for (sec = c->sections; sec; sec = sec->next) {
		if (strcmp(sec->name, "core") == 0)
			return sec;
	}
	return NULL;
}

/*
 * Loads <extra> appended to a [core] section (tls: and tcp: listeners on
 * port 0, echo handler), starts <workers> workers and makes the ctl.
 */
static inline void cf_init(struct cf *f, unsigned workers, const char *extra)
{
	struct stls_ctl_conf cc;
	struct stls_diag diag;
	char text[4096];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s", test_tmp_dir());
	cf_cert(f->dir);
	snprintf(f->cfg, sizeof(f->cfg), "%s/siptlsd.cfg", f->dir);
	snprintf(text, sizeof(text),
		 "[core]\nlisten = tls:127.0.0.1:0\nlisten = tcp:127.0.0.1:0\n"
		 "backend = udp:127.0.0.1:9\nhandler = echo\n%s\n",
		 extra ? extra : "");
	cf_write(f->cfg, text);
	stls_diag_init(&diag);
	CHECK_OK(stls_conf_load(f->cfg, &f->conf, &diag));
	CHECK_OK(stls_core_conf_apply(cf_core_section(f->conf), &f->conf->tls,
				      &f->core, &diag));
	CHECK_OK(stls_pstore_new(f->conf, &f->conf->tls, &f->core, &diag,
				 &f->ps));
	stls_diag_fini(&diag);
	dh_init(&f->h, workers, &stls_echo_handler);
	f->h.o.xform_new = txd_new;
	dh_listen(&f->h, "tls:127.0.0.1:0");
	dh_listen(&f->h, "tcp:127.0.0.1:0");
	dh_start(&f->h);
	memset(&cc, 0, sizeof(cc));
	cc.d = f->h.d;
	cc.ps = f->ps;
	cc.live = &f->conf->tls;
	cc.core = &f->core;
	cc.base_dir = f->conf->base_dir;
	cc.worker_wait_ms = 2000;
	CHECK_OK(stls_ctl_new(&cc, &f->ctl));
}

static inline void cf_fini(struct cf *f)
{
	stls_ctl_free(f->ctl);
	dh_free(&f->h);
	stls_pstore_free(f->ps);
	stls_core_conf_fini(&f->core);
	stls_conf_free(f->conf);
}

/*
 * Calls <method> with <params> (JSON text of an array, or NULL) and returns
 * the parsed reply object (release with json_decref).
 */
static inline json_t *cf_call(struct cf *f, const char *method,
			      const char *params)
{
	char req[4096], *resp = NULL;
	size_t len = 0;
	json_t *v = NULL;

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":%s,"
		 "\"id\":1}", method, params ? params : "[]");
	CHECK_OK(stls_rpc_handle(f->ctl->rpc, req, strlen(req), 0, &resp,
				 &len));
	CHECK_NOT_NULL(resp);
	v = rt_parse(resp, len);
	free(resp);
	return v;
}

static inline json_t *cf_result(const json_t *r)
{
	return json_object_get(r, "result");
}

/* Error code of a reply, 0 when it has a result. */
static inline int64_t cf_error(const json_t *r)
{
	return json_integer_value(
		json_object_get(json_object_get(r, "error"), "code"));
}

static inline const char *cf_error_msg(const json_t *r)
{
	return json_string_value(
		json_object_get(json_object_get(r, "error"), "message"));
}

/* A connection to listener i that completed the toy handshake. */
static inline int cf_connect_tls(struct cf *f)
{
	char buf[8];
	int fd = dh_connect(stls_daemon_bound(f->h.d, 0));

	dh_send_all(fd, "HELLO\n", 6);
	CHECK_EQ(dh_recv_n(fd, buf, 8), 8);
	return fd;
}

#endif
