/*
 * Revocation data from the network: OCSP responses that server profiles
 * staple, and CRLs that profiles with crl_refresh fetch again from their
 * distribution points (docs/ocsp.md).
 *
 * The data lives process-wide, outside the immutable profile sets: one
 * entry per certificate that staples, one per CA whose CRL is refreshed.
 * A set build takes references on the entries its profiles use (creating
 * them, reading `file:` responses), so a reload keeps what the last set
 * had fetched; the last set that used an entry lets it go. Handshakes
 * read an entry under a short lock; the refresh, which blocks on HTTP,
 * runs on a thread of the caller's (siptlsd: daemon/renew), never on a
 * worker.
 *
 * Rules (docs/ocsp.md):
 * - only a response that verifies (signed by the issuer, or by a
 *   responder the issuer delegated to with id-kp-OCSPSigning), names the
 *   certificate, says "good" and is current is stapled; it is refreshed
 *   halfway to its nextUpdate; a failed fetch keeps the last good one and
 *   retries with back-off (5 s doubling to 10 min), warning while the
 *   held one nears its end; at nextUpdate stapling stops; a "revoked"
 *   answer stops stapling at once;
 * - a fetched CRL must be signed by the CA that issued the one it
 *   replaces, be current and be at least as new; otherwise the last good
 *   one stays. A CRL is fetched at its nextUpdate, and at least every
 *   crl_refresh_interval seconds.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef STLS_REVOC_H
#define STLS_REVOC_H

#include <time.h>

#include "stls/common.h"
#include "stls/diag.h"

struct stls_profile;
struct stls_profile_set;

/* What a server profile's certificate has to staple. */
enum stls_ocsp_state {
	STLS_OCSP_OFF,     /* ocsp_stapling = off */
	STLS_OCSP_NONE,    /* no response yet */
	STLS_OCSP_GOOD,    /* a current "good" response: stapled */
	STLS_OCSP_REVOKED, /* the responder says revoked: not stapled */
	STLS_OCSP_UNKNOWN, /* the responder does not know it */
	STLS_OCSP_EXPIRED, /* the last good one passed its nextUpdate */
	STLS_OCSP__COUNT
};

/* "off", "none", "good", "revoked", "unknown", "expired". */
extern const char *const stls_ocsp_state_names[STLS_OCSP__COUNT];

/* One certificate of a profile, as tls.info shows it. */
struct stls_cert_status {
	char subject[256];
	time_t not_after;
	bool must_staple;         /* TLS Feature status_request (RFC 7633) */
	enum stls_ocsp_state ocsp;
	char ocsp_source[256];    /* responder URL or file; "" when off */
	time_t ocsp_this_update;  /* of the response held; 0: none */
	time_t ocsp_next_update;  /* 0: none held, or none given */
	time_t ocsp_last_fetch;   /* last attempt; 0: never */
	time_t ocsp_next_fetch;   /* 0: not fetched (off, file) */
	char ocsp_error[160];     /* why the last attempt failed, or "" */
};

/*
 * The certificates of profile <p> at time <now>, at most <max> (a profile
 * has one or two). Returns how many were written.
 */
size_t stls_profile_cert_status(const struct stls_profile *p, time_t now,
				struct stls_cert_status *out, size_t max);

/* One CRL that crl_refresh keeps current. */
struct stls_crl_status {
	char issuer[256];
	char url[256];          /* the first distribution point */
	time_t last_update;     /* of the CRL held */
	time_t next_update;
	time_t last_fetch;      /* 0: never */
	time_t next_fetch;
	char error[160];        /* why the last fetch failed, or "" */
};

/*
 * Calls fn for every refreshed CRL (issuer order unspecified) and returns
 * their number. fn runs under the store's lock: it must not call back.
 */
size_t stls_revoc_crl_list(void (*fn)(const struct stls_crl_status *st,
				      void *arg),
			   void *arg);

/* How a refresh round works. */
struct stls_revoc_opts {
	int timeout;      /* s: one HTTP exchange (fetch_timeout) */
	int crl_interval; /* s: longest wait between CRL fetches */
};

/*
 * One refresh round: fetches every OCSP response and CRL due at <now>
 * (new entries are due at once), checks what came back and keeps it or
 * the last good one. Blocks on HTTP: at most timeout seconds per entry
 * fetched. Returns the time the next entry is due (at least now + 1;
 * now + 3600 when nothing is held).
 */
time_t stls_revoc_refresh(const struct stls_revoc_opts *o, time_t now);

/*
 * Warnings for the certificates of <set> that carry must-staple (the TLS
 * Feature extension with status_request, RFC 7633) and have no current
 * good response to staple at <now>: clients that honour must-staple
 * refuse them. One warning per certificate, at its profile's
 * ocsp_stapling (or certificate) line. Returns the number added.
 */
size_t stls_profile_set_staple_warnings(const struct stls_profile_set *set,
					time_t now, struct stls_diag *diag);

#endif
