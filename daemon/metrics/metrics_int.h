/*
 * Internals of the metrics room: metrics.c (the HTTP server) calls
 * metrics_page.c (what a scrape shows), which writes with prom.c, and
 * metrics_cert.c (certificate expiry, cached per profile set). Not an
 * interface.
 */
#ifndef STLSD_METRICS_INT_H
#define STLSD_METRICS_INT_H

#include <pthread.h>
#include <time.h>

#include "metrics/metrics.h"
#include "metrics/prom.h"

#define STLS__METRICS_HIDDEN __attribute__((visibility("hidden")))

/* Expiry of each profile's certificate, for one profile set generation. */
struct stls__mcert {
	uint64_t generation; /* 0: nothing cached */
	size_t n;
	char (*name)[STLS_PROFILE_NAME_MAX];
	time_t *not_after;
};

/*
 * Refreshes <mc> from the set current in <ps> when its generation
 * changed (one pass over the profiles per reload, not per scrape).
 * Returns 0 or -ENOMEM (the old cache stays). Metrics thread.
 */
int stls__mcert_refresh(struct stls__mcert *mc,
			struct stls_pstore *ps) STLS__METRICS_HIDDEN;
void stls__mcert_fini(struct stls__mcert *mc) STLS__METRICS_HIDDEN;

/*
 * Writes the whole page for the sources of <src> into <p>, <mc> being
 * the certificate cache and <self> the endpoint's own counters (scrapes,
 * refused). Metrics thread; reads the workers' counters without locks.
 */
void stls__metrics_page(const struct stls_metrics_src *src,
			struct stls__mcert *mc, const uint64_t self[2],
			struct stls_prom *p) STLS__METRICS_HIDDEN;

/*
 * The revocation families: OCSP state and response lifetime per stapling
 * certificate, must-staple certificates with nothing to staple, refreshed
 * CRLs (metrics_revoc.c). Needs src->ps. Metrics thread.
 */
void stls__metrics_page_revoc(const struct stls_metrics_src *src,
			      struct stls_prom *p) STLS__METRICS_HIDDEN;

#endif
