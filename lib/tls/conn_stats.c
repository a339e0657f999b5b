/*
 * Process-wide counters of the TLS engine's record layer (stls/conn.h,
 * stls_conn_get_counters()): connections ended at a record limit, on
 * either layer, and record hand-offs that fell back to keeping the SSL.
 * Relaxed atomics: any thread counts and reads.
 */
#include "tls/tls_int.h"

static uint64_t counts[STLS_CNT__COUNT]; /* atomic */

/* Add one to counter k; returns the new count. Any thread. */
uint64_t stls__conn_count(enum stls_conn_counter k)
{
	return __atomic_add_fetch(&counts[k], 1, __ATOMIC_RELAXED);
}

/* The current value of counter k. Any thread. */
uint64_t stls__conn_counted(enum stls_conn_counter k)
{
	return __atomic_load_n(&counts[k], __ATOMIC_RELAXED);
}

void stls_conn_get_counters(struct stls_conn_counters *out)
{
	out->warning_alert_closes = stls__conn_counted(STLS_CNT_WARN_ALERTS);
	out->empty_record_closes = stls__conn_counted(STLS_CNT_EMPTY_RECORDS);
	out->key_limit_closes = stls__conn_counted(STLS_CNT_KEY_LIMIT);
	out->handoff_fallbacks = stls__conn_counted(STLS_CNT_FALLBACKS);
}
