/*
 * The revocation part of /metrics (metrics_int.h): OCSP stapling state of
 * every certificate whose profile staples, the must-staple certificates
 * that have nothing valid to staple (the alert an operator wants: a
 * client that honours RFC 7633 refuses those handshakes), and the CRLs
 * that crl_refresh keeps current. Read from the same status calls as
 * tls.info (stls/revoc.h); one pass over the profiles per scrape, the
 * profiles that do not staple costing one status call each.
 */
#include "metrics/metrics_int.h"

#include <time.h>

#include "stls/profile.h"
#include "stls/revoc.h"
#include "tlsx/pstore.h"

#define OCSP_STATUS "siptls_tls_ocsp_status"
#define OCSP_LEFT "siptls_tls_ocsp_response_expiry_seconds"
#define UNSTAPLED "siptls_tls_must_staple_unstapled"
#define CRL_LEFT "siptls_tls_crl_next_update_seconds"
#define CRL_FAILING "siptls_tls_crl_fetch_failing"

struct crl_acc {
	struct stls_prom *p;
	time_t now;
	bool failing; /* second pass: the fetch errors */
};

static void crl_one(const struct stls_crl_status *st, void *arg)
{
	struct crl_acc *a = arg;
	const char *lab[3] = { "issuer", st->issuer, NULL };

	if (a->failing)
		stls_prom_int(a->p, CRL_FAILING, lab, st->error[0] ? 1 : 0);
	else if (st->next_update)
		stls_prom_int(a->p, CRL_LEFT, lab,
			      (int64_t)(st->next_update - a->now));
}

static void page_ocsp(struct stls_pstore *ps, time_t now,
		      struct stls_prom *p)
{
	struct stls_profile_set *set = stls_pstore_get(ps);
	struct stls_cert_status st[2];
	const char *lab[7] = { "profile", NULL, "subject", NULL, "state",
			       NULL, NULL };
	int64_t unstapled = 0;
	size_t i, j, n;
	int pass;

	stls_prom_family(p, OCSP_STATUS, "gauge",
			 "1 for the OCSP state of each certificate whose "
			 "profile staples (state: none, good, revoked, "
			 "unknown, expired); only good is stapled.");
	stls_prom_family(p, OCSP_LEFT, "gauge",
			 "Seconds until the nextUpdate of the OCSP response "
			 "held for a certificate; negative once passed.");
	/* Two passes keep each family's samples together. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < stls_profile_set_count(set); i++) {
			const struct stls_profile *pr =
				stls_profile_set_get0(set, i);

			/* A client presents no staple (as --check says). */
			if (stls_profile_role(pr) != STLS_ROLE_SERVER)
				continue;
			n = stls_profile_cert_status(pr, now, st, 2);
			for (j = 0; j < n; j++) {
				if (pass == 0 && st[j].must_staple &&
				    st[j].ocsp != STLS_OCSP_GOOD)
					unstapled++;
				if (st[j].ocsp == STLS_OCSP_OFF)
					continue;
				lab[1] = stls_profile_name(pr);
				lab[3] = st[j].subject;
				if (pass == 0) {
					lab[5] = stls_ocsp_state_names[
						st[j].ocsp];
					stls_prom_int(p, OCSP_STATUS, lab, 1);
				} else if (st[j].ocsp_next_update) {
					lab[4] = NULL;
					stls_prom_int(
						p, OCSP_LEFT, lab,
						(int64_t)(st[j].ocsp_next_update
							  - now));
					lab[4] = "state";
				}
			}
		}
	}
	stls_profile_set_unref(set);
	stls_prom_family(p, UNSTAPLED, "gauge",
			 "Must-staple certificates (RFC 7633) with no valid "
			 "OCSP response to staple: clients that honour the "
			 "extension refuse their handshakes.");
	stls_prom_int(p, UNSTAPLED, NULL, unstapled);
}

void stls__metrics_page_revoc(const struct stls_metrics_src *src,
			      struct stls_prom *p)
{
	struct crl_acc a = { p, time(NULL), false };

	page_ocsp(src->ps, a.now, p);
	stls_prom_family(p, CRL_LEFT, "gauge",
			 "Seconds until the nextUpdate of each CRL that "
			 "crl_refresh keeps current; negative once passed.");
	(void)stls_revoc_crl_list(crl_one, &a);
	stls_prom_family(p, CRL_FAILING, "gauge",
			 "1 when the last fetch of a refreshed CRL failed "
			 "(the last good one is kept).");
	a.failing = true;
	(void)stls_revoc_crl_list(crl_one, &a);
}
