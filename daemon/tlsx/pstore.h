/*
 * The daemon's current TLS profile set, and how it is replaced.
 *
 * One pstore per daemon. It owns the published profile set. Workers take a
 * reference for each new connection (stls_pstore_get), so a connection
 * keeps the set it started with until it closes; the set is freed when the
 * last such connection goes. A reload (SIGHUP, tls.reload) re-reads the
 * `config` profiles (inline profiles of the main config are kept), builds a
 * complete new set off the workers, checks it against the TLS listeners and
 * only then publishes it; a failed reload changes nothing and reports every
 * problem as FILE:LINE: message.
 *
 * Thread safety: stls_pstore_get() may be called from any thread (a short
 * mutex covers the pointer load and the reference, once per new
 * connection, never per message). Reloads are serialised by a second
 * mutex and run on the caller's thread (main or control thread).
 */
#ifndef STLSD_PSTORE_H
#define STLSD_PSTORE_H

#include <time.h>

#include "config/core_conf.h"
#include "stls/conf.h"
#include "stls/diag.h"
#include "stls/profile.h"
#include "stls/tkeys.h"

struct stls_pstore;

/*
 * Builds the first set from conf->profiles and checks it against the TLS
 * listeners of <core>. <conf>, <live> (the settings that cfg.set changes:
 * `config` is read from there at reload) and <core> are borrowed and must
 * outlive the pstore. Problems go to <diag>. Returns 0 and *out, -EINVAL
 * (errors in diag) or -ENOMEM.
 */
STLS_MUST_USE int stls_pstore_new(const struct stls_conf *conf,
				  const struct stls_settings *live,
				  const struct stls_core_conf *core,
				  struct stls_diag *diag,
				  struct stls_pstore **out);

/*
 * Where the profile list comes from when it is not the files of `config`
 * (a database: daemon/dbsrc). load() gives the complete list a build
 * should use (the inline profiles included) or fails with its reasons in
 * diag; done() is told, still under the reload lock, whether the set that
 * list gave was published (err 0: told after the swap, so that the
 * source's bookkeeping never delays a new set) or refused, with the same
 * diag. tkeys,
 * when set, is the ticket key ring every published set uses (stls/tkeys.h).
 * Both callbacks run on the thread that builds (stls_pstore_new's, or the
 * reloading one).
 */
struct stls_pstore_src {
	int (*load)(void *arg, struct stls_profile_conf **list,
		    struct stls_diag *diag);
	void (*done)(void *arg, int err, const struct stls_diag *diag);
	void *arg;
	struct stls_tkeys *tkeys; /* borrowed; NULL: OpenSSL's keys */
};

/*
 * stls_pstore_new() with the first list, and every reload's, from <src>
 * (copied; NULL: the files, as stls_pstore_new()).
 */
STLS_MUST_USE int stls_pstore_new_src(const struct stls_conf *conf,
				      const struct stls_settings *live,
				      const struct stls_core_conf *core,
				      const struct stls_pstore_src *src,
				      struct stls_diag *diag,
				      struct stls_pstore **out);

void stls_pstore_free(struct stls_pstore *ps);

/* The current set with one new reference (release: unref). Any thread. */
struct stls_profile_set *stls_pstore_get(struct stls_pstore *ps);

/* Generation of the current set. Any thread. */
uint64_t stls_pstore_generation(struct stls_pstore *ps);

/* Successful and failed reloads so far. Any thread. */
void stls_pstore_counts(struct stls_pstore *ps, uint64_t *ok,
			uint64_t *failed);

/* Time of the last good build (start or reload). Any thread. */
time_t stls_pstore_last_good(struct stls_pstore *ps);

/*
 * After each good reload: the refresher (tlsx/refresh.h) gets a kick and
 * <fn> is called on the reloading thread (watch.c re-reads the files to
 * watch). Set <fn> before the first reload; NULL: none. The refresher
 * may be set (and cleared, before it is stopped) while reloads run: it
 * waits for a reload in progress.
 */
struct stls_refresher;
void stls_pstore_set_refresher(struct stls_pstore *ps,
			       struct stls_refresher *r);
void stls_pstore_set_on_reload(struct stls_pstore *ps,
			       void (*fn)(void *arg), void *arg);

/*
 * Rebuilds the set from the configuration files as they are now and
 * publishes it. Returns 0 (the new generation in *generation), -EINVAL
 * with the reasons in <diag> (the running set is unchanged), or -ENOMEM.
 * Blocks while building (file I/O, key checks): never call it on a worker.
 */
STLS_MUST_USE int stls_pstore_reload(struct stls_pstore *ps,
				     struct stls_diag *diag,
				     uint64_t *generation);

/*
 * Every [server:IP:port] profile of <set> must be served by a TLS listener
 * of <core>: same IP (or a wildcard listener) and same port (profile port
 * 0: any port). Adds an error per orphan profile at its section header.
 * Returns the number of errors added.
 */
size_t stls_pstore_check_listeners(const struct stls_profile_set *set,
				   const struct stls_core_conf *core,
				   struct stls_diag *diag);

#endif
