/*
 * Unit tests for lib/tls/conn_stats.c: the process-wide record-layer
 * counters count one by one from any thread and read back through
 * stls_conn_get_counters(), each in its own field.
 */
#include <pthread.h>

#include "test.h"
#include "tls/tls_int.h"

static void *count_many(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 10000; i++) {
		(void)stls__conn_count(STLS_CNT_EMPTY_RECORDS);
	}
	return NULL;
}

TEST(each_counter_in_its_field)
{
	struct stls_conn_counters k;

	CHECK_EQ(stls__conn_count(STLS_CNT_WARN_ALERTS), 1);
	CHECK_EQ(stls__conn_count(STLS_CNT_KEY_LIMIT), 1);
	CHECK_EQ(stls__conn_count(STLS_CNT_KEY_LIMIT), 2);
	CHECK_EQ(stls__conn_count(STLS_CNT_FALLBACKS), 1);
	stls_conn_get_counters(&k);
	CHECK_EQ(k.warning_alert_closes, 1);
	CHECK_EQ(k.empty_record_closes, 0);
	CHECK_EQ(k.key_limit_closes, 2);
	CHECK_EQ(k.handoff_fallbacks, 1);
}

/* ctest-label: tsan */
TEST(counts_from_threads)
{
	struct stls_conn_counters k;
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++) {
		CHECK_OK(pthread_create(&t[i], NULL, count_many, NULL));
	}
	for (i = 0; i < 4; i++) {
		CHECK_OK(pthread_join(t[i], NULL));
	}
	stls_conn_get_counters(&k);
	CHECK_EQ(k.empty_record_closes, 40000);
}
