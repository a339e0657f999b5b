/*
 * What a scrape of /metrics shows: every counter the daemon keeps, read
 * without locks from the workers' own blocks (runtime stats, tlsx's and
 * the relay's per-worker measurements) and summed here. The metric names,
 * types and labels are listed in docs/metrics.md; a test
 * checks the page with promtool and that the shipped Grafana dashboard
 * only uses names that appear here.
 *
 * Label cardinality is bounded: reasons, causes, directions and outcomes
 * are closed lists; versions and cipher suites are OpenSSL's; profile
 * names come from the configuration; and each worker's label table holds
 * at most STLS_LTAB_ROWS rows (more land in one row labelled
 * "_overflow").
 */
#include "metrics/metrics_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/stats.h"
#include "stls/conn.h"
#include "stls/hsm.h"
#include "stls/profile.h"

#define OVERFLOW_LABEL "_overflow"

/* One merged row of a label table. */
struct mrow {
	const char *key; /* NULL: the overflow row */
	int64_t v[STLS_LTAB_VALS];
};

static int cmp_mrow(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;

	if (!x->key || !y->key)
		return x->key ? -1 : (y->key ? 1 : 0);
	return strcmp(x->key, y->key);
}

static const struct stls_ltab *table_of(const struct stls_tlsx_wstats *ws,
					bool conns)
{
	return conns ? &ws->conns : &ws->hs;
}

/* The rows of every worker's table, summed by key, sorted. */
static struct mrow *merge_rows(const struct stls_tlsx *t, bool conns,
			       size_t *out_n)
{
	unsigned w, nw = stls_tlsx_workers(t);
	const struct stls_ltab *tab;
	const struct stls_ltab_row *r;
	size_t total = 0, n = 0, i, k, m;
	struct mrow *v;

	for (w = 0; w < nw; w++)
		total += stls_ltab_count(table_of(stls_tlsx_wstats(t, w),
						  conns)) + 1;
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (w = 0; w < nw; w++) {
		tab = table_of(stls_tlsx_wstats(t, w), conns);
		m = stls_ltab_count(tab);
		for (i = 0; i <= m && n < total; i++) {
			r = i < m ? stls_ltab_row(tab, i)
				  : stls_ltab_overflow(tab);
			v[n].key = i < m ? r->key : NULL;
			for (k = 0; k < STLS_LTAB_VALS; k++)
				v[n].v[k] = atomic_load_explicit(
					&r->v[k], memory_order_relaxed);
			/* The overflow row shows once it counted something
			 * (never, with a sane configuration). */
			if (v[n].key || v[n].v[0] || v[n].v[1])
				n++;
		}
	}
	qsort(v, n, sizeof(*v), cmp_mrow);
	for (i = 0, m = 0; i < n; i++) {
		if (m > 0 && cmp_mrow(&v[m - 1], &v[i]) == 0) {
			for (k = 0; k < STLS_LTAB_VALS; k++)
				v[m - 1].v[k] += v[i].v[k];
		} else {
			v[m++] = v[i];
		}
	}
	*out_n = m;
	return v;
}

#define MAX_LABELS 4

/*
 * Labels {names[i] = value i of the row's key}, into lab (2 * n + 1
 * entries); the key is split into <buf>.
 */
static void row_labels(const struct mrow *r, const char *const *names,
		       size_t n, char *buf, const char **lab)
{
	char *s = buf;
	size_t i;

	if (r->key)
		snprintf(buf, STLS_LTAB_KEY_MAX, "%s", r->key);
	for (i = 0; i < n; i++) {
		lab[2 * i] = names[i];
		if (!r->key) {
			lab[2 * i + 1] = OVERFLOW_LABEL;
			continue;
		}
		lab[2 * i + 1] = s;
		s = s ? strchr(s, STLS_LTAB_SEP) : NULL;
		if (s)
			*s++ = '\0';
		else
			s = NULL;
	}
	lab[2 * n] = NULL;
}

/* A row's value <i> only when the row's first label is <first>. */
static bool row_first_is(const struct mrow *r, const char *first)
{
	size_t l = strlen(first);

	return r->key && strncmp(r->key, first, l) == 0 &&
	       r->key[l] == STLS_LTAB_SEP;
}

static void page_tls_tables(const struct stls_tlsx *t, struct stls_prom *p)
{
	static const char *const hs_names[] = { "result", "version", "cipher",
						"profile" };
	static const char *const conn_names[] = { "direction", "profile" };
	const char *lab[2 * MAX_LABELS + 3];
	char buf[STLS_LTAB_KEY_MAX];
	struct mrow *v;
	size_t n, i;

	v = merge_rows(t, false, &n);
	if (!v) {
		p->err = -ENOMEM;
		return;
	}
	stls_prom_family(p, "siptls_tls_handshakes_total", "counter",
			 "TLS handshakes by result (ok, failed), version, "
			 "cipher suite and profile.");
	for (i = 0; i < n; i++) {
		row_labels(&v[i], hs_names, 4, buf, lab);
		stls_prom_int(p, "siptls_tls_handshakes_total", lab,
			      v[i].v[STLS_TLSX_HS_COUNT]);
	}
	stls_prom_family(p, "siptls_tls_resumptions_total", "counter",
			 "TLS handshakes that resumed a session, by version, "
			 "cipher suite and profile.");
	for (i = 0; i < n; i++) {
		if (v[i].key && !row_first_is(&v[i], "ok"))
			continue;
		row_labels(&v[i], hs_names, 4, buf, lab);
		/* Drop the result label: always "ok" here. */
		stls_prom_int(p, "siptls_tls_resumptions_total", lab + 2,
			      v[i].v[STLS_TLSX_HS_RESUMED]);
	}
	free(v);
	v = merge_rows(t, true, &n);
	if (!v) {
		p->err = -ENOMEM;
		return;
	}
	stls_prom_family(p, "siptls_tls_connections", "gauge",
			 "TLS connections open now by direction (in, out), "
			 "state (handshaking, established) and profile.");
	for (i = 0; i < n; i++) {
		row_labels(&v[i], conn_names, 2, buf, lab);
		lab[4] = "state";
		lab[5] = "handshaking";
		lab[6] = NULL;
		stls_prom_int(p, "siptls_tls_connections", lab,
			      v[i].v[STLS_TLSX_CONN_HANDSHAKING]);
		lab[5] = "established";
		stls_prom_int(p, "siptls_tls_connections", lab,
			      v[i].v[STLS_TLSX_CONN_ESTABLISHED]);
	}
	free(v);
}

static void page_tls_arrays(const struct stls_tlsx *t, struct stls_prom *p)
{
	uint64_t closes[STLS_CLOSE__COUNT] = { 0 };
	uint64_t verify[STLS_TLSX_VCAUSE__COUNT] = { 0 };
	const struct stls_tlsx_wstats *ws;
	struct stls_histo_snap h;
	const char *lab[3] = { NULL, NULL, NULL };
	unsigned w, i;

	memset(&h, 0, sizeof(h));
	for (w = 0; w < stls_tlsx_workers(t); w++) {
		ws = stls_tlsx_wstats(t, w);
		for (i = 0; i < STLS_CLOSE__COUNT; i++)
			closes[i] += atomic_load_explicit(
				&ws->closes[i], memory_order_relaxed);
		for (i = 0; i < STLS_TLSX_VCAUSE__COUNT; i++)
			verify[i] += atomic_load_explicit(
				&ws->verify[i], memory_order_relaxed);
		stls_histo_read(&ws->hs_time, &h);
	}
	stls_prom_family(p, "siptls_tls_closes_total", "counter",
			 "TLS connections ended, by the TLS engine's close "
			 "reason.");
	lab[0] = "reason";
	for (i = 0; i < STLS_CLOSE__COUNT; i++) {
		lab[1] = stls_close_reason_names[i];
		stls_prom_uint(p, "siptls_tls_closes_total", lab, closes[i]);
	}
	stls_prom_family(p, "siptls_tls_verify_failures_total", "counter",
			 "Peer certificates refused, by cause (identity: the "
			 "RFC 5922 name check of outbound connections).");
	lab[0] = "cause";
	for (i = 0; i < STLS_TLSX_VCAUSE__COUNT; i++) {
		lab[1] = i < STLS_VCAUSE__COUNT ? stls_verify_cause_names[i]
						: "identity";
		stls_prom_uint(p, "siptls_tls_verify_failures_total", lab,
			       verify[i]);
	}
	stls_prom_family(p, "siptls_tls_handshake_duration_seconds",
			 "histogram",
			 "Time from a TLS connection's creation (accepted, or "
			 "connect started) to its completed handshake.");
	stls_prom_histo(p, "siptls_tls_handshake_duration_seconds", NULL,
			&stls_tlsx_hs_time_spec, &h);
}

static void counter1(struct stls_prom *p, const char *name,
		     const char *help, uint64_t v)
{
	stls_prom_family(p, name, "counter", help);
	stls_prom_uint(p, name, NULL, v);
}

static void gauge1(struct stls_prom *p, const char *name, const char *help,
		   int64_t v)
{
	stls_prom_family(p, name, "gauge", help);
	stls_prom_int(p, name, NULL, v);
}

static void page_tls_totals(const struct stls_metrics_src *src,
			    struct stls_prom *p)
{
	struct stls_conn_counters rc;
	struct stls_tlsx_stats ts;
	const char *lab[3] = { "cause", NULL, NULL };

	memset(&ts, 0, sizeof(ts));
	if (src->tlsx)
		stls_tlsx_stats(src->tlsx, &ts);
	stls_conn_get_counters(&rc);
	gauge1(p, "siptls_tls_connections_open",
	       "TLS connections open now, both directions.",
	       (int64_t)ts.tls_connections);
	gauge1(p, "siptls_tls_clear_text_queued_bytes",
	       "Plaintext queued by TLS connections while their handshakes "
	       "run (the total ct_wq_max limits).",
	       (int64_t)stls_conn_get_ct_wq_total());
	counter1(p, "siptls_tls_renegotiations_refused_total",
		 "Client renegotiations refused.", ts.renegotiations_refused);
	counter1(p, "siptls_tls_low_memory_refused_total",
		 "TLS connections refused or failed under low_mem_threshold1/"
		 "2.", ts.low_memory_refused);
	counter1(p, "siptls_tls_conn_out_dropped_total",
		 "Outbound TLS connections dropped by the connection-out "
		 "hook.", ts.conn_out_dropped);
	counter1(p, "siptls_tls_record_handoff_fallbacks_total",
		 "Connections that kept OpenSSL's record layer because a "
		 "hand-off check failed.", rc.handoff_fallbacks);
	stls_prom_family(p, "siptls_tls_record_limit_closes_total", "counter",
			 "Connections ended at a record-layer limit.");
	lab[1] = "warning_alerts";
	stls_prom_uint(p, "siptls_tls_record_limit_closes_total", lab,
		       rc.warning_alert_closes);
	lab[1] = "empty_records";
	stls_prom_uint(p, "siptls_tls_record_limit_closes_total", lab,
		       rc.empty_record_closes);
	lab[1] = "key_limit";
	stls_prom_uint(p, "siptls_tls_record_limit_closes_total", lab,
		       rc.key_limit_closes);
	counter1(p, "siptls_hsm_key_failures_total",
		 "Handshakes that failed because an HSM key could not sign.",
		 stls_hsm_key_failures());
}

static void page_memory(const struct stls_metrics_src *src,
			struct stls_prom *p)
{
	const char *lab[3] = { "threshold", NULL, NULL };
	int t1 = src->live ? __atomic_load_n(&src->live->low_mem_threshold1,
					     __ATOMIC_RELAXED)
			   : 0;
	int t2 = src->live ? __atomic_load_n(&src->live->low_mem_threshold2,
					     __ATOMIC_RELAXED)
			   : 0;

	gauge1(p, "siptls_memory_available_bytes",
	       "Available memory as the low-memory checks see it.",
	       (int64_t)stls_lowmem_get_available());
	stls_prom_family(p, "siptls_low_memory", "gauge",
			 "1 while available memory is below "
			 "low_mem_threshold1 (new TLS connections refused) or "
			 "low_mem_threshold2 (TLS work refused); 0 otherwise "
			 "or when the threshold is off.");
	lab[1] = "1";
	stls_prom_int(p, "siptls_low_memory", lab, stls_lowmem_is_low(t1, 1));
	lab[1] = "2";
	stls_prom_int(p, "siptls_low_memory", lab, stls_lowmem_is_low(t2, 2));
}

static void page_profiles(const struct stls_metrics_src *src,
			  struct stls__mcert *mc, struct stls_prom *p)
{
	const char *lab[3] = { "profile", NULL, NULL };
	uint64_t ok = 0, failed = 0;
	struct stls_profile_set *set;
	time_t now = time(NULL);
	size_t i;

	if (stls__mcert_refresh(mc, src->ps) != 0)
		p->err = -ENOMEM;
	stls_prom_family(p, "siptls_tls_certificate_expiry_seconds", "gauge",
			 "Seconds until the certificate a profile presents "
			 "expires (the earliest of certificate and "
			 "certificate2); negative once expired.");
	for (i = 0; i < mc->n; i++) {
		lab[1] = mc->name[i];
		stls_prom_int(p, "siptls_tls_certificate_expiry_seconds", lab,
			      (int64_t)(mc->not_after[i] - now));
	}
	set = stls_pstore_get(src->ps);
	gauge1(p, "siptls_tls_profiles", "Profiles in the current set.",
	       (int64_t)stls_profile_set_count(set));
	gauge1(p, "siptls_tls_profile_generation",
	       "Generation of the current profile set (1 at start, +1 per "
	       "successful reload).",
	       (int64_t)stls_profile_set_generation(set));
	stls_profile_set_unref(set);
	stls_pstore_counts(src->ps, &ok, &failed);
	stls_prom_family(p, "siptls_reloads_total", "counter",
			 "TLS profile reloads (tls.reload, SIGHUP) by result.");
	lab[0] = "result";
	lab[1] = "ok";
	stls_prom_uint(p, "siptls_reloads_total", lab, ok);
	lab[1] = "failed";
	stls_prom_uint(p, "siptls_reloads_total", lab, failed);
	gauge1(p, "siptls_reload_last_success_timestamp_seconds",
	       "Unix time the current profile set was published (start or "
	       "the last successful reload).",
	       (int64_t)stls_pstore_last_good(src->ps));
}

/* The runtime's counters (stats.h), by their Prometheus names. */
static const struct {
	enum stls_stat k;
	const char *name;
	const char *help;
} daemon_counters[] = {
	{ STLS_STAT_ACCEPTED, "siptls_connections_accepted_total",
	  "Inbound TCP and TLS connections accepted." },
	{ STLS_STAT_REFUSED_MAX_CONN, "siptls_connections_refused_total",
	  "Connections accepted and closed at once: max_connections." },
	{ STLS_STAT_ACCEPT_BACKOFF, "siptls_accept_backoffs_total",
	  "Times a worker paused accepting: out of file descriptors." },
	{ STLS_STAT_OUTBOUND, "siptls_connections_outbound_total",
	  "Outbound connections opened." },
	{ STLS_STAT_BYTES_IN, "siptls_received_bytes_total",
	  "Bytes read from stream connections (wire bytes)." },
	{ STLS_STAT_BYTES_OUT, "siptls_sent_bytes_total",
	  "Bytes written to stream connections (wire bytes)." },
	{ STLS_STAT_DGRAMS_IN, "siptls_datagrams_received_total",
	  "Datagrams received on udp: listeners." },
	{ STLS_STAT_DGRAMS_OUT, "siptls_datagrams_sent_total",
	  "Datagrams sent from udp: listeners." },
	{ STLS_STAT_BACKEND_SENT, "siptls_backend_sends_total",
	  "Messages sent to the backend." },
	{ STLS_STAT_BACKEND_SEND_ERRORS, "siptls_backend_send_failures_total",
	  "Messages the backend socket could not take." },
	{ STLS_STAT_BACKEND_RECEIVED, "siptls_backend_received_total",
	  "Messages received from the backend." },
	{ STLS_STAT_BACKEND_CONNECTS, "siptls_backend_connects_total",
	  "tcp: backend connections made (and remade)." },
	{ STLS_STAT_SHED, "siptls_handshakes_shed_total",
	  "Half-open handshakes closed at max_handshakes_in_flight." },
	{ STLS_STAT_HS_HELD, "siptls_handshake_reads_held_total",
	  "Handshake reads held for a later loop turn (8 a turn)." },
	{ STLS_STAT_HS_OFFLOADED, "siptls_handshake_steps_offloaded_total",
	  "Handshake steps run on the handshake threads." },
	{ STLS_STAT_HS_STEP_PAUSED, "siptls_handshake_step_pauses_total",
	  "Connections that stopped reading: 16 KB came during a step." },
	{ STLS_STAT_CLOSES_DEFERRED, "siptls_closes_deferred_total",
	  "Loop turns that left closes for the next (0.5 ms of closes a turn)." },
	{ STLS_STAT_HS_FLIGHTS_DIRECT, "siptls_handshake_flights_direct_total",
	  "Handshake steps whose output a handshake thread wrote (all or part)." },
	{ STLS_STAT_REFUSED_SOURCE_CONNS,
	  "siptls_source_refused_connections_total",
	  "Connections reset at accept: source_max_connections." },
	{ STLS_STAT_REFUSED_SOURCE_RATE, "siptls_source_refused_rate_total",
	  "Connections reset at accept: source_handshake_rate." },
	{ STLS_STAT_SOURCE_FILTER_LISTED, "siptls_source_filter_listed_total",
	  "Refused sources put in the listeners' SYN filter." },
	{ STLS_STAT_SOURCE_FILTER_REBUILDS,
	  "siptls_source_filter_rebuilds_total",
	  "SYN filter programs built (at most 10 a second)." },
	{ STLS_STAT_SOURCE_FILTER_FULL, "siptls_source_filter_full_total",
	  "Refused sources the full SYN filter could not take." },
};

static void page_daemon(const struct stls_metrics_src *src,
			struct stls_prom *p)
{
	const char *lab[3] = { "reason", NULL, NULL };
	struct stls_stats_snap s;
	size_t i;

	stls_daemon_stats(src->d, &s);
	gauge1(p, "siptls_connections_open",
	       "Connections open now: TLS, TCP and the tcp: backend ones.",
	       s.open);
	gauge1(p, "siptls_connections_max", "[core] max_connections.",
	       src->core->max_connections);
	gauge1(p, "siptls_handshake_steps_out",
	       "Handshake steps on the handshake threads now (running or "
	       "queued).", s.steps_out);
	gauge1(p, "siptls_handshake_steps_queued",
	       "Handshake steps waiting for a handshake thread now.",
	       (int64_t)stls_daemon_hs_queued(src->d));
	gauge1(p, "siptls_source_filter_sources",
	       "Sources in the listeners' SYN filter now (source_filter).",
	       (int64_t)stls_daemon_filtered_sources(src->d));
	for (i = 0; i < STLS_ARRAY_SIZE(daemon_counters); i++)
		counter1(p, daemon_counters[i].name, daemon_counters[i].help,
			 s.v[daemon_counters[i].k]);
	stls_prom_family(p, "siptls_connection_closes_total", "counter",
			 "Connections closed, by the daemon's close reason.");
	for (i = 1; i < STLS_DCLOSE__COUNT; i++) {
		lab[1] = stls_dclose_names[i];
		stls_prom_uint(p, "siptls_connection_closes_total", lab,
			       s.closed[i]);
	}
}

/* direction, outcome and the relay counters that add up to it. */
static const struct {
	const char *dir, *outcome;
	enum stls_relay_stat k[3];
	unsigned n;
} relay_outcomes[] = {
	{ "from_client", "relayed",
	  { STLS_RELAY_CLIENT_REQUESTS, STLS_RELAY_CLIENT_RESPONSES }, 2 },
	{ "from_client", "local_reply", { STLS_RELAY_REPLIED_CLIENT_OK }, 1 },
	{ "from_client", "error_reply",
	  { STLS_RELAY_REPLIED_CLIENT_ERROR }, 1 },
	{ "from_client", "dropped", { STLS_RELAY_CLIENT_DROPPED }, 1 },
	{ "from_backend", "relayed",
	  { STLS_RELAY_BACKEND_REQUESTS, STLS_RELAY_BACKEND_RESPONSES }, 2 },
	{ "from_backend", "local_reply",
	  { STLS_RELAY_REPLIED_BACKEND_OK }, 1 },
	{ "from_backend", "error_reply",
	  { STLS_RELAY_REPLIED_BACKEND_ERROR }, 1 },
	{ "from_backend", "dropped", { STLS_RELAY_FLOW_GONE }, 1 },
};

static void page_relay(const struct stls_relay *r, struct stls_prom *p)
{
	const char *lab[5] = { "direction", NULL, "outcome", NULL, NULL };
	uint64_t v[STLS_RELAY__COUNT], sum;
	struct stls_histo_snap h;
	size_t i, j;

	stls_relay_stats(r, v);
	stls_prom_family(p, "siptls_relay_messages_total", "counter",
			 "SIP messages by where they came from (from_client, "
			 "from_backend) and what became of them: relayed, "
			 "answered by siptlsd (local_reply 1xx-2xx, "
			 "error_reply 3xx-6xx), dropped.");
	for (i = 0; i < STLS_ARRAY_SIZE(relay_outcomes); i++) {
		for (j = 0, sum = 0; j < relay_outcomes[i].n; j++)
			sum += v[relay_outcomes[i].k[j]];
		lab[1] = relay_outcomes[i].dir;
		lab[3] = relay_outcomes[i].outcome;
		stls_prom_uint(p, "siptls_relay_messages_total", lab, sum);
	}
	counter1(p, "siptls_relay_flow_failures_total",
		 "Backend requests for a flow that is gone: answered 430 Flow "
		 "Failed.",
		 v[STLS_RELAY_FLOW_FAILED]);
	stls_prom_family(p, "siptls_relay_events_total", "counter",
			 "Every relay counter by its name (as SIGUSR1 logs "
			 "them).");
	lab[0] = "event";
	lab[2] = NULL;
	for (i = 0; i < STLS_RELAY__COUNT; i++) {
		lab[1] = stls_relay_stat_names[i];
		stls_prom_uint(p, "siptls_relay_events_total", lab, v[i]);
	}
	stls_relay_latency(r, &h);
	stls_prom_family(p, "siptls_relay_latency_seconds", "histogram",
			 "Time from a client's request reaching the relay "
			 "(decrypted) to its hand-off to the backend socket.");
	stls_prom_histo(p, "siptls_relay_latency_seconds", NULL,
			&stls_relay_latency_spec, &h);
}

void stls__metrics_page(const struct stls_metrics_src *src,
			struct stls__mcert *mc, const uint64_t self[2],
			struct stls_prom *p)
{
	const char *lab[3] = { "version", STLS_VERSION, NULL };

	stls_prom_family(p, "siptls_build_info", "gauge",
			 "Always 1; the version of siptlsd in a label.");
	stls_prom_int(p, "siptls_build_info", lab, 1);
	page_daemon(src, p);
	if (src->tlsx) {
		page_tls_tables(src->tlsx, p);
		page_tls_arrays(src->tlsx, p);
	}
	page_tls_totals(src, p);
	page_memory(src, p);
	if (src->ps) {
		page_profiles(src, mc, p);
		stls__metrics_page_revoc(src, p);
	}
	if (src->relay)
		page_relay(src->relay, p);
	counter1(p, "siptls_metrics_scrapes_total",
		 "Scrapes of this endpoint served.", self[0]);
	counter1(p, "siptls_metrics_refused_total",
		 "Connections to this endpoint refused by metrics_allow.",
		 self[1]);
}
