/*
 * The refresh thread of revocation data (docs/ocsp.md): OCSP responses
 * that profiles staple with ocsp_stapling = on, CRLs of profiles with
 * crl_refresh. It runs stls_revoc_refresh() rounds (blocking HTTP, never
 * on a worker), sleeping until the next entry is due or until a reload
 * kicks it (a new set may bring entries, due at once).
 *
 * Thread safety: _kick() from any thread; _start() and _stop() from the
 * main thread.
 */
#ifndef STLSD_REFRESH_H
#define STLSD_REFRESH_H

#include "stls/revoc.h"

struct stls_refresher;

/* Starts the thread. Returns 0 and *out, or -errno. */
STLS_MUST_USE int stls_refresher_start(const struct stls_revoc_opts *o,
				       struct stls_refresher **out);

/* Asks for a round now (after a reload). NULL is a no-op. */
void stls_refresher_kick(struct stls_refresher *r);

/* Rounds completed so far (tests, tls.info). */
uint64_t stls_refresher_rounds(struct stls_refresher *r);

/* Stops and joins the thread (a round in progress finishes first, at most
 * fetch_timeout per entry) and frees it. NULL is a no-op. */
void stls_refresher_stop(struct stls_refresher *r);

#endif
