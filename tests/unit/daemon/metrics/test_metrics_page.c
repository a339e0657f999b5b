/*
 * Tests for daemon/metrics/metrics_page.c: the page sums the workers'
 * label tables by key, splits keys into labels, shows the overflow row
 * only once it counted, and holds every family the docs list.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/runtime/daemon_harness.h"
#include "metrics/metrics_int.h"
#include "runtime/handler_echo.h"

struct pg {
	struct dh h;
	struct stls_core_conf core;
	struct stls_tlsx *t;
	struct stls__mcert mc;
};

static void pg_start(struct pg *g, unsigned workers)
{
	struct stls_tlsx_conf tc = { .workers = workers };

	memset(g, 0, sizeof(*g));
	dh_init(&g->h, workers, &stls_echo_handler);
	dh_listen(&g->h, "tcp:127.0.0.1:0");
	dh_start(&g->h);
	g->core.max_connections = 77;
	CHECK_OK(stls_tlsx_new(&tc, &g->t));
}

static char *pg_page(struct pg *g)
{
	struct stls_metrics_src src = { .d = g->h.d, .core = &g->core,
					.tlsx = g->t };
	uint64_t self[2] = { 5, 6 };
	struct stls_prom p;
	size_t len;
	char *s;

	stls_prom_init(&p);
	stls__metrics_page(&src, &g->mc, self, &p);
	s = stls_prom_take(&p, &len);
	CHECK_NOT_NULL(s);
	return s;
}

static void pg_free(struct pg *g)
{
	stls_tlsx_free(g->t);
	stls__mcert_fini(&g->mc);
	dh_free(&g->h);
}

/* Writes into worker w's tables as the worker would. */
static struct stls_tlsx_wstats *ws(struct pg *g, unsigned w)
{
	return (struct stls_tlsx_wstats *)stls_tlsx_wstats(g->t, w);
}

TEST(sums_workers_by_key)
{
	const char *v[4] = { "ok", "TLSv1.3", "TLS_AES_128_GCM_SHA256",
			     "TLSs<default>" };
	char key[STLS_LTAB_KEY_MAX];
	struct stls_ltab_row *r;
	struct pg g;
	char *s;

	pg_start(&g, 2);
	CHECK(stls_ltab_key(key, v, 4));
	r = stls_ltab_get(&ws(&g, 0)->hs, key);
	stls_ltab_add(r, STLS_TLSX_HS_COUNT, 3);
	stls_ltab_add(r, STLS_TLSX_HS_RESUMED, 1);
	r = stls_ltab_get(&ws(&g, 1)->hs, key);
	stls_ltab_add(r, STLS_TLSX_HS_COUNT, 4);
	v[0] = "failed";
	v[1] = v[2] = "";
	CHECK(stls_ltab_key(key, v, 4));
	stls_ltab_add(stls_ltab_get(&ws(&g, 1)->hs, key), 0, 2);
	v[0] = "out";
	v[1] = "TLSc<default>";
	CHECK(stls_ltab_key(key, v, 2));
	stls_ltab_add(stls_ltab_get(&ws(&g, 0)->conns, key),
		      STLS_TLSX_CONN_ESTABLISHED, 2);
	stls_histo_observe(&ws(&g, 1)->hs_time, &stls_tlsx_hs_time_spec,
			   3000000);
	s = pg_page(&g);
	CHECK(strstr(s, "siptls_tls_handshakes_total{result=\"ok\","
			"version=\"TLSv1.3\",cipher=\"TLS_AES_128_GCM_SHA256\","
			"profile=\"TLSs<default>\"} 7\n"));
	CHECK(strstr(s, "siptls_tls_handshakes_total{result=\"failed\","
			"version=\"\",cipher=\"\",profile=\"TLSs<default>\"} "
			"2\n"));
	CHECK(strstr(s, "siptls_tls_resumptions_total{version=\"TLSv1.3\","
			"cipher=\"TLS_AES_128_GCM_SHA256\","
			"profile=\"TLSs<default>\"} 1\n"));
	/* Only "ok" rows have resumptions. */
	CHECK(!strstr(s, "siptls_tls_resumptions_total{version=\"\""));
	CHECK(strstr(s, "siptls_tls_connections{direction=\"out\","
			"profile=\"TLSc<default>\",state=\"established\"} 2\n"));
	CHECK(strstr(s, "siptls_tls_connections{direction=\"out\","
			"profile=\"TLSc<default>\",state=\"handshaking\"} 0\n"));
	CHECK(strstr(s, "siptls_tls_handshake_duration_seconds_bucket"
			"{le=\"0.0025\"} 0\n"));
	CHECK(strstr(s, "siptls_tls_handshake_duration_seconds_bucket"
			"{le=\"0.005\"} 1\n"));
	CHECK(!strstr(s, "_overflow"));
	CHECK(strstr(s, "siptls_connections_max 77\n"));
	CHECK(strstr(s, "siptls_metrics_scrapes_total 5\n"));
	CHECK(strstr(s, "siptls_metrics_refused_total 6\n"));
	free(s);
	pg_free(&g);
}

TEST(overflow_row_once_it_counted)
{
	char key[STLS_LTAB_KEY_MAX];
	struct pg g;
	char *s;

	pg_start(&g, 1);
	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	stls_ltab_add(stls_ltab_get(&ws(&g, 0)->hs, key), 0, 9);
	s = pg_page(&g);
	CHECK(strstr(s, "siptls_tls_handshakes_total{result=\"_overflow\","
			"version=\"_overflow\",cipher=\"_overflow\","
			"profile=\"_overflow\"} 9\n"));
	free(s);
	pg_free(&g);
}

/* Every family of docs/operations.md's list is on the page (the parts
 * that need a profile store or the relay: test_metrics_cert.c and the
 * integration test). */
TEST(families_present)
{
	static const char *const names[] = {
		"siptls_build_info", "siptls_connections_open",
		"siptls_connections_accepted_total",
		"siptls_connection_closes_total",
		"siptls_backend_sends_total",
		"siptls_backend_send_failures_total",
		"siptls_tls_handshakes_total", "siptls_tls_resumptions_total",
		"siptls_tls_connections", "siptls_tls_closes_total",
		"siptls_tls_verify_failures_total",
		"siptls_tls_handshake_duration_seconds",
		"siptls_tls_clear_text_queued_bytes", "siptls_low_memory",
		"siptls_memory_available_bytes",
	};
	char want[128];
	struct pg g;
	size_t i;
	char *s;

	pg_start(&g, 1);
	s = pg_page(&g);
	for (i = 0; i < STLS_ARRAY_SIZE(names); i++) {
		snprintf(want, sizeof(want), "\n# TYPE %s ", names[i]);
		CHECK(strstr(s, want) != NULL);
	}
	CHECK(strstr(s, "siptls_connection_closes_total{reason="
			"\"idle-timeout\"} 0\n"));
	CHECK(strstr(s, "siptls_tls_verify_failures_total{cause="
			"\"identity\"} 0\n"));
	CHECK(!strstr(s, "siptls_connection_closes_total{reason=\"none\"}"));
	free(s);
	pg_free(&g);
}
