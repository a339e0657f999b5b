/*
 * Tests for daemon/metrics/metrics_revoc.c: a must-staple certificate of
 * a server profile with nothing to staple is counted (a client profile's
 * is not: a client presents no staple), and stapling profiles get one
 * state sample per certificate. The refresh thread does not run here, so
 * a stapling profile is in state none, with no response to time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_int.h"
#include "test.h"

static char *page_for(const char *staple)
{
	char cfg[600], pem[600], key[600], cmd[6000];
	struct stls_metrics_src src;
	struct stls_core_conf core;
	struct stls_pstore *ps;
	struct stls_conf *conf;
	struct stls_diag diag;
	struct stls_prom p;
	size_t len;
	char *s;
	FILE *f;

	snprintf(pem, sizeof(pem), "%s/must.pem", test_tmp_dir());
	snprintf(key, sizeof(key), "%s/must.key", test_tmp_dir());
	/* Issued by the test CA (a staple needs the issuer in the chain). */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -new -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -keyout %s -subj /CN=must.test"
		 " -addext tlsfeature=status_request -addext "
		 "authorityInfoAccess=OCSP\\;URI:http://127.0.0.1:9/ -out m.csr"
		 " >/dev/null 2>&1 && openssl x509 -req -in m.csr -CA %s -CAkey"
		 " %s -set_serial 4242 -days 30 -copy_extensions copy -out m.crt"
		 " >/dev/null 2>&1 && cat m.crt %s > %s", test_tmp_dir(), key,
		 test_cert_path("ca.pem"), test_cert_path("ca.key"),
		 test_cert_path("ca.pem"), pem);
	CHECK_EQ(system(cmd), 0);
	snprintf(cfg, sizeof(cfg), "%s/main.cfg", test_tmp_dir());
	f = fopen(cfg, "w");
	CHECK_NOT_NULL(f);
	fprintf(f, "[server:default]\ncertificate = %s\nprivate_key = %s\n"
		   "ocsp_stapling = %s\n[client:default]\ncertificate = %s\n"
		   "private_key = %s\n", pem, key, staple, pem, key);
	fclose(f);
	stls_diag_init(&diag);
	memset(&core, 0, sizeof(core));
	CHECK_OK(stls_conf_load(cfg, &conf, &diag));
	if (stls_pstore_new(conf, &conf->tls, &core, &diag, &ps) != 0) {
		char buf[512];
		size_t i;

		for (i = 0; i < diag.n; i++)
			fprintf(stderr, "%s\n", stls_diag_format(&diag.v[i],
								buf,
								sizeof(buf)));
		CHECK(!"the profiles build");
	}
	stls_diag_fini(&diag);
	memset(&src, 0, sizeof(src));
	src.ps = ps;
	stls_prom_init(&p);
	stls__metrics_page_revoc(&src, &p);
	s = stls_prom_take(&p, &len);
	CHECK_NOT_NULL(s);
	stls_pstore_free(ps);
	stls_conf_free(conf);
	return s;
}

TEST(must_staple_without_stapling_is_counted_once)
{
	char *s = page_for("off");

	CHECK_STR_HAS(s, "\nsiptls_tls_must_staple_unstapled 1\n");
	CHECK(strstr(s, "siptls_tls_ocsp_status{") == NULL);
	CHECK_STR_HAS(s, "# TYPE siptls_tls_crl_next_update_seconds gauge");
	free(s);
}

TEST(stapling_profile_has_a_state)
{
	char *s = page_for("on");

	CHECK_STR_HAS(s, "siptls_tls_ocsp_status{profile=\"");
	CHECK_STR_HAS(s, "CN=must.test\",state=\"none\"} 1\n");
	CHECK(strstr(s, "siptls_tls_ocsp_response_expiry_seconds{") == NULL);
	CHECK_STR_HAS(s, "\nsiptls_tls_must_staple_unstapled 1\n");
	free(s);
}
