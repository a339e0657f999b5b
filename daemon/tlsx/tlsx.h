/*
 * The TLS transform of siptlsd: libsiptls's engine (stls_conn) plugged into
 * a daemon connection's transform slot, for tls: listeners (server role)
 * and for outbound TLS connections (client role), plus the
 * connection-out hook and the TLS counters.
 *
 * Server side: a new connection on a tls: listener takes a reference on the
 * current profile set (pstore), picks the server profile by its local
 * address (the SNI switch follows in the ClientHello), and keeps that set
 * until it closes. Client side: stls_tlsx_connect() picks the client
 * profile by server_id, destination and server name, sends the SNI, and,
 * when the profile has verify_server_name, checks the peer certificate
 * against the target SIP domain (RFC 5922).
 *
 * Everything here runs on the worker that owns the connection, except
 * stls_tlsx_new/free (main thread) and stls_tlsx_stats (any thread).
 */
#ifndef STLSD_TLSX_H
#define STLSD_TLSX_H

#include "runtime/dconn.h"
#include "runtime/mstat.h"
#include "tlsx/pstore.h"
#include "stls/conn.h"
#include "stls/facts.h"
#include "stls/tlsmon.h"

/* When the connection-out hook runs. */
enum stls_conn_out_phase {
	STLS_CONN_OUT_CONNECT,     /* before the TCP connect: no facts */
	STLS_CONN_OUT_ESTABLISHED, /* after the handshake, before any data */
};

/* What the connection-out hook sees. Borrowed for the call. */
struct stls_conn_out_event {
	enum stls_conn_out_phase phase;
	const struct stls_addr *dst;
	const char *server_name;        /* SNI sent, or NULL */
	const char *server_id;          /* or NULL */
	const char *profile;            /* "TLSc<default>" */
	const struct stls_facts *facts; /* ESTABLISHED only */
	struct stls_worker *w;          /* the worker opening it */
};

/*
 * The seed's event_route[tls:connection-out] / event_callback as a library
 * callback: return 0 to let the connection go on, -EPERM to drop it (the
 * connection closes before any application data leaves; queued data is
 * discarded and the opener sees reason TRANSFORM with detail
 * "dropped by connection-out hook"). Runs on the owning worker: it must not
 * block.
 */
typedef int stls_conn_out_fn(const struct stls_conn_out_event *ev,
			     void *arg);

struct stls_tlsx_conf {
	struct stls_pstore *ps;            /* borrowed, outlives the tlsx */
	const struct stls_settings *live;  /* borrowed: runtime settings */
	stls_conn_out_fn *conn_out;        /* NULL: allow all */
	void *conn_out_arg;
	bool keep_ssl; /* no record hand-off ([core] tls_record_handoff) */
	unsigned workers; /* the daemon's workers (per-worker measurements);
			   * 0 counts as 1 */
};

struct stls_tlsx;

/* Main thread. Returns 0 and *out, or -ENOMEM. */
STLS_MUST_USE int stls_tlsx_new(const struct stls_tlsx_conf *conf,
				struct stls_tlsx **out);
void stls_tlsx_free(struct stls_tlsx *t);

/* Makes tls: listeners use the engine: sets o->xform_new and xform_arg. */
void stls_tlsx_install(struct stls_tlsx *t, struct stls_daemon_opts *o);

/* Where an outbound TLS connection goes, and how it is checked. */
struct stls_tlsx_target {
	struct stls_addr dst;
	const char *server_name; /* SNI and client-profile selection; NULL:
				  * the profile's own server_name */
	const char *server_id;   /* client-profile selection, or NULL */
	const char *sip_domain;  /* identity the peer certificate must show
				  * when the profile has verify_server_name
				  * (RFC 5922); NULL: the SNI sent, else no
				  * name check */
};

/*
 * Opens an outbound TLS connection from worker w (must be w's thread).
 * Runs the connection-out hook (CONNECT phase) first. Data sent with
 * stls_dconn_send() before the handshake completes is queued (clear-text
 * queue limits apply) and leaves once the handshake and the ESTABLISHED
 * hook pass. Returns 0 with *out, -EPERM (dropped by the hook), -EMFILE
 * (max_connections), -ENOMEM (incl. low memory) or another -errno.
 */
STLS_MUST_USE int stls_tlsx_connect(struct stls_tlsx *t,
				    struct stls_worker *w,
				    const struct stls_tlsx_target *tg,
				    struct stls_dconn **out);

/* The engine connection of a TLS dconn, or NULL for a plain one. While
 * c->step_out (a handshake step on a handshake thread) the engine is the
 * step's: compare the pointer, call nothing on it. */
struct stls_conn *stls_tlsx_conn_of(const struct stls_dconn *c);

/* Facts of a TLS dconn after its handshake, else NULL. */
const struct stls_facts *stls_tlsx_facts(const struct stls_dconn *c);

/* Why a TLS dconn failed ("" when it did not, or for a plain one). */
const char *stls_tlsx_detail(const struct stls_dconn *c);

/* Process-wide TLS counters (tls.info). */
struct stls_tlsx_stats {
	uint64_t handshakes;          /* completed, both roles */
	uint64_t handshakes_resumed;
	uint64_t handshake_failures;  /* protocol errors, bad peers */
	uint64_t verify_failures;     /* certificate verification */
	uint64_t identity_failures;   /* RFC 5922 name check */
	uint64_t renegotiations_refused;
	uint64_t low_memory_refused;
	uint64_t conn_out_dropped;    /* by the connection-out hook */
	uint64_t tls_connections;     /* open now */
	uint64_t ct_wq_bytes;         /* clear_text_write_queued_bytes */
};
void stls_tlsx_stats(const struct stls_tlsx *t, struct stls_tlsx_stats *out);

/*
 * Formats the TLS counters of *st as "handshakes=N handshake_failures=N
 * ..." (every counter, tls.info names) into buf (always terminated).
 */
void stls_tlsx_stats_format(const struct stls_tlsx_stats *st, char *buf,
			    size_t len);

/* Logs the counters as one "stats: tls: ..." line (SIGUSR1, exit). NULL is
 * a no-op. Any thread. */
void stls_tlsx_stats_log(const struct stls_tlsx *t);

/*
 * Per-worker measurements for /metrics (runtime/mstat.h: the owning worker
 * writes, any thread reads). Label values are bounded: versions and
 * cipher suites by OpenSSL, profile names by the configuration.
 *
 * hs rows, key (result, version, cipher, profile): result "ok" or
 * "failed" (version and cipher "" when the handshake did not get that
 * far); v[STLS_TLSX_HS_COUNT] handshakes, v[STLS_TLSX_HS_RESUMED] of them
 * resumed. conns rows, key (direction "in"/"out", profile): gauges of the
 * TLS connections open now, handshaking and established. The profile is
 * the one matched when the connection was made until the handshake
 * completes, then the one in use (after any SNI switch).
 */
enum { STLS_TLSX_HS_COUNT, STLS_TLSX_HS_RESUMED };
enum { STLS_TLSX_CONN_HANDSHAKING, STLS_TLSX_CONN_ESTABLISHED };
/* Verification causes: the library's, then RFC 5922 identity failures. */
#define STLS_TLSX_VCAUSE_IDENTITY STLS_VCAUSE__COUNT
#define STLS_TLSX_VCAUSE__COUNT (STLS_VCAUSE__COUNT + 1)

struct stls_tlsx_wstats {
	struct stls_ltab hs;
	struct stls_ltab conns;
	struct stls_histo hs_time;   /* connection made -> handshake done */
	_Atomic uint64_t closes[STLS_CLOSE__COUNT];  /* engine close reason */
	_Atomic uint64_t verify[STLS_TLSX_VCAUSE__COUNT];
};

/* Bucket bounds of hs_time: 1 ms .. 10 s. */
extern const struct stls_histo_spec stls_tlsx_hs_time_spec;

/* Number of per-worker blocks, and block i (< that). Any thread. */
unsigned stls_tlsx_workers(const struct stls_tlsx *t);
const struct stls_tlsx_wstats *stls_tlsx_wstats(const struct stls_tlsx *t,
						unsigned i);

#endif
