/*
 * The "10,000 tenants" benchmark (bench/tenants.c, bench/tenants_hs.c):
 * what the parts share.
 */
#ifndef STLS_BENCH_TENANTS_H
#define STLS_BENCH_TENANTS_H

#include "stls/profile.h"

/* One configuration made for the run: its directory and size. */
struct tenants_dir {
	char path[256];
	int n;                 /* tenants */
	int every_wildcard;    /* as in struct tenants_spec */
};

/*
 * Handshake cost (tenants_hs.c): <count> full TLS 1.3 handshakes against
 * <set>, each client naming a tenant of <d> (random ones, seeded; tenant
 * 0 when <random_tenant> is false; no SNI at all when <sni> is false),
 * the server side through stls_profile_ssl_new() and the connection
 * engine, as the daemon does. Returns the server's CPU time per handshake
 * in microseconds (only its calls are timed: CLOCK_THREAD_CPUTIME_ID, and
 * under callgrind --toggle-collect='srv_*'), or a negative value when a
 * handshake failed or was served by another profile than the one named.
 */
double tenants_hs_run(struct stls_profile_set *set, const struct tenants_dir *d,
		      int count, bool sni, bool random_tenant,
		      unsigned *seed);

#endif
