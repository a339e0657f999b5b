/*
 * Internals shared by the files of daemon/dbsrc (see dbsrc.h).
 */
#ifndef STLSD_DBSRC_INT_H
#define STLSD_DBSRC_INT_H

#include <pthread.h>

#include "dbsrc/dbsrc.h"
#include "stls/db.h"
#include "stls/tkeys.h"

#define STLS__DBSRC_HIDDEN __attribute__((visibility("hidden")))

struct stls_dbsrc {
	struct stls_dbsrc_conf c;
	char *config;              /* the value opened (a copy), a relative
				    * SQLite path resolved */
	char *written;             /* the value as written in [tls] */
	struct stls_db_src src;    /* parsed: table, shown */
	char *snap_path;           /* state_dir/profiles-<table>.db, or NULL */
	pthread_mutex_t mu;        /* db, pending, st */
	struct stls_db *db;        /* NULL: not connected */
	struct stls_db_err open_err; /* why the last open failed */
	struct stls_db_rows *pending; /* rows of the build under way */
	bool pending_from_db;
	bool started;              /* the first set is built */
	bool watch;                /* PostgreSQL: LISTEN */
	struct stls_dbsrc_stats st;

	/* The watch thread. */
	pthread_t th;
	bool th_started;
	int wake[2];               /* pipe: stop */
	stls_dbsrc_reload_fn *reload;
	void *reload_arg;

	/* Ticket keys (dbsrc_tkeys.c): ring NULL when off. */
	struct stls_tkeys *ring;
	struct stls_db_tkeys keys; /* the table as last read */
	int64_t clock_offset;      /* server clock - ours, s */
	bool keys_loaded, keys_dirty, ring_local;
	struct stls_tkey applied[STLS_TKEYS_MAX];
	enum stls_tkey_use applied_use[STLS_TKEYS_MAX];
	size_t n_applied;
	int64_t keys_retry_at;     /* monotonic s: after a failure, wait */
};

/* Opens ds->db (mu held). Returns 0, or -errno with ds->open_err set. */
int stls__dbsrc_open(struct stls_dbsrc *ds) STLS__DBSRC_HIDDEN;

/* Drops a lost connection (mu held), counted and logged with <why>. */
void stls__dbsrc_lost(struct stls_dbsrc *ds,
		      const char *why) STLS__DBSRC_HIDDEN;

/* Ticket keys: the ring (NULL when off), one step of the schedule (mu
 * held, any connection state), and the teardown. */
int stls__dbsrc_tkeys_init(struct stls_dbsrc *ds) STLS__DBSRC_HIDDEN;
void stls__dbsrc_tkeys_step(struct stls_dbsrc *ds) STLS__DBSRC_HIDDEN;
void stls__dbsrc_tkeys_fini(struct stls_dbsrc *ds) STLS__DBSRC_HIDDEN;

/* The watch thread's body (dbsrc_watch.c). */
void *stls__dbsrc_watch(void *arg) STLS__DBSRC_HIDDEN;

#endif
