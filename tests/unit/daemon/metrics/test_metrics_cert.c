/*
 * Tests for daemon/metrics/metrics_cert.c: certificate expiry per
 * profile, read once per profile set generation.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics_int.h"
#include "test.h"

struct cfx {
	struct stls_conf *conf;
	struct stls_core_conf core;
	struct stls_listen_conf l;
	struct stls_pstore *ps;
	char path[512];
};

static void cfx_write(struct cfx *f, const char *second)
{
	FILE *fp;

	snprintf(f->path, sizeof(f->path), "%s/main.cfg", test_tmp_dir());
	fp = fopen(f->path, "w");
	CHECK_NOT_NULL(fp);
	fprintf(fp, "[server:default]\ncertificate = %s\nprivate_key = %s\n",
		test_cert_path("server.pem"), test_cert_path("server.key"));
	fprintf(fp, "[server:127.0.0.1:5061]\ncertificate = %s\n"
		    "private_key = %s\n",
		test_cert_path(second), test_cert_path("server-expired.key"));
	fclose(fp);
}

static void cfx_start(struct cfx *f)
{
	struct stls_diag diag;
	const char *why = NULL;

	memset(f, 0, sizeof(*f));
	cfx_write(f, "server-expired.pem");
	stls_diag_init(&diag);
	CHECK_OK(stls_conf_load(f->path, &f->conf, &diag));
	/* The listener the [server:IP:port] profile needs. */
	CHECK_OK(stls_core_parse_listen("tls:127.0.0.1:5061", &f->l, &why));
	f->core.listen = &f->l;
	f->core.n_listen = 1;
	CHECK_OK(stls_pstore_new(f->conf, &f->conf->tls, &f->core, &diag,
				 &f->ps));
	stls_diag_fini(&diag);
}

TEST(expiry_per_profile)
{
	struct stls__mcert mc;
	struct cfx f;
	size_t i;
	bool def = false, exp = false;

	memset(&mc, 0, sizeof(mc));
	cfx_start(&f);
	CHECK_OK(stls__mcert_refresh(&mc, f.ps));
	CHECK_EQ(mc.n, 2);
	for (i = 0; i < mc.n; i++) {
		if (strcmp(mc.name[i], "TLSs<default>") == 0) {
			def = true;
			CHECK(mc.not_after[i] > time(NULL));
		}
		if (strcmp(mc.name[i], "TLSs<127.0.0.1:5061>") == 0) {
			exp = true;
			CHECK_EQ((long long)mc.not_after[i], 1609459200LL);
		}
	}
	CHECK(def && exp);
	CHECK_EQ(mc.generation, stls_pstore_generation(f.ps));
	stls__mcert_fini(&mc);
	stls_pstore_free(f.ps);
	stls_conf_free(f.conf);
}

TEST(refreshed_on_new_generation_only)
{
	struct stls_diag diag;
	struct stls__mcert mc;
	uint64_t gen;
	struct cfx f;

	memset(&mc, 0, sizeof(mc));
	cfx_start(&f);
	CHECK_OK(stls__mcert_refresh(&mc, f.ps));
	gen = mc.generation;
	/* Same set: nothing re-read (the arrays stay the same). */
	{
		void *names = mc.name;

		CHECK_OK(stls__mcert_refresh(&mc, f.ps));
		CHECK(mc.name == names);
	}
	stls_diag_init(&diag);
	CHECK_OK(stls_pstore_reload(f.ps, &diag, NULL));
	stls_diag_fini(&diag);
	CHECK_OK(stls__mcert_refresh(&mc, f.ps));
	CHECK(mc.generation > gen);
	CHECK_EQ(mc.n, 2);
	stls__mcert_fini(&mc);
	stls_pstore_free(f.ps);
	stls_conf_free(f.conf);
}
