/*
 * Certificate expiry per profile for /metrics, cached per profile set:
 * reading every profile's notAfter costs one pass over the set, done
 * again only when a reload published a new generation.
 */
#include "metrics/metrics_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stls/profile.h"
#include "stls/tlsmon.h"

void stls__mcert_fini(struct stls__mcert *mc)
{
	free(mc->name);
	free(mc->not_after);
	memset(mc, 0, sizeof(*mc));
}

/* Fills a new cache from <set>: the profiles that present a certificate. */
static int fill(struct stls__mcert *mc, const struct stls_profile_set *set)
{
	size_t n = stls_profile_set_count(set), i;
	const struct stls_profile *p;
	time_t t;

	mc->name = calloc(n ? n : 1, sizeof(*mc->name));
	mc->not_after = calloc(n ? n : 1, sizeof(*mc->not_after));
	if (!mc->name || !mc->not_after)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		p = stls_profile_set_get0(set, i);
		if (!p || stls_profile_get_not_after(p, &t) != 0)
			continue;
		snprintf(mc->name[mc->n], sizeof(mc->name[0]), "%s",
			 stls_profile_name(p));
		mc->not_after[mc->n++] = t;
	}
	mc->generation = stls_profile_set_generation(set);
	return 0;
}

int stls__mcert_refresh(struct stls__mcert *mc, struct stls_pstore *ps)
{
	struct stls_profile_set *set = stls_pstore_get(ps);
	struct stls__mcert fresh;
	int err = 0;

	if (stls_profile_set_generation(set) != mc->generation) {
		memset(&fresh, 0, sizeof(fresh));
		err = fill(&fresh, set);
		if (err) {
			stls__mcert_fini(&fresh);
		} else {
			stls__mcert_fini(mc);
			*mc = fresh;
		}
	}
	stls_profile_set_unref(set);
	return err;
}
