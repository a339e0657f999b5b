/*
 * Tests of daemon/ctl/ctl_reload.c: the reload path shared by tls.reload
 * and SIGHUP (generation and count, a failing hook keeps the set),
 * serialised against changes of `config`.
 */
/* ctest-label: tsan */
#include "daemon/ctl/ctl_fixture.h"

#include <pthread.h>

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
