/*
 * The refresh round of revocation data (stls/revoc.h): the staples that
 * fetch from a responder, then the CRLs with distribution points, each
 * entry when it is due. The caller runs rounds on a thread of its own
 * (siptlsd: daemon/renew), sleeping until the time a round returns or
 * until a reload adds entries (new ones are due at once).
 */
#include "revoc/revoc.h"

const char *const stls_ocsp_state_names[STLS_OCSP__COUNT] = {
	[STLS_OCSP_OFF] = "off",
	[STLS_OCSP_NONE] = "none",
	[STLS_OCSP_GOOD] = "good",
	[STLS_OCSP_REVOKED] = "revoked",
	[STLS_OCSP_UNKNOWN] = "unknown",
	[STLS_OCSP_EXPIRED] = "expired",
};

time_t stls_revoc_refresh(const struct stls_revoc_opts *o, time_t now)
{
	int timeout = o->timeout > 0 ? o->timeout : 10;
	int interval = o->crl_interval > 0 ? o->crl_interval : 3600;
	time_t a = stls__staple_refresh(timeout, now);
	time_t b = stls__crlslot_refresh(timeout, interval, now);
	time_t next = a && (!b || a < b) ? a : b;

	if (!next) {
		return now + 3600;
	}
	return next > now ? next : now + 1;
}

size_t stls_revoc_crl_list(void (*fn)(const struct stls_crl_status *st,
				      void *arg),
			   void *arg)
{
	return stls__crlslot_list(fn, arg);
}
