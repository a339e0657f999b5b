/*
 * loadgen internals: options, counters and the connection engine shared by
 * loadgen.c (command line, reporting) and lg_conn.c (epoll loop and the
 * per-connection TLS state machine).
 */
#ifndef STLS_BENCH_LG_H
#define STLS_BENCH_LG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "stls/common.h"

#define LG_MAX_PIPELINE 64

enum lg_mode {
	LG_FULL,       /* connect, handshake, OPTIONS, 200, close */
	LG_HANDSHAKE,  /* connect, handshake, close */
	LG_RESUME,     /* like handshake, offering the slot's last session */
	LG_PERSISTENT, /* K connections carrying pipelined OPTIONS */
	LG_IDLE,       /* open N connections and hold them */
};

struct lg_opts {
	enum lg_mode mode;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *host; /* as given, for the hostname check */
	bool tls13;
	int conc;        /* connections at once (idle: connections to hold) */
	int parallel;    /* idle: handshakes in flight while opening */
	double duration; /* seconds of load (idle: bound on the opening) */
	long count;      /* bound on operations started */
	double rate;     /* persistent: requests per second, 0 = maximum */
	int pipeline;    /* persistent: requests in flight per connection */
	double hold;     /* idle: seconds to hold the connections */
	double timeout;  /* one operation or request, seconds */
	const char *uri; /* Request-URI of the OPTIONS */
	const char *sni; /* server name sent, or NULL: none */
	bool echo_ok;    /* an echoed request counts as its answer */
	bool tickets12;  /* resume TLS 1.2 with tickets, not session ids */
	struct sockaddr_storage src; /* local address to bind, or family 0 */
	socklen_t src_len;
};

struct lg_stats {
	long started;   /* operations (or requests) begun */
	long ops;       /* completed with success */
	long errors;    /* failed: connect, TLS, timeout, bad response */
	long offered;   /* resume: handshakes that offered a session */
	long reused;    /* resume: SSL_session_reused() said yes */
	long up;        /* idle: connections still up after the hold */
	double *lat;    /* latencies in seconds of successful operations */
	size_t nlat;
	size_t cap_lat;
	double t_start; /* load phase, CLOCK_MONOTONIC */
	double t_end;
	char last_err[160];
};

/* Called once in idle mode when the connections are open and settled. */
typedef void lg_sample_fn(void *arg, const struct lg_stats *st);

/*
 * Runs the load described by <o> with client context <ctx> (borrowed) and
 * fills <st> (whose lat array the caller allocated, cap_lat entries).
 * Bounded by o->duration plus a drain of at most o->timeout, and by
 * o->count. In idle mode <sample> is called once all connections are up.
 * Returns 0, or -errno when the engine itself cannot run (epoll, memory).
 * Thread: the caller's, single-threaded.
 */
STLS_MUST_USE int lg_run(const struct lg_opts *o, SSL_CTX *ctx,
			 struct lg_stats *st, lg_sample_fn *sample,
			 void *sample_arg);

/*
 * Installs the client session callback that keeps one session per slot
 * (resume mode). Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int lg_ctx_keep_sessions(SSL_CTX *ctx);

/*
 * Writes one SIP OPTIONS request into buf (cap bytes) with Request-URI
 * <uri>, a Via naming local port <lport>, and a Call-ID and branch made
 * from <seq>. Returns the length written (0 if it did not fit).
 */
size_t lg_sip_build(char *buf, size_t cap, const char *uri, unsigned lport,
		    uint64_t seq, int slot);

/*
 * Looks for one complete SIP response at the start of buf[0..len).
 * Returns 1 and sets *total (bytes to consume), *seq (from a loadgen
 * Call-ID, UINT64_MAX if foreign) and *ok (status 200); 0 when more bytes
 * are needed; -1 when the message is malformed or would exceed <max>.
 */
int lg_sip_parse(const char *buf, size_t len, size_t max, size_t *total,
		 uint64_t *seq, bool *ok);

#endif
