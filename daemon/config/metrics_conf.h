/*
 * The metrics endpoint's two [core] keys, applied: `metrics` (where
 * /metrics is served) and `metrics_allow` (who may reach it beyond
 * loopback, and so where it may listen).
 *
 * The rule (docs/metrics.md):
 * - `metrics = ADDR:PORT`, IPv4 or [IPv6]. Unset: no endpoint.
 * - `metrics_allow = NET[, NET...]`, each `IP` or `IP/BITS`.
 * - A loopback ADDR (127.0.0.0/8, ::1) is always accepted. A wildcard ADDR
 *   (0.0.0.0, [::]) needs a non-empty metrics_allow. Any other ADDR must
 *   lie inside a metrics_allow network.
 * - A scrape is served only when its source is loopback or inside a
 *   metrics_allow network; others are closed before any byte is read.
 */
#ifndef STLSD_METRICS_CONF_H
#define STLSD_METRICS_CONF_H

#include "stls/addr.h"
#include "stls/conf.h"
#include "stls/diag.h"

/* One network of metrics_allow (CIDR, masked to <bits>). */
struct stls_metrics_net {
	sa_family_t family;
	uint8_t ip[16];
	unsigned bits;
};

struct stls_metrics_conf {
	bool on;                       /* `metrics` is set and valid */
	struct stls_addr addr;         /* where to listen */
	struct stls_metrics_net *allow;
	size_t n_allow;
};

/*
 * Applies the `metrics` and `metrics_allow` lines of section <core> (NULL:
 * none) into *out (zeroed here; release with stls_metrics_conf_fini()).
 * Problems go to <diag> as "FILE:LINE: metrics: reason". Returns 0,
 * -EINVAL when an error was added, or -ENOMEM. Any thread.
 */
STLS_MUST_USE int stls_metrics_conf_apply(const struct stls_section *core,
					  struct stls_metrics_conf *out,
					  struct stls_diag *diag);

void stls_metrics_conf_fini(struct stls_metrics_conf *c);

/* True for 127.0.0.0/8 and ::1. */
bool stls_addr_is_loopback(const struct stls_addr *a);

/* True when a client at <a> may scrape: loopback or an allowed network. */
bool stls_metrics_conf_allows(const struct stls_metrics_conf *c,
			      const struct stls_addr *a);

#endif
