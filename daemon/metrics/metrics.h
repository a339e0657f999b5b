/*
 * The Prometheus endpoint of siptlsd ([core] metrics; docs/operations.md,
 * "Metrics", lists every metric with its type and labels).
 *
 * Design: libmicrohttpd serves GET /metrics on a thread of its own; each
 * scrape builds the page from the counters the other rooms keep (the
 * workers' per-worker relaxed atomics, tlsx's and the relay's per-worker
 * blocks, the profile store): nothing is asked of the workers and nothing
 * they do waits for a scrape. Connections from sources metrics_allow does
 * not admit are closed by the accept policy before any byte is read.
 *
 * Threads: new/start/free on the main thread (start after the workers,
 * free before they stop); the page on the server's thread.
 */
#ifndef STLSD_METRICS_H
#define STLSD_METRICS_H

#include "config/core_conf.h"
#include "relay/relay.h"
#include "runtime/daemon.h"
#include "tlsx/pstore.h"
#include "tlsx/tlsx.h"

/* What a scrape reads. Borrowed; each must outlive the endpoint. */
struct stls_metrics_src {
	struct stls_daemon *d;             /* required */
	const struct stls_core_conf *core; /* required: max_connections */
	struct stls_pstore *ps;            /* NULL: no profile metrics */
	const struct stls_tlsx *tlsx;      /* NULL: no TLS metrics */
	const struct stls_relay *relay;    /* NULL: no relay metrics */
	const struct stls_settings *live;  /* low_mem thresholds, or NULL */
};

struct stls_metrics;

/*
 * Starts serving on <conf>->addr (port 0: any free port, for tests),
 * admitting clients by stls_metrics_conf_allows(). <conf> is copied.
 * Returns 0 with *out, -EADDRINUSE / -EACCES / -EADDRNOTAVAIL when the
 * address cannot be bound (logged), or -ENOMEM.
 */
STLS_MUST_USE int stls_metrics_start(const struct stls_metrics_conf *conf,
				     const struct stls_metrics_src *src,
				     struct stls_metrics **out);

/* Stops the server thread (a scrape in progress finishes) and frees.
 * NULL is a no-op. */
void stls_metrics_free(struct stls_metrics *m);

/* The bound port. */
uint16_t stls_metrics_port(const struct stls_metrics *m);

/*
 * The page as a scrape would get it, for tests and for siptlsd's own
 * checks: a new NUL-terminated string (free()) in *out and its length.
 * Returns 0 or -ENOMEM. Any thread (serialised with scrapes).
 */
STLS_MUST_USE int stls_metrics_render(struct stls_metrics *m, char **out,
				      size_t *len);

#endif
