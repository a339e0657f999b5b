/*
 * The daemon's profiles from a database (docs/database.md).
 *
 * When [tls] `config` names a database, the profile store (tlsx/pstore.h)
 * builds from this source instead of from files: its loader reads every
 * row of the table and converts it through lib/db (stls_db_conv_rows),
 * which gives exactly the profiles a tls.cfg with the same content gives,
 * and problems read "tlscfg id=17 column=certificate: ...".
 *
 * Design:
 * - One connection, used under one mutex by the loader (on whichever
 *   thread reloads: main, control, or the watch thread) and by the watch
 *   thread. No worker ever touches it.
 * - The watch thread (stls_dbsrc_start) waits on the PostgreSQL
 *   notification descriptor, or polls SQLite's data_version every [core]
 *   db_poll_interval ms, and on a change calls the daemon's reload (the
 *   same path as tls.reload and SIGHUP): a change that does not build is
 *   refused whole, the running set stays, and the reasons are logged,
 *   counted and kept for tls.info.
 * - Database away: at start, the loader falls back to the snapshot of the
 *   last rows that built ([core] state_dir, written atomically after every
 *   build from the database), with a warning; without one the start
 *   fails. While running, the current set keeps serving; the watch thread
 *   reconnects with back-off (250 ms doubling to 5 s), counts and logs
 *   each failure, and reloads once back, so changes made meanwhile apply.
 * - Ticket keys (PostgreSQL, [core] ticket_key_lifetime > 0): one ring
 *   (stls/tkeys.h) for every set, filled from the fleet's key table and
 *   rotated by whichever edge gets the advisory lock (dbsrc_tkeys.c).
 *
 * Threads: new/free/start on the main thread; the loader on a reloading
 * thread; stats from any thread.
 */
#ifndef STLSD_DBSRC_H
#define STLSD_DBSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "config/core_conf.h"
#include "stls/conf.h"
#include "stls/diag.h"
#include "tlsx/pstore.h"

struct stls_dbsrc;

struct stls_dbsrc_conf {
	const struct stls_conf *conf;      /* inline profiles, base_dir */
	const struct stls_settings *live;  /* config, private_key_password */
	const struct stls_core_conf *core; /* state_dir, db_*, ticket_* */
	bool no_snapshot; /* --check: the database itself, or a failure */
};

/*
 * Opens the database that conf->live->config names. An unreachable one is
 * not an error here (the first load decides); a bad value is (-EINVAL,
 * reason in diag). Every pointer is borrowed and must outlive the dbsrc.
 * Returns 0 and *out, -EINVAL or -ENOMEM.
 */
STLS_MUST_USE int stls_dbsrc_new(const struct stls_dbsrc_conf *c,
				 struct stls_diag *diag,
				 struct stls_dbsrc **out);

/* Stops the watch thread, if started (before the reload it calls goes
 * away). NULL ok. */
void stls_dbsrc_stop(struct stls_dbsrc *ds);

/* Stops the watch thread, wipes the keys, frees. NULL ok. */
void stls_dbsrc_free(struct stls_dbsrc *ds);

/* The loader, done hook and key ring for stls_pstore_new_src(). */
void stls_dbsrc_pstore_src(struct stls_dbsrc *ds,
			   struct stls_pstore_src *out);

/* The daemon's reload (stls_ctl_reload): 0, or -errno with reasons. */
typedef int stls_dbsrc_reload_fn(void *arg, struct stls_diag *diag);

/*
 * Starts the watch thread, which calls reload(arg, diag) on each change.
 * Returns 0 or -errno (logged).
 */
STLS_MUST_USE int stls_dbsrc_start(struct stls_dbsrc *ds,
				   stls_dbsrc_reload_fn *reload, void *arg);

struct stls_dbsrc_stats {
	const char *source;       /* the config as shown (no password) */
	bool connected;           /* the database answers now */
	bool from_snapshot;       /* the running set came from the snapshot */
	uint64_t changes_applied; /* builds published from the database */
	uint64_t changes_refused; /* builds refused (bad rows, or away) */
	uint64_t db_failures;     /* lost connections, failed connects */
	uint64_t reconnects;      /* connections made again after a loss */
	uint64_t snapshots_written;
	uint64_t tkeys_rotations; /* keys this edge added */
	uint64_t tkeys_updates;   /* ring changes */
	char last_error[1024];    /* why the last build was refused, or "" */
};

/* A copy of the counters. Any thread. */
void stls_dbsrc_stats(struct stls_dbsrc *ds, struct stls_dbsrc_stats *out);

#endif
