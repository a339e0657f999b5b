/*
 * daemon/tlsx/pstore.c: the published profile set, built from real files
 * in test_tmp_dir() (a main config whose [tls] config names a tls.cfg
 * with the test PKI). A reload publishes a new set with a new generation
 * while a set taken before stays whole for its holder; a refused reload
 * (a missing certificate, a server profile no listener serves, a failing
 * source) keeps the old set and counts a failure. With a source, done()
 * is told after the swap: the new set is already visible when done(0)
 * runs, and on_reload comes after it; done(err) sees the old set.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stls/conf.h"
#include "daemon/tlsx/tls_cfg_fixture.h"
#include "test.h"
#include "tlsx/pstore.h"

struct fx {
	char main[512], tls[512];
	struct stls_conf *conf;
	struct stls_core_conf core;
	struct stls_listen_conf listen;
	struct stls_pstore *ps;
};

/* tls.cfg: the two defaults, then <extra>. */
static void write_tls(struct fx *f, const char *extra)
{
	char cert[600], key[600];

	snprintf(cert, sizeof(cert), "%s", test_cert_path("server.pem"));
	snprintf(key, sizeof(key), "%s", test_cert_path("server.key"));
	tcf_write_tls(f->tls, cert, key, test_cert_path("ca.pem"), extra);
}

/*
 * Loads the config (tls.cfg: the defaults, then <extra>); one TLS
 * listener on 127.0.0.1:45061 (never bound).
 */
static void fx_conf_with(struct fx *f, const char *extra)
{
	char text[1024];
	struct stls_diag diag;

	memset(f, 0, sizeof(*f));
	snprintf(f->main, sizeof(f->main), "%s/main.cfg", test_tmp_dir());
	snprintf(f->tls, sizeof(f->tls), "%s/tls.cfg", test_tmp_dir());
	snprintf(text, sizeof(text), "[tls]\nconfig = %s\n", f->tls);
	tcf_write_file(f->main, text);
	write_tls(f, extra);
	stls_diag_init(&diag);
	if (stls_conf_load(f->main, &f->conf, &diag) != 0)
		stls_diag_print(&diag, stderr);
	stls_diag_fini(&diag);
	CHECK_NOT_NULL(f->conf);
	f->listen.proto = STLS_PROTO_TLS;
	CHECK_OK(stls_addr_parse("127.0.0.1:45061", true, &f->listen.addr));
	f->core.listen = &f->listen;
	f->core.n_listen = 1;
}

static void fx_conf(struct fx *f)
{
	fx_conf_with(f, "");
}

/* A [server:<a>] section with the test server's certificate. */
static const char *srv(const char *a, const char *b)
{
	static char text[2048];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text),
			     "[server:%s]\ncertificate = %s\n", a,
			     test_cert_path("server.pem"));
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "private_key = %s\n",
			      test_cert_path("server.key"));
	if (b) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[server:%s]\ncertificate = %s\n", b,
				      test_cert_path("server.pem"));
		snprintf(text + n, sizeof(text) - n, "private_key = %s\n",
			 test_cert_path("server.key"));
	}
	return text;
}

static void fx_free(struct fx *f)
{
	stls_pstore_free(f->ps);
	stls_conf_free(f->conf);
}

static size_t count_now(struct stls_pstore *ps)
{
	struct stls_profile_set *s = stls_pstore_get(ps);
	size_t n = stls_profile_set_count(s);

	stls_profile_set_unref(s);
	return n;
}

TEST(reload_publishes_and_old_set_stays_with_its_holder)
{
	struct fx f;
	struct stls_diag diag;
	struct stls_profile_set *held;
	uint64_t g1, g2 = 0, ok, failed;
	size_t n1;

	fx_conf(&f);
	stls_diag_init(&diag);
	CHECK_OK(stls_pstore_new(f.conf, &f.conf->tls, &f.core, &diag,
				 &f.ps));
	CHECK(stls_pstore_last_good(f.ps) > 0);
	g1 = stls_pstore_generation(f.ps);
	CHECK(g1 > 0);
	held = stls_pstore_get(f.ps); /* as a connection would */
	n1 = stls_profile_set_count(held);
	write_tls(&f, "[client:192.0.2.7:5061]\nverify_certificate = no\n");
	CHECK_OK(stls_pstore_reload(f.ps, &diag, &g2));
	CHECK(g2 > g1);
	CHECK_EQ(stls_pstore_generation(f.ps), g2);
	CHECK_EQ(count_now(f.ps), n1 + 1);
	/* The connection's set is the one it started with. */
	CHECK_EQ(stls_profile_set_generation(held), g1);
	CHECK_EQ(stls_profile_set_count(held), n1);
	stls_profile_set_unref(held);
	stls_pstore_counts(f.ps, &ok, &failed);
	CHECK_EQ(ok, 1);
	CHECK_EQ(failed, 0);
	stls_diag_fini(&diag);
	fx_free(&f);
}

TEST(refused_reload_keeps_the_old_set)
{
	struct fx f;
	struct stls_diag diag;
	uint64_t g1, g = 0, ok, failed;
	size_t n1;
	char extra[512];

	fx_conf(&f);
	stls_diag_init(&diag);
	CHECK_OK(stls_pstore_new(f.conf, &f.conf->tls, &f.core, &diag,
				 &f.ps));
	g1 = stls_pstore_generation(f.ps);
	n1 = count_now(f.ps);
	/* A certificate that is not there. */
	snprintf(extra, sizeof(extra),
		 "[server:any]\nserver_name = a.example\ncertificate = "
		 "%s/missing.pem\nprivate_key = %s\n",
		 test_tmp_dir(), test_cert_path("server.key"));
	write_tls(&f, extra);
	CHECK_EQ(stls_pstore_reload(f.ps, &diag, &g), -EINVAL);
	CHECK_EQ(g, 0);
	CHECK(diag.errors > 0);
	CHECK_EQ(stls_pstore_generation(f.ps), g1);
	CHECK_EQ(count_now(f.ps), n1);
	stls_diag_fini(&diag);
	/* A server profile for an address no TLS listener serves. */
	stls_diag_init(&diag);
	write_tls(&f, srv("127.0.0.1:45062", NULL));
	CHECK_EQ(stls_pstore_reload(f.ps, &diag, NULL), -EINVAL);
	CHECK_EQ(stls_pstore_generation(f.ps), g1);
	stls_diag_fini(&diag);
	/* The listener's own address is served. */
	stls_diag_init(&diag);
	write_tls(&f, srv("127.0.0.1:45061", NULL));
	if (stls_pstore_reload(f.ps, &diag, &g) != 0) {
		stls_diag_print(&diag, stderr);
		CHECK(0);
	}
	CHECK(g > g1);
	stls_pstore_counts(f.ps, &ok, &failed);
	CHECK_EQ(ok, 1);
	CHECK_EQ(failed, 2);
	stls_diag_fini(&diag);
	fx_free(&f);
}

TEST(check_listeners_address_port_and_wildcard)
{
	struct fx f;
	struct stls_diag diag;
	struct stls_profile_set *s;

	fx_conf_with(&f, srv("127.0.0.1:45062", "127.0.0.1:0"));
	stls_diag_init(&diag);
	CHECK_EQ(stls_pstore_new(f.conf, &f.conf->tls, &f.core, &diag,
				 &f.ps),
		 -EINVAL);
	CHECK_EQ(diag.errors, 1); /* 45062; port 0 is any port */
	stls_diag_fini(&diag);
	/* A wildcard listener on the port serves both (port 0: any). */
	stls_diag_init(&diag);
	CHECK_OK(stls_addr_parse("0.0.0.0:45062", true, &f.listen.addr));
	CHECK_OK(stls_pstore_new(f.conf, &f.conf->tls, &f.core, &diag,
				 &f.ps));
	s = stls_pstore_get(f.ps);
	CHECK_EQ(stls_pstore_check_listeners(s, &f.core, &diag), 0);
	/* Not over udp:, nor on another port. */
	f.listen.proto = STLS_PROTO_UDP;
	CHECK_EQ(stls_pstore_check_listeners(s, &f.core, &diag), 2);
	f.listen.proto = STLS_PROTO_TLS;
	CHECK_OK(stls_addr_parse("0.0.0.0:45063", true, &f.listen.addr));
	CHECK_EQ(stls_pstore_check_listeners(s, &f.core, &diag), 1);
	stls_profile_set_unref(s);
	stls_diag_fini(&diag);
	fx_free(&f);
}

/* A source that reads the files, and records what done() saw. */
struct src {
	struct fx *f;
	int fail_load;      /* load() returns this when non-zero */
	int done_calls;
	int done_err;
	uint64_t gen_at_done;
	size_t count_at_done;
	int order;          /* 1: done ran, 2: then on_reload */
	int reloads_seen;
};

static int src_load(void *arg, struct stls_profile_conf **list,
		    struct stls_diag *diag)
{
	struct src *s = arg;

	if (s->fail_load)
		return s->fail_load;
	return stls_conf_reload_profiles(s->f->conf, &s->f->conf->tls, list,
					 diag);
}

static void src_done(void *arg, int err, const struct stls_diag *diag)
{
	struct src *s = arg;

	(void)diag;
	s->done_calls++;
	s->done_err = err;
	s->order = 1;
	if (s->f->ps) { /* NULL during stls_pstore_new_src() */
		s->gen_at_done = stls_pstore_generation(s->f->ps);
		s->count_at_done = count_now(s->f->ps);
	}
}

static void on_reload(void *arg)
{
	struct src *s = arg;

	s->reloads_seen++;
	CHECK_EQ(s->order, 1);
	s->order = 2;
}

TEST(done_is_told_after_the_swap)
{
	struct fx f;
	struct src s = { 0 };
	struct stls_pstore_src src = { src_load, src_done, &s, NULL };
	struct stls_diag diag;
	uint64_t g1, g2 = 0;
	size_t n1;

	fx_conf(&f);
	s.f = &f;
	stls_diag_init(&diag);
	CHECK_OK(stls_pstore_new_src(f.conf, &f.conf->tls, &f.core, &src,
				     &diag, &f.ps));
	CHECK_EQ(s.done_calls, 1);
	CHECK_EQ(s.done_err, 0);
	stls_pstore_set_on_reload(f.ps, on_reload, &s);
	g1 = stls_pstore_generation(f.ps);
	n1 = count_now(f.ps);

	/* Good: done(0) already sees the new set, then on_reload. */
	write_tls(&f, "[client:192.0.2.7:5061]\nverify_certificate = no\n");
	CHECK_OK(stls_pstore_reload(f.ps, &diag, &g2));
	CHECK_EQ(s.done_calls, 2);
	CHECK_EQ(s.done_err, 0);
	CHECK_EQ(s.gen_at_done, g2);
	CHECK(g2 > g1);
	CHECK_EQ(s.count_at_done, n1 + 1);
	CHECK_EQ(s.order, 2);
	CHECK_EQ(s.reloads_seen, 1);

	/* A list that does not build: done(-EINVAL) sees the old set. */
	write_tls(&f, "[server:any]\nserver_name = b.example\n"
		      "certificate = /nonexistent/x.pem\n");
	CHECK_EQ(stls_pstore_reload(f.ps, &diag, NULL), -EINVAL);
	CHECK_EQ(s.done_calls, 3);
	CHECK_EQ(s.done_err, -EINVAL);
	CHECK_EQ(s.gen_at_done, g2);
	CHECK_EQ(s.count_at_done, n1 + 1);
	CHECK_EQ(s.reloads_seen, 1);

	/* A source that fails: its error, the old set, no on_reload. */
	s.fail_load = -ENOTCONN;
	CHECK_EQ(stls_pstore_reload(f.ps, &diag, NULL), -ENOTCONN);
	CHECK_EQ(s.done_calls, 4);
	CHECK_EQ(s.done_err, -ENOTCONN);
	CHECK_EQ(stls_pstore_generation(f.ps), g2);
	CHECK_EQ(s.reloads_seen, 1);
	stls_diag_fini(&diag);
	fx_free(&f);
}

TEST(first_build_refused_by_the_source)
{
	struct fx f;
	struct src s = { 0 };
	struct stls_pstore_src src = { src_load, src_done, &s, NULL };
	struct stls_diag diag;

	fx_conf(&f);
	s.f = &f;
	s.fail_load = -EIO;
	stls_diag_init(&diag);
	CHECK_EQ(stls_pstore_new_src(f.conf, &f.conf->tls, &f.core, &src,
				     &diag, &f.ps),
		 -EIO);
	CHECK_NULL(f.ps);
	CHECK_EQ(s.done_calls, 1);
	CHECK_EQ(s.done_err, -EIO);
	stls_diag_fini(&diag);
	fx_free(&f);
}
