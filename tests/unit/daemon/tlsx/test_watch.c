/*
 * daemon/tlsx/watch.c on a real libuv loop and real files (inotify) in
 * test_tmp_dir(): a change to the config file, a certificate renamed into
 * place, or a burst of writes each bring one reload after the settle
 * delay; another file in the same directory brings none; a good reload
 * that names a file in a new directory has that directory watched; a
 * half-written certificate fails its reload and the running set stays,
 * the completed file reloads. Waits are bounded (10 s) and polled.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <uv.h>

#include "stls/conf.h"
#include "daemon/tlsx/tls_cfg_fixture.h"
#include "test.h"
#include "tlsx/pstore.h"
#include "tlsx/watch.h"

struct wfx {
	char dir[256], tls[512], cert[512], key[512], ca[512];
	uv_loop_t loop;
	uv_timer_t tick;
	struct stls_conf *conf;
	struct stls_core_conf core;
	struct stls_pstore *ps;
	struct stls_watch *w;
	int reloads, failed;
};

static void write_tls(struct wfx *f, const char *extra)
{
	tcf_write_tls(f->tls, f->cert, f->key, f->ca, extra);
}

static int do_reload(void *arg)
{
	struct wfx *f = arg;
	struct stls_diag diag;
	int err;

	stls_diag_init(&diag);
	err = stls_pstore_reload(f->ps, &diag, NULL);
	stls_diag_fini(&diag);
	f->reloads++;
	f->failed += err != 0;
	return err;
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until *counter reaches <n> or <ms> pass. */
static bool run_until(struct wfx *f, const int *counter, int n, int ms)
{
	uint64_t end = uv_now(&f->loop) + (uint64_t)ms;

	while (*counter < n && uv_now(&f->loop) < end) {
		uv_run(&f->loop, UV_RUN_ONCE);
		uv_update_time(&f->loop);
	}
	return *counter >= n;
}

static void wfx_start(struct wfx *f, int delay_ms)
{
	char main[600], text[1024];
	struct stls_diag diag;

	memset(f, 0, sizeof(*f));
	CHECK(strlen(test_tmp_dir()) < 200);
	snprintf(f->dir, sizeof(f->dir), "%s/etc", test_tmp_dir());
	CHECK_OK(mkdir(f->dir, 0700));
	snprintf(f->tls, sizeof(f->tls), "%s/tls.cfg", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
	test_copy_file(test_cert_path("server.pem"), f->cert);
	test_copy_file(test_cert_path("server.key"), f->key);
	test_copy_file(test_cert_path("ca.pem"), f->ca);
	write_tls(f, "");
	snprintf(main, sizeof(main), "%s/main.cfg", test_tmp_dir());
	snprintf(text, sizeof(text), "[tls]\nconfig = %s\n", f->tls);
	tcf_write_file(main, text);
	stls_diag_init(&diag);
	if (stls_conf_load(main, &f->conf, &diag) != 0)
		stls_diag_print(&diag, stderr);
	CHECK_NOT_NULL(f->conf);
	CHECK_OK(stls_pstore_new(f->conf, &f->conf->tls, &f->core, &diag,
				 &f->ps));
	stls_diag_fini(&diag);
	CHECK_OK(uv_loop_init(&f->loop));
	CHECK_OK(uv_timer_init(&f->loop, &f->tick));
	CHECK_OK(uv_timer_start(&f->tick, on_tick, 20, 20));
	CHECK_OK(stls_watch_new(&f->loop, f->ps, &f->conf->tls, delay_ms,
				do_reload, f, &f->w));
}

static void wfx_stop(struct wfx *f)
{
	stls_watch_free(f->w);
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT); /* finishes the closes */
	CHECK_OK(uv_loop_close(&f->loop));
	stls_pstore_free(f->ps);
	stls_conf_free(f->conf);
}

TEST(config_change_reloads_once_after_a_burst)
{
	struct wfx f;
	int i, never = 0;

	wfx_start(&f, 300);
	CHECK_EQ(stls_watch_dirs(f.w), 1);
	/* Several writes within the settle delay: one reload. */
	for (i = 0; i < 5; i++) {
		write_tls(&f, "# edited\n");
	}
	CHECK(run_until(&f, &f.reloads, 1, 10000));
	run_until(&f, &never, 1, 1000); /* a second one would come now */
	CHECK_EQ(f.reloads, 1);
	CHECK_EQ(f.failed, 0);
	wfx_stop(&f);
}

TEST(other_files_in_the_directory_do_not_reload)
{
	struct wfx f;
	char other[600];

	wfx_start(&f, 50);
	snprintf(other, sizeof(other), "%s/unrelated.txt", f.dir);
	tcf_write_file(other, "hello\n");
	CHECK(!run_until(&f, &f.reloads, 1, 1500));
	/* The watched certificate, renamed into place. */
	snprintf(other, sizeof(other), "%s/cert.pem.new", f.dir);
	test_copy_file(test_cert_path("server2.pem"), other);
	CHECK(!run_until(&f, &f.reloads, 1, 500));
	CHECK_OK(rename(other, f.cert));
	CHECK(run_until(&f, &f.reloads, 1, 10000));
	CHECK_EQ(f.failed, 1); /* server2.pem does not match key.pem */
	wfx_stop(&f);
}

TEST(half_written_certificate_fails_then_the_whole_one_loads)
{
	struct wfx f;
	uint64_t g1;

	wfx_start(&f, 100);
	g1 = stls_pstore_generation(f.ps);
	tcf_write_file(f.cert, "-----BEGIN CERTIFICATE-----\nMIIB\n");
	CHECK(run_until(&f, &f.reloads, 1, 10000));
	CHECK_EQ(f.failed, 1);
	CHECK_EQ(stls_pstore_generation(f.ps), g1);
	test_copy_file(test_cert_path("server.pem"), f.cert);
	CHECK(run_until(&f, &f.reloads, 2, 10000));
	CHECK_EQ(f.failed, 1);
	CHECK(stls_pstore_generation(f.ps) > g1);
	wfx_stop(&f);
}

/* A good reload that names a file elsewhere: its directory is watched
 * (the pstore's callback re-arms the watch on the loop). */
TEST(new_directory_watched_after_a_good_reload)
{
	struct wfx f;
	char dir2[600], ca2[700], extra[1024];
	int target;

	wfx_start(&f, 50);
	snprintf(dir2, sizeof(dir2), "%s/more", test_tmp_dir());
	CHECK_OK(mkdir(dir2, 0700));
	snprintf(ca2, sizeof(ca2), "%s/ca2.pem", dir2);
	test_copy_file(test_cert_path("ca.pem"), ca2);
	snprintf(extra, sizeof(extra),
		 "[client:192.0.2.9:5061]\nverify_certificate = yes\n"
		 "ca_list = %s\n",
		 ca2);
	write_tls(&f, extra);
	CHECK(run_until(&f, &f.reloads, 1, 10000));
	CHECK_EQ(f.failed, 0);
	/* The re-arm runs on the loop after the reload. */
	for (target = 0; target < 200 && stls_watch_dirs(f.w) != 2; target++) {
		uv_run(&f.loop, UV_RUN_ONCE);
	}
	CHECK_EQ(stls_watch_dirs(f.w), 2);
	test_copy_file(test_cert_path("ca.pem"), ca2);
	CHECK(run_until(&f, &f.reloads, 2, 10000));
	CHECK_EQ(f.failed, 0);
	wfx_stop(&f);
}
